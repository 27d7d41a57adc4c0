#!/usr/bin/env bash
# Template-mining benchmark: accuracy of `faultline templates` on the Loghub-2k development sets,
# and its messages/s side by side with drain3 (untuned) in the same run, on one core each.
#   bench/templates.sh            (needs ../shared/bench and `pip install drain3==0.9.11`)
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=../shared/bench/loghub_bench.py
BIN=${FAULTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/faultline}
OUT=target/loghub
COPIES=${COPIES:-50}
mkdir -p "$OUT"

python3 "$HARNESS" eval --name faultline --out-dir "$OUT/faultline" \
  --annotation khan2022,logppt --cmd "$BIN templates"

# One core each, so the ratio is per-core speed.
python3 "$HARNESS" throughput --copies "$COPIES" --repeat 3 \
  --cmd "taskset -c 0 $BIN templates" --out "$OUT/throughput-faultline.json"
python3 "$HARNESS" throughput --copies "$COPIES" --repeat 1 \
  --cmd "taskset -c 0 python3 bench/drain3_templates.py" --out "$OUT/throughput-drain3.json"

python3 - "$OUT/throughput-faultline.json" "$OUT/throughput-drain3.json" <<'PY'
import json, sys
ours, base = (json.load(open(p)) for p in sys.argv[1:3])
def rates(doc):
    rows = doc.get("results", doc.get("rows", doc))
    return {r["dataset"]: r["lines_per_s"] for r in rows if "lines_per_s" in r}
a, b = rates(ours), rates(base)
print(f"{'dataset':<12}{'faultline msg/s':>18}{'drain3 msg/s':>16}{'ratio':>9}")
for d in a:
    if d in b:
        print(f"{d:<12}{a[d]:>18,.0f}{b[d]:>16,.0f}{a[d]/b[d]:>8.1f}x")
PY
