#!/usr/bin/env python3
"""An independent check of a publication (一公开) that needs nothing but
Python 3's standard library: the files `double-random publish` wrote,
checked against the draw and the results file they name.

It checks that the draw's record.json and the results file are the ones the
publication names (SHA-256), that every output file is the one it names,
that public.csv holds exactly one row per result with its code, label and
completion date, and that every deadline is the plan's publication_days
working days after the result date on the draw's calendar, flagged overdue
exactly when the publication date is after it. It shares no code with the
Rust crate: it follows the text of docs/REFERENCE.md.

    python3 verifier/verify_publication.py PUBDIR/publication.json

prints "verified" and exits 0, or prints each difference and exits 1.
"""

import csv
import datetime
import hashlib
import json
import os
import sys

LABELS = {
    "1": "未发现问题",
    "3": "违反食品药品管理相关规定",
    "4": "违反质量技术监督相关规定",
    "5": "违反其他部门相关规定",
    "6": "通过登记的住所（经营场所）无法联系",
    "7": "已关闭停业或正在清算",
    "8": "不配合检查情节严重",
    "9": "注销",
    "10": "被吊销",
    "11": "被撤销",
    "12": "迁出",
    "B": "未按规定公示应当公示的信息",
    "C": "公示信息隐瞒真实情况弄虚作假",
    "D": "违反其他工商行政管理规定行为",
    "E": "发现问题经责令已改正",
    "F": "未发现开展本次抽查涉及的经营活动",
    "G": "违反公安部门相关规定",
    "P": "发现问题待后续处理",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def date(text):
    return datetime.date.fromisoformat(text)


def code_of(value):
    """A result as its code: the file may give the code or the label."""
    if value in LABELS:
        return value
    for code, label in LABELS.items():
        if label == value:
            return code
    return None


def add_working_days(day, n, holidays, workdays):
    """The n-th working day after `day`: Monday to Friday unless a holiday,
    and the make-up working days the calendar lists."""
    while n > 0:
        day += datetime.timedelta(days=1)
        working = (day.weekday() < 5 and day not in holidays) or day in workdays
        if working:
            n -= 1
    return day


def verify(publication_path):
    differences = []
    folder = os.path.dirname(os.path.abspath(publication_path))
    with open(publication_path, encoding="utf-8") as f:
        publication = json.load(f)
    for named in (publication["draw"], publication["results"]):
        path = os.path.join(folder, named["path"])
        if sha256(path) != named["sha256"]:
            differences.append(f"{named['path']}: sha256 differs from the publication's")
    for named in publication["outputs"]:
        path = os.path.join(folder, named["path"])
        if not os.path.exists(path) or sha256(path) != named["sha256"]:
            differences.append(f"{named['path']}: not the file the publication names")
    if differences:
        return differences
    record_path = os.path.join(folder, publication["draw"]["path"])
    with open(record_path, encoding="utf-8") as f:
        record = json.load(f)
    plan_path = os.path.join(os.path.dirname(record_path), record["tasks"][0]["plan"]["path"])
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    days = plan.get("teams", {}).get("publication_days", 20)
    holidays, workdays = set(), set()
    calendar = plan["inputs"].get("calendar")
    if calendar:
        for row in rows(os.path.join(os.path.dirname(plan_path), calendar)):
            (holidays if row["kind"] == "holiday" else workdays).add(date(row["date"]))
    published_on = date(publication["published_on"])
    results = {}
    for row in rows(os.path.join(folder, publication["results"]["path"])):
        key = (row["visit_id"], row["department"], row["item_id"])
        results[key] = (code_of(row["result"]), row["result_date"])
    public = rows(os.path.join(folder, "public.csv"))
    authorities = {d["id"]: d.get("name") or d["id"] for d in plan["departments"]}
    seen = set()
    for n, row in enumerate(public, start=2):
        departments = [d for d, name in authorities.items() if name == row["authority"]]
        key = None
        for d in departments:
            if (row["visit_id"], d, row["item_id"]) in results:
                key = (row["visit_id"], d, row["item_id"])
        if key is None:
            differences.append(f"public.csv, line {n}: no result for {row['visit_id']} {row['item_id']}")
            continue
        seen.add(key)
        code, result_date = results[key]
        if row["result"] != code or row["result_label"] != LABELS.get(code):
            differences.append(f"public.csv, line {n}: the result is not {code} {LABELS.get(code)}")
        if row["completion_date"] != result_date:
            differences.append(f"public.csv, line {n}: the completion date is not the result date {result_date}")
        deadline = add_working_days(date(result_date), days, holidays, workdays)
        if row["deadline"] != deadline.isoformat():
            differences.append(f"public.csv, line {n}: the deadline is {deadline}, not {row['deadline']}")
        overdue = "yes" if published_on > deadline else ""
        if row["overdue"] != overdue:
            differences.append(f"public.csv, line {n}: overdue should be {overdue!r}")
    for key in sorted(set(results) - seen):
        differences.append(f"public.csv: the result for {' '.join(key)} is not published")
    return differences


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    differences = verify(argv[1])
    for d in differences:
        print(d)
    if differences:
        print(f"not verified: {len(differences)} difference(s)")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
