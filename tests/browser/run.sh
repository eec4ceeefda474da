#!/usr/bin/env bash
# Drives `double-random serve` in headless Chromium (Debian's chromium,
# through playwright-core from npm). Installs what a fresh machine lacks.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq chromium
fi
if ! command -v node >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm
fi
cargo build --release --bin double-random
target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm install --silent --no-audit --no-fund --prefix "$work" playwright-core@1 >/dev/null
NODE_PATH="$work/node_modules" node tests/browser/ceremony.cjs "$target/release/double-random" "$PWD/fixtures"
