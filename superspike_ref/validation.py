"""Reference cases and the validation kit (SPEC §9): read a case, run it, compare traces.

A case is a directory with ``case.json`` and ``arrays.npz`` describing a network, its
initial weights, a task and what to record. :func:`run_case` runs it with an engine and
returns the traces with the keys of SPEC §9, which :func:`compare_traces` compares with
expected ones key by key (spikes exactly; floats with ``rtol`` 1e-9 and a key-wide
``atol_k = 1e-10 max|expected_k|``).

The validation kit builds on them. :func:`validate` runs the reference (literal engine) on a
case, converts a candidate implementation's traces from its convention (``"paper"``,
``"auryn"``, ``"genn"``, see :mod:`superspike_ref.conventions`) and returns a :class:`Report`:
per key the largest absolute and relative error and the first step and neuron or synapse
index where the candidate leaves tolerance, listed stage by stage in the order of the
derivation (:data:`STAGES`), with the stage that goes wrong first marked. From the shell:
``python -m superspike_ref validate traces.npz --against CASE_DIR``. Golden cases are in
``tests/data/cases`` (``scripts/make_golden_cases.py``), with CSV mirrors
(:func:`write_csv_array`) and ``.ras`` spike files for implementations outside Python;
see ``docs/validation.md``.

Case and candidate files are untrusted data: they are read without unpickling, a ``.npz``
array's header is checked before its data are allocated, a CSV folder's ``index.json`` may only
name files inside the folder, and every malformed file raises one ``ValueError`` (or
``FileNotFoundError``) naming the file and the field, key or line. Messages never quote text
or lines of a file: only short field and key names, and numbers, appear.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .csv_mirror import read_csv_array, read_csv_dir, write_csv_array, write_csv_dir
from .fast import NOT_RECORDABLE, FastEngine
from .files import describe_value, load_npz, quoted_name, read_json, save_npz
from .feedback import FEEDBACK_KINDS
from .network import RECORDABLE, LiteralEngine, Network
from .optimizers import OPTIMIZERS
from .params import Params
from .tasks import CyclicTask

__all__ = [
    "CASE_FORMAT",
    "Case",
    "load_case",
    "run_case",
    "compare_traces",
    "ENGINES",
    "GOLDEN_FORMAT",
    "STAGES",
    "KeyResult",
    "Report",
    "key_stage",
    "compare_key",
    "out_of_tolerance",
    "validate",
    "load_candidate",
    "load_golden",
    "save_npz",
    "write_csv_array",
    "read_csv_array",
    "write_csv_dir",
    "read_csv_dir",
    "export_case_ras",
    "export_traces_ras",
]

CASE_FORMAT = "superspike-case/1"
ENGINES = {"literal": LiteralEngine, "fast": FastEngine}
_REQUIRED = ("format", "n_steps", "layers", "feedback", "optimizer", "record")
_OPTIONAL = ("name", "params", "schedule", "t_burn_s")


@dataclass(frozen=True)
class Case:
    """A loaded reference case: the network, the task, how long to run and what to record."""

    name: str
    network: Network
    task: CyclicTask
    n_steps: int
    record: tuple


# --------------------------------------------------------------------------------------
# reading untrusted files: error messages name the file and the field, never quote contents
# --------------------------------------------------------------------------------------

def _finite(x) -> bool:
    """True for a finite number that is not a boolean (a JSON number within float range)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _positive_int(x) -> bool:
    """True for an integer > 0 that is not a boolean."""
    return isinstance(x, int) and not isinstance(x, bool) and x > 0


def _field_error(path: Path, field: str, problem: str) -> ValueError:
    return ValueError(f"{path}: field {quoted_name(field)}: {problem}")


def _is_schedule(value) -> bool:
    """A list of ``[time_s, factor]`` pairs of finite numbers, ``factor >= 0``, times increasing."""
    if not isinstance(value, list) or not all(
        isinstance(e, list) and len(e) == 2 and _finite(e[0]) and _finite(e[1]) and e[1] >= 0 for e in value
    ):
        return False
    times = [e[0] for e in value]
    return times == sorted(times)


