r"""The surrogate derivative σ′ of the spike non-linearity (SPEC §3, paper §3.3.2, eq. 2.3).

A spike train has no useful derivative with respect to the membrane potential (zero
almost everywhere). SuperSpike replaces ``∂S/∂U`` by the derivative of a fast sigmoid
:math:`\sigma(x) = x/(1+|x|)` of :math:`h = \beta(U - \vartheta)`:

.. math::  \sigma'(U) = \frac{1}{(1 + \beta\,|U - \vartheta|)^2}

This is the reference (``"paper"``) convention: dimensionless, peak 1 at threshold,
1/121 at 10 mV below it for β = 1 mV⁻¹. The original C++ code (``"auryn"``) uses
:math:`\beta\,\sigma'` (peak 1000 V⁻¹) and sets it to 0 below -80 mV; both the factor
and the optional cut-off ``u_cut_V`` are available here.
"""
from __future__ import annotations

import numpy as np

__all__ = ["surrogate_grad", "surrogate_grad_auryn"]


def surrogate_grad(U_tilde_V, theta_V: float, beta_per_V: float, u_cut_V: float | None = None) -> np.ndarray:
    """Dimensionless σ′ (paper convention), 0 where ``U_tilde_V < u_cut_V`` (strict) if set.

    Parameters
    ----------
    U_tilde_V : array
        Membrane potential compared with the threshold (volts).
    theta_V : float
        Threshold ϑ (volts).
    beta_per_V : float
        Steepness β (1/V); the paper's 1 mV⁻¹ is 1e3.
    u_cut_V : float or None
        Optional cut-off potential (volts).
    """
    U = np.asarray(U_tilde_V, dtype=float)
    sigma_prime = 1.0 / (1.0 + beta_per_V * np.abs(U - theta_V)) ** 2
    if u_cut_V is not None:
        sigma_prime = np.where(U < u_cut_V, 0.0, sigma_prime)
    return sigma_prime


def surrogate_grad_auryn(U_tilde_V, theta_V: float, beta_per_V: float, u_cut_V: float | None = -80e-3) -> np.ndarray:
    """σ′ in the original code's convention: ``β · σ′`` (1/V), cut off below -80 mV by default."""
    return beta_per_V * surrogate_grad(U_tilde_V, theta_V, beta_per_V, u_cut_V)
