"""The exercises of the derivation notebooks and their student versions (house style, "Notebooks").

Every derivation notebook (01-08 and 16) ends with 2-4 exercises. An exercise is three tagged cells
(``scripts/make_student_notebooks.py`` describes them): the task (``exercise``), the student's code with the
solution between ``# BEGIN SOLUTION`` / ``# END SOLUTION`` (``solution``) and the asserts with hints
(``check``). The committed notebooks are the solution versions; ``pytest --nbval`` runs them. These tests check

* the structure: 2-4 exercises per notebook, numbered ``N.1, N.2, ...``, each task → solution → check;
* the generator: its output differs from the solution version in the solution cells only, keeps every line
  outside the markers, is idempotent, and stops with exit status 2 and one line on a marker mismatch;
* the behaviour, in a kernel: the exercise cells need only the notebook's first code cell; with the solutions
  nothing raises, and in the student version exactly the solution cells raise ``NotImplementedError`` while
  every check cell fails. Only the first code cell and the exercise cells are run (about 2-5 s per notebook and
  version), not the whole notebook.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
DERIVATION = sorted(NOTEBOOK_DIR.glob("0[1-8]_*.ipynb")) + sorted(NOTEBOOK_DIR.glob("16_*.ipynb"))
IDS = [p.name for p in DERIVATION]


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_student_notebooks", REPO / "scripts" / "make_student_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    return gen._source(cell)


def test_derivation_notebooks_found():
    assert [p.name[:2] for p in DERIVATION] == ["01", "02", "03", "04", "05", "06", "07", "08", "16"]


@pytest.mark.parametrize("path", DERIVATION, ids=IDS)
def test_two_to_four_exercises_in_order(path: Path):
    nb = _load(path)
    found = gen.exercise_cells(nb)
    n = len(found["exercise"])
    assert 2 <= n <= 4, f"{path.name}: {n} exercises, expected 2-4"
    assert len(found["solution"]) == len(found["check"]) == n, f"{path.name}: tags {found}"
    number = str(int(path.name[:2]))
    for k, index in enumerate(found["exercise"], start=1):
        cells = nb["cells"][index:index + 3]
        assert [gen.tags(c) for c in cells] == [["exercise"], ["solution"], ["check"]], (
            f"{path.name}, cell {index}: an exercise is a task, a solution and a check cell, in that order"
        )
        assert gen.exercise_heading(cells[0]) is not None and gen.exercise_heading(cells[0])[0] == f"{number}.{k}", (
            f"{path.name}, cell {index}: expected the heading '### Exercise {number}.{k} — title'"
        )
        check = _source(cells[2])
        assert "assert" in check and "Hint" in check, f"{path.name}, cell {index + 2}: a check cell asserts, with hints"
    things_to_try = [i for i, c in enumerate(nb["cells"]) if _source(c).startswith("## Things to try")]
    assert things_to_try and found["check"][-1] < things_to_try[0], f"{path.name}: the exercises come before 'Things to try'"


@pytest.mark.parametrize("path", DERIVATION, ids=IDS)
def test_student_version_differs_only_in_solution_cells(path: Path):
    nb = _load(path)
    before = copy.deepcopy(nb)
    student = gen.make_student(nb, path.name)
    assert nb == before, "make_student must not change its input"
    solution = set(gen.exercise_cells(nb)["solution"])
    assert len(student["cells"]) == len(nb["cells"])
    for index, (cell, new) in enumerate(zip(nb["cells"], student["cells"])):
        if index not in solution:
            assert new == cell, f"{path.name}, cell {index}: changed, but it is not a solution cell"
            continue
        old_lines, new_lines = _source(cell).splitlines(), _source(new).splitlines()
        assert new_lines != old_lines and new["outputs"] == [] and new["execution_count"] is None
        assert gen.BEGIN not in _source(new) and gen.END not in _source(new)
        raises = [line for line in new_lines if "raise NotImplementedError(" in line]
        assert len(raises) == _source(cell).count(gen.BEGIN) >= 1
        assert all(re.search(r'"Exercise \d+\.\d+: .+"', line) for line in raises)
        kept = [line for line in new_lines if line not in raises]
        inside, outside = False, []
        for line in old_lines:                                 # the lines outside the markers, in order
            if line.strip() == gen.BEGIN:
                inside = True
            elif line.strip() == gen.END:
                inside = False
            elif not inside:
                outside.append(line)
        assert kept == outside, f"{path.name}, cell {index}: the lines outside the markers must stay as they are"
        assert any(line.startswith("def ") for line in kept), f"{path.name}, cell {index}: the signature must stay"


def _toy_notebook(solution_source: str, extra_marker_cell: bool = False, heading: bool = True) -> dict:
    cells = [
        {"cell_type": "markdown", "id": "a", "metadata": {"tags": ["exercise"]},
         "source": ["### Exercise 1.1 — add\n" if heading else "### add\n", "Write it."]},
        {"cell_type": "code", "id": "b", "metadata": {"tags": ["solution"]}, "execution_count": 1, "outputs": [],
         "source": gen._as_lines(solution_source)},
        {"cell_type": "code", "id": "c", "metadata": {"tags": ["check"]}, "execution_count": 2, "outputs": [],
         "source": ["assert add(1, 2) == 3, 'Hint: +'"]},
    ]
    if extra_marker_cell:
        cells.append({"cell_type": "code", "id": "d", "metadata": {}, "execution_count": 3, "outputs": [],
                      "source": ["# BEGIN SOLUTION\n", "x = 1\n", "# END SOLUTION"]})
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


GOOD = 'def add(a, b):\n    """a + b"""\n    # BEGIN SOLUTION\n    return a + b\n    # END SOLUTION\n\n\nprint(add(1, 2))'


def test_generator_replaces_the_block_at_its_indentation():
    student = gen.make_student(_toy_notebook(GOOD), "toy.ipynb")
    assert _source(student["cells"][1]) == (
        'def add(a, b):\n    """a + b"""\n    raise NotImplementedError("Exercise 1.1: add")\n\n\nprint(add(1, 2))'
    )


@pytest.mark.parametrize("source, message", [
    ("def add(a, b):\n    # BEGIN SOLUTION\n    return a + b\n", "without '# END SOLUTION'"),
    ("def add(a, b):\n    return a + b\n    # END SOLUTION\n", "without '# BEGIN SOLUTION'"),
    ("def add(a, b):\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return a + b\n    # END SOLUTION\n", "inside another"),
    ("def add(a, b):\n    return a + b\n", "without a '# BEGIN SOLUTION'"),
    ("def add(a, b):\n    # BEGIN SOLUTION: here\n    return a + b\n    # END SOLUTION\n", "malformed marker"),
])
def test_generator_rejects_marker_mismatches(source, message):
    with pytest.raises(gen.MarkerError, match=re.escape(message)) as err:
        gen.make_student(_toy_notebook(source), "toy.ipynb")
    assert str(err.value).startswith("toy.ipynb, cell 1: ")


def test_generator_rejects_markers_outside_solution_cells_and_missing_headings():
    with pytest.raises(gen.MarkerError, match=r"^toy\.ipynb, cell 3: solution markers in a cell not tagged"):
        gen.make_student(_toy_notebook(GOOD, extra_marker_cell=True), "toy.ipynb")
    with pytest.raises(gen.MarkerError, match=r"^toy\.ipynb, cell 0: .*### Exercise N\.k — title"):
        gen.make_student(_toy_notebook(GOOD, heading=False), "toy.ipynb")


def test_cli_exit_2_with_one_line_on_a_mismatch(tmp_path, capsys):
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(_toy_notebook("def add(a, b):\n    # BEGIN SOLUTION\n    return a + b\n")), encoding="utf-8")
    assert gen.main(["--out", str(tmp_path / "out"), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.ipynb, cell 1" in err
    assert not (tmp_path / "out").exists(), "nothing is written when a notebook has a marker mismatch"


def test_cli_writes_idempotently_and_fixes_links(tmp_path):
    out = tmp_path / "a" / "b"
    paths = [str(p) for p in DERIVATION[:2]]
    assert gen.main(["--out", str(out), *paths]) == 0
    first = {p.name: p.read_bytes() for p in sorted(out.glob("*.ipynb"))}
    assert sorted(first) == sorted(Path(p).name for p in paths)
    assert gen.main(["--out", str(out), *paths]) == 0
    assert {p.name: p.read_bytes() for p in sorted(out.glob("*.ipynb"))} == first
    student = json.loads(first[DERIVATION[0].name])
    prefix = Path(__import__("os").path.relpath(REPO, out)).as_posix()
    links = re.findall(r"\]\(([^)#]+\.md)", _source(student["cells"][0]))
    assert links and all(link.startswith(prefix + "/") and (out / link).resolve().is_file() for link in links)


def test_notebooks_without_exercises_are_skipped(tmp_path):
    others = [p for p in sorted(NOTEBOOK_DIR.glob("*.ipynb")) if p not in DERIVATION][:1]
    assert others and gen.main(["--out", str(tmp_path), str(others[0])]) == 0
    assert not list(tmp_path.glob("*.ipynb"))


# --- execution in a kernel -------------------------------------------------------------------------------

def _exercise_notebook(nb: dict) -> tuple:
    """A notebook of the first code cell and the exercise cells (the code ones), plus the tags of each cell."""
    import nbformat

    setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
    path_cell = nbformat.v4.new_code_cell(f"import sys\nsys.path.insert(0, {str(REPO)!r})")   # this checkout's package
    cells, kinds = [path_cell, nbformat.from_dict(copy.deepcopy(setup))], ["path", "setup"]
    for cell in nb["cells"]:
        kind = [t for t in gen.tags(cell) if t in ("solution", "check")]
        if kind:
            cells.append(nbformat.from_dict(copy.deepcopy(cell)))
            kinds.append(kind[0])
    mini = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb["metadata"]))
    for cell in mini.cells:
        cell["source"] = _source(cell)                        # nbclient wants strings, the files hold lists
        cell.pop("id", None)
        cell["outputs"], cell["execution_count"] = [], None
    mini.nbformat_minor = 4                                   # no cell ids needed
    return mini, kinds


def _errors(mini) -> list:
    """The exception name of each cell (None if it raised nothing)."""
    names = []
    for cell in mini.cells:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        names.append(errors[0]["ename"] if errors else None)
    return names


def _run(mini):
    from nbclient import NotebookClient

    NotebookClient(mini, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(NOTEBOOK_DIR)}}).execute()
    return _errors(mini)


@pytest.mark.parametrize("path", DERIVATION, ids=IDS)
def test_exercises_run_solution_and_student(path: Path):
    pytest.importorskip("nbclient")
    nb = _load(path)
    mini, kinds = _exercise_notebook(nb)
    solved = _run(mini)
    assert all(e is None for e in solved), (
        f"{path.name}: with the solutions, these exercise cells raise: "
        + str([(kind, e) for kind, e in zip(kinds, solved) if e]) + " (they may use only the first code cell)"
    )
    student_mini, _ = _exercise_notebook(gen.make_student(nb, path.name))
    student = _run(student_mini)
    for kind, error in zip(kinds, student):
        if kind in ("path", "setup"):
            assert error is None
        elif kind == "solution":
            assert error == "NotImplementedError", f"{path.name}: a student solution cell raised {error}"
        else:
            assert error is not None, f"{path.name}: a check cell passed without the student's code"
            assert error != "SyntaxError"
    assert student.count("NotImplementedError") >= kinds.count("solution")
