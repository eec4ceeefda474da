"""Reproducible, verifiable "double random, one public" (双随机、一公开) draws.

The Python face of the Rust crate ``double-random``: every function here
sends a request of the crate's JSON contract (the ``schemas/`` folder of
the repository) to the compiled library, with the GIL released while it
works, and returns the result as plain Python objects (dicts, lists,
strings, numbers). The outputs are the command line's, byte for byte.

>>> import double_random as dr
>>> result = dr.draw(["fixtures/plan.json"], seed="2027-03-01 lottery 0417 2953", out="out")
>>> result["record"]["visits"]
>>> dr.frame(result, "selection")        # a pandas DataFrame (pandas is optional)
>>> dr.verify("out/record.json")["verified"]
True

A bad input raises :class:`Error`, carrying the same code, file, line and
field as the command line's message.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import _native

__all__ = [
    "Error",
    "draw",
    "commit",
    "verify",
    "fairness",
    "fairness_year",
    "audit_observed",
    "synth",
    "write_inputs",
    "rows",
    "frame",
    "CONTRACT",
    "__version__",
]

__version__: str = _native.__version__
#: The version of the JSON contract the answers follow.
CONTRACT: str = _native.contract()

PathLike = Union[str, "os.PathLike[str]"]


class Error(Exception):
    """A draw, commitment or verification that could not be done.

    ``code`` is the contract's stable error code (``invalid_field``,
    ``duplicate_id``, ``commitment_mismatch`` …); ``file``, ``line`` and
    ``field`` say where in the inputs, when the error is in one; ``path``
    names a file that could not be read or written; ``details`` lists the
    sentences of an error that has several. ``str(error)`` is the command
    line's message.
    """

    def __init__(self, report: Mapping[str, Any]):
        self.report = dict(report)
        self.code: str = report.get("code", "")
        self.message: str = report.get("message", "")
        self.file: Optional[str] = report.get("file")
        self.line: Optional[int] = report.get("line")
        self.field: Optional[str] = report.get("field")
        self.sheet: Optional[str] = report.get("sheet")
        self.column: Optional[str] = report.get("column")
        self.path: Optional[str] = report.get("path")
        self.details: list = list(report.get("details", []))
        super().__init__(self.message)


def _call(command: str, request: Mapping[str, Any]) -> dict:
    answer = json.loads(_native.call(command, json.dumps(request, ensure_ascii=False)))
    if not answer["ok"]:
        raise Error(answer["error"])
    return answer["result"]


def _path(p: Optional[PathLike]) -> Optional[str]:
    return None if p is None else os.fspath(p)


def _paths(ps: Union[PathLike, Iterable[PathLike]]) -> list:
    if isinstance(ps, (str, os.PathLike)):
        return [os.fspath(ps)]
    return [os.fspath(p) for p in ps]


def draw(
    plans: Union[PathLike, Sequence[PathLike]],
    seed: str,
    out: PathLike,
    *,
    commitments: Union[PathLike, Sequence[PathLike]] = (),
    log: Optional[PathLike] = None,
    redraw_reason: Optional[str] = None,
    force: bool = False,
    frame: str = "auto",
    tables: bool = True,
    xlsx: bool = False,
) -> dict:
    """Draws the plan(s) with the public ``seed`` text and writes the outputs into ``out``.

    Returns the draw's report: ``record`` (what ``record.json`` holds: per
    task, department and class the base, eligible, quota, drawn and
    shortfall counts), ``logged`` (the draw-log entries), ``summary`` (the
    command line's table) and, with ``tables`` (the default), every output
    file as ``{"file", "columns", "rows"}`` (see :func:`rows` and
    :func:`frame`). The log defaults to ``draw-log.jsonl`` beside ``out``.
    With ``xlsx``, ``out`` also gets ``outputs.xlsx``, the outputs as one
    Excel workbook for the bureau's staff.
    """
    request = {
        "plans": _paths(plans),
        "seed": seed,
        "out": os.fspath(out),
        "commitments": _paths(commitments),
        "log": _path(log),
        "redraw_reason": redraw_reason,
        "force": force,
        "frame": frame,
        "tables": tables,
        "xlsx": xlsx,
    }
    return _call("draw", request)


def commit(plan: PathLike, out: Optional[PathLike] = None, *, force: bool = False, frame: str = "auto") -> dict:
    """The commitment to a plan's inputs (``result["commitment"]``), written to ``out`` when given."""
    return _call("commit", {"plan": os.fspath(plan), "out": _path(out), "force": force, "frame": frame})


def verify(
    record: PathLike, *, plan: Optional[PathLike] = None, log: Optional[PathLike] = None, frame: str = "auto"
) -> dict:
    """Replays a written draw (or a publication) and compares every file.

    ``result["verified"]`` is True when everything matched; otherwise
    ``result["differences"]`` names each file that differs. A record that
    cannot be read raises :class:`Error`.
    """
    return _call("verify", {"record": os.fspath(record), "plan": _path(plan), "log": _path(log), "frame": frame})


def fairness(plan: PathLike, runs: int, seed: str, *, svg: Optional[PathLike] = None) -> dict:
    """Fairness of a plan's draw over ``runs`` seeds ``"SEED #k"``; ``svg`` writes the report's pictures."""
    return _call("fairness", {"plan": os.fspath(plan), "runs": runs, "seed": seed, "svg": _path(svg)})


def fairness_year(program: PathLike, runs: int, seed: str) -> dict:
    """An annual program's year simulated over ``runs`` seeds."""
    return _call("fairness_year", {"program": os.fspath(program), "runs": runs, "seed": seed})


def audit_observed(observed: PathLike, frame: PathLike, claims: Optional[PathLike] = None) -> dict:
    """Audits another system's published draws against the frame they were drawn from."""
    return _call(
        "audit_observed", {"observed": os.fspath(observed), "frame": os.fspath(frame), "claims": _path(claims)}
    )


def synth(entities: int, seed: str, out: PathLike) -> dict:
    """Writes a realistic synthetic dataset (entities, history, inspectors, a plan) into a new folder."""
    return _call("synth", {"entities": entities, "seed": seed, "out": os.fspath(out)})


def write_inputs(folder: PathLike, plan: Mapping[str, Any], files: Mapping[str, Any]) -> Path:
    """Writes a plan and its input tables held in memory into a new folder, and returns the plan's path.

    ``files`` maps each file name the plan's ``inputs`` use to its
    contents: a pandas DataFrame (written without its index), a list of
    dicts (the keys of the first are the header), text or bytes. The
    folder must not exist: the draw's record names these files, so they
    are kept for anyone to verify the draw later.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=False)
    for name, content in files.items():
        target = folder / name
        if target.resolve().parent != folder.resolve():
            raise ValueError(f"{name}: input files are written inside the folder, by plain name")
        target.write_bytes(_as_csv(content))
    path = folder / "plan.json"
    path.write_text(json.dumps(plan, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _as_csv(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    if hasattr(content, "to_csv"):
        return content.to_csv(index=False, lineterminator="\n").encode("utf-8")
    records = list(content)
    buffer = io.StringIO()
    if records:
        writer = csv.DictWriter(buffer, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return buffer.getvalue().encode("utf-8")


def _table(result: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    file = name if name.endswith(".csv") else name + ".csv"
    for table in result.get("tables") or []:
        if table["file"] == file:
            return table
    raise KeyError(f"{file}: not among the result's tables (draw with tables=True)")


def rows(result: Mapping[str, Any], name: str) -> list:
    """An output table of a draw's result (``"selection"``, ``"visits"``, ``"exclusions"`` …) as a list of dicts."""
    table = _table(result, name)
    return [dict(zip(table["columns"], row)) for row in table["rows"]]


def frame(result: Mapping[str, Any], name: str):
    """An output table of a draw's result as a pandas DataFrame of strings, exactly as written.

    pandas is optional: this is the one function that needs it.
    """
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("double_random.frame needs pandas (pip install pandas); rows() needs nothing") from e
    table = _table(result, name)
    return pandas.DataFrame(table["rows"], columns=table["columns"], dtype=str)
