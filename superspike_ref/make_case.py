"""Make a SPEC §9 case for a network of any size, with the reference's expected traces (issue P10).

``python -m superspike_ref make-case --layers 200 256 200 --steps 2000 --out DIR`` writes ``DIR/case.json``,
``DIR/arrays.npz`` (input, target, initial weights ``W0_k``, feedback matrices ``B_l``; for the
XOR task the trials ``xor_onset_steps`` and ``xor_labels``) and ``DIR/expected.npz``, the literal
engine's traces of what the case records. Everything is drawn from one seeded generator, in the
order input, target (or XOR trials), weights, feedback matrices:

* ``task="poisson"``: frozen Poisson input at ``rate_Hz`` and frozen Poisson target spikes at
  ``target_rate_Hz``, both one cycle of ``n_steps`` steps (:func:`~superspike_ref.tasks.frozen_poisson`);
* ``task="xor"``: the input of an XOR run (:func:`~superspike_ref.xor.make_xor_task`, background at
  ``rate_Hz``, the first trial 10 ms in) and the window-of-opportunity error of every trial whose
  window closes within the run; two output neurons;
* weights :func:`~superspike_ref.network.init_weights` with ``w0_V``; feedback matrices
  :func:`~superspike_ref.feedback.make_feedback_matrices`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .cases import CASE_FORMAT, load_case, run_case
from .feedback import make_feedback_matrices
from .files import save_npz
from .memory import check_memory
from .network import init_weights, recording_bytes
from .params import Params
from .tasks import frozen_poisson
from .xor import make_xor_task

__all__ = ["CASE_TASKS", "case_arrays", "make_case"]

CASE_TASKS = ("poisson", "xor")
"""Tasks :func:`make_case` can draw."""

_XOR_FIRST_ONSET_S = 10e-3


def _task_arrays(task: str, layers: tuple, n_steps: int, params: Params, rng, rate_Hz: float,
                 target_rate_Hz: float) -> tuple:
    """``(case.json fields, arrays)`` of the task: input and target, or the XOR input and trials."""
    duration_s = n_steps * params.dt_s
    if task == "poisson":
        return {}, {"input": frozen_poisson(rng, layers[0], rate_Hz, duration_s, params.dt_s),
                    "target": frozen_poisson(rng, layers[-1], target_rate_Hz, duration_s, params.dt_s)}
    if layers[-1] != 2 or layers[0] < 3:
        raise ValueError(f"the xor task needs at least 3 inputs and 2 outputs, got layers {list(layers)}")
    n_in = layers[0]
    xor = make_xor_task(rng, n_trials=int(duration_s / 0.1) + 1, params=params, n_in=n_in,
                        set_sizes=(n_in - 2 * (n_in // 3), n_in // 3, n_in // 3), background_Hz=rate_Hz,
                        first_onset_s=_XOR_FIRST_ONSET_S)
    closed = xor.onset_steps + xor.window_steps <= n_steps
    if not closed.any():
        raise ValueError(f"--steps {n_steps} is too short for one XOR trial "
                         f"({xor.onset_steps[0] + xor.window_steps} steps at least)")
    fields = {"task": "xor", "xor_window_steps": xor.window_steps}
    return fields, {"input": xor.input_block(0, n_steps), "target": np.zeros((n_steps, 2), dtype=bool),
                    "xor_onset_steps": xor.onset_steps[closed], "xor_labels": xor.labels[closed]}


def case_arrays(layers, n_steps: int, feedback: str = "symmetric", seed: int = 0, params: dict | None = None,
                task: str = "poisson", rate_Hz: float = 10.0, target_rate_Hz: float = 5.0,
                w0_V: float = 0.05) -> tuple:
    """The task fields of ``case.json`` and the arrays of a case, drawn from ``default_rng(seed)``.

    Parameters
    ----------
    layers : sequence of int
        Layer sizes, input first.
    n_steps : int
        Steps of the case (one cycle of the task).
    feedback : ``"symmetric"``, ``"random"`` or ``"uniform"``
    seed : int
    params : dict or None
        Parameters that differ from the defaults (SPEC §1).
    task : ``"poisson"`` or ``"xor"``
    rate_Hz, target_rate_Hz : float
        Input (XOR: background) and target rates.
    w0_V : float
        Scale of the initial weights (:func:`~superspike_ref.network.init_weights`).

    Returns
    -------
    fields : dict
        ``task`` and ``xor_window_steps`` for an XOR case, else empty.
    arrays : dict
        ``input``, ``target``, ``W0_k``, ``B_l`` (random and uniform feedback), ``xor_*``.
    """
    if task not in CASE_TASKS:
        raise ValueError(f"task must be one of {CASE_TASKS}, got {task!r}")
    p = Params.from_dict(params or {})
    layers = tuple(layers)
    rng = np.random.default_rng(seed)
    fields, arrays = _task_arrays(task, layers, n_steps, p, rng, rate_Hz, target_rate_Hz)
    arrays.update({f"W0_{k}": w for k, w in enumerate(init_weights(layers, rng, w0_V, p))})
    matrices = make_feedback_matrices(feedback, layers, rng)
    arrays.update({f"B_{l}": B for l, B in enumerate(matrices or (), start=1)})
    return fields, arrays


def make_case(out_dir, layers, n_steps: int, feedback: str = "symmetric", seed: int = 0,
              record=("S", "U_tilde", "e", "W", "v"), params: dict | None = None, optimizer: str = "rmaxprop",
              force: bool = False, max_memory: int | None = None, **draw) -> Path:
    """Write a case (``case.json``, ``arrays.npz``) and its expected traces (``expected.npz``) to ``out_dir``.

    ``draw`` are the remaining options of :func:`case_arrays` (``task``, ``rate_Hz``,
    ``target_rate_Hz``, ``w0_V``). The case is read back with :func:`~superspike_ref.cases.load_case`
    and run by the literal engine; if either fails, the files written are removed and the error
    raised.

    Raises
    ------
    ValueError
        If ``out_dir`` holds a case and ``force`` is False, if the recording would not fit in
        ``max_memory`` (default: the memory available), or for invalid sizes, names or parameters.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir} is a file; name a folder")
    existing = [out_dir / f for f in ("case.json", "arrays.npz", "expected.npz") if (out_dir / f).exists()]
    if existing and not force:
        raise ValueError(f"{existing[0]} exists: overwrite it with --force, or choose another --out")
    p = Params.from_dict(params or {})
    check_memory(recording_bytes(tuple(layers), n_steps, tuple(record), n_batch=p.n_batch),
                 f"--steps {n_steps} with layers {list(layers)}", limit_bytes=max_memory)
    fields, arrays = case_arrays(layers, n_steps, feedback, seed, params, **draw)
    spec = {"format": CASE_FORMAT, "name": out_dir.name, "n_steps": n_steps, "layers": list(layers),
            "params": dict(params or {}), "feedback": feedback, "optimizer": optimizer, "record": list(record),
            **fields}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "case.json").write_text(json.dumps(spec, indent=2) + "\n")
    save_npz(out_dir / "arrays.npz", arrays)
    try:
        load_case(out_dir)
        expected = run_case(out_dir)
    except ValueError:                                  # e.g. recording 'v' of the 'fixed' optimiser
        for name in ("case.json", "arrays.npz"):
            (out_dir / name).unlink()
        raise
    save_npz(out_dir / "expected.npz", expected)
    return out_dir
