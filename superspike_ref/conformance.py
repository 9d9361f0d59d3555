"""Run a candidate directly on every case (issue P10): ``python -m superspike_ref conformance``.

A candidate is a Python function, the *adapter*, ``simulate(case) -> traces``:

* ``case`` is a plain-data description of one SPEC §9 case (:func:`case_description`): a dict
  with the fields of ``case.json`` as the reader checked them (``name``, ``layers``, ``n_steps``,
  ``feedback``, ``optimizer``, ``schedule``, ``t_burn_s``, ``record``, ``task``,
  ``xor_window_steps``), ``params`` with **every** SPEC §1 parameter (defaults filled in), the
  arrays of ``arrays.npz`` under ``arrays`` (``input``, ``target``, ``W0_k``, ``B_l``, ``xor_*``)
  and the case's folder under ``dir``;
* ``traces`` is a dict of SPEC §9 keys to arrays (``S_1``, ``U_tilde_1``, ``W_0``, ...), in the
  convention the candidate declares.

Its capabilities (:mod:`superspike_ref.capabilities`) are the function's ``capabilities``
attribute (``simulate.capabilities = {...}``), or given explicitly (``capabilities=``,
``--capabilities FILE``, which take precedence). :func:`run_conformance` calls the adapter on
every case it supports, validates each (:func:`~superspike_ref.validation.validate`) and returns
one :class:`ConformanceReport`; :func:`assert_conforms` does the same inside a test suite.

``--adapter mypackage.module:simulate`` imports and runs **your own code**, as ``pytest`` does
with your tests: that is its purpose. (The rule that files are data, never code, is about the
case and trace files the package reads; they are still read without unpickling.) An adapter
that cannot be imported, is not callable, raises, or returns something other than a dict of
numeric arrays gives one :class:`AdapterError` naming the adapter and the case.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .capabilities import Capabilities, as_capabilities, unrecorded, unsupported_reasons
from .files import load_npz
from .provenance import REPORT_SCHEMA, environment, run_provenance
from .report import Report
from .validation import _checked_options, load_case, validate
from .xor import XorRasterTask

__all__ = ["AdapterError", "DEFAULT_CASES", "ConformanceReport", "case_description", "find_cases", "load_adapter",
           "validate_declared", "run_conformance", "assert_conforms"]

DEFAULT_CASES = Path(__file__).resolve().parents[1] / "tests" / "data" / "cases"
"""The golden cases of a checkout of the repository (an installed wheel ships none: pass ``cases``)."""


class AdapterError(ValueError):
    """The adapter cannot be loaded, or it raised or returned something unusable on a case."""


def case_description(case_dir) -> dict:
    """The plain-data description of a SPEC §9 case that an adapter receives (see the module docstring)."""
    case_dir = Path(case_dir)
    case = load_case(case_dir)
    net, xor = case.network, isinstance(case.task, XorRasterTask)
    return {"name": case.name, "dir": str(case_dir), "layers": list(net.layers), "n_steps": case.n_steps,
            "params": net.params.to_dict(), "feedback": net.feedback, "optimizer": net.optimizer,
            "schedule": [list(entry) for entry in net.schedule], "t_burn_s": net.t_burn_s,
            "record": list(case.record), "task": "xor" if xor else "cyclic",
            "xor_window_steps": case.task.window_steps if xor else None,
            "arrays": load_npz(case_dir / "arrays.npz")}


def find_cases(cases=None) -> tuple:
    """The SPEC §9 case folders (with ``case.json``) among ``cases``: case folders, or folders of cases.

    ``cases`` is a path or a list of paths; None means :data:`DEFAULT_CASES`. Golden-vector
    folders are not cases an adapter can run and are passed over. ``FileNotFoundError`` for a
    path that does not exist, ``ValueError`` if no case is found.
    """
    paths = [DEFAULT_CASES] if cases is None else [cases] if isinstance(cases, (str, Path)) else list(cases)
    found = []
    for path in map(Path, paths):
        if not path.is_dir():
            hint = " (an installed package ships no cases: pass --cases DIR)" if cases is None else ""
            raise FileNotFoundError(f"case folder {path} does not exist{hint}")
        found += [path] if (path / "case.json").is_file() else sorted(p for p in path.iterdir()
                                                                      if (p / "case.json").is_file())
    if not found:
        raise ValueError(f"no SPEC §9 case (a folder with case.json) in {', '.join(map(str, paths))}")
    return tuple(found)


def load_adapter(spec: str):
    """Import ``"module:function"`` (a dotted module on ``sys.path``; the function may be ``Class.method``)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise AdapterError(f"--adapter must be MODULE:FUNCTION (e.g. mypackage.module:simulate), got {spec!r}")
    try:
        target = importlib.import_module(module_name)
    except Exception as exc:                      # the user's module: any error on import is theirs
        raise AdapterError(f"adapter {spec}: importing module {module_name!r} raised "
                           f"{type(exc).__name__}: {exc}") from exc
    for name in attr.split("."):
        if not hasattr(target, name):
            raise AdapterError(f"adapter {spec}: {target.__name__!r} has no attribute {name!r}")
        target = getattr(target, name)
    if not callable(target):
        raise AdapterError(f"adapter {spec}: {attr!r} is not callable (type {type(target).__name__})")
    return target


