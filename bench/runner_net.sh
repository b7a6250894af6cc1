#!/bin/sh
# TCP bulk download through litebox-run's network backends against the host doing the same, in one
# run (issue #7, "Benchmarks"): busybox wget fetching a SIZE-MiB file from busybox httpd on the
# host's 127.0.0.1, timed by hyperfine (medians):
#   host loopback    /bin/busybox wget http://127.0.0.1:PORT/blob   (no slirp: the reference)
#   slirp4netns      the same wget in an unshared network namespace whose only link is
#                    slirp4netns (libslirp with a plain kernel client, MTU 1500): what slirp allows
#   litebox-run      litebox-run --net slirp -- wget http://10.0.2.2:PORT/blob (the box's TCP
#                    through the runner's SlirpBackend, MTU 1500)
#   litebox-run tun  litebox-run --net tun -- wget http://10.0.3.1:PORT/blob (root only)
# Every command includes its own start-up (namespace and slirp4netns, or the box): a few ms
# against transfers of about a second.
# usage: bench/runner_net.sh [BUILD_DIR] [runs] [SIZE_MIB]   (needs hyperfine, slirp4netns, iproute2, python3)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-bench-runner"}
runs=${2:-10}
size=${3:-256}
for tool in hyperfine slirp4netns unshare python3; do
  command -v "$tool" >/dev/null || { echo "runner_net.sh: $tool is needed (apt-get install $tool)" >&2; exit 1; }
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
nice -n 10 ninja -C "$build" -j2 litebox-run >/dev/null
run="$build/examples/litebox-run/litebox-run"
bb=/bin/busybox
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server; rm -rf "$work"' EXIT INT TERM

mkdir "$work/www"
head -c "$((size * 1048576))" /dev/urandom > "$work/www/blob"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bb" httpd -f -p "127.0.0.1:$port" -h "$work/www" &
server=$!
sleep 0.3

# The plain slirp client: wget in a fresh user+network namespace, once slirp4netns configured tap0
# (slirp4netns starts only after the namespace exists: before, it would join the host's).
cat > "$work/slirp4netns-wget.sh" <<EOF
#!/bin/bash
d=\$(mktemp -d)
unshare -rn sh -c "echo > \$d/ready; until ip route 2>/dev/null | grep -q default; do sleep 0.002; done
exec $bb wget -q -O /dev/null http://10.0.2.2:$port/blob" &
pid=\$!
until [ -e \$d/ready ]; do sleep 0.001; done
slirp4netns --configure --mtu=1500 \$pid tap0 >/dev/null 2>&1 &
s4n=\$!
wait \$pid
status=\$?
kill \$s4n 2>/dev/null
rm -rf \$d
exit \$status
EOF
chmod +x "$work/slirp4netns-wget.sh"

set -- -n "host loopback" "$bb wget -q -O /dev/null http://127.0.0.1:$port/blob" \
       -n "slirp4netns" "$work/slirp4netns-wget.sh" \
       -n "litebox-run --net slirp" "$run --net slirp -- wget -q -O /dev/null http://10.0.2.2:$port/blob"
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
  # httpd listens on 127.0.0.1 only; the TUN box reaches the host at 10.0.3.1: a second server.
  port2=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$bb" httpd -f -p "0.0.0.0:$port2" -h "$work/www" &
  server="$server $!"
  set -- "$@" -n "litebox-run --net tun" "$run --net tun -- wget -q -O /dev/null http://10.0.3.1:$port2/blob"
fi
hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/net.json" "$@" >&2
python3 - "$work/net.json" "$size" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
size = float(sys.argv[2])
median = {r["command"]: r["median"] for r in results}
slirp = median.get("slirp4netns")
print(f"| download of {size:.0f} MiB | median | MB/s | vs slirp4netns |")
print("|---|---:|---:|---:|")
for name, t in median.items():
    ratio = f"{slirp / t * 100:.0f}%" if slirp else "-"
    print(f"| {name} | {t * 1000:.0f} ms | {size * 1.048576 / t:.0f} | {ratio} |")
EOF
