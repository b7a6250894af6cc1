// Must FAIL the audit: a core-like function that reads the host clock directly.
#include <time.h>
long host_clock() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_nsec;
}
