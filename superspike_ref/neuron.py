r"""Current-based leaky integrate-and-fire neuron (SPEC §2, paper §3.1 eqs 3.1-3.2).

Continuous model:

.. math::
    \tau_{mem}\frac{dU_i}{dt} = (U_{rest} - U_i) + I_i, \qquad
    \frac{dI_i}{dt} = -\frac{I_i}{\tau_{syn}} + \sum_j w_{ij} S_j(t - \Delta).

``I`` is in volts (weights are in volts): one presynaptic spike makes ``I`` jump by
``w_ij``, and the free membrane answers with the PSP ``w_ij ε(t)`` of peak ``0.25 w_ij``.

Discrete step ``n`` (SPEC §2), with ``A[n]`` the arriving (delayed) presynaptic spikes:

.. code-block:: text

    I[n] = exp(-dt/tau_syn) I[n-1] + W @ A[n]                              (a)
    Ũ[n] = u_rest if r[n-1] > 0 else U[n-1] + dt/tau_mem (u_rest - U[n-1] + I[n])   (b)
    S[n] = (r[n-1] == 0) and (Ũ[n] > theta)                                (c)
    U[n] = u_rest if S[n] else Ũ[n]                                        (d)
    r[n] = n_ref if S[n] else max(r[n-1] - 1, 0)                           (e)

``Ũ`` (``U_tilde``) is the potential compared with the threshold; the surrogate uses it.

Two SPEC variants (:mod:`superspike_ref.variants`) change this step when a candidate declares
them: ``exact-integration`` replaces (b) by :func:`membrane_update_exact`, ``threshold-ge``
the ``>`` of (c) by ``>=``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import Params
from .variants import SPEC_DISCRETISATION, Discretisation

__all__ = ["LIFState", "lif_initial_state", "lif_step", "current_step", "membrane_update", "membrane_update_exact",
           "potential_step", "spike_step", "reset_step"]


@dataclass(frozen=True)
class LIFState:
    """State of a layer after a step: current ``I_V``, potential ``U_V``, refractory steps left ``r``.

    Arrays have shape ``(n_neurons,)`` (or any leading batch shape).
    """

    I_V: np.ndarray
    U_V: np.ndarray
    r: np.ndarray


def lif_initial_state(n_neurons: int, params: Params) -> LIFState:
    """``I = 0``, ``U = u_rest``, ``r = 0`` (SPEC §2)."""
    return LIFState(
        I_V=np.zeros(n_neurons),
        U_V=np.full(n_neurons, params.u_rest_V),
        r=np.zeros(n_neurons, dtype=np.int64),
    )


def membrane_update(U_V, I_V, params: Params):
    """Forward-Euler membrane step of eq. (b): ``U + dt/tau_mem * (u_rest - U + I)``."""
    return U_V + params.dt_s / params.tau_mem_s * (params.u_rest_V - U_V + I_V)


def membrane_update_exact(U_V, I_V, params: Params):
    r"""Exact membrane step of the ``exact-integration`` variant, with the current held over the step.

    .. math::  \tilde U[n] = U_{rest} + (U[n-1] - U_{rest})\,d + I[n]\,(1 - d),
               \qquad d = \mathrm{decay\_mem} = e^{-\Delta t/\tau_{mem}},

    the solution at ``t + dt`` of :math:`\tau_{mem}\dot U = U_{rest} - U + I` with ``I = I[n]``
    (the current after this step's jump, eq. (a)) constant over the step. Forward Euler
    (:func:`membrane_update`) is its first-order expansion, ``d ≈ 1 - dt/τ_mem``.
    """
    decay_mem = params.decay(params.tau_mem_s)
    return params.u_rest_V + (U_V - params.u_rest_V) * decay_mem + I_V * (1.0 - decay_mem)


def lif_step(state: LIFState, drive_V, params: Params, discretisation: Discretisation = SPEC_DISCRETISATION):
    """Advance a layer by one step (SPEC §2 (a)-(e)).

    Parameters
    ----------
    state : LIFState
        State after step ``n-1``.
    drive_V : array ``(n_neurons,)``
        Synaptic input of this step, ``W @ A[n]`` (volts).
    params : Params
    discretisation : Discretisation
        SPEC (default) or the variants ``exact-integration`` (:func:`membrane_update_exact` for
        (b)) and ``threshold-ge`` (``Ũ >= θ`` in (c)).

    Returns
    -------
    new_state : LIFState
        State after step ``n``.
    U_tilde_V : array
        Potential compared with the threshold (``u_rest`` while refractory).
    S : bool array
        Spikes of step ``n``.
    """
    I_V = current_step(state.I_V, drive_V, params)
    U_tilde_V = potential_step(state.U_V, I_V, state.r, params, discretisation)
    S = spike_step(U_tilde_V, state.r, params, discretisation)
    U_V, r = reset_step(U_tilde_V, S, state.r, params)
    return LIFState(I_V=I_V, U_V=U_V, r=r), U_tilde_V, S


def current_step(I_V, drive_V, params: Params):
    """Eq. (a): ``I[n] = exp(-dt/tau_syn) I[n-1] + W @ A[n]``, with ``drive_V = W @ A[n]``."""
    return params.decay(params.tau_syn_s) * I_V + drive_V


def potential_step(U_V, I_V, r, params: Params, discretisation: Discretisation = SPEC_DISCRETISATION):
    """Eq. (b): ``Ũ[n] = u_rest`` where ``r[n-1] > 0``, else :func:`membrane_update` of ``U[n-1]`` and ``I[n]``.

    With the ``exact-integration`` variant, :func:`membrane_update_exact` instead.
    """
    membrane = membrane_update_exact if discretisation.exact_membrane else membrane_update
    return np.where(r > 0, params.u_rest_V, membrane(U_V, I_V, params))


def spike_step(U_tilde_V, r, params: Params, discretisation: Discretisation = SPEC_DISCRETISATION):
    """Eq. (c): ``S[n] = (r[n-1] == 0) and (Ũ[n] > theta)`` (strict; ``>=`` with the ``threshold-ge`` variant)."""
    crosses = np.greater_equal if discretisation.threshold_ge else np.greater
    return ~(r > 0) & crosses(U_tilde_V, params.theta_V)


def reset_step(U_tilde_V, S, r, params: Params):
    """Eqs. (d), (e): ``U[n] = u_rest if S[n] else Ũ[n]``; ``r[n] = n_ref if S[n] else max(r[n-1] - 1, 0)``.

    Returns ``(U_V, r)`` after step ``n``.
    """
    return np.where(S, params.u_rest_V, U_tilde_V), np.where(S, params.n_ref, np.maximum(r - 1, 0))
