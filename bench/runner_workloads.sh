#!/bin/sh
# Workloads natively, under litebox-run, under proot and under bwrap, in one run (issue #6,
# "Performance"); the results go to docs/benchmarks.md ("litebox-run workloads").
# usage: bench/runner_workloads.sh [BUILD_DIR] [runs]
#
# Every workload is one `busybox sh -c SCRIPT` (the host's /bin/busybox, Debian busybox-static,
# the same binary the default image embeds), timed by hyperfine -N (no shell in between):
#   native       /bin/busybox sh -c 'cd WORK && SCRIPT'           WORK: a fresh dir on /dev/shm (tmpfs)
#   litebox-run  litebox-run -- /bin/busybox sh -c 'cd /tmp && SCRIPT'   the default image, box tmpfs
#   proot        proot -r / /bin/busybox sh -c 'cd WORK && SCRIPT'
#   bwrap        bwrap --ro-bind / / --dev /dev --tmpfs /tmp /bin/busybox sh -c 'cd /tmp && SCRIPT'
# so every file the workloads write is on a RAM file system. WORK is emptied before every timed run
# (hyperfine --prepare, not timed); litebox-run and bwrap start with an empty /tmp anyway.
#
# Workloads: a loop of 20 000 `echo x > f`; a 50 MB file written by dd, alone and followed by
# `md5sum` (md5sum share = difference of the medians); a 20 000-entry tree (20 dirs x 999 files,
# `touch $(seq 999)` per dir), alone and followed by 10 x `find . >/dev/null` (find share = difference
# of the medians / 10); `sh -c true` startup. The whole set runs twice (LITEBOX_BENCH_SETS=1: once; the machine is shared and
# noisy); the summary flags any median that differs by more than 20% between the two sets. Finally
# bench/runner_syscall.sh measures the served-syscall round trip (LITEBOX_BENCH_RT=1 is passed on).
# Results: markdown summary on stdout and in BUILD_DIR/runner_workloads.md, hyperfine JSON next to it.
# A workload whose hyperfine run aborts (a command exited non-zero) is run again once; the summary
# lists every such retry. LITEBOX_BENCH_RESUME=1 keeps the JSON of complete workloads from an
# earlier run and measures only the missing ones.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build-bench-runner"}
runs=${2:-10}
sets=${LITEBOX_BENCH_SETS:-2}  # 1: a single set (no set-to-set comparison)
warmup=${LITEBOX_BENCH_WARMUP:-2}  # warmup runs per command (sh -c true: 10x)
startup_runs=$((runs * 10))
for tool in hyperfine proot bwrap python3; do
  command -v "$tool" >/dev/null || { echo "runner_workloads.sh: $tool is needed" >&2; exit 1; }
