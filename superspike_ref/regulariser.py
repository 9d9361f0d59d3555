r"""Heterosynaptic regulariser of hidden weights (SPEC §3; paper §3.3.7, eqs 3.4-3.5, Appendix A).

With random feedback hidden units tend to fire too much. The paper adds an
activity-dependent weight decay inside the integral of the rule:

.. math::  \frac{\partial w_{ij}}{\partial t} = r_{ij}\int \big[e_i\lambda_{ij} - \rho\,w_{ij}\,z_i^a\big]\,ds,
           \qquad \frac{dz_i}{dt} = -\frac{z_i}{\tau_{het}} + S_i(t)

``z_i`` (``zh``) counts the hidden neuron's own recent spikes (no delay); its activity
``ζ_i = z_i^a`` (eq. 3.5) grows as the rate to the power ``a`` (Appendix A.4), so the term
mostly acts on busy neurons.
"""
from __future__ import annotations

import numpy as np

from .filters import exp_trace_step
from .params import Params

__all__ = ["het_trace_step", "het_activity", "weight_decay", "regulariser_term"]


def het_trace_step(zh, spikes, params: Params):
    """``zh[n] = exp(-dt/τ_het) zh[n-1] + S[n]`` for the postsynaptic neurons' own spikes."""
    return exp_trace_step(zh, spikes, params.decay(params.tau_het_s))


def het_activity(zh, params: Params) -> np.ndarray:
    """The activity ``ζ_i = zh_i^a`` of eq. 3.5 (any shape)."""
    return zh**params.a


def weight_decay(w, zeta, params: Params) -> np.ndarray:
    """``ρ w_ij ζ_i`` for weights ``w`` ``(..., n_post, n_pre)`` and activities ``ζ`` ``(..., n_post)``.

    ``ζ`` may be a sum of activities over several steps: the fast engine subtracts
    ``ρ w_ij Σ_n ζ_i[n]`` once per segment of constant weights.
    """
    return params.rho * w * zeta[..., :, None]


def regulariser_term(w, zh, params: Params) -> np.ndarray:
    """``ρ w_ij zh_i^a`` ``(n_post, n_pre)``, subtracted from the accumulator every step."""
    return weight_decay(w, het_activity(zh, params), params)
