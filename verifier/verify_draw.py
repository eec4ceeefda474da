#!/usr/bin/env python3
"""An independent verifier of DR3 draws that needs nothing but Python 3's
standard library.

It recomputes, from the plan, its input files and the seed text, the
keys, base populations, eligible frames, quotas, allocations and selections,
and compares them with the plan's task in a draw's selection.csv and
strata.csv (a draw of several tasks lists each; run it once per plan). It shares no
code with the Rust crate: it follows the DR3 text in the README. It reads the
entity file twice and never holds the frame, only counts per stratum, the
history's last visits and the selected (a province of 10 million entities
takes some 330 MB).

    python3 verifier/verify_draw.py PLAN.json SEED_TEXT DRAW_DIR

prints "verified" and exits 0, or prints each difference and exits 1.
"""

import csv
import datetime
import hashlib
import heapq
import json
import math
import os
import re
import sys
import zipfile
import xml.etree.ElementTree as ET
from fractions import Fraction


SPEC = "DR3"


def enc(text):
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def sha256(data):
    return hashlib.sha256(data).digest()


def cell(value):
    """A value as the draw's CSV files hold it: one that a spreadsheet would
    read as a formula (starting with =, +, -, @, a tab or a carriage return)
    gets a ' in front."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# The Chinese column names an input file may use, by canonical name, as the
# README lists them; "统一社会信用代码" and "信用代码" stand for "id" in the
# entity file and "entity_id" in the history.
COLUMN_ALIASES = {
    "id": ["统一社会信用代码", "信用代码", "编号", "人员编号", "事项编号"],
    "entity_id": ["统一社会信用代码", "信用代码", "主体统一社会信用代码"],
    "name": ["企业名称", "主体名称", "名称", "姓名", "事项名称"],
    "risk_class": ["信用风险分类", "信用风险分类结果", "信用风险类别", "风险分类", "信用风险等级", "风险等级"],
    "region": ["区域", "所属区域", "辖区", "所属辖区", "地区"],
    "industry": ["行业", "所属行业", "行业类别", "行业门类"],
    "status": ["登记状态", "经营状态", "企业状态", "状态"],
    "established": ["成立日期"],
    "department": ["部门", "检查部门", "所属部门"],
    "date": ["检查日期", "日期"],
    "kind": ["检查类型", "类型", "事项类型"],
    "inspector_ids": ["检查人员编号", "执法人员编号", "检查人员"],
    "max_ratio": ["最高抽查比例", "抽查比例上限"],
    "scale": ["规模", "企业规模"],
}
KINDS = {"随机": "random", "双随机": "random", "随机抽查": "random", "定向": "directed", "定向抽查": "directed"}
CLASS_NAMES = {"信用风险低": "A", "低风险": "A", "信用风险一般": "B", "一般风险": "B",
               "信用风险较高": "C", "较高风险": "C", "信用风险高": "D", "高风险": "D"}
STATES = {"存续": "active", "在业": "active", "开业": "active", "在营": "active", "正常": "active", "在册": "active",
          "歇业": "suspended", "停业": "suspended", "注销": "deregistered",
          "吊销": "revoked", "撤销": "revoked", "吊销，未注销": "revoked", "吊销,未注销": "revoked", "吊销未注销": "revoked"}


def canonical_header(fields, wanted):
    """The header with each documented Chinese name replaced by the canonical one it stands for (``wanted`` lists
    the columns the file must have, which settles 统一社会信用代码)."""
    out = [f.strip() for f in fields]
    for canonical, aliases in COLUMN_ALIASES.items():
        if canonical in out:
            continue
        owners = lambda a: [c for c, names in COLUMN_ALIASES.items() if a in names]
        for i, name in enumerate(out):
            if name in aliases and (len(owners(name)) == 1 or canonical in wanted):
                out[i] = canonical
                break
    return out


def risk_class(text):
    """A class as an entity file may write it: A, A类, A级, A类（信用风险低）, 信用风险低 …"""
    if text in ("A", "B", "C", "D", ""):
        return text
    text = text.strip()
    if text in CLASS_NAMES:
        return CLASS_NAMES[text]
    letter, rest = text[:1], text[1:]
    if letter in "ABCD" and rest[:1] in ("类", "级"):
        note = rest[1:]
        if not note or note[:1] + note[-1:] in ("（）", "()") and CLASS_NAMES.get(note[1:-1]) == letter:
            return letter
    return text


def status(text):
    """A registration state as an entity file may write it: active …, or 存续, 歇业, 注销, 吊销 …"""
    if text in ("active", "suspended", "deregistered", "revoked"):
        return text
    state = text.strip().replace("(", "（").split("（")[0].strip()
    return STATES.get(state, text)


def encoding_of(path, declared):
    """How to read a file: its byte-order mark decides, else the plan's declaration, else UTF-8."""
    with open(path, "rb") as f:
        head = f.read(4)
    if head == b"\x84\x31\x95\x33":
        return "gb18030", True
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16", False
    if (declared or "utf-8").lower() in ("gb18030", "gbk", "gb2312", "cp936"):
        return "gb18030", False
    return "utf-8-sig", False


