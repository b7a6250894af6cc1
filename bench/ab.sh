#!/bin/sh
# Interleaved A/B timing on a noisy machine: every command runs in every round (hyperfine -N),
# so a drift of the machine hits all of them alike; prints each command's median of the round
# medians and the round medians themselves.
# usage: bench/ab.sh ROUNDS RUNS COMMAND...
#   e.g. bench/ab.sh 5 40 "/bin/busybox sh -c true" "build/rel/examples/litebox-run/litebox-run -- /bin/busybox sh -c true" \
#        "proot -r / /bin/busybox sh -c true"
set -eu
[ $# -ge 3 ] || { echo "usage: $0 ROUNDS RUNS COMMAND..." >&2; exit 2; }
rounds=$1 runs=$2
shift 2
for tool in hyperfine python3; do
  command -v "$tool" >/dev/null || { echo "ab.sh: $tool is needed" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM
for i in $(seq "$rounds"); do
  # hyperfine's outlier warnings are expected on a shared machine: shown only if it fails
  hyperfine -N --warmup 3 --runs "$runs" --export-json "$out/round$i.json" "$@" >/dev/null 2>"$out/stderr" ||
    { cat "$out/stderr" >&2; exit 1; }
done
python3 - "$out" <<'PY'
import glob, json, statistics, sys
medians = {}
for path in sorted(glob.glob(sys.argv[1] + "/round*.json")):
    for r in json.load(open(path))["results"]:
        medians.setdefault(r["command"], []).append(statistics.median(r["times"]) * 1e3)
for command, values in medians.items():
    rounds = " ".join(f"{v:.2f}" for v in values)
    print(f"{statistics.median(values):8.3f} ms  (rounds: {rounds})  {command}")
PY
