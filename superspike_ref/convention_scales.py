r"""The scale conventions of SuperSpike implementations and their exact factors (SPEC §5).

What converts one number: the factor of each quantity in each convention (value in the
convention = factor × paper value), the regulariser strength ``rho`` in each convention, and
the exact re-mapping of the original code's error filter. The relations, and which are exact,
are tabulated in :mod:`superspike_ref.conventions`, which converts whole trace dictionaries
and from which every name here is importable.
"""
from __future__ import annotations

import math

import numpy as np

from .filters import exp_trace, follow, kernel_impulse_response
from .params import Params

__all__ = [
    "CONVENTIONS",
    "check_convention",
    "potential_factor",
    "weight_factor",
    "sigma_prime_factor",
    "eligibility_factor",
    "kernel_peak_discrete",
    "error_factor",
    "gradient_factor",
    "rho_to",
    "rho_from",
    "error_to_auryn",
    "error_from_auryn",
    "auryn_equivalent_rise_s",
    "auryn_error_factor_accuracy",
]

CONVENTIONS = ("paper", "auryn", "genn")
"""Known conventions: the reference, the original C++ code, GeNN's units and scales."""


def check_convention(convention) -> str:
    """Return ``convention`` if it is one of :data:`CONVENTIONS`, else raise ``ValueError``."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention


# ----------------------------------------------------------------------------------------
# scale factors (value in the convention = factor × paper value)
# ----------------------------------------------------------------------------------------

def potential_factor(convention: str) -> float:
    """Factor of ``U_tilde`` and ``I``: 1 (V) for paper and auryn, 1000 (mV) for genn."""
    return 1e3 if check_convention(convention) == "genn" else 1.0


def weight_factor(convention: str) -> float:
    """Factor of the weights ``W``: 1 (V) for paper and auryn, 1000 (mV) for genn."""
    return potential_factor(convention)


def sigma_prime_factor(convention: str, params: Params) -> float:
    r"""Factor of σ′: 1 (paper, dimensionless), β (auryn and genn, 1/V). Exact.

    Both the original code and GeNN compute :math:`\beta/(1 + \beta|U - \vartheta|)^2`
    (GeNN with U in mV and steepness 0.001·β per mV: the same number).
    """
    return 1.0 if check_convention(convention) == "paper" else params.beta_per_V


def eligibility_factor(convention: str, params: Params) -> float:
    r"""Factor of λ: 1 (paper), β (auryn), β·dt[ms] (genn). Exact for the scale.

    λ is linear in σ′; the original code's two stages are SPEC's (docs/conventions.md §4).
    GeNN's first stage adds ``σ′ z̃ · dt`` with dt in ms, hence the extra ``dt_ms``.
    """
    name = check_convention(convention)
    if name == "paper":
        return 1.0
    if name == "auryn":
        return params.beta_per_V
    return params.beta_per_V * params.dt_s * 1e3


def kernel_peak_discrete(params: Params) -> float:
    """``max_n K[n]`` of the discrete error kernel ``K(τ_rise, τ_decay)`` (0.2533 with the defaults)."""
    n_steps = int(math.ceil(20 * max(params.tau_rise_s, params.tau_decay_s) / params.dt_s))
    return float(kernel_impulse_response(n_steps, params.tau_rise_s, params.tau_decay_s, params.dt_s).max())


def error_factor(convention: str, params: Params, hops: int = 0) -> float:
    """Factor of the error ``e`` of a layer ``hops`` symmetric-feedback steps below the output.

    paper: 1. genn: ``1000**hops / K_peak`` (exact; ``hops > 0`` only with symmetric feedback,
    whose feedback matrices are the weights in mV). auryn: ``dt/τ_rise``, SPEC §5's
    factor-only form, which is **approximate** (see :func:`auryn_error_factor_accuracy`;
    the exact relation is :func:`error_to_auryn`).
    """
    name = check_convention(convention)
    if name == "paper":
        return 1.0
    if name == "auryn":
        return params.dt_s / params.tau_rise_s
    return weight_factor("genn") ** hops / kernel_peak_discrete(params)


def gradient_factor(convention: str, params: Params, hops: int = 0) -> float:
    """Factor of ``m``, ``g`` (``eligibility_factor × error_factor``); ``v`` scales with its square.

    Exact for genn; for auryn the factor-only form ``β dt/τ_rise`` (20), approximate like the error.
    """
    return eligibility_factor(convention, params) * error_factor(convention, params, hops)


def rho_to(convention: str, rho: float, params: Params, hops: int = 0) -> float:
    r"""Regulariser strength in ``convention`` that gives the same learning as ``rho`` in the paper's.

    The term ``ρ w zhᵃ`` is subtracted from ``m``, so it must scale like ``m``:
    ``ρ_A = ρ β dt/τ_rise`` (SPEC §5; ``ρ_A = 1 ⇔ ρ = 0.05``) and, with weights in mV,
    ``ρ_genn = ρ k_l / 1000`` with ``k_l`` = :func:`gradient_factor`. Exact: the auryn accumulator
    with ``ρ_A`` is exactly ``βc (m - C)`` (:mod:`superspike_ref.conventions`).
    """
    return rho * gradient_factor(convention, params, hops) / weight_factor(convention)


def rho_from(convention: str, rho_conv: float, params: Params, hops: int = 0) -> float:
    """Inverse of :func:`rho_to`."""
    return rho_conv * weight_factor(convention) / gradient_factor(convention, params, hops)


# ----------------------------------------------------------------------------------------
# the original code's error: exact filter re-mapping
# ----------------------------------------------------------------------------------------

def _shift(x: np.ndarray) -> np.ndarray:
    """``x[n-1]`` along axis 0, with 0 before the first step."""
    out = np.zeros_like(x)
    out[1:] = x[:-1]
    return out


def error_to_auryn(e, params: Params) -> np.ndarray:
    r"""Original code's error ``e_A`` from the reference error ``e`` (exact, zero initial state).

    .. code-block:: text

        e_A[n] = (1 - c) e_A[n-1] + c (e[n] - decay_rise e[n-1]),   c = dt/τ_rise, decay_rise = exp(-dt/τ_rise)

    Proof: ``e = follow(u; τ_d)`` with ``u = exp_trace(x; τ_r)``, so ``x[n] = u[n] - decay_rise u[n-1]``;
    the code's first stage is ``follow(x; τ_r)``, and the common second stage commutes with
    both linear maps. Works on any time-major array ``(n_steps, ...)``.
    """
    e = np.asarray(e, dtype=float)
    decay_rise = math.exp(-params.dt_s / params.tau_rise_s)
    return follow(e - decay_rise * _shift(e), params.tau_rise_s, params.dt_s)


def error_from_auryn(e_auryn, params: Params) -> np.ndarray:
    r"""Reference error ``e`` from the original code's ``e_A`` (exact inverse of :func:`error_to_auryn`).

    .. code-block:: text

        e[n] = decay_rise e[n-1] + (e_A[n] - (1 - c) e_A[n-1]) / c
    """
    e_auryn = np.asarray(e_auryn, dtype=float)
    c = params.dt_s / params.tau_rise_s
    return exp_trace((e_auryn - (1.0 - c) * _shift(e_auryn)) / c, params.tau_rise_s, params.dt_s)


def auryn_equivalent_rise_s(params: Params) -> float:
    """``τ*_rise = -dt / ln(1 - dt/τ_rise)``: ``e_A = (dt/τ_rise) · K(τ*_rise, τ_decay) ∗ (Ŝ - S)`` exactly."""
    return -params.dt_s / math.log(1.0 - params.dt_s / params.tau_rise_s)


def auryn_error_factor_accuracy(params: Params) -> dict:
    """How far SPEC §5's factor-only form ``e_A ≈ (dt/τ_rise) e`` is from exact, for one impulse.

    Returns ``max_deviation_of_peak`` (``max|e_A - c e| / max e_A``, 0.0082 with the defaults) and
    ``area_ratio`` (``Σ c e / Σ e_A = c / (1 - decay_rise)``, 1.0100 ≈ 1 + c/2).
    """
    n_steps = int(math.ceil(40 * max(params.tau_rise_s, params.tau_decay_s) / params.dt_s))
    e = kernel_impulse_response(n_steps, params.tau_rise_s, params.tau_decay_s, params.dt_s)[:, None]
    c = params.dt_s / params.tau_rise_s
    e_auryn = error_to_auryn(e, params)
    return {
        "max_deviation_of_peak": float(np.abs(e_auryn - c * e).max() / e_auryn.max()),
        "area_ratio": float((c * e).sum() / e_auryn.sum()),
    }
