r"""Precision tiers of the validation kit: the tolerance of every key for a float64 or a float32 candidate.

The ``float64`` tier is SPEC §9's tolerance, the same for every key:
``|cand - exp| <= rtol |exp| + atol_scale max|exp_k|`` with ``rtol = 1e-9``,
``atol_scale = 1e-10``. The ``float32`` tier gives each key ``k`` its own

.. math::  |c - x| \le c_k\,u\,\big(|x| + \max|x_k|\big), \qquad u = 2^{-24},

(``rtol = atol_scale = c_k u``), where :math:`c_k` bounds, to first order in :math:`u` and in
the worst case, how far float32 rounding can carry the key from the float64 reference,
relative to the key's scale :math:`\max|x_k|`. With the recursion lengths
:math:`N_\tau = \tau/\Delta t` (an exponential trace or a follower sums the rounding errors of
about :math:`N_\tau` steps, and a rounded coefficient :math:`e^{-\Delta t/\tau}` shifts its
gain by :math:`N_\tau u`), the fan-in :math:`n_{pre}` of a connection and the batch length
:math:`n_b`:

=================  ==================================================================================
key                :math:`c_k`
=================  ==================================================================================
``z``              :math:`N_{syn}`
``z_tilde``        :math:`c_z + N_{mem}`
``I``              :math:`c_w + c_z + n_{pre}` (the weights, the trace, a sum of :math:`n_{pre}` terms)
``U_tilde``        :math:`N_{mem} + c_I`
``sigma_prime``    :math:`2\beta\max(|u_{rest}|, |\vartheta|)\,c_U` (:math:`|\delta\sigma'| \le 2\beta|\delta\tilde U|\,\sigma'`)
``lambda``         :math:`c_{\sigma'} + c_{\tilde z} + N_{rise} + N_{decay}`
``e`` (output)     :math:`N_{rise} + N_{decay}`
``e`` (hidden)     :math:`c_{e,l+1} + n_{l+1} + c_B` (:math:`c_B` = 1, or :math:`c_W` of the forward weights for symmetric feedback)
``m``              :math:`c_e + c_\lambda + n_b` (:math:`+\,a N_{het}` with the regulariser)
``v``              :math:`2 c_m + 3`
``W``              :math:`1 + 2 n_{upd} + (2 c_m + 5)\,\sum_j \max|\Delta W_j| / \max|W|`
``dL_dW``          :math:`c_{\bar I,k+1} + T` (the reverse pass, :func:`float32_gradient_coefficients`)
=================  ==================================================================================

:math:`c_w` is the weights' error: 1 (stored in float32) before the first update; after update
``j`` the candidate's own weight error, measured, at least 1 and at most the loop-free
:math:`c_W` (:func:`float32_step_coefficients`), because the learning loop
(σ′ → λ → m → W → I) has a worst-case gain far above 1 and no useful a-priori bound.
Relative errors pass from one stage to the next with unit gain, except into σ′, which reads
the absolute error of ``Ũ`` (amplified by :math:`2\beta|\tilde U| \approx 120`). Spikes are
compared exactly in every tier. ``docs/validation.md`` ("Precision tiers") derives
each line and gives the table for the default parameters.
"""
from __future__ import annotations

import math

import numpy as np

from .recording import key_stage

__all__ = ["PRECISIONS", "UNIT_ROUNDOFF", "FLOAT64_RTOL", "FLOAT64_ATOL_SCALE", "check_tolerance_args",
           "float32_coefficients", "float32_step_coefficients", "float32_gradient_coefficients", "key_tolerances"]

PRECISIONS = ("float64", "float32")
"""The precision tiers of :func:`~superspike_ref.validation.validate`."""

UNIT_ROUNDOFF = {"float64": 2.0**-53, "float32": 2.0**-24}
"""Unit roundoff ``u`` of each tier's floating-point format (round to nearest)."""

FLOAT64_RTOL, FLOAT64_ATOL_SCALE = 1e-9, 1e-10
"""SPEC §9's tolerance: the float64 tier, the same for every key."""


def check_tolerance_args(precision, rtol, atol_scale, cli: bool = False) -> None:
    """Raise ``ValueError`` naming the argument unless ``precision`` is a tier and the overrides are numbers >= 0.

    ``rtol`` and ``atol_scale`` may be None (the tier's values). ``cli`` names the command-line
    options (``--precision``, ``--rtol``, ``--atol-scale``) instead of the keyword arguments.
    """
    names = ("--precision", "--rtol", "--atol-scale") if cli else ("precision", "rtol", "atol_scale")
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f"{names[0]} must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    for name, value in zip(names[1:], (rtol, atol_scale)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _weight_coefficient(c_m: float, weights: np.ndarray) -> float:
    r"""``c_W`` of a weight trace ``(n_upd + 1, n_post, n_pre)``: storage, one rounding per update, the steps.

    Each update adds one rounding of ``w + Δw`` (and one of the clipped value) and the error of
    the step ``r g / (√v + ε)``, at most :math:`(2 c_m + 5) u` relative to the step.
    """
    n_upd = weights.shape[0] - 1
    scale = float(np.max(np.abs(weights))) if weights.size else 0.0
    steps = float(np.sum(np.max(np.abs(np.diff(weights, axis=0)).reshape(n_upd, -1), axis=1))) if n_upd else 0.0
    return 1 + 2 * n_upd + ((2 * c_m + 5) * steps / scale if scale > 0 else 0.0)


