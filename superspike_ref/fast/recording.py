"""What the fast engine gives the shared run shell: SPEC §9 traces and learning curves (SPEC §7) a segment at a time.

The per-synapse traces ``lambda`` and ``m`` are never formed per step, so they cannot be
recorded (:data:`NOT_RECORDABLE`); every other key of SPEC §9 can (:data:`FAST_RECORDABLE`).
"""
from __future__ import annotations

import math

import numpy as np

from ..error import AURYN_MSE_TAU_S
from ..network import RECORDABLE, _check_record
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


def segment_curves(p, n_cycle: int, n0: int, err: np.ndarray, shell, cycle_err2: np.ndarray, q_auryn: np.ndarray):
    """The learning curves (SPEC §7) of the cycles that end in the segment starting at step ``n0``, given to ``shell``.

    Equals :func:`~superspike_ref.error.auryn_mse_step` and the sum of ``e²`` of the literal
    engine, step by step, as sums over the segment's error ``err`` ``(T, n_networks, n_out)``
    (tested in ``tests/test_fast_stages.py``).
    ``cycle_err2`` (the error energy of the running cycle) and ``q_auryn`` (the running MSE
    trace), ``(n_networks, n_out)``, are the state before the segment; returns them after it.
    """
    T = len(err)
    err2 = err**2
    x_auryn = (p.dt_s / p.tau_rise_s * err) ** 2 * p.dt_s
    decay = math.exp(-p.dt_s / AURYN_MSE_TAU_S)
    first_end = (-(n0 + 1)) % n_cycle  # local index of the first step n with (n+1) % n_cycle == 0
    start = 0
    for stop in list(range(first_end, T, n_cycle)) + [None]:
        stop_excl = T if stop is None else stop + 1
        if stop_excl > start:
            cycle_err2 += np.sum(err2[start:stop_excl], axis=0)
            w = powers(decay, stop_excl - start)[::-1]
            q_auryn = decay ** (stop_excl - start) * q_auryn + np.tensordot(w, x_auryn[start:stop_excl], axes=(0, 0))
        if stop is not None:
            shell.cycle_end((n0 + stop + 1) * p.dt_s, cycle_err2, q_auryn)
            cycle_err2 = np.zeros_like(cycle_err2)
        start = stop_excl
    return cycle_err2, q_auryn


def segment_traces(u_tilde, spikes, currents, sigma_prime, errors, presynaptic) -> dict:
    """The segment's SPEC §9 traces by key, for :meth:`~superspike_ref.recording.RunShell.write`.

    Per LIF layer lists of ``(T, n_networks, n_l)`` arrays (``errors`` may be None, and so may
    the currents, when they are not recorded), and per connection ``(z, z_tilde)`` pairs
    ``(T, n_networks or 1, n_pre)`` (``presynaptic`` may be empty).
    """
    values = {}
    for name, per_layer in (("U_tilde", u_tilde), ("S", spikes), ("I", currents), ("sigma_prime", sigma_prime),
                            ("e", errors or ())):
        values.update({f"{name}_{l}": x for l, x in enumerate(per_layer, start=1) if x is not None})
    for k, (z, z_tilde) in enumerate(presynaptic):
        values.update({f"z_{k}": z, f"z_tilde_{k}": z_tilde})
    return values
