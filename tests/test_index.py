"""docs/index.md agrees with what it indexes: the notebooks' own run times and the api.md examples."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INDEX = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
RUN_TIME = re.compile(r"\*\*Run time[.:]\*\*\s+about (\d+) s on two cores", re.I)


def _table(heading: str) -> list[list[str]]:
    """Rows (cells) of the first table after ``heading`` in docs/index.md, header and rule dropped."""
    section = INDEX[INDEX.index(f"\n{heading}\n"):]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif rows:
            break
    return rows[2:]


def _notebook_rows() -> dict[str, str]:
    rows = {}
    for cells in _table("## Notebooks"):
        name = re.search(r"\(\.\./notebooks/([^)]+\.ipynb)\)", cells[0]).group(1)
        rows[name] = cells[-1]
    return rows


def _header_run_time(name: str) -> int:
    cell = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))["cells"][0]
    found = RUN_TIME.findall("".join(cell["source"]))
    assert len(found) == 1, f"{name}: the first cell states its run time once, as '**Run time.** About N s on two cores'"
    return int(found[0])


def test_every_notebook_is_in_the_run_time_table():
    assert sorted(_notebook_rows()) == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("name", sorted(_notebook_rows()))
def test_index_run_time_is_the_notebooks_own(name):
    stated = _notebook_rows()[name]
    match = re.fullmatch(r"~(\d+) s", stated)
    assert match, f"{name}: run time cell {stated!r} is not '~N s'"
    assert int(match.group(1)) == _header_run_time(name), name


def test_teachers_promise_a_minute_or_less():
    assert "Each runs in about a minute or less" in INDEX
    assert max(_header_run_time(name) for name in _notebook_rows()) <= 60


def _api_code() -> str:
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    return "\n".join(re.findall(r"```python\n(.*?)```", api, re.S))


def test_every_module_row_has_an_api_example():
    """The claim under the module table: one doctested api.md example per row, demo and CLI excepted."""
    code = _api_code()
    rows = _table("## Package modules (`superspike_ref/`)")
    assert len(rows) > 20
    missing = []
    for cells in rows:
        stems = [n.rstrip("/").removesuffix(".py") for n in re.findall(r"`([\w/.]+)`", cells[0])]
        if stems in (["demo"], ["__main__", "cli_options"]):
            continue
        if not any(re.search(rf"\b{re.escape(stem)}\b", code) for stem in stems):
            missing.append(cells[0])
    assert not missing, f"no api.md example uses {missing}"
    assert "except `demo.py`, `__main__.py` and `cli_options.py`" in INDEX
    tests = ROOT / "tests"
    assert "run_demo" in (tests / "test_demo.py").read_text() and "main(" in (tests / "test_cli.py").read_text()