def float32_coefficients(params, layers, feedback: str, weights: dict, weight_error=None) -> dict:
    r"""The float32 tier's :math:`c_k` of every SPEC §9 key of a network (module docstring).

    Parameters
    ----------
    params : Params
    layers : tuple of int
        Layer sizes, input first.
    feedback : ``"symmetric"``, ``"random"`` or ``"uniform"``
    weights : dict
        The reference's weight traces ``W_k`` ``(n_upd + 1, n_post, n_pre)``: the size of their
        updates enters :math:`c_W`.
    weight_error : dict or None
        :math:`c_w` of the weights the forward pass uses, per connection ``k`` (the ``1`` of
        :math:`c_I`): 1 (default) for weights as stored, more after updates
        (:func:`float32_step_coefficients`).

    Returns
    -------
    dict
        :math:`c_k` for every key ``z_k``, ``z_tilde_k``, ``lambda_k``, ``m_k``, ``v_k``, ``W_k``,
        ``I_l``, ``U_tilde_l``, ``sigma_prime_l``, ``e_l``.
    """
    p, L = params, len(layers) - 1
    N = {name: getattr(p, f"tau_{name}_s") / p.dt_s for name in ("syn", "mem", "rise", "decay", "het")}
    c_z = N["syn"]
    c_zt = c_z + N["mem"]
    c = {}
    for l in range(1, L + 1):
        c_I = (weight_error or {}).get(l - 1, 1.0) + c_z + layers[l - 1]
        c_U = N["mem"] + c_I
        c.update({f"z_{l - 1}": c_z, f"z_tilde_{l - 1}": c_zt, f"I_{l}": c_I, f"U_tilde_{l}": c_U,
                  f"sigma_prime_{l}": 2 * p.beta_per_V * max(abs(p.u_rest_V), abs(p.theta_V)) * c_U})
        c[f"lambda_{l - 1}"] = c[f"sigma_prime_{l}"] + c_zt + N["rise"] + N["decay"]
    c[f"e_{L}"] = N["rise"] + N["decay"]
    for k in range(L - 1, -1, -1):                     # from the output back: e_{k+1} needs W_{k+1} (symmetric)
        if k < L - 1:                                   # e_l = M^T e_next, a sum over n_next neurons
            if feedback == "symmetric":
                c[f"e_{k + 1}"] = c[f"e_{k + 2}"] + layers[k + 2] + c[f"W_{k + 1}"]
            else:
                c[f"e_{k + 1}"] = c[f"e_{L}"] + layers[L] + 1
        regulariser = p.a * N["het"] if p.rho > 0 and k < L - 1 else 0.0
        c[f"m_{k}"] = c[f"e_{k + 1}"] + c[f"lambda_{k}"] + p.n_batch + regulariser
        c[f"v_{k}"] = 2 * c[f"m_{k}"] + 3
        c[f"W_{k}"] = _weight_coefficient(c[f"m_{k}"], weights[f"W_{k}"])
    return c


def float32_gradient_coefficients(params, layers, coefficients: dict, window_steps: int) -> dict:
    r"""The float32 tier's :math:`c_k` of the gradient keys ``dL_dW_k`` of a window of ``window_steps`` steps.

    The reverse pass (:mod:`superspike_ref.bptt`) runs the forward pass's filters backwards, so its
    rounding errors add up like the forward's: the output's spike adjoint :math:`ar S_L = -K^T(\Delta t\,e)`
    has :math:`c_{ar S,L} = c_{e,L} + N_{rise} + N_{decay}`; a layer's current adjoint
    :math:`ar I_l` adds σ′ and the membrane and current recursions,
    :math:`c_{ar I,l} = c_{ar S,l} + c_{\sigma',l} + N_{mem} + N_{syn}`; the gradient sums
    :math:`ar I_l A^T` over the window, :math:`c = c_{ar I,k+1} + T`; and the spike adjoint of
    the layer below is :math:`W^T ar I`, a sum over :math:`n_l` neurons with stored weights,
    :math:`c_{ar S,l-1} = c_{ar I,l} + n_l + 1`. For the output layer this is ``m``'s
    coefficient with :math:`n_b` replaced by :math:`T` (the free gradient is :math:`-\Delta t\,m`).
    The variant does not change it (the reset and the gate only zero terms).

    Parameters
    ----------
    params : Params
    layers : tuple of int
    coefficients : dict
        :func:`float32_coefficients` at the initial weights (its ``e_L`` and ``sigma_prime_l``).
    window_steps : int
        ``T``.
    """
    N = {name: getattr(params, f"tau_{name}_s") / params.dt_s for name in ("syn", "mem", "rise", "decay")}
    L = len(layers) - 1
    c_spike, out = coefficients[f"e_{L}"] + N["rise"] + N["decay"], {}
    for l in range(L, 0, -1):
        c_current = c_spike + coefficients[f"sigma_prime_{l}"] + N["mem"] + N["syn"]
        out[f"dL_dW_{l - 1}"] = c_current + window_steps
        c_spike = c_current + layers[l] + 1
    return out


