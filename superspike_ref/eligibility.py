r"""Presynaptic traces and eligibility traces (SPEC §3, paper §3.3.1-3.3.2, eq. 2.5).

SuperSpike's Hebbian term pairs a postsynaptic factor, the surrogate σ′(U_i), with a
presynaptic factor, the PSP trace :math:`\tilde z_j = \epsilon * S_j`, and filters the
product with the kernel α into the eligibility trace

.. math::  \lambda_{ij} = \alpha * \big[\sigma'(U_i)\,(\epsilon * S_j)\big].

Discrete form, with the arriving (delayed) spikes ``A_j``:

* ``z_j = exp_trace(A_j; τ_syn)``, ``z̃_j = follow(z_j; τ_mem)``: exactly ``∂Ũ_i/∂w_ij``
  of the free (reset-free) membrane, since ``I_i = Σ_j w_ij z_j`` and
  ``Ũ_i - u_rest = Σ_j w_ij z̃_j``;
* ``λ_ij = K(τ_rise, τ_decay)`` applied to ``σ′_i z̃_j`` (per synapse);
* the accumulator ``m_ij += e_i λ_ij (- ρ w_ij zh_i^a)``, the integral of eq. 2.5 (eq. 3.4 with
  the regulariser) summed over the steps of a batch (:func:`accumulate`).
"""
from __future__ import annotations

import numpy as np

from .filters import double_exp_step
from .params import Params
from .regulariser import regulariser_term

__all__ = ["psp_trace_step", "eligibility_step", "accumulate", "error_gate"]


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


def eligibility_step(elig_rise, elig, sigma_prime, z_tilde, params: Params):
    """Advance the eligibility traces of one connection by one step.

    Parameters
    ----------
    elig_rise, elig : array ``(n_post, n_pre)``
        First (exponential, τ_rise) and second (follower, τ_decay) stage after step ``n-1``;
        ``elig`` is λ.
    sigma_prime : array ``(n_post,)``
        Surrogate σ′ of the postsynaptic layer at step ``n``.
    z_tilde : array ``(n_pre,)``
        PSP trace of the presynaptic layer at step ``n``.

    Returns
    -------
    elig_rise, elig : the stages after step ``n``.
    """
    hebbian = np.multiply.outer(sigma_prime, z_tilde)
    return double_exp_step(elig_rise, elig, hebbian, params.decay(params.tau_rise_s), params.dt_s / params.tau_decay_s)


def accumulate(m, e, elig, params: Params, w=None, zh=None):
    r"""Add one step to the accumulator of one connection (SPEC §3 "Accumulator"; paper eqs 2.5, 3.4).

    .. math::  m_{ij} \leftarrow m_{ij} + e_i[n]\,\lambda_{ij}[n]
               - \rho\,w_{ij}\,zh_i[n]^a \qquad\text{(second term: hidden layers only)}

    Summed over the ``n_b`` steps of a batch, ``m`` is the integral of the rule, eq. 2.5
    (eq. 3.4 with the heterosynaptic regulariser), that the optimiser turns into a weight
    update (SPEC §4). Error and trace are paired at the same step ``n``.

    Parameters
    ----------
    m : array ``(n_post, n_pre)``
        Accumulator after step ``n-1``.
    e : array ``(n_post,)``
        Learning signal of the postsynaptic layer at step ``n`` (output error or hidden error).
    elig : array ``(n_post, n_pre)``
        Eligibility trace λ at step ``n`` (:func:`eligibility_step`).
    params : Params
        ``rho``, ``a`` and ``e_gate`` are used.
    w : array ``(n_post, n_pre)`` or None
        Weights of a connection into a *hidden* layer (before this step's update); ``None`` for
        the connection into the output layer, which has neither regulariser nor gate.
    zh : array ``(n_post,)`` or None
        Heterosynaptic trace of the hidden layer at step ``n``
        (:func:`~superspike_ref.regulariser.het_trace_step`); needed if ``w`` is given and ``ρ > 0``.

    Returns
    -------
    m : array ``(n_post, n_pre)``
        The accumulator after step ``n``, a new array (``m`` is not changed).

    Notes
    -----
    With ``params.e_gate > 0`` (the original code's error gate; default 0, SPEC §3 exactly),
    a hidden neuron ``i`` with ``|e_i[n]| < e_gate`` adds neither ``e_i λ_ij`` nor
    ``-ρ w_ij zh_i^a`` at this step. Its trace ``zh`` still advances (the caller's business).
    """
    hidden = w is not None
    gate = error_gate(e, params) if hidden else None
    m = m + (e if gate is None else np.where(gate, e, 0.0))[:, None] * elig
    if hidden and params.rho > 0:
        reg = regulariser_term(w, zh, params)
        m = m - (reg if gate is None else np.where(gate[:, None], reg, 0.0))
    return m


def error_gate(e, params: Params):
    """Where hidden neurons learn under the original code's error gate: ``|e_i| >= e_gate``, or None if it is off.

    With ``params.e_gate > 0`` a neuron of a hidden layer whose learning signal is below the
    gate adds nothing to its accumulator at that step (see :func:`accumulate`). ``e`` may have
    any shape (the fast engine passes a whole segment).
    """
    return np.abs(e) >= params.e_gate if params.e_gate > 0 else None
