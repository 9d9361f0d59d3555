"""What the fast engine records: SPEC §9 traces a segment at a time, and the learning curves (SPEC §7).

The per-synapse traces ``lambda`` and ``m`` are never formed per step, so they cannot be
recorded (:data:`NOT_RECORDABLE`); every other key of SPEC §9 can (:data:`FAST_RECORDABLE`).
"""
from __future__ import annotations

import math

import numpy as np

from ..error import AURYN_MSE_TAU_S, auryn_mse_value, vr_distance_from_energy
from ..network import RECORDABLE, _allocate_traces, _check_record
from .filters import powers

NOT_RECORDABLE = ("lambda", "m")
"""Per-synapse per-step traces the fast engine never forms."""
FAST_RECORDABLE = tuple(r for r in RECORDABLE if r not in NOT_RECORDABLE)


def _check_fast_record(record, networks) -> tuple:
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    refused = [r for r in record if r in NOT_RECORDABLE]
    if refused:
        raise ValueError(
            f"the fast engine cannot record {refused}: it never forms the per-synapse, per-step traces "
            f"'lambda' and 'm' (use LiteralEngine for them); recordable: {FAST_RECORDABLE}"
        )
    for net in networks:
        _check_record(record, net)
    return record


class _Curves:
    def __init__(self) -> None:
        self.ends, self.vr, self.vr_neuron, self.mse = [], [], [], []


def add_curves(p, n_cycle: int, n0: int, err: np.ndarray, curves: list, cycle_err2: np.ndarray, q_auryn: np.ndarray):
    """Per-cycle van Rossum distance and the original code's running MSE (SPEC §7), appended to ``curves``.

    ``cycle_err2`` (the error energy of the running cycle) and ``q_auryn`` (the running MSE
    trace), ``(B, n_out)``, are the state before the segment; returns them after it.
    """
    T = len(err)
    err2 = err**2
    x_auryn = (p.dt_s / p.tau_rise_s * err) ** 2 * p.dt_s
    decay = math.exp(-p.dt_s / AURYN_MSE_TAU_S)
    first_end = (-(n0 + 1)) % n_cycle  # local index of the first step n with (n+1) % n_cycle == 0
    bounds = list(range(first_end, T, n_cycle))
    start = 0
    for stop in bounds + [None]:
        stop_excl = T if stop is None else stop + 1
        if stop_excl > start:
            cycle_err2 += np.sum(err2[start:stop_excl], axis=0)
            w = powers(decay, stop_excl - start)[::-1]
            q_auryn = decay ** (stop_excl - start) * q_auryn + np.tensordot(w, x_auryn[start:stop_excl], axes=(0, 0))
        if stop is not None:
            t_end = (n0 + stop + 1) * p.dt_s
            for b, c in enumerate(curves):
                per_neuron = vr_distance_from_energy(cycle_err2[b], p, per_neuron=True)
                c.ends.append(t_end)
                c.vr_neuron.append(per_neuron)
                c.vr.append(float(np.mean(per_neuron)))
                c.mse.append(auryn_mse_value(q_auryn[b], t_end, p))
            cycle_err2 = np.zeros_like(cycle_err2)
        start = stop_excl
    return cycle_err2, q_auryn


class _Recording:
    """Per-network traces with SPEC §9 keys, filled a segment at a time."""

    def __init__(self, record: tuple, networks: list, n_steps: int) -> None:
        self.record = record
        sizes = networks[0].layers
        n_conn = len(sizes) - 1
        self.data = _allocate_traces(sizes, n_steps, record, networks[0].params.n_batch, len(networks))
        self.lists = [{name: [[] for _ in range(n_conn)] for name in ("W", "v") if name in record} for _ in networks]
        self.shapes = [(sizes[k + 1], sizes[k]) for k in range(n_conn)]

    def weights(self, W: list, v: list, initial: bool = False) -> None:
        for b, lists in enumerate(self.lists):
            for name, values in (("W", W), ("v", v)):
                if name in lists and not (initial and name == "v"):
                    for k, x in enumerate(values):
                        lists[name][k].append(x[b].copy())

    def segment(self, i0, T, u_tilde, spikes, currents, sigma_prime, errors, traces) -> None:
        if not any(self.data):
            return
        sl = slice(i0, i0 + T)
        for b, d in enumerate(self.data):
            for l in range(1, len(u_tilde) + 1):
                for name, values in (("U_tilde", u_tilde), ("S", spikes), ("I", currents), ("sigma_prime", sigma_prime), ("e", errors)):
                    if name in self.record:
                        d[f"{name}_{l}"][sl] = values[l - 1][:, b]
            for k, (z, z_tilde) in enumerate(traces):
                src = 0 if z.shape[1] == 1 else b
                for name, values in (("z", z), ("z_tilde", z_tilde)):
                    if name in self.record:
                        d[f"{name}_{k}"][sl] = values[:, src]

    def result(self, b: int) -> dict:
        out = dict(self.data[b])
        for name, per_conn in self.lists[b].items():
            for k, xs in enumerate(per_conn):
                out[f"{name}_{k}"] = np.stack(xs) if xs else np.zeros((0,) + self.shapes[k])
        return out
