#!/usr/bin/env python3
"""An independent DR1 verifier that needs nothing but Python 3's standard library.

It recomputes, from the plan, its input files and the seed text, the DR1
keys, base populations, eligible frames, quotas, allocations and selections,
and compares them with the plan's task in a draw's selection.csv and
strata.csv (a draw of several tasks lists each; run it once per plan). It shares no
code with the Rust crate: it follows the DR1 text in the README.

    python3 verifier/dr1_verify.py PLAN.json SEED_TEXT DRAW_DIR

prints "verified" and exits 0, or prints each difference and exits 1.
"""

import csv
import datetime
import hashlib
import json
import math
import os
import sys
from fractions import Fraction


def enc(text):
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def sha256(data):
    return hashlib.sha256(data).digest()


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def date(text):
    return datetime.date.fromisoformat(text)


def draw(plan_path, seed_text):
    """Returns (selection rows, strata rows) exactly as DR1 defines them."""
    base_dir = os.path.dirname(os.path.abspath(plan_path))
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    inputs = plan["inputs"]
    entities = read_csv(os.path.join(base_dir, inputs["entities"]))
    history = read_csv(os.path.join(base_dir, inputs["history"])) if inputs.get("history") else []

    # Steps 1-3: seed digest, draw salt, keys.
    s = sha256(enc("DR1/seed") + enc(seed_text))
    t = sha256(enc("DR1/draw") + s + enc(plan["task_id"]) + enc(plan["round_id"]))

    def key(entity_id):
        return sha256(t + enc(entity_id))

    start = date(plan["window"]["start"])
    last_visit, year_dates = {}, {}
    for visit in history:
        when = date(visit["date"])
        entity = visit["entity_id"]
        last_visit[entity] = max(last_visit.get(entity, when), when)
        if when.year == start.year:
            year_dates.setdefault(entity, set()).add(when)

    strata_columns = plan.get("strata", ["region"])
    observation = plan.get("observation")
    cooldown = plan.get("cooldown_days", 0)
    cap = plan.get("annual_cap")
    selection, strata_rows = [], []
    for dep in plan["departments"]:
        scope = dep.get("scope", {})
        for cls in "ABCD":
            policy = dep["classes"][cls]
            mode = policy.get("mode", "on_site")
            base, eligible = {}, {}
            for e in entities:
                if any(e[column] not in allowed for column, allowed in scope.items()):
                    continue
                if (e["risk_class"] or plan.get("unclassified_class")) != cls:
                    continue
                # Step 4: the base population, then the exclusions.
                if e["status"] not in ("active", "suspended"):
                    continue
                stratum = tuple(e[c] for c in strata_columns)
                base[stratum] = base.get(stratum, 0) + 1
                if mode == "trigger_only":
                    continue
                if e["status"] == "suspended" and mode == "on_site":
                    continue
                if (
                    observation
                    and cls in observation["classes"]
                    and e["established"]
                    and (start - date(e["established"])).days < observation["days"]
                ):
                    continue
                if cooldown > 0 and e["id"] in last_visit and (start - last_visit[e["id"]]).days < cooldown:
                    continue
                if cap is not None and len(year_dates.get(e["id"], ())) >= cap:
                    continue
                eligible.setdefault(stratum, []).append(e["id"])
            # Step 5: the quota on the base, capped at the eligible frame.
            size_b = sum(base.values())
            size_e = sum(len(v) for v in eligible.values())
            n = min(math.ceil(Fraction(policy["ratio"]) * size_b), size_e)
            # Step 6: systematic rounding over strata ordered by their values' UTF-8 bytes.
            v = Fraction(int.from_bytes(sha256(t + enc("DR1/alloc") + enc(dep["id"]) + enc(cls))[:8], "big"), 2**64)
            order = sorted(base, key=lambda k: [x.encode("utf-8") for x in k])
            running, previous = Fraction(0), math.floor(v)
            for stratum in order:
                members = eligible.get(stratum, [])
                share = Fraction(n * len(members), size_e) if size_e else Fraction(0)
                running += share
                current = math.floor(running + v)
                n_h = current - previous
                previous = current
                # Step 7: the n_h smallest keys, ties by id bytes.
                chosen = sorted(members, key=lambda i: (key(i), i.encode("utf-8")))[:n_h]
                label = "|".join(stratum)
                for rank, entity_id in enumerate(chosen, 1):
                    selection.append([plan["task_id"], dep["id"], entity_id, cls, label, key(entity_id).hex(), str(rank)])
                strata_rows.append(
                    {
                        "task_id": plan["task_id"],
                        "department": dep["id"],
                        "class": cls,
                        "stratum": label,
                        "base": str(base[stratum]),
                        "eligible": str(len(members)),
                        "allocated": str(n_h),
                        "selected": str(len(chosen)),
                        "threshold": key(chosen[-1]).hex() if chosen else "",
                    }
                )
    return selection, strata_rows


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    plan_path, seed_text, draw_dir = argv[1:]
    selection, strata_rows = draw(plan_path, seed_text)
    differences = []

    # A draw of several tasks lists them all; compare this plan's task.
    with open(plan_path, encoding="utf-8") as f:
        task_id = json.load(f)["task_id"]
    with open(os.path.join(draw_dir, "selection.csv"), encoding="utf-8", newline="") as f:
        published = [row for row in list(csv.reader(f))[1:] if row[0] == task_id]
    if published != selection:
        ours, theirs = set(map(tuple, selection)), set(map(tuple, published))
        for row in sorted(ours - theirs):
            differences.append("selection.csv: missing " + ",".join(row))
        for row in sorted(theirs - ours):
            differences.append("selection.csv: unexpected " + ",".join(row))
        if not differences:
            differences.append("selection.csv: the same rows in a different order")

    published_strata = [r for r in read_csv(os.path.join(draw_dir, "strata.csv")) if r["task_id"] == task_id]
    if len(published_strata) != len(strata_rows):
        differences.append(f"strata.csv: {len(published_strata)} rows, expected {len(strata_rows)}")
    for ours, theirs in zip(strata_rows, published_strata):
        for field, value in ours.items():
            if theirs.get(field) != value:
                where = f"{ours['department']} {ours['class']} {ours['stratum']}"
                differences.append(f"strata.csv: {where}: {field} is {theirs.get(field)}, expected {value}")

    if differences:
        for d in differences:
            print(d)
        print(f"not verified: {len(differences)} difference(s)")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
