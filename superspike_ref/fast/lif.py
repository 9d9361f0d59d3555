r"""The LIF layer over a segment: threshold, reset and refractoriness (SPEC §2 (b)-(e)).

Between two spikes the membrane is a linear filter of the current. With ``V = U - u_rest``
and ``k = dt/τ_mem``, SPEC §2 (b) reads

.. math::  V[n] = (1 - k)\,V[n-1] + k\,I[n],

so the *free* trajectory ``F`` of a whole segment (no threshold, from the state before it)
is one blocked filter of the currents (:func:`.filters.first_order`). A spike at step
``t*`` clamps the neuron to ``U = u_rest`` for the ``n_ref`` steps after it (its current is
ignored), and it starts again from ``V[r] = 0`` at ``r = t* + n_ref``; by linearity, for
``t > r``

.. math::  V[t] = F[t] - (1 - k)^{\,t - r}\,F[r].

:func:`_event_scan` finds the spikes in rounds: each round looks, for every neuron still in
play, for its first threshold crossing ``u_rest + V[t] > θ`` after its last restart (one
vectorised pass over the segment). A neuron fires at most once every ``n_ref + 1`` steps,
so a segment takes at most ``T / (n_ref + 1) + 1`` rounds, and the cost no longer grows with
the number of steps times the Python overhead of a step. It applies for ``n_ref >= 1`` and
``u_rest <= θ`` (every parameter set of the paper, :func:`_fast_path`); :func:`_general_steps`
is the step-by-step loop for any parameters.

``Ũ = u_rest + V`` is the literal engine's ``U + k (u_rest - U + I)``
(:func:`~superspike_ref.neuron.potential_step`) computed in another order: the two differ by
rounding, as the currents do already (blocked filters), and the spikes are identical (tested
against the literal engine).
"""
from __future__ import annotations

import numpy as np

from .filters import end_state, first_order, kernel_filter, powers

_NEVER = -(2**62)  # "last spike" of a neuron that has not spiked yet


def _fast_path(p) -> bool:
    """Parameters for which :func:`_event_scan` applies."""
    return p.n_ref >= 1 and p.u_rest_V <= p.theta_V


def _event_scan(F: np.ndarray, last: np.ndarray, n0: int, p):
    """``(Ũ, S, U_end, last_end)`` of neurons ``(T, N)`` over steps ``n0 .. n0+T-1`` (see the module docstring).

    ``F`` is the free trajectory of ``V = U - u_rest`` from the state before the segment, and
    ``last`` ``(N,)`` the step of each neuron's last spike before it. ``Ũ`` starts as the free trajectory; the refractory steps after
    every spike, and the piece after every restart, are written over it.
    """
    T, N = F.shape
    k, u_rest, n_ref = p.dt_s / p.tau_mem_s, p.u_rest_V, p.n_ref
    decay_pow = powers(1.0 - k, T + 1)
    U_tilde, S = u_rest + F, np.zeros((T, N), dtype=bool)
    restart = last + n_ref - n0                      # the last refractory step (local); < 0: none
    held = np.flatnonzero(restart >= 0)              # refractory at the start of the segment
    _hold(U_tilde, held, restart[held] - n_ref, n_ref, u_rest)
    free = np.flatnonzero(restart < 0)
    who, when = _first_crossings(U_tilde[:, free] > p.theta_V, free, 0)   # round 1: the free trajectories
    fired = [(who, when)]
    play = np.concatenate([_fire(U_tilde, S, restart, who, when, n_ref, u_rest), held[restart[held] < T - 1]])
    while play.size:                                 # further rounds: the next spike after each restart
        r = restart[play]
        t0 = int(r.min()) + 1
        t = np.arange(t0, T)[:, None]
        piece = u_rest + (F[t0:, play] - decay_pow[t - np.minimum(r, t)] * F[r, play])
        U_tilde[t0:, play] = np.where(t > r, piece, U_tilde[t0:, play])
        who, when = _first_crossings((piece > p.theta_V) & (t > r), play, t0)
        fired.append((who, when))
        play = _fire(U_tilde, S, restart, who, when, n_ref, u_rest)
    last_end = last.copy()
    for who, when in fired:                          # rounds in time order: the last spike wins
        last_end[who] = n0 + when
    return U_tilde, S, np.where(S[-1], u_rest, U_tilde[-1]), last_end


