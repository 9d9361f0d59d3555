r"""The van Rossum error signal and the cost measures (SPEC §3, §7; paper eq. 2.1, §3.3.3).

The loss is the van Rossum distance between target Ŝ and output S,

.. math::  L = \frac12\int dt\,\sum_i \big[(\alpha * (\hat S_i - S_i))(t)\big]^2,

and the error signal, the third factor of the rule, is :math:`e_i = \alpha * (\hat S_i - S_i)`.
In discrete time ``e = K(τ_rise, τ_decay)`` applied to the impulses ``Ŝ[n] - S[n]``.

Two cost measures are reported per cycle:

* :func:`vr_distance`: :math:`\frac{1}{n_{out}}\sum_i\sum_n e_i[n]^2 / \sum_n K[n]^2`, in
  "isolated unmatched spikes per output neuron" (one lone missing or extra spike counts 1);
* :func:`auryn_mse_value`: the original code's learning-curve number (SPEC §7), for
  comparison with its ``stats`` files (one unmatched spike per second per output ≈ 4).
"""
from __future__ import annotations

import math

import numpy as np

from .filters import double_exp, double_exp_step, kernel_energy_steps
from .params import Params
from .variants import SPEC_DISCRETISATION, Discretisation

__all__ = [
    "error_impulses",
    "error_step",
    "van_rossum_error",
    "vr_distance",
    "vr_distance_from_energy",
    "auryn_mse_step",
    "auryn_mse_value",
    "auryn_mse",
    "AURYN_MSE_TAU_S",
]

AURYN_MSE_TAU_S = 10.0
"""Time constant of the original code's moving average of the squared error (s)."""


def error_impulses(target, output) -> np.ndarray:
    """Impulses ``Ŝ[n] - S[n]`` (float, +1 per missing target spike, -1 per output spike)."""
    return np.asarray(target, dtype=float) - np.asarray(output, dtype=float)


def error_step(err_rise, e, impulses, params: Params, discretisation: Discretisation = SPEC_DISCRETISATION):
    r"""Advance the output error by one step: ``e = K(τ_rise, τ_decay)`` applied to the impulses (SPEC §3).

    .. math::  e_i = \alpha * (\hat S_i - S_i) \qquad\text{(paper eq. 2.1 and §3.3.3)}

    One step of :func:`van_rossum_error`, for an engine that learns online. With the
    ``auryn-error-kernel`` variant (``discretisation.euler_error_rise``) the first stage keeps
    ``keep_rise = 1 - dt/τ_rise`` of itself per step instead of ``decay_rise = exp(-dt/τ_rise)``:
    the original code's Euler follower divided by ``dt/τ_rise``, so that its error is exactly
    ``e_A = (dt/τ_rise) e`` (:mod:`superspike_ref.variants`).

    Parameters
    ----------
    err_rise, e : array ``(n_out,)``
        First (exponential, τ_rise) stage and error signal ``e`` after step ``n-1``.
    impulses : array ``(n_out,)``
        Impulses of step ``n``: ``Ŝ[n] - S[n]`` (:func:`error_impulses`) or a task's own (SPEC §6).
    params : Params
    discretisation : Discretisation
        SPEC (default) or the ``auryn-error-kernel`` variant.

    Returns
    -------
    err_rise, e : the stage and the error after step ``n`` (new arrays).
    """
    keep_rise, decay_rise = 1.0 - params.dt_s / params.tau_rise_s, params.decay(params.tau_rise_s)
    first_stage = keep_rise if discretisation.euler_error_rise else decay_rise
    return double_exp_step(err_rise, e, impulses, first_stage, params.dt_s / params.tau_decay_s)


def van_rossum_error(impulses, params: Params) -> np.ndarray:
    """Error signal ``e = K(τ_rise, τ_decay) * impulses`` along time (axis 0), zero initial state."""
    return double_exp(impulses, params.tau_rise_s, params.tau_decay_s, params.dt_s)


def vr_distance(e, params: Params, per_neuron: bool = False):
    """Van Rossum distance of a stretch of error signal ``e`` ``(n_steps, n_out)``.

    ``Σ_n e_i[n]² / Σ_n K[n]²`` per neuron, averaged over neurons unless ``per_neuron``.
    Units: isolated unmatched spikes (per output neuron).
    """
    return vr_distance_from_energy(np.sum(np.asarray(e, dtype=float) ** 2, axis=0), params, per_neuron)


def vr_distance_from_energy(error_energy, params: Params, per_neuron: bool = False):
    """Van Rossum distance from ``Σ_n e_i[n]²`` per neuron (see :func:`vr_distance`)."""
    per = np.asarray(error_energy, dtype=float) / kernel_energy_steps(params.tau_rise_s, params.tau_decay_s, params.dt_s)
    return per if per_neuron else float(np.mean(per))


def _auryn_scale(params: Params) -> float:
    """SPEC §7's ``scale`` (its ``a`` is ``tau_decay``, its ``b`` is ``tau_rise``)."""
    d, r = params.tau_decay_s, params.tau_rise_s
    return 1.0 / ((d * r / (d - r)) ** 2 * (d / 2 + r / 2 - 2 * d * r / (d + r))) / AURYN_MSE_TAU_S


def auryn_mse_step(q, e, params: Params):
    r"""One step of the original code's squared-error average (SPEC §7).

    With :math:`e_A = (\Delta t/\tau_{rise})\,e`:
    :math:`q_i \leftarrow q_i e^{-\Delta t/10\,s} + e_{A,i}^2\,\Delta t`.
    """
    e_auryn = params.dt_s / params.tau_rise_s * np.asarray(e, dtype=float)
    return q * math.exp(-params.dt_s / AURYN_MSE_TAU_S) + e_auryn**2 * params.dt_s


def auryn_mse_value(q, t_s: float, params: Params) -> float:
    """Reported value ``scale · mean_i(q_i) / (1 - exp(-t/10 s) + 1e-9)`` at time ``t_s``."""
    return float(_auryn_scale(params) * np.mean(q) / (1.0 - math.exp(-t_s / AURYN_MSE_TAU_S) + 1e-9))


def auryn_mse(e, params: Params) -> np.ndarray:
    """``auryn_mse`` after every step of an error signal ``e`` ``(n_steps, n_out)`` starting at t = 0.

    The value after step ``n`` is reported at ``t = (n + 1) dt``.
    """
    e = np.asarray(e, dtype=float)
    q = np.zeros(e.shape[1:])
    out = np.empty(e.shape[0])
    for n in range(e.shape[0]):
        q = auryn_mse_step(q, e[n], params)
        out[n] = auryn_mse_value(q, (n + 1) * params.dt_s, params)
    return out
