"""Reference cases (SPEC §9): the case format, reading a case, running it, the comparison rule.

A case is a directory with ``case.json`` and ``arrays.npz`` describing a network, its
initial weights, a task and what to record. :func:`run_case` runs it with an engine and
returns the traces with the keys of SPEC §9, which :func:`compare_traces` compares with
expected ones key by key (spikes exactly; floats with ``rtol`` 1e-9 and a key-wide
``atol_k = 1e-10 max|expected_k|``); :func:`out_of_tolerance` marks the elements of one key
that leave this tolerance. The validation kit (:mod:`superspike_ref.validation`, from which
every name here is importable) builds its stage-by-stage report on them
(:mod:`superspike_ref.report`).

Case files are untrusted data: they are read without unpickling, a ``.npz`` array's header is
checked before its data are allocated, and every malformed file raises one ``ValueError`` (or
``FileNotFoundError``) naming the file and the field or key. Messages never quote text of a
file: only short field and key names, and numbers, appear.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from .fast import NOT_RECORDABLE, FastEngine
from .files import describe_value, load_npz, quoted_name, read_json
from .feedback import FEEDBACK_KINDS
from .gradient_cases import GRADIENT_VARIANTS, case_gradients, is_gradient_field
from .network import RECORDABLE, LiteralEngine, Network
from .optimizers import OPTIMIZERS
from .params import Params
from .tasks import CyclicTask
from .xor import XorRasterTask
from .variants import apply_variants, check_variants

__all__ = [
    "CASE_FORMAT",
    "Case",
    "load_case",
    "run_case",
    "compare_traces",
    "out_of_tolerance",
    "ENGINES",
]

CASE_FORMAT = "superspike-case/1"
ENGINES = {"literal": LiteralEngine, "fast": FastEngine}
_REQUIRED = ("format", "n_steps", "layers", "feedback", "optimizer", "record")
_OPTIONAL = ("name", "params", "schedule", "t_burn_s", "task", "xor_window_steps", "gradient")
TASKS = ("cyclic", "xor")
"""Tasks a case can hold: a replayed input and target (default), or XOR trials (arrays ``xor_*``)."""


@dataclass(frozen=True)
class Case:
    """A loaded reference case: the network, the task, how long to run and what to record."""

    name: str
    network: Network
    task: CyclicTask | XorRasterTask
    n_steps: int
    record: tuple
    gradient: dict | None = None


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
    "task": (lambda v: isinstance(v, str) and v in TASKS, f"must be one of {TASKS}"),
    "xor_window_steps": (_positive_int, "must be a positive integer"),
    "gradient": (is_gradient_field, "must be an object with exactly 'window_steps' (a positive integer) and "
                                    f"'variant' (one of {GRADIENT_VARIANTS})"),
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
    if (spec.get("task") == "xor") != ("xor_window_steps" in spec):
        raise _field_error(path, "xor_window_steps", "must be given exactly when field 'task' is 'xor'")
    _check_gradient_window(path, spec)
    return spec


def _check_gradient_window(path: Path, spec: dict) -> None:
    """A gradient case's window lies within its steps, and its task has the van Rossum loss (not XOR)."""
    if "gradient" not in spec:
        return
    if spec.get("task") == "xor":
        raise _field_error(path, "gradient", "needs the van Rossum loss of a cyclic task; an XOR case has none")
    if spec["gradient"]["window_steps"] > spec["n_steps"]:
        raise _field_error(path, "gradient", f"window_steps must be at most n_steps ({spec['n_steps']}), "
                                             f"got {spec['gradient']['window_steps']}")


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
    is read with :func:`~superspike_ref.files.load_npz` (no pickles, headers checked before reading).
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
    try:
        task = _case_task(spec, array, json_path)
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
                record=tuple(spec["record"]), gradient=spec.get("gradient"))


def _case_task(spec: dict, array, json_path: Path):
    """The task of a case: a :class:`CyclicTask`, or with ``"task": "xor"`` an :class:`XorRasterTask`.

    An XOR case's ``arrays.npz`` adds ``xor_onset_steps`` (increasing steps >= 0) and ``xor_labels``
    (output neurons), int arrays ``(n_trials,)``; ``case.json`` gives ``xor_window_steps``, and
    ``n_steps`` may not exceed the input's steps (the trials are not replayed).
    """
    inputs, target = array("input"), array("target")
    if spec.get("task", "cyclic") == "cyclic":
        return CyclicTask(input=inputs, target=target)
    if spec["n_steps"] > inputs.shape[0]:
        raise ValueError(f"an XOR case runs at most the {inputs.shape[0]} steps of its input, "
                         f"but {json_path.name} field 'n_steps' is {spec['n_steps']}")
    onsets, labels = array("xor_onset_steps"), array("xor_labels")
    for key, x in (("xor_onset_steps", onsets), ("xor_labels", labels)):
        if not np.issubdtype(x.dtype, np.integer) or x.shape != (onsets.shape[0],) or x.size == 0:
            raise ValueError(f"array {key!r} must be a non-empty 1-D integer array as long as 'xor_onset_steps'")
    if onsets.min() < 0 or np.any(np.diff(onsets) <= 0) or labels.min() < 0 or labels.max() >= target.shape[1]:
        raise ValueError("arrays 'xor_onset_steps' must increase from >= 0 and 'xor_labels' name output neurons")
    return XorRasterTask(input=inputs, target=target, onset_steps=onsets.astype(np.int64),
                         labels=labels.astype(np.int64), window_steps=spec["xor_window_steps"])


def run_case(case_dir, engine: str = "literal", progress: bool = False, variants=()) -> dict:
    """Run a case and return its traces (SPEC §9 keys), and ``dL_dW_<k>`` for a gradient case.

    The fast engine never forms the per-synapse traces ``lambda`` and ``m``; with it they are
    left out of the result even if the case records them. A gradient case (``"gradient"`` in
    ``case.json``) adds ``dL_dW_<k>`` (:mod:`superspike_ref.gradient_cases`), computed as SPEC
    states it whatever the engine and the variants. ``variants`` names SPEC variants
    (:mod:`superspike_ref.variants`) to run with; they need the literal engine (``ValueError``
    otherwise, and for an unknown name).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {sorted(ENGINES)}, got {engine!r}")
    variants = check_variants(variants)
    if variants and engine != "literal":
        raise ValueError(f"SPEC variants {list(variants)} run on the literal engine only; "
                         f"the {engine} engine implements SPEC exactly")
    case = load_case(case_dir)
    network, discretisation = apply_variants(variants, case.network)
    if engine == "literal":
        sim = LiteralEngine(network, case.task, discretisation)
    else:
        sim = ENGINES[engine](network, case.task)
    record = case.record if engine == "literal" else tuple(r for r in case.record if r not in NOT_RECORDABLE)
    traces = sim.run(case.n_steps, record=record, progress=progress).traces
    return {**traces, **case_gradients(case)}


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


# --------------------------------------------------------------------------------------
# the SPEC §9 tolerance of one key, element by element
# --------------------------------------------------------------------------------------

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