done
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
nice -n 10 ninja -C "$build" -j2 litebox-run litebox_runner_bench litebox_guest_probe >/dev/null
run="$build/examples/litebox-run/litebox-run"
bb=/bin/busybox
out="$build/runner_workloads"
mkdir -p "$out"
[ "${LITEBOX_BENCH_RESUME:-0}" = 1 ] || rm -f "$out"/*.json "$out"/*.retry "$out"/*-load.txt
work=$(mktemp -d /dev/shm/litebox-workloads.XXXXXX)
trap 'rm -rf "$work"' EXIT INT TERM

# One workload: name, warmups, runs, script (no single quotes in it).
bench() {
  name=$1 warm=$2 n=$3 script=$4
  json="$out/set$set-$name.json"
  if [ -f "$json" ] && python3 -c 'import json, sys; sys.exit(len(json.load(open(sys.argv[1]))["results"]) != 4)' "$json"; then
    echo "== set $set: $name (kept from an earlier run)"
    return 0
  fi
  for attempt in 1 2; do
    if measure "$name" "$warm" "$n" "$script"; then return 0; fi
    echo "set $set, $name, attempt $attempt: hyperfine aborted ($(date -u +%H:%MZ))" | tee -a "$out/set$set-$name.retry"
  done
  return 0  # the summary shows the missing numbers as failed
}
measure() {
  name=$1 warm=$2 n=$3 script=$4
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== set $set: $name (load $load)"
  echo "$name $load" >>"$out/set$set-load.txt"
  hyperfine -N --style basic --warmup "$warm" --runs "$n" \
    --prepare "rm -rf $work/f $work/big $work/t" \
    --export-json "$out/set$set-$name.json" \
    -n native "$bb sh -c 'cd $work && $script'" \
    -n litebox-run "$run -- $bb sh -c 'cd /tmp && $script'" \
    -n proot "proot -r / $bb sh -c 'cd $work && $script'" \
    -n bwrap "bwrap --ro-bind / / --dev /dev --tmpfs /tmp $bb sh -c 'cd /tmp && $script'" \
    >"$out/set$set-$name.log" 2>&1 || { grep -E '^(Benchmark|  Time|Error)' "$out/set$set-$name.log"; return 1; }
  grep -E '^(Benchmark|  Time)' "$out/set$set-$name.log"
}

echo "kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), $(hyperfine --version), proot $(dpkg-query -W -f='${Version}' proot 2>/dev/null || echo '?'), $(bwrap --version), busybox $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo '?')"
mkfile='dd if=/dev/zero of=big bs=1M count=50 2>/dev/null'
mktree='mkdir t && cd t && for d in $(seq 20); do mkdir $d && cd $d && touch $(seq 999) && cd ..; done'
for set in $(seq 1 "$sets"); do
  bench echo-loop "$warmup" "$runs" 'i=0; while [ $i -lt 20000 ]; do echo x > f; i=$((i+1)); done'
  bench file-create "$warmup" "$runs" "$mkfile"
  bench file-md5sum "$warmup" "$runs" "$mkfile && md5sum big >/dev/null"
  bench tree-create "$warmup" "$runs" "$mktree"
  bench tree-find "$warmup" "$runs" "$mktree && for k in 1 2 3 4 5 6 7 8 9 10; do find . >/dev/null; done"
  bench sh-true "$((warmup * 10))" "$startup_runs" 'true'
done

python3 - "$out" <<'EOF' | tee "$build/runner_workloads.md"
import json, os, statistics, sys
out = sys.argv[1]
tools = ["native", "litebox-run", "proot", "bwrap"]
names = ["echo-loop", "file-create", "file-md5sum", "tree-create", "tree-find", "sh-true"]

def medians(s):
    m = {}
    for n in names:
        try:
            with open(os.path.join(out, f"set{s}-{n}.json")) as f:
                for r in json.load(f)["results"]:
                    m[(n, r["command"])] = statistics.median(r["times"])
        except (OSError, ValueError):
            pass
        for t in tools:
            m.setdefault((n, t), None)
    rows = {}
    sub = lambda a, b: None if a is None or b is None else a - b
    for t in tools:
        rows[("echo loop (20 000 x echo x > f)", t)] = m[("echo-loop", t)]
        rows[("50 MB file: create", t)] = m[("file-create", t)]
        rows[("50 MB file: create + md5sum", t)] = m[("file-md5sum", t)]
        rows[("md5sum share", t)] = sub(m[("file-md5sum", t)], m[("file-create", t)])
        rows[("20 000-entry tree: create", t)] = m[("tree-create", t)]
        rows[("20 000-entry tree: create + 10 x find", t)] = m[("tree-find", t)]
        d = sub(m[("tree-find", t)], m[("tree-create", t)])
        rows[("find share (one find)", t)] = None if d is None else d / 10
        rows[("sh -c true", t)] = m[("sh-true", t)]
    return rows

def fmt(sec):
    if sec is None:
        return "failed"
    return f"{sec * 1e3:.1f} ms" if abs(sec) < 1 else f"{sec:.2f} s"

sets = [medians(1), medians(2)]
if all(v is None for v in sets[1].values()):
    sets = sets[:1]  # LITEBOX_BENCH_SETS=1
labels = list(dict.fromkeys(k[0] for k in sets[0]))
for i, rows in enumerate(sets, 1):
    try:
        loads = [float(line.split()[1]) for line in open(os.path.join(out, f"set{i}-load.txt"))]
        load = f"1-minute load average {min(loads):.1f}-{max(loads):.1f}"
    except (OSError, IndexError, ValueError):
        load = "load not recorded"
    print(f"\n### set {i} (medians; {load})\n")
    print("| workload | native | litebox-run | proot | bwrap | litebox-run / proot |")
    print("|---|---:|---:|---:|---:|---:|")
    for l in labels:
        nat = rows[(l, "native")]
        ok = lambda v: v is not None and v > 0
        cells = [fmt(nat)]
        for t in tools[1:]:
            v = rows[(l, t)]
            cells.append(f"{fmt(v)} ({v / nat:.2f}x)" if ok(v) and ok(nat) else fmt(v))
        p, b = rows[(l, "proot")], rows[(l, "litebox-run")]
        cells.append(f"{b / p:.2f}" if ok(p) and ok(b) else "n/a")
        print(f"| {l} | " + " | ".join(cells) + " |")
if len(sets) > 1:
    print("\n### set 1 vs set 2 (medians differing by more than 20%)\n")
flagged = 0
for l in (labels if len(sets) > 1 else []):
    for t in tools:
        a, b = sets[0][(l, t)], sets[1][(l, t)]
        if a is None or b is None:
            continue
        lo = min(abs(a), abs(b))
        if lo > 0 and abs(a - b) / lo > 0.20:
            flagged += 1
            print(f"- {l}, {t}: {fmt(a)} vs {fmt(b)} ({abs(a - b) / lo * 100:.0f}%)")
if not flagged and len(sets) > 1:
    print("- none")
retries = sorted(f for f in os.listdir(out) if f.endswith(".retry"))
if retries:
    print("\n### aborted hyperfine runs (measured again)\n")
    for f in retries:
        for line in open(os.path.join(out, f)):
            print(f"- {line.strip()}")
EOF

echo
echo "== served syscall round trip (bench/runner_syscall.sh)"
if ! "$root/bench/runner_syscall.sh" "$build" 5000 9 5; then
  echo "bench/runner_syscall.sh failed: no round-trip numbers in this run"
fi
