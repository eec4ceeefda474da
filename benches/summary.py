#!/usr/bin/env python3
"""Prints criterion's median estimates as a table, with each bench's ratio
to the bare csv-crate parse of the same entity file measured in the same run.

    cargo bench --bench draw && python3 benches/summary.py
"""
import glob
import json
import os

ROOT = os.path.join(os.path.dirname(__file__), "..", "target", "criterion")
rows = {}
for path in sorted(glob.glob(os.path.join(ROOT, "**", "new", "estimates.json"), recursive=True)):
    name = os.path.relpath(os.path.dirname(os.path.dirname(path)), ROOT)
    rows[name] = json.load(open(path))["median"]["point_estimate"]

print(f"| {'bench':<45} | {'median':>12} | {'× csv parse':>11} |")
print(f"|{'-' * 47}|{'-' * 14}|{'-' * 13}|")
for name, ns in rows.items():
    group = name.split(os.sep)[0]
    base = rows.get(os.path.join(group, "baseline_csv-parse-entities"))
    ratio = f"{ns / base:.1f}" if base else ""
    print(f"| {name.replace(os.sep, '/'):<45} | {ns / 1e6:>9.3f} ms | {ratio:>11} |")