_CASE_RULES = {
    "format": (lambda v: v == CASE_FORMAT, f"must be {CASE_FORMAT!r}, the only format this reader knows"),
    "name": (lambda v: isinstance(v, str), "must be a string"),
    "n_steps": (_positive_int, "must be a positive integer"),
    "layers": (lambda v: isinstance(v, list) and len(v) >= 2 and all(_positive_int(n) for n in v),
               "must be a list of at least two positive integers"),
    "params": (lambda v: isinstance(v, dict), "must be an object of parameter names and values (SPEC §1)"),
    "feedback": (lambda v: isinstance(v, str) and v in FEEDBACK_KINDS, f"must be one of {FEEDBACK_KINDS}"),
    "optimizer": (lambda v: isinstance(v, str) and v in OPTIMIZERS, f"must be one of {OPTIMIZERS}"),
    "schedule": (_is_schedule, "must be a list of [time_s, factor] pairs of finite numbers, factor >= 0, "
                               "times in increasing order"),
    "t_burn_s": (lambda v: _finite(v) and v >= 0, "must be a finite number of seconds >= 0"),
    "record": (lambda v: isinstance(v, list) and all(isinstance(r, str) and r in RECORDABLE for r in v),
               f"must be a list of names from {RECORDABLE}"),
}
"""Every ``case.json`` field: (test, rule stated in the error message)."""


