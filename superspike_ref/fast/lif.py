"""The LIF scan over a segment: threshold, reset and refractoriness step by step (SPEC §2 (b)-(e)).

The currents ``I`` of the whole segment are known (or filled in chunks just before they are
needed); only the membrane update, the threshold crossing, the reset and the refractory
period remain a per-step loop, vectorised over neurons and networks. :class:`_FastSteps`
is the loop for ``n_ref >= 1`` and ``u_rest <= theta`` (every parameter set of the paper),
:func:`_general_steps` the loop for any parameters.
"""
from __future__ import annotations

import numpy as np

_NEVER = -(2**62)  # "last spike" of a neuron that has not spiked yet


def _fast_path(p) -> bool:
    """Parameters for which :class:`_FastSteps` applies."""
    return p.n_ref >= 1 and p.u_rest_V <= p.theta_V


class _FastSteps:
    """Steps of SPEC §2 (b)-(e) for one segment when ``n_ref >= 1`` and ``u_rest <= theta``.

    ``rows[t+1]`` receives ``U`` after step ``n0+t`` (after the reset); the values before the
    reset of spiking neurons are kept in ``resets`` and put back by :meth:`finish`, so that
    ``rows`` then holds ``Ũ``. The loop reads ``drive``, a copy of ``I`` that is 0 for neurons
    in their refractory period: with ``U[n-1] = u_rest`` and no drive, eq. (b) gives exactly
    ``u_rest``, which cannot cross ``theta >= u_rest``. A step thus costs six ufunc calls and
    no mask, whatever the number of neurons and networks.
    """

    def __init__(self, rows, I, S, last, n0: int, p) -> None:
        self.rows, self.I, self.S, self.last, self.n0 = rows, I, S, last, n0
        self.n_ref = p.n_ref
        self.drive = np.empty_like(I)
        self.resets = []
        self.refractory_until = int(last.max()) + p.n_ref  # last step of any running refractory period
        # 0-d arrays: ufuncs take them faster than Python floats (same float64 values)
        self.consts = np.array(p.u_rest_V), np.array(p.theta_V), np.array(p.dt_s / p.tau_mem_s)
        self.tmp = np.empty(rows.shape[1:])

    def run(self, t0: int, t1: int) -> None:
        """Steps ``n0+t0 .. n0+t1-1`` (their currents ``I[t0:t1]`` must be final)."""
        rows, drive, S, last, n0, n_ref, tmp = self.rows, self.drive, self.S, self.last, self.n0, self.n_ref, self.tmp
        drive[t0:t1] = self.I[t0:t1]
        if self.refractory_until >= n0 + t0:
            remaining = last + (n_ref + 1 - (n0 + t0))  # refractory steps left (<= 0: none)
            drive[t0:t1][np.arange(t1 - t0)[:, None, None] < remaining] = 0.0
        u_rest, theta, k_mem = self.consts
        sub, add, mul, greater, flatnonzero = np.subtract, np.add, np.multiply, np.greater, np.flatnonzero
        last_flat, drive_flat = last.reshape(-1), drive.reshape(len(drive), -1)
        for t, prev, cur, current, s in zip(range(t0, t1), rows[t0:t1], rows[t0 + 1:t1 + 1], drive[t0:t1], S[t0:t1]):
            sub(u_rest, prev, tmp)
            add(tmp, current, tmp)
            mul(tmp, k_mem, tmp)
            add(tmp, prev, cur)
            greater(cur, theta, s)
            if s.any():
                idx = flatnonzero(s)  # the neurons that spiked, as flat indices of (n_net, n)
                cur_flat = cur.reshape(-1)
                last_flat[idx] = n0 + t
                self.resets.append((t, idx, cur_flat[idx]))
                cur_flat[idx] = u_rest
                drive_flat[t + 1:min(t + 1 + n_ref, t1), idx] = 0.0
                self.refractory_until = n0 + t + n_ref

    def finish(self) -> np.ndarray:
        """Put the values before the reset back; return ``U`` after the last step."""
        U_end = self.rows[-1].copy()
        for t, idx, values in self.resets:
            self.rows[t + 1].reshape(-1)[idx] = values
        return U_end


def _general_steps(U_rows, I_rows, S_rows, last, t0, t1, n, p, state) -> None:
    """Steps t0..t1-1 of SPEC §2 (b)-(e) for any parameters (``n_ref == 0`` or ``u_rest > theta``)."""
    u_rest, theta, k_mem, n_ref = p.u_rest_V, p.theta_V, p.dt_s / p.tau_mem_s, p.n_ref
    U, refractory, active, tmp = state["U"], state["refractory"], state["active"], state["tmp"]
    for t in range(t0, t1):
        cur, s = U_rows[t + 1], S_rows[t]
        np.subtract(u_rest, U, tmp)
        np.add(tmp, I_rows[t], tmp)
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


def lif(p, layers: list, U: list, I_end: list, last_spike: list, I: np.ndarray, n0: int, chunk=None, spikes=None):
    """Threshold, reset and refractoriness of LIF layers (list indices ``layers``), step by step.

    ``I`` ``(T, n_net, n)`` holds the layers' currents side by side (SPEC §2 (a)); with
    ``chunk = (C, fill)``, ``fill(t0, t1)`` writes the currents of steps t0..t1-1 just
    before they are needed, in chunks of ``C`` steps. Returns ``Ũ`` and ``S``, ``(T, n_net, n)``.
    ``Ũ = U + dt/tau_mem * (u_rest - U + I)`` is evaluated with the operations of
    :func:`~superspike_ref.neuron.membrane_update`, in the same order.

    The per-layer state lists ``U``, ``I_end`` and ``last_spike`` (indexed by LIF layer) hold
    the state before the segment and receive the state after it.
    """
    T, n_net, n = I.shape
    rows = np.empty((T + 1, n_net, n))  # row t+1: step n0+t
    rows[0] = np.concatenate([U[l] for l in layers], axis=1)
    S = np.zeros((T, n_net, n), dtype=bool) if spikes is None else spikes
    last = np.concatenate([last_spike[l] for l in layers], axis=1)
    size, fill = (T, None) if chunk is None else chunk
    if _fast_path(p):
        steps = _FastSteps(rows, I, S, last, n0, p)
        for t0 in range(0, T, size):
            t1 = min(T, t0 + size)
            if fill is not None:
                fill(t0, t1)
            steps.run(t0, t1)
        U_end = steps.finish()
    else:
        rows[1:] = p.u_rest_V
        active = last < n0 - p.n_ref
        state = {"U": rows[0].copy(), "refractory": ~active, "active": active, "tmp": np.empty((n_net, n))}
        U_rows, I_rows, S_rows = list(rows), list(I), list(S)
        for t0 in range(0, T, size):
            t1 = min(T, t0 + size)
            if fill is not None:
                fill(t0, t1)
            _general_steps(U_rows, I_rows, S_rows, last, t0, t1, n0 + t0, p, state)
        U_end = state["U"]
    start = 0
    for l in layers:
        width = U[l].shape[1]
        part = slice(start, start + width)
        U[l] = U_end[:, part].copy()
        I_end[l] = I[-1, :, part].copy()
        last_spike[l] = last[:, part].copy()
        start += width
    return rows[1:], S
