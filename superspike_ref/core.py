r"""The functional core: SuperSpike as one pure function of one time step (SPEC §2-§4).

:func:`step` advances a whole network by one step ``n``, calling one function of the derivation
modules per equation, in the paper's order:

====================  ==============================================  =====================================
stage                 function                                        SPEC, paper
====================  ==============================================  =====================================
delay                 :func:`delay_step`                              §2, ``A[n] = S_pre[n - n_d]``
PSP traces z, z̃       :func:`~superspike_ref.eligibility.psp_trace_step`   §3, ε * S_j in eq. 2.5
LIF                   :func:`~superspike_ref.neuron.lif_step`          §2 (a)-(e), eqs 3.1-3.2
surrogate σ′          :func:`~superspike_ref.surrogate.surrogate_grad` §3, eq. 2.3 (§3.3.2)
eligibility λ         :func:`~superspike_ref.eligibility.eligibility_step` §3, eq. 2.5
output error e        :func:`~superspike_ref.error.error_step`         §3, eq. 2.1 (§3.3.3)
feedback e_hid        :func:`~superspike_ref.feedback.hidden_errors`   §3, §3.3.4
het trace zh          :func:`~superspike_ref.regulariser.het_trace_step`   §3, eq. 3.5
accumulate m          :func:`~superspike_ref.eligibility.accumulate`   §3, eqs 2.5, 3.4
batch update          :func:`update_weights`                          §4, §3.3.5-3.3.6
====================  ==============================================  =====================================

The state is a tree of frozen records of arrays (:class:`NetworkState`); :func:`step` returns a
new one and never changes the arrays of the one it is given. It reads no task, clock or progress
bar: the engines (:class:`~superspike_ref.network.LiteralEngine`) feed it input rows and error
impulses, and record what it returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .eligibility import accumulate, eligibility_step, psp_trace_step
from .error import error_step
from .feedback import hidden_errors
from .neuron import lif_initial_state, lif_step
from .optimizers import learning_rate, optimizer_step
from .regulariser import het_trace_step
from .surrogate import surrogate_grad
from .variants import SPEC_DISCRETISATION, Discretisation

__all__ = ["SynapseState", "ErrorState", "NetworkState", "StepObservables", "initial_state", "delay_step", "step",
           "update_weights", "connection_update", "check_finite_state"]


@dataclass(frozen=True)
class SynapseState:
    """Traces of connection ``k`` (presynaptic layer ``k``, postsynaptic LIF layer ``k + 1``) after a step.

    Attributes
    ----------
    delay : bool array ``(n_d + 1, n_pre)``
        Ring buffer of the presynaptic spikes: slot ``m % (n_d + 1)`` holds ``S_pre[m]``.
    z, z_tilde : arrays ``(n_pre,)``
        Synaptic trace and PSP trace ``z̃ = ε * A``.
    elig_rise, elig : arrays ``(n_post, n_pre)``
        First stage and eligibility trace λ.
    """

    delay: np.ndarray
    z: np.ndarray
    z_tilde: np.ndarray
    elig_rise: np.ndarray
    elig: np.ndarray


@dataclass(frozen=True)
class ErrorState:
    """Output error after a step: first stage ``err_rise`` and error ``e``, arrays ``(n_out,)``."""

    err_rise: np.ndarray
    e: np.ndarray


@dataclass(frozen=True)
class NetworkState:
    """Everything that changes while a network runs, after step ``step_index - 1``.

    Attributes
    ----------
    step_index : int
        The next step ``n``.
    lif : tuple of LIFState
        One per LIF layer ``l = 1 .. L``.
    synapses : tuple of SynapseState
        One per connection ``k = 0 .. L-1``.
    zh : tuple of arrays ``(n_l,)``
        Heterosynaptic trace of each hidden layer (stays 0 unless ``ρ > 0``).
    error : ErrorState
    weights, m, v : tuples of arrays ``(n_post, n_pre)``
        Weights ``W_k``, accumulators of the current batch, optimiser states.
    """

    step_index: int
    lif: tuple
    synapses: tuple
    zh: tuple
    error: ErrorState
    weights: tuple
    m: tuple
    v: tuple


@dataclass(frozen=True)
class StepObservables:
    """What a step shows besides its new state: tuples with one array per LIF layer ``l = 1 .. L``.

    ``U_tilde`` (V), spikes ``S``, ``sigma_prime`` and the learning signals ``errors`` (hidden
    errors, then the output error); ``updated`` says whether the weights were updated at its end.
    """

    U_tilde: tuple
    S: tuple
    sigma_prime: tuple
    errors: tuple
    updated: bool


def initial_state(network) -> NetworkState:
    """The state before step 0 (SPEC §2, §3): rest, empty traces and buffers, the network's weights."""
    p, sizes = network.params, network.layers
    zeros = tuple(np.zeros_like(w) for w in network.weights)
    synapses = tuple(
        SynapseState(np.zeros((p.n_delay + 1, sizes[k]), dtype=bool), np.zeros(sizes[k]), np.zeros(sizes[k]),
                     np.zeros_like(w), np.zeros_like(w))
        for k, w in enumerate(network.weights)
    )
    return NetworkState(
        step_index=0,
        lif=tuple(lif_initial_state(n, p) for n in sizes[1:]),
        synapses=synapses,
        zh=tuple(np.zeros(n) for n in sizes[1:-1]),
        error=ErrorState(np.zeros(sizes[-1]), np.zeros(sizes[-1])),
        weights=tuple(w.copy() for w in network.weights),
        m=zeros,
        v=tuple(np.zeros_like(w) for w in network.weights),
    )


