r"""Weight updates at the end of every batch: RMaxProp, RMSprop, fixed rate (SPEC §4; paper §3.3.5-3.3.6).

The accumulator ``m_ij = Σ_n e_i[n] λ_ij[n]`` of a batch of ``n_b`` steps gives the
interval-mean gradient ``g = m / n_b``. RMaxProp (the paper's choice) keeps the largest
recent squared gradient

.. math::  v \leftarrow \max(\gamma v, g^2), \qquad
           w \leftarrow \mathrm{clip}\Big(w + r(t)\,\frac{g}{\sqrt{v} + \varepsilon},\ w_{min}, w_{max}\Big),

so that ``|Δw| ≤ r(t)``: the step size is bounded whatever the scale of ``g``.
RMSprop (``v ← γv + (1-γ)g²``) and a fixed rate (``w += r g``) are there for the paper's Fig 1.
``γ = exp(-t_batch/τ_rms)``.

The learning rate ``r(t)`` is ``r0`` times the factor of the last schedule entry
``(time_s, factor)`` with ``time_s ≤ t`` (1 before the first entry). During burn-in
(``t < t_burn_s``) ``v`` is updated but ``w`` is not.
"""
from __future__ import annotations

import numpy as np

from .params import Params

__all__ = ["OPTIMIZERS", "check_schedule", "learning_rate", "optimizer_step"]

OPTIMIZERS = ("rmaxprop", "rmsprop", "fixed")


def check_schedule(schedule) -> tuple:
    """Validate a schedule: a sequence of ``(time_s, factor)`` with increasing finite times."""
    entries = tuple((float(t), float(f)) for t, f in schedule)
    times = [t for t, _ in entries]
    if any(not np.isfinite(t) or not np.isfinite(f) or f < 0 for t, f in entries):
        raise ValueError(f"schedule entries must be finite (time_s, factor >= 0) pairs, got {entries}")
    if times != sorted(times):
        raise ValueError(f"schedule times must be in increasing order, got {times}")
    return entries


def learning_rate(t_s: float, r0: float, schedule) -> float:
    """``r(t) = r0 ×`` factor of the last entry with ``time_s ≤ t`` (non-cumulative)."""
    factor = 1.0
    for time_s, f in schedule:
        if time_s <= t_s:
            factor = f
    return r0 * factor


def optimizer_step(kind: str, w, m, v, n_batch: int, r_t: float, params: Params, frozen: bool = False):
    """One weight update from the accumulator ``m`` of a batch.

    Parameters
    ----------
    kind : ``"rmaxprop"``, ``"rmsprop"`` or ``"fixed"``
    w, m, v : arrays ``(n_post, n_pre)``
        Weights (V), accumulator, optimiser state (``v`` unused by ``"fixed"``).
    n_batch : int
        Steps in the batch, ``n_b``.
    r_t : float
        Learning rate ``r(t)`` (V), from :func:`learning_rate`.
    frozen : bool
        Burn-in: update ``v`` but leave ``w`` unchanged.

    Returns
    -------
    w, v : new weights and optimiser state (the caller resets ``m``).
    """
    g = m / n_batch
    if kind == "rmaxprop":
        v = np.maximum(params.gamma * v, g**2)
        step = r_t * g / (np.sqrt(v) + params.eps)
    elif kind == "rmsprop":
        v = params.gamma * v + (1.0 - params.gamma) * g**2
        step = r_t * g / (np.sqrt(v) + params.eps)
    elif kind == "fixed":
        step = r_t * g
    else:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {kind!r}")
    if not frozen:
        w = np.clip(w + step, params.w_min_V, params.w_max_V)
    return w, v