def _first_crossings(crossed: np.ndarray, play: np.ndarray, t0: int) -> tuple:
    """The neurons of ``play`` with a crossing (a True in their column of ``crossed``, whose row 0 is step ``t0``) and its first step."""
    first = crossed.argmax(axis=0)
    fires = crossed[first, np.arange(play.size)]
    return play[fires], t0 + first[fires]


def _fire(U_tilde, S, restart, who, when, n_ref: int, u_rest: float) -> np.ndarray:
    """Record spikes of neurons ``who`` at steps ``when``; return those that restart inside the segment."""
    S[when, who] = True
    _hold(U_tilde, who, when, n_ref, u_rest)
    restart[who] = when + n_ref
    return who[restart[who] < len(S) - 1]


def _hold(U_tilde, who, when, n_ref: int, u_rest: float) -> None:
    """``Ũ = u_rest`` in the ``n_ref`` steps after a spike at ``when`` of each neuron ``who`` (refractory)."""
    steps = when[:, None] + np.arange(1, n_ref + 1)
    inside = (steps >= 0) & (steps < len(U_tilde))
    U_tilde[steps[inside], np.broadcast_to(who[:, None], steps.shape)[inside]] = u_rest


def _general_steps(U_rows, I_rows, S_rows, last, n, p, state) -> None:
    """SPEC §2 (b)-(e) step by step, for any parameters (``n_ref == 0`` or ``u_rest > theta``)."""
    u_rest, theta, k_mem, n_ref = p.u_rest_V, p.theta_V, p.dt_s / p.tau_mem_s, p.n_ref
    U, refractory, active, tmp = state["U"], state["refractory"], state["active"], state["tmp"]
    for cur, s, current in zip(U_rows[1:], S_rows, I_rows):
        np.subtract(u_rest, U, tmp)
        np.add(tmp, current, tmp)
        np.multiply(tmp, k_mem, tmp)
        np.add(tmp, U, cur)
        np.copyto(cur, u_rest, where=refractory)
        np.greater(cur, theta, s)
        np.logical_and(s, active, out=s)
        np.copyto(U, cur)
        np.copyto(U, u_rest, where=s)
        np.copyto(last, n, where=s)
        n += 1
        np.less(last, n - n_ref, active)
        np.logical_not(active, out=refractory)


def lif(p, k: int, U: list, I_end: list, last_spike: list, drive: np.ndarray, n0: int, need_currents: bool = True):
    """Currents, threshold, reset and refractoriness of LIF layer ``k + 1`` (list index ``k``) over a segment.

    ``drive`` ``(T, n_net, n)`` is ``W @ A[n]`` of every step. Returns ``Ũ``, ``S`` and the
    currents ``I`` (SPEC §2 (a); None unless ``need_currents``), ``(T, n_net, n)``. The
    per-layer state lists ``U``, ``I_end`` and ``last_spike`` hold the state before the segment
    and receive the state after it. On the fast path the free membrane trajectory is one
    two-stage filter of the drive (current, then membrane: :func:`.filters.kernel_filter`).
    """
    T, n_net, n = drive.shape
    decay_syn, k_mem = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
    I = first_order(drive, decay_syn, 1.0, I_end[k]) if need_currents or not _fast_path(p) else None
    if _fast_path(p):
        F = kernel_filter(drive.reshape(T, -1), decay_syn, k_mem, I_end[k].reshape(-1), U[k].reshape(-1) - p.u_rest_V)
        U_tilde, S, U_end, last = _event_scan(F, last_spike[k].reshape(-1), n0, p)
        U_tilde, S = U_tilde.reshape(T, n_net, n), S.reshape(T, n_net, n)
        U_end, last = U_end.reshape(n_net, n), last.reshape(n_net, n)
    else:
        rows = np.empty((T + 1, n_net, n))
        rows[0], S, last = U[k], np.zeros((T, n_net, n), dtype=bool), last_spike[k].copy()
        active = last < n0 - p.n_ref
        state = {"U": U[k].copy(), "refractory": ~active, "active": active, "tmp": np.empty((n_net, n))}
        _general_steps(list(rows), list(I), list(S), last, n0, p, state)
        U_tilde, U_end = rows[1:], state["U"]
    U[k], I_end[k], last_spike[k] = U_end, end_state(drive, decay_syn, I_end[k]) if I is None else I[-1].copy(), last
    return U_tilde, S, I
