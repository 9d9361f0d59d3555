r"""The engines' shell: what a run records and reports around the core step (SPEC §7, §9).

* the recorder: preallocated per-step traces with SPEC §9 keys (:data:`RECORDABLE`), sized by
  :func:`recording_bytes` and checked against the memory available before a run starts;
* the cost curves: ``vr_distance`` and ``auryn_mse`` at the end of every cycle (SPEC §7);
* the progress bar, and :class:`RunResult`, what ``run()`` returns (:func:`concat_results` joins runs).

Nothing here changes a network's state; :mod:`superspike_ref.core` does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .error import auryn_mse_value, vr_distance_from_energy
from .memory import _short_int, check_memory

__all__ = ["RECORDABLE", "LAYER_KEYS", "CONNECTION_KEYS", "key_stage", "recording_bytes", "RunResult", "concat_results"]

LAYER_KEYS = ("U_tilde", "S", "I", "sigma_prime", "e")
"""Per-step traces of LIF layer ``l``, recorded as ``<name>_<l>`` ``(n_steps, n_l)``."""
CONNECTION_KEYS = ("z", "z_tilde", "lambda", "m", "W", "v")
"""Traces of connection ``k``, recorded as ``<name>_<k>`` (shapes in SPEC §9)."""
RECORDABLE = LAYER_KEYS + CONNECTION_KEYS


def key_stage(key: str) -> str:
    """The trace name of a SPEC §9 key (``"U_tilde_1"`` → ``"U_tilde"``); the key itself otherwise."""
    name, _, index = key.rpartition("_")
    return name if name and index.isdigit() else key


def recording_bytes(layers, n_steps: int, record, n_networks: int = 1, n_batch: int = 1) -> int:
    """Bytes the engines' recorders allocate to record ``record`` over ``n_steps`` steps.

    Per-step traces (every key but ``W`` and ``v``) take ``n_steps`` rows of their SPEC §9
    shape (``S`` 1 byte per neuron, the others 8); ``W_k`` and ``v_k`` one ``(n_post, n_pre)``
    copy per weight update (``W_k`` one more for the initial weights), counted twice since the
    copies are stacked into one array at the end.

    Parameters
    ----------
    layers : sequence of int
        Layer sizes, input first.
    n_steps : int
        Steps of the run.
    record : iterable of str
        Names from :data:`RECORDABLE`.
    n_networks : int
        Networks recorded side by side (:class:`~superspike_ref.fast.BatchFastEngine`).
    n_batch : int
        Steps per weight update (``params.n_batch``); the default 1 (an update every step)
        gives an upper bound for ``W`` and ``v``.

    Returns
    -------
    int
    """
    layers = _check_layers(layers)
    n_steps = _check_n_steps(n_steps)
    record = _check_record_names(record)
    for name, value in (("n_networks", n_networks), ("n_batch", n_batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}")
    layout = _per_step_layout(layers, record)
    per_step = sum(np.dtype(dtype).itemsize * int(np.prod(shape)) for _, shape, dtype in layout)
    n_updates = -(-n_steps // int(n_batch))  # at most one per n_batch steps, wherever the run starts
    copies = ("W" in record) * (n_updates + 1) + ("v" in record) * n_updates
    per_update = sum(8 * n_post * n_pre for n_pre, n_post in zip(layers[:-1], layers[1:]))
    return int(n_networks) * (n_steps * per_step + 2 * copies * per_update)


def _per_step_layout(layers: tuple, record: tuple) -> list:
    """``(key, shape of one step, dtype)`` of every per-step trace of ``record`` (SPEC §9 keys)."""
    n_conn = len(layers) - 1
    layout = []
    for name in LAYER_KEYS:
        if name in record:
            layout += [(f"{name}_{l}", (layers[l],), bool if name == "S" else float) for l in range(1, n_conn + 1)]
    for name in ("z", "z_tilde", "lambda", "m"):
        if name in record:
            layout += [(f"{name}_{k}", (layers[k],) if name in ("z", "z_tilde") else (layers[k + 1], layers[k]), float)
                       for k in range(n_conn)]
    return layout


def _allocate_traces(layers: tuple, n_steps: int, record: tuple, n_batch: int, n_networks: int = 1) -> list:
    """Zeroed per-step trace arrays (one dict per network), once :func:`check_memory` says the recording fits."""
    what = f"recording {list(record)} over {_short_int(n_steps)} steps"
    what += f" of {n_networks} networks" if n_networks > 1 else ""
    check_memory(recording_bytes(layers, n_steps, record, n_networks, n_batch), what)
    layout = _per_step_layout(layers, record)
    return [{key: np.zeros((n_steps,) + shape, dtype=dtype) for key, shape, dtype in layout} for _ in range(n_networks)]


def _check_layers(layers) -> tuple:
    """``layers`` as a tuple of ints, or ``ValueError`` unless it lists at least two positive integer sizes."""
    sizes = tuple(layers)
    if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
        raise ValueError(f"layers must list at least two positive integer sizes, got {layers!r}")
    return tuple(int(n) for n in sizes)


@dataclass
class RunResult:
    """What :meth:`LiteralEngine.run` returns.

    Attributes
    ----------
    t_start_s, n_steps : start time and length of the run.
    traces : dict of arrays
        Recorded variables with SPEC §9 keys (``S_1``, ``lambda_0``, ``W_0`` ...).
    cycle_end_s : array ``(n_cycles,)``
        End time of every cycle completed during the run.
    vr_distance : array ``(n_cycles,)``
        Van Rossum distance of each completed cycle (unmatched spikes per output neuron).
    vr_distance_per_neuron : array ``(n_cycles, n_out)``
    auryn_mse : array ``(n_cycles,)``
        The original code's learning-curve value at each cycle end.
    """

    t_start_s: float
    n_steps: int
    traces: dict
    cycle_end_s: np.ndarray
    vr_distance: np.ndarray
    vr_distance_per_neuron: np.ndarray
    auryn_mse: np.ndarray


def concat_results(parts) -> RunResult:
    """Join the results of consecutive ``run()`` calls of one engine into one.

    Per-step traces and ``v_k`` are concatenated; ``W_k`` keeps the first part's initial
    weights once. Only the keys recorded in every part are kept.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("concat_results needs at least one RunResult")
    keys = set(parts[0].traces).intersection(*(p.traces for p in parts[1:]))
    traces = {}
    for key in sorted(keys):
        pieces = [p.traces[key] for p in parts]
        if key.startswith("W_"):
            pieces = pieces[:1] + [x[1:] for x in pieces[1:]]
        traces[key] = np.concatenate(pieces)
    return RunResult(
        t_start_s=parts[0].t_start_s,
        n_steps=sum(p.n_steps for p in parts),
        traces=traces,
        cycle_end_s=np.concatenate([p.cycle_end_s for p in parts]),
        vr_distance=np.concatenate([p.vr_distance for p in parts]),
        vr_distance_per_neuron=np.concatenate([p.vr_distance_per_neuron for p in parts]),
        auryn_mse=np.concatenate([p.auryn_mse for p in parts]),
    )


