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

:func:`_event_scan` finds the spikes in rounds: the first compares every free trajectory
with the threshold; the neurons that fire (or are refractory at the segment start) are then
taken out as rows of their own (:func:`_restarts`, contiguous in time), and each further round
looks, for every neuron still in play, for its first threshold crossing ``u_rest + V[t] > θ``
after its last restart (one vectorised pass over the rest of the segment). A neuron fires at most once every ``n_ref + 1`` steps,
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
    ``last`` ``(N,)`` the step of each neuron's last spike before it. ``Ũ`` starts as the free
    trajectory. Round 1 finds the first crossing of every free trajectory; the neurons that
    fire, or are refractory at the start, continue in :func:`_restarts`.
    """
    T, N = F.shape
    U_tilde, S = p.u_rest_V + F, np.zeros((T, N), dtype=bool)
    restart = last + p.n_ref - n0                    # the last refractory step (local); < 0: none
    held = np.flatnonzero(restart >= 0)              # refractory at the start of the segment
    free = np.flatnonzero(restart < 0)
    crossed = U_tilde > p.theta_V if free.size == N else U_tilde[:, free] > p.theta_V
    hit = np.flatnonzero(crossed.any(axis=0))
    who, when = free[hit], crossed[:, hit].argmax(axis=0)
    changed = np.union1d(who, held)                  # the neurons whose trajectory is not the free one
    last_end = last.copy()
    if changed.size:
        U_rows, S_rows, last_rows = _restarts(F[:, changed].T, restart[changed], np.searchsorted(changed, who), when, p)
        U_tilde[:, changed], S[:, changed] = U_rows.T, S_rows.T
        fired = last_rows >= 0
        last_end[changed[fired]] = n0 + last_rows[fired]
    return U_tilde, S, np.where(S[-1], p.u_rest_V, U_tilde[-1]), last_end


def _restarts(F: np.ndarray, restart: np.ndarray, who: np.ndarray, when: np.ndarray, p):
    """``(Ũ, S, last)`` of the neurons that fire or are refractory, one row each (``F`` ``(n, T)``).

    ``restart`` is each row's last refractory step (``< 0``: none), ``who``/``when`` the rows'
    first spikes (round 1); returns ``last``, each row's last spike step (-1: none). Each round
    finds, for every row still in play, the next crossing after its last restart ``r``:
    ``Ũ[t] = u_rest + F[t] - (1-k)^(t-r) F[r]`` for ``t > r``.
    """
    n, T = F.shape
    k, u_rest, n_ref = p.dt_s / p.tau_mem_s, p.u_rest_V, p.n_ref
    decay_pow = powers(1.0 - k, T + 1)
    # the rows padded by n_ref steps on both sides, so that a refractory window is one slice
    padded = np.empty((n, T + 2 * n_ref))
    U_tilde = padded[:, n_ref: n_ref + T]
    np.add(F, u_rest, out=U_tilde)
    windows = np.lib.stride_tricks.as_strided(padded, (n, T + n_ref + 1, n_ref), padded.strides + padded.strides[1:])
    S, last = np.zeros((n, T), dtype=bool), np.full(n, -1)
    held = np.flatnonzero(restart >= 0)
    windows[held, restart[held] + 1] = u_rest         # a spike at restart - n_ref: its window starts at restart - n_ref + 1

    def fire(who, when):  # record spikes, hold their refractory steps; the rows that restart inside the segment
        S[who, when], last[who] = True, when
        windows[who, when + n_ref + 1] = u_rest
        restart[who] = when + n_ref
        return who[restart[who] < T - 1]

    play = np.concatenate([held[restart[held] < T - 1], fire(who, when)])
    while play.size:
        r = restart[play]
        t0 = int(r.min()) + 1
        # (1 - k)^(t - r) F[r] = (1 - k)^(t - t0 + 1) F[r] / (1 - k)^(r - t0 + 1): an outer product
        piece = u_rest + (F[play, t0:] - decay_pow[1: T - t0 + 1] * (F[play, r] / decay_pow[r - t0 + 1])[:, None])
        ahead = np.arange(t0, T) > r[:, None]
        U_tilde[play, t0:] = np.where(ahead, piece, U_tilde[play, t0:])
        crossed = (piece > p.theta_V) & ahead
        hit = np.flatnonzero(crossed.any(axis=1))
        play = fire(play[hit], t0 + crossed[hit].argmax(axis=1))
    return U_tilde, S, last


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
