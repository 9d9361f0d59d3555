r"""The engines' shell: what a run records and reports around the core step (SPEC §7, §9).

* the recorder: preallocated per-step traces with SPEC §9 keys (:data:`RECORDABLE`), sized by
  :func:`recording_bytes` and checked against the memory available before a run starts;
* the cost curves: ``vr_distance`` and ``auryn_mse`` at the end of every cycle (SPEC §7);
* the progress bar, and :class:`RunResult`, what ``run()`` returns (:func:`concat_results` joins runs);
* :class:`RunShell`, the three together for one run: the one shell both engines use.

Nothing here changes a network's state; :mod:`superspike_ref.core` does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .error import auryn_mse_value, vr_distance_from_energy
from .memory import _short_int, check_memory

__all__ = ["RECORDABLE", "LAYER_KEYS", "CONNECTION_KEYS", "key_stage", "recording_bytes", "RunResult", "concat_results",
           "RunShell"]

LAYER_KEYS = ("U_tilde", "S", "I", "sigma_prime", "e")
"""Per-step traces of LIF layer ``l``, recorded as ``<name>_<l>`` ``(n_steps, n_l)``."""
CONNECTION_KEYS = ("z", "z_tilde", "lambda", "m", "W", "v")
"""Traces of connection ``k``, recorded as ``<name>_<k>`` (shapes in SPEC §9)."""
RECORDABLE = LAYER_KEYS + CONNECTION_KEYS
BLAS_THREADS = 1
"""Threads of the BLAS libraries while an engine runs (:class:`RunShell`)."""


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


class RunShell:
    """What one ``run()`` keeps around the state it advances: recorder, cost curves, progress bar (SPEC §7, §9).

    Both engines use it: :class:`~superspike_ref.network.LiteralEngine` one step at a time and
    :class:`~superspike_ref.fast.BatchFastEngine` one segment of ``n_networks`` networks at a
    time. Arrays it is given carry a network axis after the time axis, of length
    ``n_networks``, or 1 for what all networks share (the input layer's traces).

    It is a context manager: inside ``with RunShell(...) as shell:`` the BLAS libraries run
    one thread (:data:`BLAS_THREADS`, through ``threadpoolctl``), and on leaving it the
    progress bar closes and the caller's thread setting comes back. The engines' matrices are
    small (a few hundred rows): a second BLAS thread only waits for the other core, which made
    the fast engine three times slower on a two-core machine. The results do not depend on it.

    Parameters
    ----------
    name : str
        The engine's name, shown on the progress bar.
    layers : tuple of int
        Layer sizes, input first.
    params : Params
    record : tuple of str
        Names from :data:`RECORDABLE` (already checked).
    n_steps : int
        Steps of the run.
    n_networks : int
        Networks run side by side.
    progress : bool
        Show a tqdm bar with network 0's latest ``vr_distance``.
    """

    def __init__(self, name: str, layers: tuple, params, record: tuple, n_steps: int, n_networks: int = 1,
                 progress: bool = False) -> None:
        self.params, self.record, self.n_steps, self.n_out = params, record, n_steps, layers[-1]
        self.traces = _allocate_traces(layers, n_steps, record, params.n_batch, n_networks)
        self.copies = [{name: [[] for _ in layers[1:]] for name in ("W", "v") if name in record} for _ in range(n_networks)]
        self.shapes = [(n_post, n_pre) for n_pre, n_post in zip(layers[:-1], layers[1:])]
        self.curves = [dict(ends=[], vr=[], per_neuron=[], mse=[]) for _ in range(n_networks)]
        self.bar = _progress_bar(n_steps, progress, name)

    def __enter__(self) -> "RunShell":
        self._threads = threadpool_limits(BLAS_THREADS, user_api="blas")  # applied from here until __exit__
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()
        self._threads.__exit__(*exc)

    def wants(self, *names: str) -> bool:
        """Whether any of ``names`` is recorded."""
        return any(name in self.record for name in names)

    def write(self, i0: int, values: dict) -> None:
        """Record steps ``i0 .. i0 + T - 1`` of the run: ``values`` maps SPEC §9 keys to ``(T, n_networks or 1, ...)``.

        Keys that are not recorded are ignored.
        """
        for b, traces in enumerate(self.traces):
            for key, x in values.items():
                if key in traces:
                    traces[key][i0:i0 + len(x)] = x[:, 0 if x.shape[1] == 1 else b]

    def weights(self, weights, v, initial: bool = False) -> None:
        """Keep a copy of ``W_k`` and ``v_k``, arrays ``(n_networks, n_post, n_pre)`` per connection.

        Called with the initial weights (``initial``: ``v`` is not kept) and after every update.
        """
        for b, copies in enumerate(self.copies):
            for name, values in (("W", weights), ("v", v)):
                if name in copies and not (initial and name == "v"):
                    for k, x in enumerate(values):
                        copies[name][k].append(x[b].copy())

    def cycle_end(self, t_end_s: float, cycle_err2: np.ndarray, q_auryn: np.ndarray) -> None:
        """Add the cycle ending at ``t_end_s`` to every network's learning curves (SPEC §7).

        ``cycle_err2`` is the cycle's ``Σ_n e_i[n]²``, ``q_auryn`` the state of the running MSE,
        both ``(n_networks, n_out)``.
        """
        for curves, energy, q in zip(self.curves, cycle_err2, q_auryn):
            per_neuron = vr_distance_from_energy(energy, self.params, per_neuron=True)
            curves["ends"].append(t_end_s)
            curves["per_neuron"].append(per_neuron)
            curves["vr"].append(float(np.mean(per_neuron)))
            curves["mse"].append(auryn_mse_value(q, t_end_s, self.params))
        self.bar.set_postfix_str(f"vr_distance={self.curves[0]['vr'][-1]:.3f}", refresh=False)

    def advance(self, n_steps: int) -> None:
        """``n_steps`` more steps are done (the progress bar)."""
        self.bar.update(n_steps)

    def results(self, t_start_s: float) -> list:
        """One :class:`RunResult` per network."""
        return [RunResult(t_start_s=t_start_s, n_steps=self.n_steps, traces=self._traces(b),
                          cycle_end_s=np.array(c["ends"]), vr_distance=np.array(c["vr"]),
                          vr_distance_per_neuron=np.array(c["per_neuron"]).reshape(len(c["vr"]), self.n_out),
                          auryn_mse=np.array(c["mse"]))
                for b, c in enumerate(self.curves)]

    def _traces(self, b: int) -> dict:
        out = dict(self.traces[b])
        for name, per_conn in self.copies[b].items():
            for k, xs in enumerate(per_conn):
                out[f"{name}_{k}"] = np.stack(xs) if xs else np.zeros((0,) + self.shapes[k])
        return out


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
