#!/usr/bin/env bash
# Builds and installs the Python package into a throwaway virtualenv (pip
# builds it with maturin), then runs its pytest suite against the release
# command line, which it builds if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin double-random
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "./python[test]"
DOUBLE_RANDOM_CLI="$target/release/double-random" "$venv/bin/pytest" -q python/tests
