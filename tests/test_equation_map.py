"""docs/equations.md, the equation map, cannot go stale (issue P9 item 6).

Every table of the map is parsed, and for every row

* (a) every name in the "implemented by" column is imported from ``superspike_ref``,
* (b) every test in the "tests" column exists in ``tests/`` (function names read with ``ast``),
* (c) every notebook reference in the "notebook" column names an existing notebook, and each
  section number and quoted heading is a markdown heading of that notebook.

The parsing rules are those stated in the map's introduction:

* Names. A code span (in backticks) is a reference if, after dropping a trailing call
  ``(...)``, it is a dotted name ``module.name[.attr]`` (resolved inside ``superspike_ref``:
  the longest importable module prefix, then attributes; a function or class must be
  defined in the module named, not re-exported by it). A span ``.name`` continues the
  previous reference's module or class (``params.Params.n_ref``, ``.n_delay``). Any other
  span (``W @ A``, ``variant="free"``) is code, not a reference. A bare identifier is an
  error, so a continuation cannot lose its dot unnoticed. A cell names one function first
  (or "—", or has only a note), and everything else in one note in parentheses after it.
* Tests. ``file.py::test_name``; a following ``::test_name`` is in the same file.
* Notebooks. A two-digit number ``NN`` names ``notebooks/NN_*.ipynb`` and holds until the
  next one; ``§k`` is a section number, optionally followed by its quoted heading; a quoted
  heading alone is an (unnumbered) subsection. Text in parentheses is a note and is skipped.
  Headings compare after normalising both sides: ``#`` and the leading number (``3.``,
  ``3.1``) stripped, LaTeX written as Unicode (``$\\tilde z$`` = ``z̃``, ``$\\lambda$`` = ``λ``),
  ``*`` emphasis and ``$`` dropped, whitespace collapsed.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "equations.md"
PACKAGE = "superspike_ref"
COLUMNS = ("implemented by", "tests", "notebook")


# --------------------------------------------------------------------------------------
# the tables
# --------------------------------------------------------------------------------------

def split_row(line: str) -> list:
    """The cells of a markdown table row (no cell of the map contains a ``|``)."""
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def read_tables(text: str) -> list:
    """Every table row as (table heading, line number, {column: cell})."""
    rows, section, header = [], None, None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            section, header = line.lstrip("#").strip(), None
        elif not line.startswith("|"):
            header = None
        elif header is None:
            header = split_row(line)
        elif not set(line) <= set("|-: "):
            cells = split_row(line)
            assert len(cells) == len(header), f"line {number}: {len(cells)} cells, header has {len(header)}"
            rows.append((section, number, dict(zip(header, cells))))
    return rows


ROWS = read_tables(MAP.read_text(encoding="utf-8"))
ROW_IDS = [f"line{number}" for _, number, _ in ROWS]


def code_spans(cell: str) -> list:
    return re.findall(r"`([^`]*)`", cell)


# --------------------------------------------------------------------------------------
# (a) implemented by
# --------------------------------------------------------------------------------------

DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
CONTINUATION = re.compile(r"^(\.[A-Za-z_]\w*)+$")
BARE = re.compile(r"^[A-Za-z_]\w*$")


def references(cell: str) -> list:
    """The dotted names of an "implemented by" cell, continuations made whole."""
    names, previous = [], None
    for span in code_spans(cell):
        span = re.sub(r"\(.*\)$", "", span.strip())
        if DOTTED.match(span):
            previous = span
        elif CONTINUATION.match(span):
            assert previous is not None, f"`{span}` continues nothing"
            previous = previous.rsplit(".", 1)[0] + span
        elif BARE.match(span):
            raise AssertionError(f"`{span}`: a bare name; write `module.{span}` or `.{span}`")
        else:
            continue
        names.append(previous)
    return names


def resolve(name: str):
    """``module.name[.attr]`` inside the package: the longest importable module, then attributes."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join([PACKAGE, *parts[:cut]]))
        except ModuleNotFoundError:
            continue
        module = obj.__name__
        for attr in parts[cut:]:
            obj = attribute(obj, attr, name)
            home = obj.__module__ if inspect.isfunction(obj) or inspect.isclass(obj) else module
            assert home == module, f"`{name}`: {attr} is defined in {home}, not in {module} (a re-export)"
            module = home
        return obj
    raise AssertionError(f"`{name}`: no module {parts[0]!r} in {PACKAGE}")


