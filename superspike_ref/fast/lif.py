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

from .filters import first_order, powers

_NEVER = -(2**62)  # "last spike" of a neuron that has not spiked yet


def _fast_path(p) -> bool:
    """Parameters for which :func:`_event_scan` applies."""
    return p.n_ref >= 1 and p.u_rest_V <= p.theta_V


def _potential(F, F_restart, decay_pow, t, restart, u_rest):
    """``u_rest + V[t]``: ``F[t]`` before any restart (``restart < 0``), else ``F[t] - (1-k)^(t-r) F[r]``.

    ``t`` is a column of local steps, ``restart`` the last restart ``r`` of each neuron (or of
    each neuron at each step) and ``F_restart`` the free trajectory there, ``F[r]``.
    """
    return u_rest + (F - np.where(restart >= 0, decay_pow[np.clip(t - restart, 0, None)] * F_restart, 0.0))


def _event_scan(I: np.ndarray, U0: np.ndarray, last: np.ndarray, n0: int, p):
    """``(Ũ, S, U_end, last_end)`` of neurons ``(T, N)`` over steps ``n0 .. n0+T-1`` (see the module docstring).

    ``U0`` and ``last`` ``(N,)`` are the potential after the reset and the step of the last
    spike before the segment.
    """
    T, N = I.shape
    k, u_rest, n_ref = p.dt_s / p.tau_mem_s, p.u_rest_V, p.n_ref
    F = first_order(I, 1.0 - k, k, U0 - u_rest)
    decay_pow = powers(1.0 - k, T + 1)
    U_free = u_rest + F                              # Ũ of a neuron that has not restarted
    initial = last + n_ref - n0                      # the last refractory step (local); < 0: none
    free = np.flatnonzero(initial < 0)
    crossed = U_free[:, free] > p.theta_V            # round 1: the free neurons' first spikes
    first = crossed.argmax(axis=0)
    fires = crossed[first, np.arange(free.size)]
    fired_t, fired_i = [first[fires]], [free[fires]]
    restart = initial.copy()
    restart[fired_i[0]] = fired_t[0] + n_ref
    play = np.concatenate([np.flatnonzero((initial >= 0) & (initial < T - 1)), fired_i[0][restart[fired_i[0]] < T - 1]])
    while play.size:                                 # further rounds: the next spike after a restart
        r = restart[play]
        t0 = int(r.min()) + 1
        t = np.arange(t0, T)[:, None]
        U_tilde = _potential(F[t0:, play], F[r, play], decay_pow, t, r, u_rest)
        crossed = (U_tilde > p.theta_V) & (t > r)
        first = crossed.argmax(axis=0)
        fires = crossed[first, np.arange(play.size)]
        who, when = play[fires], t0 + first[fires]
        fired_t.append(when)
        fired_i.append(who)
        restart[who] = when + n_ref
        play = who[restart[who] < T - 1]
    fired_t, fired_i = np.concatenate(fired_t), np.concatenate(fired_i)
    U_tilde = _assemble(U_free, F, decay_pow, fired_t, fired_i, initial, p)
    S = np.zeros((T, N), dtype=bool)
    S[fired_t, fired_i] = True
    last_end = last.copy()
    np.maximum.at(last_end, fired_i, n0 + fired_t)
    return U_tilde, S, np.where(S[-1], u_rest, U_tilde[-1]), last_end


def _assemble(U_free, F, decay_pow, fired_t, fired_i, initial, p) -> np.ndarray:
    """``Ũ`` of the segment: the free trajectory, except in the columns of neurons that restarted."""
    T = len(F)
    cols, inverse = np.unique(np.concatenate([fired_i, np.flatnonzero(initial >= 0)]), return_inverse=True)
    restart = np.full((T, cols.size), -1, dtype=np.int64)   # the last restart before each step
    at_start = initial[cols] >= 0
    restart[0, at_start] = initial[cols][at_start]
    inside = fired_t + 1 < T
    restart[fired_t[inside] + 1, inverse[:fired_i.size][inside]] = fired_t[inside] + p.n_ref
    np.maximum.accumulate(restart, axis=0, out=restart)
    t = np.arange(T)[:, None]
    F_cols = F[:, cols]
    F_restart = np.take_along_axis(F_cols, np.clip(restart, 0, T - 1), axis=0)  # refractory steps are set below
    U_cols = _potential(F_cols, F_restart, decay_pow, t, restart, p.u_rest_V)
    U_cols[t <= restart] = p.u_rest_V                # refractory: U = u_rest, the current ignored
    U_tilde = U_free
    U_tilde[:, cols] = U_cols
    return U_tilde


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


def lif(p, k: int, U: list, I_end: list, last_spike: list, I: np.ndarray, n0: int):
    """Threshold, reset and refractoriness of LIF layer ``k + 1`` (list index ``k``) over a segment.

    ``I`` ``(T, n_net, n)`` are the layer's currents (SPEC §2 (a)). Returns ``Ũ`` and ``S``,
    ``(T, n_net, n)``. The per-layer state lists ``U``, ``I_end`` and ``last_spike`` hold the
    state before the segment and receive the state after it.
    """
    T, n_net, n = I.shape
    if _fast_path(p):
        U_tilde, S, U_end, last = _event_scan(I.reshape(T, -1), U[k].reshape(-1), last_spike[k].reshape(-1), n0, p)
        U_tilde, S = U_tilde.reshape(T, n_net, n), S.reshape(T, n_net, n)
        U_end, last = U_end.reshape(n_net, n), last.reshape(n_net, n)
    else:
        rows = np.empty((T + 1, n_net, n))
        rows[0], S, last = U[k], np.zeros((T, n_net, n), dtype=bool), last_spike[k].copy()
        active = last < n0 - p.n_ref
        state = {"U": U[k].copy(), "refractory": ~active, "active": active, "tmp": np.empty((n_net, n))}
        _general_steps(list(rows), list(I), list(S), last, n0, p, state)
        U_tilde, U_end = rows[1:], state["U"]
    U[k], I_end[k], last_spike[k] = U_end, I[-1].copy(), last
    return U_tilde, S