def _traces(simulate, name: str, case_dir: Path) -> dict:
    """Call the adapter on one case and check that it returned a dict of numeric arrays."""
    try:
        traces = simulate(case_description(case_dir))
    except Exception as exc:                      # the user's code: report which case, the error in one line
        raise AdapterError(f"adapter {name} raised {type(exc).__name__} on case {case_dir.name}: {exc}") from exc
    if not isinstance(traces, dict):
        raise AdapterError(f"adapter {name} returned a {type(traces).__name__} on case {case_dir.name}; "
                           "it must return a dict of SPEC §9 keys to arrays")
    for key, value in traces.items():
        try:
            kind = np.asarray(value).dtype.kind if isinstance(key, str) else None
        except (ValueError, TypeError):           # a ragged list: no array at all
            kind = "ragged"
        if kind not in ("b", "i", "u", "f"):
            what = f"key {key!r}" if kind else f"a key of type {type(key).__name__}"
            raise AdapterError(f"adapter {name} returned {what} on case {case_dir.name} that is not "
                               "a string key with an array of numbers")
    return traces


def validate_declared(candidate, case_dir, capabilities=None, skip=(), rtol=None, atol_scale=None,
                      precision=None, local=False) -> Report:
    """:func:`~superspike_ref.validation.validate` for a candidate with declared capabilities.

    Parameters
    ----------
    candidate : dict, path, or callable
        The traces (as for ``validate``), or a function of no arguments returning them, called
        only if the case is supported.
    case_dir : path
        A SPEC §9 case (``case.json``); capabilities do not apply to golden vectors (``ValueError``).
    capabilities : dict, Capabilities or None
        The declaration (:func:`~superspike_ref.capabilities.as_capabilities`); its convention
        and variants are the candidate's; its precision is the tier unless ``precision`` is given.
    skip, rtol, atol_scale, local
        As for ``validate``; the traces the candidate does not record are skipped too.

    Returns
    -------
    Report
        ``verdict`` ``"unsupported"`` (no key compared, ``unsupported`` gives the reasons) if the
        case needs what the candidate does not declare; else ``validate``'s report.
    """
    caps, case_dir = as_capabilities(capabilities), Path(case_dir)
    precision = caps.precision if precision is None else precision
    options = _checked_options(caps.convention, skip, rtol, atol_scale, precision, local, caps.variants)
    if not (case_dir / "case.json").is_file():
        raise ValueError(f"{case_dir}: capabilities apply to SPEC §9 cases (case.json), not to golden vectors")
    case = load_case(case_dir)
    reasons = unsupported_reasons(caps, case)
    if reasons:
        return Report(case=str(case_dir), candidate=str(candidate) if isinstance(candidate, (str, Path)) else
                      "<candidate>", convention=caps.convention, results=(),
                      first_failure=None, precision=precision, unsupported=reasons, variants=caps.variants,
                      provenance=run_provenance(case_dir, options))
    traces = candidate() if callable(candidate) else candidate
    return validate(traces, case_dir, convention=caps.convention, skip=tuple(options["skip"]) + unrecorded(caps, case),
                    rtol=rtol, atol_scale=atol_scale, precision=precision, local=local, variants=caps.variants)


