// A dynamically linked program whose library is found through RPATH $ORIGIN/../lib: run through a
// symbolic link in another directory, $ORIGIN must still be the real program's directory.
#include <cstdio>

extern "C" int litebox_origin_value();

int main() {
    std::printf("origin_lib=%d\n", litebox_origin_value());
    return 0;
}