def attribute(obj, attr: str, name: str):
    """``getattr``, also for a dataclass field without a default (no class attribute)."""
    if hasattr(obj, attr):
        return getattr(obj, attr)
    fields = getattr(obj, "__dataclass_fields__", {})
    assert attr in fields, f"`{name}`: {getattr(obj, '__name__', obj)!r} has no attribute {attr!r}"
    return fields[attr]


def one_function(cell: str) -> bool:
    """The cell is one code span, or "—", optionally followed by one note in parentheses; or only a note."""
    head = cell
    if cell.endswith(")"):
        depth = 0
        for i in range(len(cell) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(cell[i], 0)
            if depth == 0:
                head = cell[:i].strip()
                break
    return head == "" or head == "—" or re.fullmatch(r"`[^`]*`", head) is not None and bool(references(head))


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_implementing_names_exist(row):
    _, number, cells = row
    cell = cells["implemented by"]
    assert one_function(cell), f"line {number}: name one function first, everything else in one note (...)"
    for name in references(cell):
        resolve(name)


# --------------------------------------------------------------------------------------
# (b) tests
# --------------------------------------------------------------------------------------

def collect_test_functions() -> dict:
    """{file name: names of the test functions in it}, also methods of test classes."""
    found = {}
    for path in sorted((ROOT / "tests").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[path.name] = {node.name for node in ast.walk(tree)
                            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")}
    return found


TESTS = collect_test_functions()


def named_tests(cell: str) -> list:
    """(file, test) for every ``file.py::test`` and following ``::test`` of a cell."""
    found, file = [], None
    for span in code_spans(cell):
        match = re.fullmatch(r"([\w.]+\.py)?::(\w+)", span.strip())
        if match is None:
            continue
        file = match[1] or file
        assert file is not None, f"`{span}` follows no file"
        found.append((file, match[2]))
    return found


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_named_tests_exist(row):
    _, number, cells = row
    refs = named_tests(cells["tests"])
    assert refs or cells["tests"].startswith("—"), f"line {number}: no test named, and no —"
    for file, name in refs:
        assert file in TESTS, f"line {number}: no file tests/{file}"
        assert name in TESTS[file], f"line {number}: no test {name} in tests/{file}"


# --------------------------------------------------------------------------------------
# (c) notebooks
# --------------------------------------------------------------------------------------

LATEX = {r"\tilde": "\u0303", r"\lambda": "λ", r"\langle": "⟨", r"\rangle": "⟩", r"\sigma": "σ", r"\rho": "ρ",
         r"\beta": "β", r"\varepsilon": "ε", r"\epsilon": "ε", r"\Delta": "Δ", r"\times": "×", r"\to": "→"}


def latex_to_unicode(text: str) -> str:
    """``$\\tilde z$ and $\\lambda$`` → ``z̃ and λ``: the few LaTeX commands the notebooks' headings use."""
    def math(match):
        body = match[1]
        body = re.sub(r"\\tilde\s*\{?(\w)\}?", lambda m: m[1] + "\u0303", body)
        for command, char in LATEX.items():
            body = re.sub(re.escape(command) + r"(?![A-Za-z])\s*", char, body)
        return body.replace("{", "").replace("}", "").replace("_", "")
    return re.sub(r"\$([^$]*)\$", math, text)


def normalise(heading: str) -> str:
    text = latex_to_unicode(heading.lstrip("#").strip())
    text = re.sub(r"^§?\d+(\.\d+)*\.?\s+", "", text)
    text = text.replace("*", "")
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


def notebook_headings(path: Path) -> list:
    """(section number or None, normalised heading) of every markdown heading."""
    found = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            if line.startswith("#"):
                text = line.lstrip("#").strip()
                number = re.match(r"^(\d+(?:\.\d+)*)\.?\s", text)
                found.append((number[1] if number else None, normalise(text)))
    return found


NOTEBOOKS = {path.name[:2]: path for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))}
HEADINGS = {nn: notebook_headings(path) for nn, path in NOTEBOOKS.items()}

TOKEN = re.compile(r'"(?P<head>[^"]*)"|`[^`]*`|(?P<open>\()|(?P<close>\))'
                   r"|§(?P<sec>\d+(?:\.\d+)*)|(?<![\w.])(?P<nb>\d\d)(?![\w.])")


def notebook_references(cell: str) -> list:
    """(notebook, section number or None, heading or None) for every reference of a cell."""
    found, depth, notebook, section, end = [], 0, None, None, 0
    for token in TOKEN.finditer(cell):
        between, end = cell[end:token.start()], token.end()
        if token["open"]:
            depth += 1
        elif token["close"]:
            depth -= 1
        if depth or token["open"] or token["close"]:
            continue
        if section is not None and not (token["head"] is not None and between.strip() == ""):
            found.append((notebook, section, None))  # a § without its heading
            section = None
        if token["nb"]:
            notebook = token["nb"]
        elif token["sec"]:
            section = token["sec"]
        elif token["head"] is not None:
            found.append((notebook, section, token["head"]))
            section = None
    if section is not None:
        found.append((notebook, section, None))
    assert depth == 0, f"unbalanced parentheses in {cell!r}"
    return found


@pytest.mark.parametrize("row", ROWS, ids=ROW_IDS)
def test_notebook_sections_exist(row):
    _, number, cells = row
    cell = cells["notebook"]
    refs = notebook_references(cell)
    assert refs or cell.startswith("—"), f"line {number}: no notebook section named, and no —"
    for notebook, section, heading in refs:
        assert notebook is not None, f"line {number}: a section before any notebook number"
        assert notebook in NOTEBOOKS, f"line {number}: no notebook notebooks/{notebook}_*.ipynb"
        headings = HEADINGS[notebook]
        if heading is None:
            assert section in {s for s, _ in headings}, f"line {number}: notebook {notebook} has no §{section}"
        else:
            wanted = (section, normalise(heading)) if section else normalise(heading)
            have = headings if section else [h for _, h in headings]
            assert wanted in have, f"line {number}: notebook {notebook} has no heading {section or ''} {heading!r}"


# --------------------------------------------------------------------------------------
# the parser itself
# --------------------------------------------------------------------------------------

def test_parser_on_examples():
    assert references("`params.Params.n_ref`, `.n_delay`, `params.whole_steps`; `W @ A`") == [
        "params.Params.n_ref", "params.Params.n_delay", "params.whole_steps"]
    assert references('`feedback.hidden_errors(kind="symmetric")` (fast: `fast.FastEngine`)') == [
        "feedback.hidden_errors", "fast.FastEngine"]
    with pytest.raises(AssertionError, match="bare name"):
        references("`filters.kernel_peak`, `kernel_area_s`")
    assert named_tests("`a.py::test_x`, `::test_y`, `b.py::test_z`") == [
        ("a.py", "test_x"), ("a.py", "test_y"), ("b.py", "test_z")]
    assert notebook_references('05 §4.1 "Why (A.4)" (5, 10, 20 Hz); 06 §1, §3 "The sweep"; 05 "By hand"') == [
        ("05", "4.1", "Why (A.4)"), ("06", "1", None), ("06", "3", "The sweep"), ("05", None, "By hand")]
    assert notebook_references("— (09 §2 implements it)") == []
    assert normalise(r"### By hand: $\tilde z$ and $\lambda$ from their definitions") == normalise(
        "By hand: z̃ and λ from their definitions")
    assert normalise("## 5. The failure mode of random feedback: all $B < 0$") == normalise(
        "The failure mode of random feedback: all B < 0")
    with pytest.raises(AssertionError):
        resolve("network.no_such_function")
    assert one_function("`core.step` (called by `network.LiteralEngine.run`; fast: `fast.FastEngine`)")
    assert one_function("— (not implemented)") and one_function("(no function)")
    assert not one_function("`error.error_step`, `error.van_rossum_error`")
    with pytest.raises(AssertionError, match="re-export"):
        resolve("conventions.rho_to")
    assert resolve("core.step") is importlib.import_module(f"{PACKAGE}.core").step


def test_every_table_is_read():
    """The six tables (SPEC §2, §3, §4, §5-§8, the SPEC variants, the paper), none empty, each with the three columns."""
    sections = {section for section, _, _ in ROWS}
    assert len(sections) == 6 and len(ROWS) >= 64
    for _, number, cells in ROWS:
        assert set(COLUMNS) <= set(cells), f"line {number}: columns {sorted(cells)}"
