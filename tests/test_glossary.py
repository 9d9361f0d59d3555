"""docs/glossary.md: every code name exists, and every symbol and name has one meaning (issue P9 item 5).

The glossary's table (paper symbol, SPEC name, code name, unit, meaning) is parsed; a dotted
code name must import from ``superspike_ref`` (a dataclass field counts as an attribute), a plain
one must occur as a word in the package source.
"""
from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from superspike_ref.params import Params

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
PACKAGE = ROOT / "superspike_ref"
COLUMNS = ("paper symbol", "SPEC name", "code name", "unit", "meaning")

def _rows() -> list[dict]:
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| paper symbol |"))
    assert tuple(c.strip() for c in lines[header].strip("|").split("|")) == COLUMNS
    rows = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == len(COLUMNS), f"row with {len(cells)} cells: {line}"
        rows.append(dict(zip(COLUMNS, cells)))
    return rows


ROWS = _rows()


def _code_names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def _code_name(row: dict) -> str:
    names = _code_names(row["code name"])
    assert len(names) == 1, f"the code name of {row} must be one name in backticks"
    return names[0]


def _package_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py")))


SOURCE = _package_source()


def _resolves(dotted: str) -> bool:
    """Whether ``superspike_ref.<dotted>`` is a module attribute, class attribute or dataclass field."""
    module_name, *attrs = dotted.split(".")
    obj = importlib.import_module(f"superspike_ref.{module_name}")
    for attr in attrs:
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
        elif dataclasses.is_dataclass(obj) and attr in {f.name for f in dataclasses.fields(obj)}:
            return attr == attrs[-1]
        else:
            return False
    return True


def _exists(name: str) -> bool:
    if "." in name:
        return _resolves(name)
    return re.search(rf"\b{re.escape(name)}\b", SOURCE) is not None


def test_table_is_large_and_unit_column_filled():
    assert len(ROWS) >= 60
    assert all(row["unit"] for row in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row["code name"] for row in ROWS])
def test_code_name_exists(row):
    name = _code_name(row)
    assert _exists(name), f"{name!r} ({row['meaning']}) is not in superspike_ref"


def test_dotted_names_in_meanings_exist():
    dotted = {n for row in ROWS for n in _code_names(row["meaning"]) if re.fullmatch(r"[a-z_]+(\.[A-Za-z_0-9]+)+", n)}
    assert dotted, "the meanings name some functions"
    assert [n for n in sorted(dotted) if not _resolves(n)] == []



@pytest.mark.parametrize("column", ["paper symbol", "SPEC name"])
def test_one_code_name_per_symbol(column):
    seen = {}
    for row in ROWS:
        symbol = row[column]
        if symbol != "—":
            seen.setdefault(symbol, set()).add(_code_name(row))
    assert {s: names for s, names in seen.items() if len(names) > 1} == {}


def test_one_quantity_per_code_name():
    names = [_code_name(row) for row in ROWS]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_parameter_is_listed():
    listed = {_code_name(row) for row in ROWS}
    derived = {"n_ref", "n_delay", "n_batch", "gamma"}
    wanted = {f"params.Params.{name}" for name in {f.name for f in dataclasses.fields(Params)} | derived}
    assert sorted(wanted - listed) == []
