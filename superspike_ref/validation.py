"""Reference cases: read a case (SPEC §9), run it, compare traces.

A case is a directory with ``case.json`` and ``arrays.npz`` describing a network, its
initial weights, a task and what to record. :func:`run_case` runs it with an engine and
returns the traces with the keys of SPEC §9, which :func:`compare_traces` compares with
expected ones key by key (spikes exactly; floats with ``rtol`` 1e-9 and a key-wide
``atol_k = 1e-10 max|expected_k|``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fast import NOT_RECORDABLE, FastEngine
from .network import RECORDABLE, LiteralEngine, Network
from .params import Params
from .tasks import CyclicTask

__all__ = ["CASE_FORMAT", "Case", "load_case", "run_case", "compare_traces", "ENGINES"]

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


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _field_error(path: Path, field: str, problem: str) -> ValueError:
    return ValueError(f"{path}: field {field!r}: {problem}")


def load_case(case_dir) -> Case:
    """Read ``case.json`` and ``arrays.npz`` from ``case_dir`` and validate every field.

    Raises ``ValueError`` (or ``FileNotFoundError``) naming the file and the field.
    """
    case_dir = Path(case_dir)
    json_path, npz_path = case_dir / "case.json", case_dir / "arrays.npz"
    for path in (json_path, npz_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (a case is a directory with case.json and arrays.npz)")
    try:
        spec = json.loads(json_path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{json_path}: not valid JSON: {exc}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{json_path}: must hold a JSON object")
    for key in _REQUIRED:
        if key not in spec:
            raise _field_error(json_path, key, "missing")
    unknown = sorted(set(spec) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise _field_error(json_path, unknown[0], f"unknown field (known: {sorted(_REQUIRED + _OPTIONAL)})")
    if spec["format"] != CASE_FORMAT:
        raise _field_error(json_path, "format", f"unsupported format {spec['format']!r}, expected {CASE_FORMAT!r}")
    n_steps = spec["n_steps"]
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise _field_error(json_path, "n_steps", f"must be a positive integer, got {n_steps!r}")
    layers = spec["layers"]
    if not isinstance(layers, list) or len(layers) < 2 or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layers):
        raise _field_error(json_path, "layers", f"must be a list of at least two positive integers, got {layers!r}")
    params_dict = spec.get("params", {})
    if not isinstance(params_dict, dict):
        raise _field_error(json_path, "params", "must be an object")
    try:
        params = Params.from_dict(params_dict)
    except (TypeError, ValueError) as exc:
        raise _field_error(json_path, "params", str(exc)) from None
    record = spec["record"]
    if not isinstance(record, list) or not all(r in RECORDABLE for r in record):
        raise _field_error(json_path, "record", f"must be a list of names from {RECORDABLE}, got {record!r}")

    arrays = np.load(npz_path, allow_pickle=False)
    def array(key: str) -> np.ndarray:
        if key not in arrays.files:
            raise ValueError(f"{npz_path}: array {key!r} is missing")
        return arrays[key]

    def float_array(key: str, shape: tuple) -> np.ndarray:
        x = array(key)
        if x.dtype != np.float64 or x.shape != shape:
            raise ValueError(f"{npz_path}: array {key!r} must be float64 of shape {shape}, got {x.dtype} {x.shape}")
        return x

    n_conn = len(layers) - 1
    weights = tuple(float_array(f"W0_{k}", (layers[k + 1], layers[k])) for k in range(n_conn))
    feedback = spec["feedback"]
    B = None
    if feedback in ("random", "uniform"):
        B = tuple(float_array(f"B_{l}", (layers[-1], layers[l])) for l in range(1, n_conn))
    schedule = spec.get("schedule", [])
    if not isinstance(schedule, list) or not all(
        isinstance(e, list) and len(e) == 2 and all(_is_number(x) for x in e) for e in schedule
    ):
        raise _field_error(json_path, "schedule", f"must be a list of [time_s, factor] number pairs, got {schedule!r}")
    t_burn_s = spec.get("t_burn_s", 0.0)
    if not _is_number(t_burn_s):
        raise _field_error(json_path, "t_burn_s", f"must be a number of seconds, got {t_burn_s!r}")
    try:
        task = CyclicTask(input=array("input"), target=array("target"))
        network = Network(
            layers=tuple(layers),
            weights=weights,
            params=params,
            feedback=feedback,
            feedback_matrices=B,
            optimizer=spec["optimizer"],
            schedule=tuple(schedule),
            t_burn_s=t_burn_s,
        )
        if task.n_in != layers[0] or task.n_out != layers[-1]:
            raise ValueError(
                f"input/target have {task.n_in}/{task.n_out} neurons, layers say {layers[0]}/{layers[-1]}"
            )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{case_dir}: {exc}") from None
    return Case(name=str(spec.get("name", case_dir.name)), network=network, task=task, n_steps=n_steps, record=tuple(record))


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
