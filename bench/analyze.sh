#!/usr/bin/env bash
# `faultline analyze` on generated mixed-format logs (10 MB and 1 GB by default), one core,
# with peak memory; drain3 (untuned, `pip install drain3==0.9.11`) mines the same lines in the
# same run for comparison, as does `faultline templates`.
#   bench/analyze.sh [SIZE_MB ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FAULTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/faultline}
SIZES=("${@:-10 1024}")
for mb in ${SIZES[@]}; do
  dir=target/bench/mixed-${mb}mb
  [ -d "$dir" ] || python3 bench/gen_mixed_logs.py "$dir" "$mb"
  lines=$(cat "$dir"/* | wc -l)
  echo "== ${mb} MB, ${lines} lines ($(du -sh "$dir" | cut -f1))"
  /usr/bin/time -f "faultline analyze:   %e s, peak RSS %M KB" taskset -c 0 "$BIN" analyze "$dir"/* >/dev/null
  cat "$dir"/* | /usr/bin/time -f "faultline templates: %e s, peak RSS %M KB" taskset -c 0 "$BIN" templates >/dev/null
  cat "$dir"/* | /usr/bin/time -f "drain3 templates:    %e s, peak RSS %M KB" taskset -c 0 python3 bench/drain3_templates.py >/dev/null
done