def _check_spec(path: Path, spec) -> dict:
    """Check every field of a ``case.json`` object; ``ValueError`` naming the file and the field."""
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: must hold a JSON object")
    for key in _REQUIRED:
        if key not in spec:
            raise _field_error(path, key, "missing")
    unknown = sorted(set(spec) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _field_error(path, unknown[0], f"unknown field (known: {sorted(_REQUIRED + _OPTIONAL)})")
    for key, (test, rule) in _CASE_RULES.items():
        if key in spec and not test(spec[key]):
            raise _field_error(path, key, f"{rule}, got {describe_value(spec[key])}")
    return spec


def _case_params(path: Path, values: dict) -> Params:
    """The ``params`` object of a case as :class:`Params`; ``ValueError`` naming the parameter."""
    known = [f.name for f in fields(Params)]
    for name, value in values.items():
        if name not in known:
            raise _field_error(path, "params", f"unknown parameter {quoted_name(name)} (known: {sorted(known)})")
        if not (_finite(value) or (name == "u_cut_V" and value is None)):
            raise _field_error(path, "params", f"{name} must be a finite number, got {describe_value(value)}")
    try:
        return Params.from_dict(values)
    except (TypeError, ValueError, OverflowError) as exc:   # the values are numbers: the message quotes no text
        raise _field_error(path, "params", str(exc)) from None


def load_case(case_dir) -> Case:
    """Read ``case.json`` and ``arrays.npz`` from ``case_dir`` and validate every field.

    Raises ``ValueError`` (or ``FileNotFoundError``) naming the file and the field; ``arrays.npz``
    is read with :func:`load_candidate`'s reader (no pickles, headers checked before reading).
    """
    case_dir = Path(case_dir)
    json_path, npz_path = case_dir / "case.json", case_dir / "arrays.npz"
    for path in (json_path, npz_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (a case is a directory with case.json and arrays.npz)")
    spec = _check_spec(json_path, read_json(json_path))
    params = _case_params(json_path, spec.get("params", {}))
    layers = spec["layers"]
    arrays = load_npz(npz_path)

    def array(key: str, shape: tuple | None = None) -> np.ndarray:
        if key not in arrays:
            raise ValueError(f"{npz_path}: array {key!r} is missing")
        x = arrays[key]
        if shape is not None and (x.dtype != np.float64 or x.shape != shape):
            raise ValueError(f"{npz_path}: array {key!r} must be float64 of shape {shape}, got {x.dtype} {x.shape}")
        if shape is not None and not np.all(np.isfinite(x)):
            raise ValueError(f"{npz_path}: array {key!r} must be finite")
        return x

    n_conn = len(layers) - 1
    weights = tuple(array(f"W0_{k}", (layers[k + 1], layers[k])) for k in range(n_conn))
    B = None
    if spec["feedback"] in ("random", "uniform"):
        B = tuple(array(f"B_{l}", (layers[-1], layers[l])) for l in range(1, n_conn))
    inputs, target = array("input"), array("target")
    try:
        task = CyclicTask(input=inputs, target=target)
        if task.n_in != layers[0] or task.n_out != layers[-1]:
            raise ValueError(f"input/target have {task.n_in}/{task.n_out} neurons, layers say {layers[0]}/{layers[-1]}")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{npz_path}: {exc}") from None
    try:
        network = Network(layers=tuple(layers), weights=weights, params=params, feedback=spec["feedback"],
                          feedback_matrices=B, optimizer=spec["optimizer"],
                          schedule=tuple(tuple(e) for e in spec.get("schedule", [])),
                          t_burn_s=spec.get("t_burn_s", 0.0))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{case_dir}: {exc}") from None
    return Case(name=spec.get("name", case_dir.name), network=network, task=task, n_steps=spec["n_steps"],
                record=tuple(spec["record"]))


def run_case(case_dir, engine: str = "literal", progress: bool = False) -> dict:
    """Run a case and return its traces (SPEC §9 keys).

    The fast engine never forms the per-synapse traces ``lambda`` and ``m``; with it they are
    left out of the result even if the case records them.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r}")
    case = load_case(case_dir)
    sim = ENGINES[engine](case.network, case.task)
    record = case.record if engine == "literal" else tuple(r for r in case.record if r not in NOT_RECORDABLE)
    return sim.run(case.n_steps, record=record, progress=progress).traces


def compare_traces(candidate: dict, expected: dict, rtol: float = 1e-9, atol_scale: float = 1e-10) -> dict:
    """Compare traces key by key (SPEC §9).

    Returns a dict per key: ``ok``, ``max_abs``, ``max_rel`` and ``first_step`` (first index along
    axis 0 out of tolerance, or None). Missing keys or wrong shapes are reported as failures.
    """
    report = {}
    for key, exp in expected.items():
        if key not in candidate:
            report[key] = {"ok": False, "problem": "missing"}
            continue
        cand = np.asarray(candidate[key])
        exp = np.asarray(exp)
        if cand.shape != exp.shape:
            report[key] = {"ok": False, "problem": f"shape {cand.shape} != {exp.shape}"}
            continue
        if exp.dtype == bool:
            bad = cand != exp
            diff = bad.astype(float)
            rel = diff
        else:
            diff = np.abs(cand - exp)
            atol = atol_scale * (np.max(np.abs(exp)) if exp.size else 0.0)
            bad = diff > rtol * np.abs(exp) + atol
            with np.errstate(divide="ignore", invalid="ignore"):
                rel = np.where(exp != 0, diff / np.abs(exp), np.where(diff > 0, np.inf, 0.0))
        steps = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0] if bad.size else np.zeros(0, int)
        report[key] = {
            "ok": not bool(np.any(bad)),
            "max_abs": float(np.max(diff)) if diff.size else 0.0,
            "max_rel": float(np.max(rel)) if rel.size else 0.0,
            "first_step": int(steps[0]) if steps.size else None,
        }
    return report


# ======================================================================================
# The validation kit: stage-by-stage reports, conventions, golden cases, CSV and .ras mirrors
# ======================================================================================

GOLDEN_FORMAT = "superspike-golden/1"
"""Format tag of a golden-vector directory (``golden.json`` + ``arrays.npz`` + ``expected.npz``)."""

STAGES = ("S", "I", "U_tilde", "sigma_prime", "z", "z_tilde", "lambda", "e", "m", "W", "v")
"""Trace names in the order of the derivation, as the report lists them."""

STAGE_TITLES = {
    "S": "spikes (SPEC §2 c)",
    "I": "synaptic current (§2 a)",
    "U_tilde": "potential before reset (§2 b)",
    "sigma_prime": "surrogate σ′ (§3)",
    "z": "presynaptic trace z (§3)",
    "z_tilde": "PSP trace z̃ (§3)",
    "lambda": "eligibility λ (§3)",
    "e": "error / learning signal (§3)",
    "m": "accumulator m (§3)",
    "W": "weights (§4)",
    "v": "optimiser state (§4)",
}


@dataclass(frozen=True)
class KeyResult:
    """The comparison of one key of a candidate with the reference.

    ``first_step`` is the time step at which the key first leaves tolerance (for ``W`` and ``v``
    the step at whose end the offending update happened; -1 for the initial weights),
    ``first_index`` the full array index of the first offending element (step or update first),
    ``expected`` and ``candidate`` the two values there. ``problem`` is set (and the numbers are
    None) when the key is missing, has the wrong shape or cannot be compared.
    """

    key: str
    stage: str
    ok: bool
    shape: tuple
    max_abs: float | None = None
    max_rel: float | None = None
    n_bad: int = 0
    first_step: int | None = None
    first_index: tuple | None = None
    expected: float | None = None
    candidate: float | None = None
    problem: str | None = None
    converter: str = "exact"

    def to_dict(self) -> dict:
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


@dataclass(frozen=True)
class Report:
    """What :func:`validate` returns: one :class:`KeyResult` per compared key, in table order.

    ``first_failure`` is the key where the candidate goes wrong first: the earliest step at which
    any key leaves tolerance, and within that step the key the derivation computes first (traces
    of a layer before the next layer's, ``z`` before ``I``, ``e`` of the output before the hidden
    layers', ``v`` before ``W``). Keys that are missing or have the wrong shape count only if no
    key has a first step.
    """

    case: str
    candidate: str
    convention: str
    results: tuple
    first_failure: KeyResult | None
    ignored: tuple = ()
    skipped: tuple = ()
    n_batch: int | None = None
    dt_s: float | None = None
    rtol: float = 1e-9
    atol_scale: float = 1e-10

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def result(self, key: str) -> KeyResult:
        """The result of one key (``KeyError`` if it was not compared)."""
        for r in self.results:
            if r.key == key:
                return r
        raise KeyError(key)

    def to_dict(self) -> dict:
        """A JSON-ready dict (non-finite numbers as strings ``"inf"``, ``"nan"``)."""
        return {
            "format": "superspike-validation-report/1",
            "case": self.case,
            "candidate": self.candidate,
            "convention": self.convention,
            "ok": self.ok,
            "tolerance": {"spikes": "exact", "rtol": self.rtol, "atol_scale": self.atol_scale},
            "n_keys": len(self.results),
            "n_failed": sum(not r.ok for r in self.results),
            "first_failure": None if self.first_failure is None else self.first_failure.to_dict(),
            "keys": [r.to_dict() for r in self.results],
            "ignored_candidate_keys": list(self.ignored),
            "skipped": list(self.skipped),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def _where(self, r: KeyResult) -> str:
        if r.first_index is None:
            return "-"
        rest = tuple(int(i) for i in r.first_index[1:])
        where = f"#{rest[0]}" if len(rest) == 1 else str(rest) if rest else "-"
        if r.stage == "W" and r.first_index[0] == 0:
            return f"init {where}"
        return f"upd {r.first_index[0] + (r.stage == 'v')} {where}" if r.stage in ("W", "v") else where

    def describe_failure(self, r: KeyResult | None = None) -> str:
        """One sentence on where ``r`` (default: the first failure) leaves tolerance."""
        r = self.first_failure if r is None else r
        if r is None:
            return "no failure"
        if r.problem is not None:
            return f"{r.key}: {r.problem}"
        idx = tuple(int(i) for i in r.first_index)
        if r.stage == "W" and idx[0] == 0:
            what = f"the initial weights (before step 0), synapse post {idx[1]}, pre {idx[2]}"
        elif r.stage in ("W", "v"):
            what = f"update {idx[0] + (r.stage == 'v')} (end of step {r.first_step}), synapse post {idx[1]}, pre {idx[2]}"
        elif r.stage in ("lambda", "m"):
            what = f"step {idx[0]}, synapse post {idx[1]}, pre {idx[2]}"
        elif len(idx) == 2:
            unit = "presynaptic neuron" if r.stage in ("z", "z_tilde") else "neuron"
            what = f"step {idx[0]}, {unit} {idx[1]}"
        else:
            what = f"index {idx}"
        if self.dt_s is not None and r.first_step is not None and r.first_step >= 0 and r.stage not in ("W", "v"):
            what += f" (t = {1e3 * r.first_step * self.dt_s:.1f} ms)"
        return f"{r.key} [{STAGE_TITLES.get(r.stage, r.stage)}] at {what}: expected {r.expected:.9g}, candidate {r.candidate:.9g}"

    _TITLES = ("stage", "key", "shape", "max abs err", "max rel err", "first step", "at", "status")
    _RIGHT = (False, False, False, True, True, True, False, False)

    def _cells(self, r: KeyResult) -> tuple:
        """The table cells of one key."""
        shape = "x".join(str(s) for s in r.shape) if r.shape else "-"
        if r.problem is not None:
            nums, status = ("-", "-", "-", "-"), f"FAIL: {r.problem}"
        else:
            step = "-" if r.first_step is None else str(r.first_step)
            nums = (f"{r.max_abs:.3e}", f"{r.max_rel:.3e}", step, self._where(r))
            status = "ok" if r.ok else f"FAIL ({r.n_bad} values)"
        if self.first_failure is not None and r.key == self.first_failure.key:
            status += "   <== first wrong"
        return (r.stage, r.key, shape) + nums + (status,)

    def format_table(self, header: bool = True) -> str:
        """The report as a readable table; the first failing key is marked ``<== first wrong``.

        Column widths follow the content (two spaces at least between columns).
        ``header=False`` leaves out the lines naming the case, the candidate and the tolerance.
        """
        lines = [
            f"case       {self.case}",
            f"candidate  {self.candidate} (convention {self.convention!r})",
            f"tolerance  spikes exact; floats |cand - exp| <= {self.rtol:g}*|exp| + {self.atol_scale:g}*max|exp_k| (SPEC §9)",
            "",
        ] if header else []
        rows = [self._cells(r) for r in self.results]
        widths = [max(len(cell) for cell in column) for column in zip(self._TITLES, *rows)]

        def line(cells) -> str:
            return "  ".join(c.rjust(w) if right else c.ljust(w)
                             for c, w, right in zip(cells, widths, self._RIGHT)).rstrip()

        lines += [line(self._TITLES), "-" * len(line(self._TITLES))]
        lines += [line(cells) for cells in rows]
        lines.append("")
        n_fail = sum(not r.ok for r in self.results)
        if self.ok:
            lines.append(f"PASS: all {len(self.results)} keys agree with the reference.")
        else:
            lines.append(f"FAIL: {n_fail} of {len(self.results)} keys out of tolerance.")
            lines.append(f"first wrong stage: {self.first_failure.stage} -- {self.describe_failure()}")
        if self.skipped:
            lines.append(f"skipped: {', '.join(self.skipped)}")
        if self.ignored:
            lines.append(f"ignored candidate keys (not recorded by the case): {', '.join(self.ignored)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


def key_stage(key: str) -> str:
    """The trace name of a SPEC §9 key (``"U_tilde_1"`` → ``"U_tilde"``); the key itself otherwise."""
    name, _, index = key.rpartition("_")
    return name if name and index.isdigit() else key


def _key_rank(key: str, n_layers: int) -> int:
    """Position of ``key`` in the order in which one step of the derivation computes it."""
    stage = key_stage(key)
    if stage == key:
        return 10**6
    index = int(key.rpartition("_")[2])
    if stage in ("z", "z_tilde", "I", "U_tilde", "S", "sigma_prime", "lambda"):
        layer = index + 1 if stage in ("z", "z_tilde", "lambda") else index
        within = ("z", "z_tilde", "I", "U_tilde", "S", "sigma_prime", "lambda").index(stage)
        return 10 * layer + within
    if stage == "e":
        return 1000 + (n_layers - index)
    if stage == "m":
        return 2000 + index
    if stage == "v":
        return 3000 + 2 * index
    return 3000 + 2 * index + 1          # W


def _as_comparable(cand: np.ndarray, exp: np.ndarray):
    """The candidate as an array comparable with ``exp``, or a problem string."""
    if exp.dtype == bool:
        if cand.dtype == bool:
            return cand, None
        if not (np.issubdtype(cand.dtype, np.integer) or np.issubdtype(cand.dtype, np.floating)):
            return None, f"dtype {cand.dtype} cannot hold spikes"
        if not np.all((cand == 0) | (cand == 1)):
            return None, "spikes must be 0/1 (or bool)"
        return cand.astype(bool), None
    if cand.dtype == bool or not (np.issubdtype(cand.dtype, np.integer) or np.issubdtype(cand.dtype, np.floating)):
        return None, f"dtype {cand.dtype} is not a real number type"
    return cand.astype(np.float64), None


def _tolerance(cand: np.ndarray, exp: np.ndarray, rtol: float, atol_scale: float):
    """Out-of-tolerance mask, absolute and relative errors of comparable arrays (SPEC §9)."""
    if exp.dtype == bool:
        bad = cand != exp
        diff = bad.astype(float)
        return bad, diff, diff
    exp = exp.astype(np.float64)
    diff = np.abs(cand - exp)
    diff = np.where(np.isnan(diff), np.inf, diff)
    atol = atol_scale * (float(np.max(np.abs(exp))) if exp.size else 0.0)
    bad = ~(diff <= rtol * np.abs(exp) + atol)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(exp != 0, diff / np.abs(exp), np.where(diff > 0, np.inf, 0.0))
    return bad, diff, rel


def out_of_tolerance(candidate, expected, rtol: float = 1e-9, atol_scale: float = 1e-10) -> np.ndarray:
    """Boolean mask, shape of ``expected``: where ``candidate`` leaves the SPEC §9 tolerance.

    ``mask.reshape(len(mask), -1).any(axis=1)`` gives the steps at which a trace is wrong.
    Raises ``ValueError`` if the shapes differ or the candidate cannot be compared.
    """
    exp = np.asarray(expected)
    cand = np.asarray(candidate)
    if cand.shape != exp.shape:
        raise ValueError(f"candidate has shape {cand.shape}, expected {exp.shape}")
    cand, problem = _as_comparable(cand, exp)
    if problem is not None:
        raise ValueError(problem)
    return _tolerance(cand, exp, rtol, atol_scale)[0]


def compare_key(key: str, candidate, expected, rtol: float = 1e-9, atol_scale: float = 1e-10,
                n_batch: int | None = None, converter: str = "exact") -> KeyResult:
    """Compare one key (SPEC §9 tolerance) and locate its first out-of-tolerance element.

    Spikes (bool ``expected``) must match exactly; floats pass where
    ``|cand - exp| <= rtol |exp| + atol_scale max|exp|``; NaN never passes. ``n_batch`` turns
    the update index of ``W``/``v`` into a time step.
    """
    stage = key_stage(key)
    exp = np.asarray(expected)
    if candidate is None:
        return KeyResult(key, stage, False, exp.shape, problem="missing", converter=converter)
    cand = np.asarray(candidate)
    if cand.shape != exp.shape:
        return KeyResult(key, stage, False, exp.shape, problem=f"shape {cand.shape}, expected {exp.shape}",
                         converter=converter)
    cand, problem = _as_comparable(cand, exp)
    if problem is not None:
        return KeyResult(key, stage, False, exp.shape, problem=problem, converter=converter)
    bad, diff, rel = _tolerance(cand, exp, rtol, atol_scale)
    n_bad = int(np.count_nonzero(bad))
    first_step = first_index = e_val = c_val = None
    if n_bad:
        first_index = tuple(int(i) for i in np.argwhere(bad)[0])
        e_val, c_val = float(exp[first_index]), float(cand[first_index])
        first_step = first_index[0]
        if n_batch is not None and stage == "W":
            first_step = first_index[0] * n_batch - 1
        elif n_batch is not None and stage == "v":
            first_step = (first_index[0] + 1) * n_batch - 1
    return KeyResult(
        key, stage, n_bad == 0, exp.shape,
        max_abs=float(np.max(diff)) if diff.size else 0.0,
        max_rel=float(np.max(rel)) if rel.size else 0.0,
        n_bad=n_bad, first_step=first_step, first_index=first_index, expected=e_val, candidate=c_val,
        converter=converter,
    )


def _table_order(keys) -> list:
    """SPEC §9 keys sorted by stage (:data:`STAGES`), then layer or connection."""
    def order(key):
        stage = key_stage(key)
        index = key.rpartition("_")[2]
        return (STAGES.index(stage) if stage in STAGES else len(STAGES), int(index) if index.isdigit() else 0, key)

    return sorted(keys, key=order)


def _first_failure(results, n_layers: int) -> KeyResult | None:
    timed = [r for r in results if not r.ok and r.first_step is not None]
    if timed:
        return min(timed, key=lambda r: (r.first_step, _key_rank(r.key, n_layers)))
    failed = [r for r in results if not r.ok]
    return failed[0] if failed else None


def _skip_matches(key: str, skip) -> bool:
    return key in skip or key_stage(key) in skip


def load_candidate(path) -> dict:
    """Read a candidate's traces: a ``.npz`` file or a directory of CSV files (:func:`write_csv_array`).

    A directory may hold an ``index.json`` (as the golden cases' CSV mirrors do); without it every
    ``<key>.csv`` is read with the dtype inferred (bool for spike keys ``S_<l>``, float otherwise).
    A ``.npz`` is read without unpickling anything, each array's header checked before its data.
    Raises ``ValueError`` naming the file and the reason if it cannot be read.
    """
    path = Path(path)
    if path.is_dir():
        return read_csv_dir(path)
    if not path.exists():
        raise FileNotFoundError(f"candidate {path} does not exist")
    return load_npz(path)


def _reference_traces(case: Case, extra_record=()) -> dict:
    record = tuple(case.record) + tuple(r for r in extra_record if r not in case.record)
    sim = LiteralEngine(case.network, case.task)
    return sim.run(case.n_steps, record=record).traces


def _check_skip(skip, keys, where) -> tuple:
    """``skip`` as a tuple of names; ``ValueError`` for unknown names or if nothing is left to compare.

    Valid names are the trace names :data:`STAGES` (whether or not ``where`` records them) and
    the keys ``where`` records.
    """
    skip = (skip,) if isinstance(skip, str) else tuple(skip)
    if not all(isinstance(name, str) for name in skip):
        raise TypeError(f"skip must be trace names or keys (strings), got {skip!r}")
    unknown = [name for name in skip if name not in STAGES and name not in keys]
    if unknown:
        raise ValueError(f"skip: unknown name(s) {unknown}; valid are the trace names {list(STAGES)} "
                         f"and the keys {where} records: {sorted(keys)}")
    if all(_skip_matches(key, skip) for key in keys):
        what = f"every key was skipped (skip {list(skip)})" if keys else f"{where} records no traces"
        raise ValueError(f"nothing to compare: {what}")
    return skip


def _exact_inputs(key: str, converted: dict, n_layers: int) -> bool:
    """Whether the keys an exact auryn converter of ``key`` needs are there (output error; ``lambda_k`` for ``m_k``)."""
    return f"e_{n_layers}" in converted and (key_stage(key) != "m" or f"lambda_{key.rpartition('_')[2]}" in converted)


def _to_paper(cand: dict, expected: dict, convention: str, context, cand_name: str) -> dict:
    """The candidate's keys that can be compared, converted to the paper convention.

    Keys with a wrong shape or dtype are left out (:func:`compare_key` reports them), so that a
    converter never sees them.
    """
    from . import conventions as conv

    usable = {k: v for k, v in cand.items()
              if k not in expected or (np.shape(v) == expected[k].shape
                                       and _as_comparable(np.asarray(v), expected[k])[1] is None)}
    try:
        return conv.to_paper(usable, convention, context)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"{cand_name}: cannot convert the traces from the {convention!r} convention "
                         "(keys the case does not record have shapes that do not fit)") from None


def validate(candidate, case_dir, convention: str = "paper", skip=(), rtol: float = 1e-9,
             atol_scale: float = 1e-10) -> Report:
    """Validate an implementation's traces against the reference on a case, stage by stage.

    Parameters
    ----------
    candidate : dict of arrays, or path
        The candidate's traces with SPEC §9 keys (a dict, a ``.npz`` file, or a directory of CSV
        files, see :func:`load_candidate`).
    case_dir : path
        A SPEC §9 case (``case.json`` + ``arrays.npz``): the reference (literal engine) is run on
        it. Or a golden-vector directory (``golden.json``): the candidate is compared with its
        ``expected.npz``.
    convention : ``"paper"``, ``"auryn"`` or ``"genn"``
        The convention of the candidate's numbers; they are converted to the paper's first
        (:mod:`superspike_ref.conventions`).
    skip : iterable of str
        Trace names (``"lambda"``) or keys (``"m_0"``) not to compare, e.g. for an engine that
        cannot record ``lambda`` and ``m``. Unknown names, and a ``skip`` that leaves nothing to
        compare, raise ``ValueError``.

    Returns
    -------
    Report
        Per key: max abs and rel error, first step and index out of tolerance, the values there.
        Missing keys and wrong shapes are reported, not raised; candidate keys the case does not
        record are listed as ignored.
    """
    from . import conventions as conv

    conv.check_convention(convention)
    case_dir = Path(case_dir)
    if isinstance(candidate, dict):
        cand, cand_name = dict(candidate), "<dict>"
    else:
        cand, cand_name = load_candidate(candidate), str(candidate)

    if (case_dir / "golden.json").is_file() and not (case_dir / "case.json").is_file():
        return _validate_golden(cand, cand_name, case_dir, convention, skip, rtol, atol_scale)

    case = load_case(case_dir)
    L = len(case.network.layers) - 1
    expected = _reference_traces(case, extra_record=("W",))
    weights = [expected[f"W_{k}"] for k in range(L)]
    if "W" not in case.record:
        expected = {k: v for k, v in expected.items() if key_stage(k) != "W"}
    skip = _check_skip(skip, expected, case_dir)
    context = conv.TraceContext.from_network(case.network, weights)
    converted = _to_paper(cand, expected, convention, context, cand_name)

    skipped = tuple(k for k in _table_order(expected) if _skip_matches(k, skip))
    accuracy = {k: conv.conversion_accuracy(convention, key_stage(k), _exact_inputs(k, converted, L)) for k in expected}
    results = [compare_key(key, converted.get(key, cand.get(key)), expected[key], rtol, atol_scale,
                           n_batch=case.network.params.n_batch, converter=accuracy[key])
               for key in _table_order(expected) if key not in skipped]
    ignored = tuple(sorted(k for k in cand if k not in expected and not _skip_matches(k, skip)))
    return Report(case=str(case_dir), candidate=cand_name, convention=convention, results=tuple(results),
                  first_failure=_first_failure(results, L), ignored=ignored, skipped=skipped,
                  n_batch=case.network.params.n_batch, dt_s=case.network.params.dt_s, rtol=rtol,
                  atol_scale=atol_scale)


def load_golden(golden_dir) -> tuple:
    """Read a golden-vector directory: ``(description dict, inputs dict, expected dict)``."""
    golden_dir = Path(golden_dir)
    path = golden_dir / "golden.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing (a golden-vector directory holds golden.json and expected.npz)")
    spec = read_json(path)
    if not isinstance(spec, dict) or spec.get("format") != GOLDEN_FORMAT:
        raise ValueError(f"{path}: field 'format' must be {GOLDEN_FORMAT!r}")
    inputs = load_npz(golden_dir / "arrays.npz") if (golden_dir / "arrays.npz").is_file() else {}
    return spec, inputs, load_npz(golden_dir / "expected.npz")


def _validate_golden(cand, cand_name, golden_dir, convention, skip, rtol, atol_scale) -> Report:
    if convention != "paper":
        raise ValueError(f"{golden_dir} is a golden-vector directory; its keys name their convention, "
                         f"so validate it with convention 'paper', not {convention!r}")
    _, _, expected = load_golden(golden_dir)
    skip = _check_skip(skip, expected, golden_dir)
    results, skipped = [], []
    for key in expected:
        if _skip_matches(key, skip):
            skipped.append(key)
            continue
        results.append(compare_key(key, cand.get(key), expected[key], rtol, atol_scale))
    failed = [r for r in results if not r.ok]
    ignored = tuple(sorted(k for k in cand if k not in expected))
    return Report(case=str(golden_dir), candidate=cand_name, convention=convention, results=tuple(results),
                  first_failure=failed[0] if failed else None, ignored=ignored, skipped=tuple(skipped),
                  rtol=rtol, atol_scale=atol_scale)


# --------------------------------------------------------------------------------------
# .ras export
# --------------------------------------------------------------------------------------

def export_case_ras(case_dir, out_dir, id_base: int = 0) -> list:
    """Write a case's input and target (one cycle) as ``.ras`` files ``input.ras``, ``target.ras``.

    Times are ``step * dt_s``; neuron ids start at ``id_base`` (0, or 1 as in Auryn's targets).
    Returns the paths written.
    """
    from .io import write_ras

    case = load_case(case_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dt_s = case.network.params.dt_s
    paths = []
    for name, raster in (("input", case.task.input), ("target", case.task.target)):
        path = out_dir / f"{name}.ras"
        write_ras(path, raster, dt_s, id_base=id_base)
        paths.append(path)
    return paths


def export_traces_ras(traces, out_dir, dt_s: float, id_base: int = 0) -> list:
    """Write every spike trace ``S_<l>`` of a traces dict (or ``.npz``) as ``S_<l>.ras``."""
    from .io import write_ras

    if not isinstance(traces, dict):
        traces = load_candidate(traces)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for key in sorted(k for k in traces if key_stage(k) == "S"):
        path = out_dir / f"{key}.ras"
        write_ras(path, np.asarray(traces[key], dtype=bool), dt_s, id_base=id_base)
        paths.append(path)
    return paths
