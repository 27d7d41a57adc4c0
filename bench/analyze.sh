#!/usr/bin/env bash
# `faultline analyze` on generated mixed-format logs (10 MB and 1 GB by default), one core,
# with peak memory; drain3 (untuned, `pip install drain3==0.9.11`) mines the same lines in the
# same run for comparison, as does `faultline templates`.
#   bench/analyze.sh [SIZE_MB ...]
#   SIMPLE=1 bench/analyze.sh ...     the earlier, easier log set (see bench/gen_simple_logs.py)
#   BENCH_DIR=/somewhere bench/analyze.sh ...   where generated logs are kept (default target/bench)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${FAULTLINE_BIN:-${CARGO_TARGET_DIR:-target}/release/faultline}
SIZES=("${@:-10 1024}")
KIND=mixed
FLAG=()
if [ -n "${SIMPLE:-}" ]; then
  KIND=simple
  FLAG=(--simple)
fi
for mb in ${SIZES[@]}; do
  dir=${BENCH_DIR:-target/bench}/${KIND}-${mb}mb
  [ -d "$dir" ] || python3 bench/gen_mixed_logs.py "$dir" "$mb" "${FLAG[@]}"
  lines=$(cat "$dir"/* | wc -l)
  echo "== ${KIND} ${mb} MB, ${lines} lines ($(du -sh "$dir" | cut -f1))"
  /usr/bin/time -f "faultline analyze:   %e s, peak RSS %M KB" taskset -c 0 "$BIN" analyze "$dir"/* >/dev/null
  cat "$dir"/* | /usr/bin/time -f "faultline templates: %e s, peak RSS %M KB" taskset -c 0 "$BIN" templates >/dev/null
  cat "$dir"/* | /usr/bin/time -f "drain3 templates:    %e s, peak RSS %M KB" taskset -c 0 python3 bench/drain3_templates.py >/dev/null
done
