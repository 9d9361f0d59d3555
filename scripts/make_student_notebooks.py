"""Write the student versions of the notebooks: the exercises without their solutions.

The committed notebooks are the solution versions. An exercise is three cells, each tagged in its
metadata (``"tags"``):

* ``exercise``: a markdown cell that starts with ``### Exercise N.k — title`` and says what to write;
* ``solution``: a code cell in which the solution sits between the lines ``# BEGIN SOLUTION`` and
  ``# END SOLUTION`` (a cell may hold several such blocks, e.g. two functions);
* ``check``: a code cell of ``assert`` statements that compare the student's function with the
  library's on random inputs, each with a hint.

The student version replaces every block, markers included, by
``raise NotImplementedError("Exercise N.k: title")`` at the indentation of ``# BEGIN SOLUTION``, and
clears the outputs of the solution cells. The lines outside the markers (the ``def`` line and the
docstring, a call that tries the function) stay. Nothing else changes, except that the relative links
of markdown cells (``](../``) are rewritten so that they still point into the repository from the
output directory.

Usage::

    python scripts/make_student_notebooks.py [--out DIR] [NOTEBOOK ...]

``DIR`` defaults to ``build/student/`` (git-ignored); without notebook arguments every notebook in
``notebooks/`` that has exercises is written. Running it twice writes the same files. A marker
mismatch stops it with one line naming the notebook and the cell, and exit status 2.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
DEFAULT_OUT = REPO / "build" / "student"

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
HEADING = re.compile(r"^### Exercise (\d+\.\d+) — (.+?)\s*$")
TAGS = ("exercise", "solution", "check")


class MarkerError(ValueError):
    """A solution marker is missing, unmatched or in the wrong cell."""


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _as_lines(text: str) -> list:
    """nbformat's on-disk form of a source: lines that keep their newline, the last one without."""
    return text.splitlines(keepends=True)


def tags(cell: dict) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_cells(nb: dict) -> dict:
    """``{tag: [cell index, ...]}`` for the three exercise tags."""
    found = {tag: [] for tag in TAGS}
    for index, cell in enumerate(nb["cells"]):
        for tag in TAGS:
            if tag in tags(cell):
                found[tag].append(index)
    return found


def exercise_heading(cell: dict) -> tuple | None:
    """``(number, title)`` of an exercise markdown cell, or None."""
    first = _source(cell).splitlines()[0] if _source(cell) else ""
    match = HEADING.match(first)
    return (match.group(1), match.group(2)) if match else None


def strip_solution(source: str, message: str) -> str:
    """Replace every BEGIN/END block of ``source`` by ``raise NotImplementedError(message)``."""
    out, inside, indent, blocks = [], False, "", 0
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"line {number}: '{BEGIN}' inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})\n")
        elif stripped == END:
            if not inside:
                raise MarkerError(f"line {number}: '{END}' without '{BEGIN}'")
            inside, blocks = False, blocks + 1
        elif stripped.startswith(("# BEGIN SOLUTION", "# END SOLUTION")):
            raise MarkerError(f"line {number}: malformed marker {stripped!r}")
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"'{BEGIN}' without '{END}'")
    if blocks == 0:
        raise MarkerError(f"a cell tagged 'solution' without a '{BEGIN}' ... '{END}' block")
    text = "".join(out)
    return text[:-1] if text.endswith("\n") and not source.endswith("\n") else text


def make_student(nb: dict, name: str = "notebook", link_prefix: str = "../") -> dict:
    """The student version of the notebook ``nb`` (a new dict; ``nb`` is unchanged).

    ``link_prefix`` replaces ``../`` at the start of relative markdown links. Raises
    :class:`MarkerError` with the notebook name and cell index on any marker problem.
    """
    student = copy.deepcopy(nb)
    message = None
    for index, cell in enumerate(student["cells"]):
        where = f"{name}, cell {index}"
        cell_tags, text = tags(cell), _source(cell)
        has_marker = BEGIN in text or END in text
        if "exercise" in cell_tags:
            heading = exercise_heading(cell)
            if cell["cell_type"] != "markdown" or heading is None:
                raise MarkerError(f"{where}: a cell tagged 'exercise' must be markdown starting with '### Exercise N.k — title'")
            message = f"Exercise {heading[0]}: {heading[1]}"
        if "solution" in cell_tags:
            if cell["cell_type"] != "code":
                raise MarkerError(f"{where}: a cell tagged 'solution' must be a code cell")
            if message is None:
                raise MarkerError(f"{where}: a solution cell before any cell tagged 'exercise'")
            try:
                cell["source"] = _as_lines(strip_solution(text, message))
            except MarkerError as err:
                raise MarkerError(f"{where}: {err}") from None
            cell["outputs"], cell["execution_count"] = [], None
            cell.get("metadata", {}).pop("execution", None)
        elif has_marker:
            raise MarkerError(f"{where}: solution markers in a cell not tagged 'solution'")
        if cell["cell_type"] == "markdown" and link_prefix != "../":
            cell["source"] = _as_lines(text.replace("](../", f"]({link_prefix}"))
    return student


def has_exercises(nb: dict) -> bool:
    return bool(exercise_cells(nb)["solution"])


def write_notebook(nb: dict, path: Path) -> None:
    """Write with the repository's notebook formatting (nbformat's: indent 1, sorted keys)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: build/student/)")
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks (default: every notebook with exercises)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    out = args.out.resolve()
    link_prefix = Path(os.path.relpath(REPO, out)).as_posix() + "/"
    students = {}                                # all are checked before any is written
    for path in paths:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        if not has_exercises(nb):
            continue
        try:
            students[Path(path).name] = make_student(nb, Path(path).name, link_prefix)
        except MarkerError as err:
            print(f"make_student_notebooks: {err}", file=sys.stderr)
            return 2
    for name, student in students.items():
        write_notebook(student, out / name)
    print(f"wrote {len(students)} student notebooks to {out}: {', '.join(students)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