def _check_n_steps(n_steps) -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    return int(n_steps)


def _check_record_names(record) -> tuple:
    """``record`` (one name or an iterable of names) as a tuple, or ``ValueError`` for a name not in RECORDABLE."""
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown:
        raise ValueError(f"cannot record {unknown}; recordable: {RECORDABLE}")
    return record


class _Recorder:
    """Preallocated per-step traces with SPEC §9 keys."""

    def __init__(self, record: tuple, network, n_steps: int) -> None:
        self.record, self.i = record, 0
        self.data = _allocate_traces(network.layers, n_steps, record, network.params.n_batch)[0]
        self.lists = {name: [[] for _ in range(network.n_connections)] for name in ("W", "v") if name in record}
        self.shapes = [w.shape for w in network.weights]

    def step(self, state, seen) -> None:
        """Record a step from the state after it (a NetworkState) and what it showed (StepObservables)."""
        i, d, r = self.i, self.data, self.record
        for l in range(1, len(seen.S) + 1):
            for name, values in (("U_tilde", seen.U_tilde), ("S", seen.S), ("sigma_prime", seen.sigma_prime),
                                 ("e", seen.errors), ("I", [s.I_V for s in state.lif])):
                if name in r:
                    d[f"{name}_{l}"][i] = values[l - 1]
        for k, syn in enumerate(state.synapses):
            for name, value in (("z", syn.z), ("z_tilde", syn.z_tilde), ("lambda", syn.elig), ("m", state.m[k])):
                if name in r:
                    d[f"{name}_{k}"][i] = value
        self.i += 1

    def weights(self, weights, v, initial: bool = False) -> None:
        for name, values in (("W", weights), ("v", v)):
            if name in self.lists and not (initial and name == "v"):
                for k, x in enumerate(values):
                    self.lists[name][k].append(x.copy())

    def result(self) -> dict:
        out = dict(self.data)
        for name, per_conn in self.lists.items():
            for k, xs in enumerate(per_conn):
                out[f"{name}_{k}"] = np.stack(xs) if xs else np.zeros((0,) + self.shapes[k])
        return out


class _CostCurves:
    """The learning curves of a run, one value per completed cycle (SPEC §7)."""

    def __init__(self, params) -> None:
        self.params, self.ends, self.vr, self.per_neuron, self.mse = params, [], [], [], []

    def cycle_end(self, t_end_s: float, cycle_err2, q_auryn) -> str:
        """Add the cycle ending at ``t_end_s`` from its ``Σ_n e_i[n]²`` and the auryn_mse state; return a bar note."""
        per_neuron = vr_distance_from_energy(cycle_err2, self.params, per_neuron=True)
        self.ends.append(t_end_s)
        self.per_neuron.append(per_neuron)
        self.vr.append(float(np.mean(per_neuron)))
        self.mse.append(auryn_mse_value(q_auryn, t_end_s, self.params))
        return f"vr_distance={self.vr[-1]:.3f}"

    def result(self, n_out: int) -> dict:
        """The :class:`RunResult` fields ``cycle_end_s``, ``vr_distance``, ``vr_distance_per_neuron``, ``auryn_mse``."""
        return dict(cycle_end_s=np.array(self.ends), vr_distance=np.array(self.vr),
                    vr_distance_per_neuron=np.array(self.per_neuron).reshape(len(self.vr), n_out),
                    auryn_mse=np.array(self.mse))


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def close(self):
        pass


def _progress_bar(n_steps: int, enabled: bool, name: str):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=n_steps, desc=f"{name} engine", unit="step", unit_scale=True, mininterval=0.5)
