#!/usr/bin/env bash
# The scale comparison of the README's Performance section, in one run on
# this machine: a synth frame of N entities (default 10 million), then
#   - the full draw from CSV files to a written record (double-random draw)
#     of synth's joint task of 4 departments, strata by region, with its
#     history and directed checks, once without the inspector library (the
#     selection, as pandas and DuckDB do it) and once with it (teams staffed
#     from synth's roster: 80,000 inspectors at 10 million entities),
#   - the same SHA-256-keyed top-k per stratum written in DuckDB SQL (the
#     shape of the work, not DR1's exact allocation),
#   - the csv crate's bare ByteRecord loop over the same entity file,
#   - pandas read_csv + per-class groupby(...).sample(...), with default and
#     category dtypes (the faster counts), in a throwaway virtual environment,
# and the ratios between them, with the draws' peak memory.
#
#     bash benches/compare.sh [N]
#
# Not run by CI: it needs minutes and several GB of disk and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000000}"
WORK="target/compare/$N"
mkdir -p "$WORK"

cargo build --release --quiet --bin double-random --example csv_parse
BIN=target/release/double-random

if [ ! -f "$WORK/data/plan.json" ]; then
  echo "== synth $N entities"
  "$BIN" synth --entities "$N" --seed compare --out "$WORK/data"
fi
ls -l "$WORK/data/entities.csv"

seconds() { python3 -c 'import sys; print(float(sys.argv[1]))' "$1"; }

# The same plan without the inspector library and recusal pairs.
python3 - "$WORK/data/plan.json" "$WORK/data/plan-selection.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1], encoding="utf-8"))
for role in ("inspectors", "conflicts"):
    plan["inputs"].pop(role, None)
json.dump(plan, open(sys.argv[2], "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY

echo "== draw (CSV files to a written record)"
# A benchmark, not a real draw: start each run with an empty draw log.
rm -rf "$WORK/out" "$WORK/draw-log.jsonl"
/usr/bin/time -f "%e %M" -o "$WORK/draw.time" "$BIN" draw --plan "$WORK/data/plan-selection.json" --seed "compare" --out "$WORK/out" > "$WORK/draw.txt"
read -r DRAW_S DRAW_KB < "$WORK/draw.time"
tail -n 6 "$WORK/draw.txt"

echo "== draw with the inspector library (teams staffed)"
rm -rf "$WORK/out-teams" "$WORK/draw-log.jsonl"
/usr/bin/time -f "%e %M" -o "$WORK/teams.time" "$BIN" draw --plan "$WORK/data/plan.json" --seed "compare" --out "$WORK/out-teams" > "$WORK/teams.txt"
read -r TEAMS_S TEAMS_KB < "$WORK/teams.time"
rm -rf "$WORK/out-teams" "$WORK/draw-log.jsonl"

echo "== bare csv parse of the entity file"
/usr/bin/time -f "%e %M" -o "$WORK/csv.time" target/release/examples/csv_parse "$WORK/data/entities.csv"
read -r CSV_S _ < "$WORK/csv.time"

echo "== pandas read_csv + groupby(...).sample(...)"
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install --quiet pandas
fi
"$WORK/venv/bin/python" -c "import duckdb" 2>/dev/null || "$WORK/venv/bin/pip" install --quiet duckdb
"$WORK/venv/bin/python" - "$WORK/data/entities.csv" > "$WORK/pandas.txt" <<'PY'
import sys, time
import pandas as pd
path = sys.argv[1]
ratios = {"A": 0.01, "B": 0.02, "C": 0.10, "D": 0.30}
best = None
for label, kwargs in [("default dtypes", {}), ("category dtypes", {"dtype": {"risk_class": "category", "region": "category", "industry": "category", "status": "category"}})]:
    t = time.perf_counter()
    df = pd.read_csv(path, **kwargs)
    read = time.perf_counter() - t
    t = time.perf_counter()
    df["risk_class"] = df["risk_class"].astype(object).fillna("B")
    active = df[df["status"].isin(["active", "suspended"])]
    picked = active.groupby(["risk_class", "region"], observed=True, group_keys=False).apply(
        lambda g: g.sample(frac=ratios.get(g.name[0], 0.02), random_state=1)
    )
    sample = time.perf_counter() - t
    total = read + sample
    print(f"pandas {label}: read {read:.2f} s, sample {sample:.2f} s, {len(picked)} picked, total {total:.2f} s")
    best = total if best is None else min(best, total)
print(f"best {best:.3f}")
PY
cat "$WORK/pandas.txt"
PANDAS_S=$(tail -n 1 "$WORK/pandas.txt" | cut -d' ' -f2)

echo "== DuckDB: SHA-256 key per entity, top-k per (class, region) stratum"
/usr/bin/time -f "%e %M" -o "$WORK/duckdb.time" "$WORK/venv/bin/python" - "$WORK/data/entities.csv" > "$WORK/duckdb.txt" <<'PY'
import hashlib
import sys
import duckdb
con = duckdb.connect()
# Keys as DR3 step 3 forms them: H(T || enc(id)), T a 32-byte salt (any
# fixed one: the cost does not depend on its value).
salt = hashlib.sha256(b"compare").hexdigest()
picked = con.execute(f"""
    WITH e AS (
        SELECT id, coalesce(risk_class, 'B') AS class, region
        FROM read_csv('{sys.argv[1]}', header = true, all_varchar = true)
        WHERE status IN ('active', 'suspended')
    ), k AS (
        SELECT id, class, region,
               sha256(from_hex('{salt}') || from_hex(printf('%08x', octet_length(encode(id)))) || encode(id)) AS key
        FROM e
    ), r AS (
        SELECT *, row_number() OVER (PARTITION BY class, region ORDER BY key, id) AS rank,
               count(*) OVER (PARTITION BY class, region) AS size
        FROM k
    )
    SELECT count(*) FROM r
    WHERE rank <= ceil(size * CASE class WHEN 'A' THEN 0.01 WHEN 'B' THEN 0.02 WHEN 'C' THEN 0.10 ELSE 0.30 END)
""").fetchone()[0]
print(f"duckdb {duckdb.__version__}: {picked} picked")
PY
read -r DUCKDB_S DUCKDB_KB < "$WORK/duckdb.time"
cat "$WORK/duckdb.txt"

python3 - "$N" "$DRAW_S" "$DRAW_KB" "$TEAMS_S" "$TEAMS_KB" "$CSV_S" "$PANDAS_S" "$DUCKDB_S" "$DUCKDB_KB" <<'PY'
import sys
n = int(sys.argv[1])
draw, kb, teams, teams_kb, csv_s, pandas, duck, duck_kb = map(float, sys.argv[2:])
print(f"== {n:,} entities")
print(f"draw without teams {draw:.2f} s, peak RSS {kb / 1024:.0f} MB")
print(f"draw with teams {teams:.2f} s, peak RSS {teams_kb / 1024:.0f} MB; with / without = {teams / draw:.2f} (target at most 1.5)")
print(f"bare csv parse {csv_s:.2f} s; draw / csv parse = {draw / csv_s:.2f}")
print(f"DuckDB {duck:.2f} s, peak RSS {duck_kb / 1024:.0f} MB; DuckDB / draw = {duck / draw:.2f}")
print(f"pandas {pandas:.2f} s; pandas / draw = {pandas / draw:.2f}")
PY
