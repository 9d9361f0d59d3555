"""The package's layering, read from its source with ``ast`` (issue P9 item 4).

params (and variants, the SPEC variants' switches) → derivation modules → engines → tasks →
experiments → plotting / command line / notebooks, with no back-edges: a module imports only from its own layer or below, except
that the experiments' and the demo's ``figure`` code calls the plotting functions, which
receive arrays and names and import no experiment. Every import counts, also one inside a
function.
"""
import ast
from pathlib import Path

import pytest

import superspike_ref
from superspike_ref.experiments import EXPERIMENTS

PACKAGE = Path(superspike_ref.__file__).parent
NAME = "superspike_ref"
MAX_LINES = 400
MAX_FUNCTION_LINES = 60
OVER_MAX_LINES: set = set()
"""Modules allowed over MAX_LINES: none (fast.py became the subpackage fast/ in issue P9)."""
DERIVATION = {"neuron", "filters", "surrogate", "eligibility", "error", "feedback", "optimizers", "regulariser"}
TASK_LAYER = {"tasks", "pictures", "paper_tasks", "xor", "io"}
ABOVE_TASKS = ("experiments", "plotting", "demo", "__main__", "cli_options")
FIGURE_MODULES = {f"experiments.{module.__name__.rsplit('.', 1)[1]}" for module in EXPERIMENTS.values()}


def module_name(path: Path) -> str:
    """``tasks``, ``experiments.fig6``, ``plotting`` (a package by its ``__init__``) for a file of the package."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_imports(path: Path) -> set:
    """The package's modules that ``path`` imports (relative to the package, e.g. ``experiments.common``).

    ``from . import x`` counts as importing the submodule ``x`` if there is one, else its package.
    """
    own = module_name(path).split(".") if module_name(path) else []
    package = own if path.name == "__init__.py" else own[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names if alias.name.split(".")[0] == NAME]
            found.update(".".join(t[1:]) for t in targets)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            elif node.module.split(".")[0] == NAME:
                base = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:
                candidate = base + [alias.name]
                sub = PACKAGE.joinpath(*candidate)
                found.add(".".join(candidate if sub.is_dir() or sub.with_suffix(".py").is_file() else base))
    found.discard("")
    return found


MODULES = {module_name(path) or "__init__": path for path in sorted(PACKAGE.rglob("*.py"))}
IMPORTS = {name: package_imports(path) for name, path in MODULES.items()}


def top(name: str) -> str:
    return name.split(".")[0]


def test_the_import_reader_sees_the_known_edges():
    assert "params" in IMPORTS["tasks"]
    assert "experiments.common" in IMPORTS["experiments.fig2"]
    assert "plotting" in IMPORTS["experiments.fig2"]          # a lazy import inside figure()
    assert "experiments.fig2" in IMPORTS["experiments"]       # from . import fig2
    assert {"fast.forward", "fast.learning"} <= IMPORTS["fast.engine"]  # the fast subpackage
    assert "fast.filters" in IMPORTS["fast_filters"]          # the old path re-exports it


@pytest.mark.parametrize("name", sorted(n for n in MODULES if top(n) == "plotting"))
def test_plotting_imports_no_experiment(name):
    assert not {i for i in IMPORTS[name] if top(i) in ABOVE_TASKS and top(i) != "plotting"}


@pytest.mark.parametrize("name", sorted(FIGURE_MODULES))
def test_a_figure_module_imports_no_other_figure_module(name):
    assert not (IMPORTS[name] & FIGURE_MODULES) - {name}


@pytest.mark.parametrize("name", sorted(TASK_LAYER))
def test_tasks_import_nothing_above_them(name):
    assert not {i for i in IMPORTS[name] if top(i) in ABOVE_TASKS}


@pytest.mark.parametrize("name", sorted(DERIVATION))
def test_derivation_modules_import_only_params_and_each_other(name):
    assert IMPORTS[name] <= DERIVATION | {"params", "variants"}


def test_params_and_variants_import_nothing_of_the_package():
    assert IMPORTS["params"] == set() and IMPORTS["variants"] == set()


def test_only_the_command_line_imports_experiments_from_outside():
    importers = {n for n, imports in IMPORTS.items() if any(top(i) == "experiments" for i in imports)}
    assert {top(n) for n in importers} <= {"experiments", "__main__", "cli_options"}  # the command line


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_max_lines(name):
    path = MODULES[name]
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    if path.relative_to(PACKAGE).as_posix() not in OVER_MAX_LINES:
        assert n_lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {n_lines} lines"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_over_max_lines(name):
    """Every function and method, docstring included, has at most MAX_FUNCTION_LINES lines."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    long = {f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES}
    assert not long, f"{name}: {sorted(long)}"