def delay_step(buffer: np.ndarray, spikes: np.ndarray, n: int):
    """Axonal delay of ``n_d = buffer.shape[0] - 1`` steps (SPEC §2): ``A[n] = S[n - n_d]``, 0 before ``n_d``.

    Parameters
    ----------
    buffer : bool array ``(n_d + 1, n_pre)``
        Ring buffer after step ``n - 1`` (slot ``m % (n_d + 1)`` holds ``S[m]``).
    spikes : bool array ``(n_pre,)``
        Presynaptic spikes ``S[n]``.
    n : int
        The step.

    Returns
    -------
    buffer : the new ring buffer (``buffer`` is not changed).
    arriving : bool array ``(n_pre,)``, ``A[n]``.
    """
    slots = buffer.shape[0]
    buffer = buffer.copy()
    buffer[n % slots] = spikes
    return buffer, buffer[(n - slots + 1) % slots]


def step(network, state: NetworkState, input_spikes, error_impulses: Callable,
         discretisation: Discretisation = SPEC_DISCRETISATION) -> tuple:
    """Advance ``network`` by one time step ``n = state.step_index`` (SPEC §2-§4; paper eqs 2.1-2.5, 3.1-3.5).

    Parameters
    ----------
    network : Network
        Parameters, feedback, optimiser, schedule (read only; the weights are in ``state``).
    state : NetworkState
        State after step ``n - 1``; its arrays are not changed.
    input_spikes : bool array ``(n_in,)``
        Spikes of the input layer at step ``n``.
    error_impulses : callable
        ``error_impulses(S_out) -> (n_out,)``: the error impulses of step ``n`` given the output
        spikes ``S_out`` of this step, e.g. ``lambda S_out: target[n] - S_out`` (SPEC §3) or a
        task's own (SPEC §6). A callable, because the impulses depend on spikes that only this
        step computes, and so the whole rule stays in one function, in the paper's order.
    discretisation : Discretisation
        SPEC's (default) or that of declared variants (:mod:`superspike_ref.variants`), passed to
        :func:`~superspike_ref.neuron.lif_step` and :func:`~superspike_ref.error.error_step`.

    Returns
    -------
    state : NetworkState
        The state after step ``n``.
    observables : StepObservables

    Raises
    ------
    FloatingPointError
        At a weight update where ``m``, ``v`` or ``W`` is not finite (:func:`check_finite_state`).
    """
    p, n, n_conn = network.params, state.step_index, network.n_connections
    lif, synapses, U_tilde, S, sigma_prime, pre = [], [], [], [], [], input_spikes
    for k, (syn, w) in enumerate(zip(state.synapses, state.weights)):
        delay, arriving = delay_step(syn.delay, pre, n)                                   # §2: A[n] = S_pre[n - n_d]
        z, z_tilde = psp_trace_step(syn.z, syn.z_tilde, arriving, p)                      # §3: z̃ = ε * A (eq. 2.5)
        neuron, u_tilde, spikes = lif_step(state.lif[k], w @ arriving, p, discretisation)  # §2 (a)-(e): eqs 3.1-3.2
        sigma_prime.append(surrogate_grad(u_tilde, p.theta_V, p.beta_per_V, p.u_cut_V))  # §3: σ′(Ũ), eq. 2.3
        elig_rise, elig = eligibility_step(syn.elig_rise, syn.elig, sigma_prime[-1], z_tilde, p)  # §3: λ = α * (σ′ z̃), eq. 2.5
        lif.append(neuron)
        synapses.append(SynapseState(delay, z, z_tilde, elig_rise, elig))
        U_tilde.append(u_tilde)
        S.append(spikes)
        pre = spikes                                                                      # feeds the next layer
    impulses = error_impulses(S[-1])                                                      # §3: Ŝ - S (or the task's)
    err_rise, e_out = error_step(state.error.err_rise, state.error.e, impulses, p, discretisation)  # §3: e = α * (Ŝ - S), eq. 2.1
    errors = hidden_errors(e_out, state.weights, network.feedback, network.feedback_matrices) + [e_out]  # §3: Bᵀe, §3.3.4
    zh = tuple(het_trace_step(h, S[k], p) if p.rho > 0 else h for k, h in enumerate(state.zh))  # §3: zh, eq. 3.5
    hidden = [(state.weights[k], zh[k]) for k in range(n_conn - 1)] + [(None, None)]  # w, zh into hidden layers
    m = tuple(accumulate(state.m[k], errors[k], synapses[k].elig, p, *hidden[k]) for k in range(n_conn))  # §3: eq. 3.4
    weights, v, updated = state.weights, state.v, (n + 1) % p.n_batch == 0
    if updated:                                                                            # §4: end of a batch
        weights, m, v = update_weights(network, weights, m, v, n)                         # §4: eq. 3.3, RMaxProp
    new = NetworkState(n + 1, tuple(lif), tuple(synapses), zh, ErrorState(err_rise, e_out), weights, m, v)
    return new, StepObservables(tuple(U_tilde), tuple(S), tuple(sigma_prime), tuple(errors), updated)


