#!/usr/bin/env bash
# Builds the C ABI, then compiles and runs its C example under
# AddressSanitizer and UndefinedBehaviorSanitizer, and its Java example
# through JNA. Needs gcc, a JDK and JNA (Debian: gcc openjdk-17-jdk-headless
# libjna-java); .ci/run installs them.
set -euo pipefail
cd "$(dirname "$0")"

cargo build --release --locked
# The library is where cargo puts it (CARGO_TARGET_DIR, when CI shares one).
lib=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A plan whose entities.csv has an invalid risk class on line 3.
mkdir "$work/bad"
for f in ../fixtures/*.csv ../fixtures/plan.json; do cp "$f" "$work/bad/"; done
python3 - "$work/bad/entities.csv" <<'PY'
import csv, sys
path = sys.argv[1]
rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
rows[2][rows[0].index("risk_class")] = "E"
csv.writer(open(path, "w", newline="", encoding="utf-8"), lineterminator="\n").writerows(rows)
PY

mkdir "$work/c" "$work/java"
echo "== C, with AddressSanitizer and UndefinedBehaviorSanitizer"
gcc -std=c11 -Wall -Wextra -Werror -g -fsanitize=address,undefined -fno-omit-frame-pointer \
  -Iinclude examples/c/draw_and_verify.c -L"$lib" -ldouble_random -o "$work/draw_and_verify"
LD_LIBRARY_PATH="$lib" ASAN_OPTIONS=detect_leaks=1 \
  "$work/draw_and_verify" "$PWD/../fixtures/plan.json" "$work/c/out" "$work/bad/plan.json"

echo "== Java, through JNA"
jna=/usr/share/java/jna.jar
javac -cp "$jna" -d "$work/classes" examples/java/DrawAndVerify.java
java -cp "$jna:$work/classes" -Djna.library.path="$lib" DrawAndVerify \
  "$PWD/../fixtures/plan.json" "$work/java/out" "$work/bad/plan.json"
