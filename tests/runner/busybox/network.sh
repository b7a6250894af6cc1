#!/bin/sh
# Sockets inside the box, no host network: TCP over the box's loopback (busybox nc, httpd and
# wget). Unix sockets are covered by the shim's unit tests (busybox nc has no -U).
# Usage: network.sh LITEBOX_RUN
set -u
run=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out=$("$run" -- sh -c 'nc -l -p 8080 > /tmp/got & sleep 0.3; echo "over loopback tcp" | nc 127.0.0.1 8080; sleep 0.3; cat /tmp/got' 2>/dev/null)
[ "$out" = "over loopback tcp" ] && echo "ok: nc over the box's loopback" || fail "nc: '$out'"

out=$("$run" -- sh -c 'httpd -p 8081 -h /etc; sleep 0.3; wget -q -O - http://127.0.0.1:8081/hostname' 2>/dev/null)
[ "$out" = litebox ] && echo "ok: httpd and wget in the box" || fail "httpd/wget: '$out'"

[ "$failures" = 0 ] || exit 1
