r"""Presynaptic traces and eligibility traces (SPEC §3, paper §3.3.1-3.3.2, eq. 2.5).

SuperSpike's Hebbian term pairs a postsynaptic factor, the surrogate σ′(U_i), with a
presynaptic factor, the PSP trace :math:`\tilde z_j = \epsilon * S_j`, and filters the
product with the kernel α into the eligibility trace

.. math::  \lambda_{ij} = \alpha * \big[\sigma'(U_i)\,(\epsilon * S_j)\big].

Discrete form, with the arriving (delayed) spikes ``A_j``:

* ``z_j = exp_trace(A_j; τ_syn)``, ``z̃_j = follow(z_j; τ_mem)``: exactly ``∂Ũ_i/∂w_ij``
  of the free (reset-free) membrane, since ``I_i = Σ_j w_ij z_j`` and
  ``Ũ_i - u_rest = Σ_j w_ij z̃_j``;
* ``λ_ij = K(τ_rise, τ_decay)`` applied to ``σ′_i z̃_j`` (per synapse).
"""
from __future__ import annotations

import numpy as np

from .filters import double_exp_step
from .params import Params

__all__ = ["psp_trace_step", "eligibility_step"]


def psp_trace_step(z, z_tilde, arriving, params: Params):
    """Advance the presynaptic traces by one step.

    Parameters
    ----------
    z, z_tilde : array ``(n_pre,)``
        Synaptic trace ``z`` (jumps by 1 per spike) and PSP trace ``z̃`` after step ``n-1``.
    arriving : bool array ``(n_pre,)``
        Spikes arriving at step ``n``.

    Returns
    -------
    z, z_tilde : the traces after step ``n``.
    """
    return double_exp_step(z, z_tilde, arriving, params.decay(params.tau_syn_s), params.dt_s / params.tau_mem_s)


def eligibility_step(rise, lam, sigma_prime, z_tilde, params: Params):
    """Advance the eligibility traces of one connection by one step.

    Parameters
    ----------
    rise, lam : array ``(n_post, n_pre)``
        First (exponential, τ_rise) and second (follower, τ_decay) stage after step ``n-1``;
        ``lam`` is λ.
    sigma_prime : array ``(n_post,)``
        Surrogate σ′ of the postsynaptic layer at step ``n``.
    z_tilde : array ``(n_pre,)``
        PSP trace of the presynaptic layer at step ``n``.

    Returns
    -------
    rise, lam : the stages after step ``n``.
    """
    hebbian = np.multiply.outer(sigma_prime, z_tilde)
    return double_exp_step(rise, lam, hebbian, params.decay(params.tau_rise_s), params.dt_s / params.tau_decay_s)