XLSX = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def xlsx_records(path):
    """The rows of an Excel workbook's first sheet as lists of text, as the draw reads them: whole numbers without
    a decimal point, dates as YYYY-MM-DD, wholly empty rows skipped (standard library only: a workbook is a zip of
    XML)."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(XLSX + "si"):
                shared.append("".join(t.text or "" for t in si.iter(XLSX + "t")))
        # Which cell styles are dates: the built-in date formats and custom ones with y, m or d in them.
        date_styles = set()
        if "xl/styles.xml" in names:
            styles = ET.fromstring(z.read("xl/styles.xml"))
            custom = {f.get("numFmtId"): f.get("formatCode", "") for f in styles.iter(XLSX + "numFmt")}
            xfs = styles.find(XLSX + "cellXfs")
            for i, xf in enumerate(xfs if xfs is not None else []):
                fmt = xf.get("numFmtId", "0")
                code = re.sub(r'"[^"]*"|\\.|\[[^]]*\]', "", custom.get(fmt, ""))
                if 14 <= int(fmt) <= 22 or 45 <= int(fmt) <= 47 or re.search(r"[ydmYDM]", code):
                    date_styles.add(i)
        book = ET.fromstring(z.read("xl/workbook.xml"))
        first = book.find(XLSX + "sheets")[0]
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == first.get(RELS + "id"))
        target = target.lstrip("/") if target.startswith("/") else "xl/" + target
        sheet = ET.fromstring(z.read(target))
    epoch = datetime.datetime(1899, 12, 30)
    for row in sheet.iter(XLSX + "row"):
        cells = {}
        for c in row.iter(XLSX + "c"):
            letters = re.match(r"[A-Z]+", c.get("r")).group(0)
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            kind, v = c.get("t", "n"), c.find(XLSX + "v")
            if kind == "s":
                text = shared[int(v.text)]
            elif kind == "inlineStr":
                text = "".join(t.text or "" for t in c.iter(XLSX + "t"))
            elif kind == "b":
                text = "TRUE" if v is not None and v.text == "1" else "FALSE"
            elif v is None:
                text = ""
            elif kind in ("str", "e"):
                text = v.text or ""
            elif int(c.get("s", "0")) in date_styles:
                when = epoch + datetime.timedelta(days=float(v.text))
                text = when.date().isoformat() if when.time() == datetime.time() else when.strftime("%Y-%m-%d %H:%M:%S")
            else:
                number = float(v.text)
                text = str(int(number)) if number.is_integer() and abs(number) < 1e15 else v.text
            cells[col] = text
        if any(cells.values()):
            yield cells


def workbook_rows(path):
    """A workbook's first sheet as lists, its columns from the sheet's first used column to its last."""
    records = list(xlsx_records(path))
    if not records:
        return
    first = min(min(r) for r in records)
    last = max(max(r) for r in records)
    for r in records:
        yield [r.get(c, "") for c in range(first, last + 1)]


def rows(path, declared=None, wanted=()):
    """The rows of a CSV file, one at a time: a national entity file does not fit in memory as a list. The file is
    read in its encoding, its Chinese column names as their canonical ones, and risk classes and registration
    states as their canonical values."""
    if path.lower().endswith(".xlsx"):
        yield from canonical_rows(workbook_rows(path), wanted)
        return
    encoding, bom = encoding_of(path, declared)
    with open(path, encoding=encoding, newline="") as f:
        if bom:
            f.read(1)
        yield from canonical_rows(csv.reader(f), wanted)


def canonical_rows(records, wanted):
    """Records (lists, the header first) as dicts under the canonical column names, with canonical values."""
    records = iter(records)
    header = canonical_header(next(records, []), wanted)
    for record in records:
        row = dict(zip(header, record))
        if "risk_class" in row:
            row["risk_class"] = risk_class(row["risk_class"])
        if "status" in row:
            row["status"] = status(row["status"])
        if "kind" in row:
            row["kind"] = KINDS.get(row["kind"], row["kind"])
        yield row


def date(text):
    return datetime.date.fromisoformat(text)


def draw(plan_path, seed_text):
    """Returns (selection rows, strata rows) exactly as DR3 defines them.

    It reads the entity file twice and never holds the frame:
    the first pass counts each stratum's base and eligible entities, which
    is all the quotas and the allocation need (steps 4-6); the second keeps,
    per stratum, the n_h smallest keys seen so far (step 7).
    """
    base_dir = os.path.dirname(os.path.abspath(plan_path))
    with open(plan_path, encoding="utf-8-sig") as f:
        plan = json.load(f)
    if plan.get("spec", SPEC) != SPEC:
        raise SystemExit(f"{plan_path}: the plan is spec {plan['spec']}, this verifier implements {SPEC}")
    inputs = plan["inputs"]
    encodings = plan.get("encodings", {})
    entities_path = os.path.join(base_dir, inputs["entities"])

    # Steps 1-3: seed digest, draw salt, keys (DR3 keeps DR1's hash labels).
    s = sha256(enc("DR1/seed") + enc(seed_text))
    t = sha256(enc("DR1/draw") + s + enc(plan["task_id"]) + enc(plan["round_id"]))

    def key(entity_id):
        return sha256(t + enc(entity_id))

    start = date(plan["window"]["start"])
    # Which past visits the cooldown and the annual cap count, by kind.
    cooled_kinds = set(plan.get("cooldown_counts", ["random", "directed"]))
    capped_kinds = set(plan.get("annual_cap_counts", ["random"]))
    last_visit, year_dates = {}, {}
    if inputs.get("history"):
        for visit in rows(os.path.join(base_dir, inputs["history"]), encodings.get("history"), ("entity_id",)):
            when = date(visit["date"])
            entity = visit["entity_id"]
            if visit["kind"] in cooled_kinds:
                last_visit[entity] = max(last_visit.get(entity, when), when)
            if visit["kind"] in capped_kinds and when.year == start.year:
                year_dates.setdefault(entity, set()).add(when)

    strata_columns = plan.get("strata", ["region"])
    observation = plan.get("observation")
    # Each class's cooldown and cap: the plan-wide ones unless class_limits says otherwise.
    cooldown = {c: plan.get("class_limits", {}).get(c, {}).get("cooldown_days", plan.get("cooldown_days", 0)) for c in "ABCD"}
    cap = {c: plan.get("class_limits", {}).get(c, {}).get("annual_cap", plan.get("annual_cap")) for c in "ABCD"}
    departments = plan["departments"]

    # Per department: the values its scope allows per column, and each class's mode.
    scopes = [[(column, set(allowed)) for column, allowed in dep.get("scope", {}).items()] for dep in departments]
    modes = [{c: p.get("mode", "on_site") for c, p in dep["classes"].items()} for dep in departments]

    def places(e):
        """Step 4 for one entity: (department, class, stratum, eligible) for
        each department whose base population holds it."""
        cls = e["risk_class"] or plan.get("unclassified_class")
        if e["status"] not in ("active", "suspended"):
            return
        stratum = tuple(e[c] for c in strata_columns)
        # The exclusions that are the same in every department.
        excluded = (
            (
                observation
                and cls in observation["classes"]
                and e["established"]
                and (start - date(e["established"])).days < observation["days"]
            )
            or (cooldown[cls] > 0 and e["id"] in last_visit and (start - last_visit[e["id"]]).days < cooldown[cls])
            or (cap[cls] is not None and len(year_dates.get(e["id"], ())) >= cap[cls])
        )
        for d in range(len(departments)):
            if cls not in modes[d] or any(e[column] not in allowed for column, allowed in scopes[d]):
                continue
            mode = modes[d][cls]
            eligible = not (excluded or mode == "trigger_only" or (e["status"] == "suspended" and mode == "on_site"))
            yield d, cls, stratum, eligible

    # First pass: the base and eligible counts of every stratum.
    base, eligible = {}, {}
    for e in rows(entities_path, encodings.get("entities"), ("id",)):
        for d, cls, stratum, is_eligible in places(e):
            base[d, cls, stratum] = base.get((d, cls, stratum), 0) + 1
            if is_eligible:
                eligible[d, cls, stratum] = eligible.get((d, cls, stratum), 0) + 1

    # Steps 5 and 6, per department and class.
    allocated, strata_order = {}, {}
    for d, dep in enumerate(departments):
        for cls in "ABCD":
            policy = dep["classes"][cls]
            strata = [k[2] for k in base if k[:2] == (d, cls)]
            size_b = sum(base[d, cls, k] for k in strata)
            size_e = sum(eligible.get((d, cls, k), 0) for k in strata)
            # Step 5: the quota on the base, capped at the eligible frame.
            n = min(math.ceil(Fraction(policy["ratio"]) * size_b), size_e)
            # Step 6: systematic rounding over strata ordered by their values' UTF-8 bytes.
            v = Fraction(int.from_bytes(sha256(t + enc("DR1/alloc") + enc(dep["id"]) + enc(cls))[:8], "big"), 2**64)
            strata_order[d, cls] = sorted(strata, key=lambda k: [x.encode("utf-8") for x in k])
            running, previous = Fraction(0), math.floor(v)
            for stratum in strata_order[d, cls]:
                share = Fraction(n * eligible.get((d, cls, stratum), 0), size_e) if size_e else Fraction(0)
                running += share
                current = math.floor(running + v)
                allocated[d, cls, stratum] = current - previous
                previous = current

    # Second pass, step 7: per stratum the n_h smallest keys, in a heap whose
    # top is the largest kept (keys negated). Two ids never share a key
    # short of a SHA-256 collision, so DR3's tie rule (id bytes) never acts.
    kept = {}
    for e in rows(entities_path, encodings.get("entities"), ("id",)):
        for d, cls, stratum, is_eligible in places(e):
            n_h = allocated[d, cls, stratum]
            if not is_eligible or n_h == 0:
                continue
            heap = kept.setdefault((d, cls, stratum), [])
            k = -int.from_bytes(key(e["id"]), "big")
            if len(heap) < n_h:
                heapq.heappush(heap, (k, e["id"]))
            elif k > heap[0][0]:
                heapq.heapreplace(heap, (k, e["id"]))

    selection, strata_rows = [], []
    for d, dep in enumerate(departments):
        for cls in "ABCD":
            for stratum in strata_order[d, cls]:
                chosen = [i for _, i in sorted(kept.get((d, cls, stratum), []), reverse=True)]
                label = "|".join(stratum)
                for rank, entity_id in enumerate(chosen, 1):
                    row = [plan["task_id"], dep["id"], entity_id, cls, label, key(entity_id).hex(), str(rank)]
                    selection.append([cell(v) for v in row])
                strata_rows.append(
                    {
                        "task_id": cell(plan["task_id"]),
                        "department": cell(dep["id"]),
                        "class": cls,
                        "stratum": cell(label),
                        "base": str(base[d, cls, stratum]),
                        "eligible": str(eligible.get((d, cls, stratum), 0)),
                        "allocated": str(allocated[d, cls, stratum]),
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
    with open(plan_path, encoding="utf-8-sig") as f:
        task_id = cell(json.load(f)["task_id"])
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