def update_weights(network, weights, m, v, n: int) -> tuple:
    """The weight update at the end of step ``n``, the last of a batch (SPEC §4; paper §3.3.5-3.3.6).

    Every plastic connection gets ``optimizer_step`` with ``g = m / n_b`` and the rate ``r(t)``
    at ``t = n dt`` (weights frozen during burn-in, ``t < t_burn_s``: :func:`connection_update`);
    then every connection is checked (:func:`check_finite_state`) and its accumulator starts
    again from 0.

    Parameters
    ----------
    network : Network
    weights, m, v : sequences of arrays ``(n_post, n_pre)``, one per connection (not changed).
    n : int

    Returns
    -------
    weights, m, v : tuples of new arrays (``m`` all zeros).
    """
    weights, v = list(weights), list(v)
    for k in range(network.n_connections):
        weights[k], v[k] = connection_update(network, k, weights[k], m[k], v[k], n)
        check_finite_state(n, k, (("m", m[k]), ("v", v[k]), ("W", weights[k])))  # a NaN would never go away
    return tuple(weights), tuple(np.zeros_like(x) for x in m), tuple(v)


def connection_update(network, k: int, w, m, v, n: int) -> tuple:
    r"""The update of connection ``k`` at the end of step ``n`` (SPEC §4), without the finiteness check.

    .. math::  g = m / n_b, \qquad (w, v) \leftarrow \mathrm{optimizer\_step}(w, g, v; r(t)),\ t = n\,\Delta t

    with ``w`` unchanged during burn-in (``t < t_burn_s``, ``v`` still updated) and for a connection
    that is not plastic (then ``v`` is unchanged too).

    Parameters
    ----------
    network : Network
    k : int
        Connection.
    w, m, v : arrays ``(n_post, n_pre)``
        Weights before the update, accumulator of the batch, optimiser state before the update.
    n : int
        The step at whose end the update happens.

    Returns
    -------
    w, v : arrays ``(n_post, n_pre)``, the new weights and optimiser state (the arguments are not changed).
    """
    if not network.plastic[k]:
        return w, v
    p = network.params
    t_s = n * p.dt_s
    return optimizer_step(network.optimizer, w, m, v, p.n_batch, learning_rate(t_s, p.r0, network.schedule), p,
                          frozen=t_s < network.t_burn_s)


def check_finite_state(n: int, k: int, quantities) -> None:
    """Raise ``FloatingPointError`` if a quantity of connection ``k`` is not finite at the update after step ``n``.

    :func:`update_weights` (both engines' update) calls it at every weight update (end of a batch,
    SPEC §4) for every connection, with the accumulator ``m`` of the batch and the new ``v`` and ``W``. A NaN or infinity in a
    trace (``λ``, its rise stage, ``σ′``, ``z̃``) or an error ends up in ``m``, which adds
    ``e_i λ_ij`` at every step (``NaN × 0`` is NaN), and it would never go away again; one check
    per batch and connection costs three passes over ``(n_post, n_pre)`` arrays.

    Parameters
    ----------
    n : int
        Step at whose end the update happens.
    k : int
        Connection.
    quantities : sequence of ``(name, array)``
        Checked in this order; arrays ``(n_post, n_pre)``.
    """
    for name, x in quantities:
        if not np.isfinite(x).all():
            i, j = (int(i) for i in np.argwhere(~np.isfinite(x))[0])
            raise FloatingPointError(
                f"connection k={k}: {name}[{i}, {j}] = {float(x[i, j])!r} is not finite at the weight "
                f"update after step n={n}; stopping (check the parameters, the initial weights and the task)"
            )