def _measured_weight_error(reference: np.ndarray, candidate, cap: float) -> np.ndarray:
    """``c_w`` after each update ``(n_upd + 1,)``: the candidate's weight error in units of ``u max|W|``, in ``[1, cap]``.

    1 throughout if the candidate has no usable weights (None); ``cap`` where it is not finite.
    """
    if candidate is None:
        return np.ones(reference.shape[0])
    scale = UNIT_ROUNDOFF["float32"] * max(float(np.max(np.abs(reference))), np.finfo(float).tiny)
    error = np.max(np.abs(np.asarray(candidate, dtype=float) - reference).reshape(reference.shape[0], -1), axis=1)
    return np.clip(np.where(np.isfinite(error), error / scale, cap), 1.0, cap)


def float32_step_coefficients(params, layers, feedback: str, weights: dict, candidate_weights: dict,
                              n_steps: int) -> dict:
    r"""The float32 tier's :math:`c_k` with the learning loop: per step for traces, largest for ``W`` and ``v``.

    The weights that batch ``j`` (steps ``j n_b .. (j+1) n_b - 1``) runs with carry the error of
    the candidate's own weights ``W_k[j]``, measured in units of :math:`u\max|W_k|`, at least 1
    (storage) and at most :math:`c_W` of the loop-free model: the forward keys of that batch get
    :func:`float32_coefficients` with this ``weight_error``. A bug visible before the first update
    is therefore held to the loop-free tolerance; ``W`` and ``v`` always are (so that the
    candidate's weights never widen their own tolerance).

    Parameters
    ----------
    params, layers, feedback, weights
        As for :func:`float32_coefficients`.
    candidate_weights : dict
        The candidate's ``W_k`` where usable (the reference's shape); a missing key counts as 1.
    n_steps : int

    Returns
    -------
    dict
        Per key a float, or an array ``(n_steps,)`` for a per-step trace whose :math:`c_k` changes
        after an update.
    """
    loop_free = float32_coefficients(params, layers, feedback, weights)
    L, n_upd = len(layers) - 1, weights["W_0"].shape[0] - 1
    measured = [_measured_weight_error(weights[f"W_{k}"], candidate_weights.get(f"W_{k}"), loop_free[f"W_{k}"])
                for k in range(L)]
    per_update = [float32_coefficients(params, layers, feedback, weights, {k: measured[k][j] for k in range(L)})
                  for j in range(n_upd + 1)]
    batch = np.minimum(np.arange(n_steps) // params.n_batch, n_upd)
    out = {}
    for key in loop_free:
        values = np.array([c[key] for c in per_update])
        if key_stage(key) in ("W", "v"):                # judged by the model alone, never by the candidate
            out[key] = loop_free[key]
        else:
            out[key] = float(values[0]) if np.all(values == values[0]) else values[batch]
    return out


def key_tolerances(keys, precision: str = "float64", rtol=None, atol_scale=None, coefficients=None) -> dict:
    """``(rtol, atol_scale)`` of every key of ``keys`` in a tier, with the overrides applied to every key.

    ``coefficients`` (:func:`float32_step_coefficients`; a value may be an array per step) are
    needed for the float32 tier unless both
    overrides are given (``ValueError`` otherwise); spike keys get ``(0, 0)`` there (they are
    compared exactly in every tier anyway).
    """
    check_tolerance_args(precision, rtol, atol_scale)
    if precision == "float32" and coefficients is None and (rtol is None or atol_scale is None):
        raise ValueError("the float32 tier's error model needs a SPEC §9 case (its parameters and layers); "
                         "for a golden-vector directory give both rtol and atol_scale")
    out = {}
    for key in keys:
        if precision == "float64":
            tier = (FLOAT64_RTOL, FLOAT64_ATOL_SCALE)
        elif coefficients is None:                     # float32 with both overrides
            tier = (rtol, atol_scale)
        else:
            tier = (0.0 if key_stage(key) == "S" else coefficients[key] * UNIT_ROUNDOFF["float32"],) * 2
        out[key] = (tier[0] if rtol is None else float(rtol), tier[1] if atol_scale is None else float(atol_scale))
    return out
