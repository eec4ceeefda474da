#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) with cargo-fuzz on the
# nightly toolchain; new inputs go to corpus-run/ (not committed), the
# committed seeds in corpus/ are read only. Crashes land in artifacts/.
#
#     cargo install cargo-fuzz && bash fuzz/run.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${1:-600}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(entities inputs plan record)
fi
for t in "${TARGETS[@]}"; do
  mkdir -p "fuzz/corpus-run/$t"
  echo "== $t for $SECONDS_EACH s"
  cargo +nightly fuzz run "$t" "fuzz/corpus-run/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECONDS_EACH" -max_len=65536 -rss_limit_mb=4096 2>&1 | tail -n 3
done
