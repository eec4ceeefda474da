"""The Python package against the command line, the goldens and bad input."""

import csv
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

import double_random as dr

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SEED = "2027-03-01 lottery 0417 2953"
OUTPUTS = ["selection.csv", "strata.csv", "exclusions.csv", "visits.csv", "offsite.csv",
           "unscheduled.csv", "public.csv", "record.json"]


def cli() -> str:
    """The command-line binary the outputs are compared with (DOUBLE_RANDOM_CLI, else the release build)."""
    path = os.environ.get("DOUBLE_RANDOM_CLI", str(ROOT / "target" / "release" / "double-random"))
    assert Path(path).is_file(), f"{path}: build the CLI first (cargo build --release) or set DOUBLE_RANDOM_CLI"
    return path


@pytest.fixture
def inputs(tmp_path):
    """A copy of the fixture inputs, so relative paths in records match between runs."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    for f in list(FIXTURES.glob("*.csv")) + [FIXTURES / "plan.json", FIXTURES / "commitment.json"]:
        shutil.copy(f, folder / f.name)
    return folder


def test_a_draw_from_python_equals_the_command_lines_byte_for_byte(inputs, tmp_path):
    result = dr.draw(inputs / "plan.json", SEED, tmp_path / "py", commitments=[inputs / "commitment.json"])
    subprocess.run([cli(), "draw", "--plan", str(inputs / "plan.json"), "--seed", SEED,
                    "--commitment", str(inputs / "commitment.json"), "--out", str(tmp_path / "cli"),
                    "--log", str(tmp_path / "cli-log.jsonl")], check=True, capture_output=True)
    for name in OUTPUTS:
        assert (tmp_path / "py" / name).read_bytes() == (tmp_path / "cli" / name).read_bytes(), name
    golden = (FIXTURES / "golden" / "selection.csv").read_bytes()
    assert (tmp_path / "py" / "selection.csv").read_bytes() == golden
    # The result is the written files: the record, and the tables row by row.
    assert result["record"] == json.loads((tmp_path / "py" / "record.json").read_text(encoding="utf-8"))
    with open(tmp_path / "py" / "visits.csv", newline="", encoding="utf-8") as f:
        assert dr.rows(result, "visits") == list(csv.DictReader(f))
    assert result["logged"][0]["seq"] == 1
    assert result["log"] == str(tmp_path / "draw-log.jsonl")


def test_verify_reports_a_tampered_file(inputs, tmp_path):
    out = tmp_path / "out"
    dr.draw([inputs / "plan.json"], SEED, out)
    assert dr.verify(out / "record.json") == {
        "kind": "verification", "contract": dr.CONTRACT, "record": str(out / "record.json"),
        "verified": True, "differences": [], "notes": []}
    visits = out / "visits.csv"
    visits.write_text(visits.read_text(encoding="utf-8").replace("2027-", "2028-", 1), encoding="utf-8")
    v = dr.verify(out / "record.json")
    assert v["verified"] is False
    assert any("visits.csv" in d for d in v["differences"]), v["differences"]


def test_a_bad_input_raises_with_file_line_and_field(inputs, tmp_path):
    entities = inputs / "entities.csv"
    with open(entities, newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    table[2][table[0].index("risk_class")] = "E"
    with open(entities, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(table)
    with pytest.raises(dr.Error) as caught:
        dr.draw(inputs / "plan.json", SEED, tmp_path / "out")
    e = caught.value
    assert (e.code, e.file, e.line, e.field) == ("invalid_field", "entities.csv", 3, "risk_class")
    assert str(e).startswith("entities.csv, line 3, field risk_class: ")
    assert not (tmp_path / "out").exists()
    # The command line says the same.
    o = subprocess.run([cli(), "draw", "--plan", str(inputs / "plan.json"), "--seed", SEED,
                        "--out", str(tmp_path / "cli")], capture_output=True, text=True)
    assert o.returncode == 2
    assert o.stderr.strip() == f"error: {e}"


def test_in_memory_tables_draw_like_the_files(tmp_path):
    plan = json.loads((FIXTURES / "plan.json").read_text(encoding="utf-8"))
    files = {p: (FIXTURES / p).read_text(encoding="utf-8") for p in plan["inputs"].values()}
    with open(FIXTURES / "entities.csv", newline="", encoding="utf-8") as f:
        files[plan["inputs"]["entities"]] = list(csv.DictReader(f))
    path = dr.write_inputs(tmp_path / "mem", plan, files)
    dr.draw(path, SEED, tmp_path / "out")
    golden = (FIXTURES / "golden" / "selection.csv").read_bytes()
    assert (tmp_path / "out" / "selection.csv").read_bytes() == golden
    with pytest.raises(FileExistsError):
        dr.write_inputs(tmp_path / "mem", plan, files)


def test_tables_as_pandas_frames(inputs, tmp_path):
    pandas = pytest.importorskip("pandas")
    result = dr.draw(inputs / "plan.json", SEED, tmp_path / "out")
    df = dr.frame(result, "selection")
    written = pandas.read_csv(tmp_path / "out" / "selection.csv", dtype=str, keep_default_na=False)
    assert df.equals(written)
    # In-memory tables may be DataFrames too.
    plan = json.loads((inputs / "plan.json").read_text(encoding="utf-8"))
    files = {p: (inputs / p).read_bytes() for p in plan["inputs"].values()}
    files[plan["inputs"]["entities"]] = pandas.read_csv(inputs / "entities.csv", dtype=str, keep_default_na=False)
    dr.draw(dr.write_inputs(tmp_path / "mem", plan, files), SEED, tmp_path / "out2", log=tmp_path / "log2.jsonl")
    assert (tmp_path / "out2" / "selection.csv").read_bytes() == (tmp_path / "out" / "selection.csv").read_bytes()


def test_commit_fairness_audits_and_synth(inputs, tmp_path):
    c = dr.commit(inputs / "plan.json")
    assert c["commitment"] == json.loads((inputs / "commitment.json").read_text(encoding="utf-8"))
    report = dr.fairness(inputs / "plan.json", 20, "f", svg=tmp_path / "fairness.svg")
    assert report["runs"] == 20
    assert (tmp_path / "fairness.svg").read_text(encoding="utf-8").startswith("<svg")
    year = dr.fairness_year(FIXTURES / "program.json", 2, "y")
    assert year["runs"] == 2
    audit = dr.audit_observed(FIXTURES / "observed" / "systematic-draws.csv", FIXTURES / "observed" / "frame.csv",
                              FIXTURES / "observed" / "claims.csv")
    assert any(t["flagged"] for t in audit["tests"]), audit["tests"]
    s = dr.synth(500, "py", tmp_path / "s")
    assert s["entities"] == 500 and Path(s["plan"]).is_file()
    with pytest.raises(dr.Error) as caught:
        dr.synth(500, "py", tmp_path / "s")
    assert caught.value.code in ("output_exists", "output_refused")


def test_the_gil_is_released_while_the_library_works(tmp_path):
    ticks = 0
    done = threading.Event()

    def work():
        dr.synth(300_000, "gil", tmp_path / "s")
        done.set()

    t = threading.Thread(target=work)
    started = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - started
    # With the GIL held, this thread could not tick at all until synth returned.
    assert elapsed > 0.05 and ticks > 10, (elapsed, ticks)


def test_the_readmes_example_runs_as_written(tmp_path, monkeypatch, capsys):
    """The README's Python example, run in a folder holding the fixtures and
    a copy of them with line 3's class broken (its `bad/`)."""
    pytest.importorskip("pandas")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    shutil.copytree(FIXTURES, tmp_path / "bad")
    entities = tmp_path / "bad" / "entities.csv"
    lines = entities.read_text(encoding="utf-8").split("\n")
    cells = lines[2].split(",")
    cells[2] = "E"
    lines[2] = ",".join(cells)
    entities.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    exec(compile(example, "README.md", "exec"), {})
    printed = capsys.readouterr().out.strip().split("\n")
    assert printed[-1] == "invalid_field entities.csv 3 risk_class", printed
    assert printed[0].startswith("DR3 draw: plan "), printed
    assert (tmp_path / "out" / "py-draw" / "record.json").is_file()
    assert (tmp_path / "out" / "fairness.svg").read_text(encoding="utf-8").startswith("<svg")
    assert not (tmp_path / "out" / "bad").exists()
