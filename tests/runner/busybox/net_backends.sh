#!/bin/sh
# litebox-run's network backends against the host kernel's TCP (a stack nobody here wrote):
# - --net slirp: busybox wget in the box fetches a file from busybox httpd on the host (through
#   10.0.2.2, slirp's name for the host's 127.0.0.1) and checks it; a host client fetches a page
#   from a server in the box through --publish.
# - --net tun (only as root with /dev/net/tun; said so otherwise): the same both ways through the
#   box's own host interface (host 10.0.3.1, box 10.0.3.2).
# - --net none (the default): the box reaches nothing but its loopback.
# Usage: net_backends.sh LITEBOX_RUN BUSYBOX
set -u
run=$1
bb=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
tmp=$(mktemp -d) || exit 2
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# A TCP port free on the host right now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Waits until a web server answers on $1 (host side), at most ~10 s. (No wget -T: Debian's
# static busybox 1.35 wget crashes with it.)
wait_http() {
    i=0
    while [ $i -lt 100 ]; do
        if timeout 2 "$bb" wget -q -O /dev/null "$1" 2>/dev/null; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

mkdir "$tmp/www"
head -c 300000 /dev/urandom > "$tmp/www/blob"
expected=$("$bb" md5sum < "$tmp/www/blob")
port=$(free_port)
"$bb" httpd -f -p "0.0.0.0:$port" -h "$tmp/www" &
pids="$pids $!"
wait_http "http://127.0.0.1:$port/blob" || fail "the host's httpd did not start"

# The box's answer for a host client: one HTTP response, then the box exits.
box_server='printf "HTTP/1.0 200 OK\r\nContent-Length: 20\r\n\r\nserved from the box\n" | nc -l -p 8080'

# The box fetches the host's file over --net $1, the host being $2, and checks it.
box_fetches() {
    got=$("$run" --net "$1" -- sh -c "wget -q -O - http://$2:$port/blob | md5sum" 2>&1 | grep -v '^litebox shim: ')
    [ "$got" = "$expected" ] || fail "$1: box fetching from the host: '$got', expected '$expected'"
}
# A host client fetches URL $1 from the server in a box started with litebox-run options $2...
host_fetches() {
    url=$1
    shift
    "$run" "$@" -- sh -c "$box_server" > "$tmp/server.out" 2>&1 &
    box=$!
    pids="$pids $box"
    page=""
    i=0
    while [ $i -lt 100 ] && [ -z "$page" ]; do
        page=$(timeout 3 "$bb" wget -q -O - "$url" 2>/dev/null)
        [ -n "$page" ] || sleep 0.1
        i=$((i + 1))
    done
    [ "$page" = "served from the box" ] || fail "$*: host fetching $url from the box: '$page'"
    wait "$box" || fail "$*: the box server exited with $?: $(cat "$tmp/server.out")"
}

# ---- slirp -------------------------------------------------------------------------------------
box_fetches slirp 10.0.2.2
hport=$(free_port)
host_fetches "http://127.0.0.1:$hport/" --net slirp --publish "$hport:8080"

out=$("$run" --net slirp --publish 70000:80 -- true 2>&1)
case "$out" in *"--publish needs HOSTPORT:GUESTPORT"*) ;; *) fail "bad --publish accepted: $out" ;; esac

# ---- none --------------------------------------------------------------------------------------
out=$("$run" -- sh -c "wget -q -O - http://10.0.2.2:$port/blob >/dev/null 2>&1; echo status \$?")
[ "$out" = "status 1" ] || fail "--net none reached the host: '$out'"

# ---- tun ---------------------------------------------------------------------------------------
tun_probe=$("$run" --net tun -- true 2>&1)
if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
    echo "tun backend not tested: needs root and /dev/net/tun"
elif case "$tun_probe" in *"cannot create the interface: Operation not permitted"*) true ;; *) false ;; esac; then
    echo "tun backend not tested: root here has no CAP_NET_ADMIN ($tun_probe)"
else
    box_fetches tun 10.0.3.1
    host_fetches "http://10.0.3.2:8080/" --net tun
fi

[ $failures -eq 0 ] && echo "network backends: all checks passed"
exit $failures