@dataclass(frozen=True)
class ConformanceReport:
    """One report for every case an adapter was run on (:func:`run_conformance`).

    ``reports`` holds a :class:`~superspike_ref.report.Report` per case, in the order run, each
    with its verdict (pass, fail, unsupported); ``ok`` is True if at least one case ran and every
    case that ran passed.
    """

    adapter: str
    capabilities: Capabilities
    reports: tuple
    options: dict

    @property
    def ran(self) -> tuple:
        """The reports of the cases the candidate supports (and was run on)."""
        return tuple(r for r in self.reports if r.verdict != "unsupported")

    @property
    def ok(self) -> bool:
        return bool(self.ran) and all(r.ok for r in self.ran)

    def to_dict(self) -> dict:
        """A JSON-ready dict following :data:`~superspike_ref.provenance.REPORT_SCHEMA`."""
        count = {v: sum(r.verdict == v for r in self.reports) for v in ("pass", "fail", "unsupported")}
        return {"schema": REPORT_SCHEMA, "format": "superspike-conformance-report/1", "adapter": self.adapter,
                "ok": self.ok, "n_cases": len(self.reports), "n_passed": count["pass"], "n_failed": count["fail"],
                "n_unsupported": count["unsupported"], "capabilities": self.capabilities.to_dict(),
                "provenance": {**environment(), "options": self.options},
                "cases": [r.to_dict() for r in self.reports]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def format_table(self) -> str:
        """One line per case (verdict, keys, first wrong key or why unsupported), then each failing case's table."""
        rows = [(Path(r.case).name, r.verdict.upper(), "-" if r.unsupported else str(len(r.results)), _summary(r))
                for r in self.reports]
        widths = [max(len(c) for c in col) for col in zip(("case", "verdict", "keys", "details"), *rows)]
        lines = [f"adapter    {self.adapter} (convention {self.capabilities.convention!r}, "
                 f"{self.options['precision']} tier{', local check' if self.options['local'] else ''})", ""]
        lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
                  for cells in [("case", "verdict", "keys", "details")] + rows]
        for r in self.reports:
            if r.verdict == "fail":
                lines += ["", f"== {Path(r.case).name} ==", r.format_table(header=False)]
        n_ran = len(self.ran)
        lines.append("")
        lines.append(f"PASS: {n_ran} cases pass, {len(self.reports) - n_ran} unsupported." if self.ok else
                     "FAIL: no case ran (every case is unsupported)." if not n_ran else
                     f"FAIL: {sum(not r.ok for r in self.ran)} of {n_ran} cases that ran fail.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


def _summary(report: Report) -> str:
    """A case's details column: the first wrong key, the reasons it is unsupported, or nothing."""
    if report.unsupported:
        return "; ".join(report.unsupported)
    failed = [r.key for r in report.results if not r.ok]
    first = f"first wrong {report.first_failure.key}, " if report.first_failure is not None else ""
    return f"{first}{len(failed)} keys out of tolerance" if failed else ""


def run_conformance(simulate, capabilities=None, cases=None, precision=None, local=False,
                    name: str | None = None) -> ConformanceReport:
    """Run an adapter on every case it supports and validate each (the module docstring defines the adapter).

    Parameters
    ----------
    simulate : callable
        The adapter, ``simulate(case_description) -> dict of traces``.
    capabilities : dict, Capabilities or None
        Its declaration; None: ``simulate.capabilities`` if the function has one, else everything.
    cases : path, list of paths, or None
        Case folders or folders of cases (:func:`find_cases`); None: :data:`DEFAULT_CASES`.
    precision : ``"float64"``, ``"float32"`` or None
        The tier; None: the declaration's.
    local : bool
        The stage-local check (:mod:`superspike_ref.local`) instead of the global one.
    name : str or None
        The adapter's name in the report (default: the function's module and name).

    Raises
    ------
    AdapterError
        The adapter raised, or returned something other than a dict of numeric arrays.
    """
    caps = as_capabilities(getattr(simulate, "capabilities", None) if capabilities is None else capabilities)
    name = name or f"{getattr(simulate, '__module__', '?')}:{getattr(simulate, '__qualname__', repr(simulate))}"
    precision = caps.precision if precision is None else precision
    case_dirs = find_cases(cases)
    reports = tuple(replace(validate_declared(lambda d=d: _traces(simulate, name, d), d, caps, precision=precision,
                                              local=local), candidate=name) for d in case_dirs)
    return ConformanceReport(adapter=name, capabilities=caps, reports=reports,
                             options={"precision": precision, "local": local, "cases": [str(d) for d in case_dirs]})


def assert_conforms(simulate, capabilities=None, cases=None, precision=None, local=False) -> ConformanceReport:
    """:func:`run_conformance` for a test suite: ``AssertionError`` with the table unless it passes.

    Examples
    --------
    In your own tests (``tests/test_superspike.py``)::

        from superspike_ref.conformance import assert_conforms
        from mypackage.module import simulate

        def test_conforms_to_the_reference():
            assert_conforms(simulate, cases="path/to/superspike_ref/tests/data/cases")
    """
    report = run_conformance(simulate, capabilities, cases, precision, local)
    if not report.ok:
        raise AssertionError(report.format_table())
    return report
