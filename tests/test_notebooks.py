"""Structural checks of the committed notebooks (house style, "Notebooks").

The notebooks are committed executed, with outputs, so that readers see every result
without running anything; ``pytest --nbval notebooks/`` re-runs them and compares the text
outputs (see ``notebooks/conftest.py``). These tests are fast and need no kernel: they read
the ``.ipynb`` JSON and check that each notebook

* starts with a markdown cell (what you will learn, run time, paper sections);
* was run top to bottom in a fresh kernel: code-cell execution counts 1, 2, 3, ... without gaps;
* has no error outputs;
* prints no object reprs with memory addresses (they change on every run, so nbval would fail);
* selects no interactive matplotlib backend (the inline backend renders with Agg to PNG).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}")
INTERACTIVE_BACKEND = re.compile(
    r"^\s*%matplotlib\s+(?!inline\b)\w+|matplotlib\.use\(\s*[\"'](?!agg\b|module://matplotlib_inline)[^\"']*",
    re.M | re.I,
)


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _text_outputs(cell: dict):
    """Every text an output of ``cell`` shows (streams and text/plain data)."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield output.get("name", "stream"), output.get("text", "")
        for mime, value in output.get("data", {}).items():
            if mime == "text/plain":
                yield mime, value


def _join(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_first_cell_is_markdown(path: Path):
    cells = _load(path)["cells"]
    assert cells, f"{path.name} has no cells"
    assert cells[0]["cell_type"] == "markdown", (
        f"{path.name}: the first cell is a {cells[0]['cell_type']} cell; it must be markdown "
        "(what you will learn, run time, paper and SPEC sections)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_executed_in_order(path: Path):
    code_cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code"]
    counts = [c.get("execution_count") for c in code_cells]
    expected = list(range(1, len(code_cells) + 1))
    assert counts == expected, (
        f"{path.name}: execution counts {counts}, expected {expected}. Re-run it top to bottom in a fresh "
        "kernel, e.g. `jupyter nbconvert --to notebook --execute --inplace " + path.name + "`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_error_outputs(path: Path):
    for index, cell in enumerate(_load(path)["cells"]):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{path.name}, cell {index}: error output {output.get('ename')}: {output.get('evalue')}"
            )
            if output.get("output_type") == "stream":
                assert output.get("name") != "stderr" or "Traceback" not in _join(output.get("text", "")), (
                    f"{path.name}, cell {index}: a traceback on stderr"
                )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_memory_addresses_in_outputs(path: Path):
    for index, cell in enumerate(_load(path)["cells"]):
        for kind, text in _text_outputs(cell):
            match = MEMORY_ADDRESS.search(_join(text))
            assert match is None, (
                f"{path.name}, cell {index}: {kind} output shows a memory address ({match.group(0)!r}); "
                "end plotting cells with plt.show() and print numbers with explicit formats"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_interactive_matplotlib_backend(path: Path):
    for index, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        match = INTERACTIVE_BACKEND.search(_source(cell))
        assert match is None, (
            f"{path.name}, cell {index}: {match.group(0).strip()!r} selects an interactive backend; use the "
            "default inline backend (or `%matplotlib inline`), which renders with Agg to PNG"
        )
