"""The forward pass of a segment: arriving spikes, currents and the LIF scan of every layer (SPEC §2).

Weights are constant within a segment and layers are feedforward, so the arriving (delayed)
spikes of a connection are known for the whole segment: the drive ``W @ A[n]`` of every
step is one matrix product (:func:`_drive`) and the synaptic current ``I`` a linear filter
of it. Layers are simulated one after the other over the whole segment, or, when the axonal
delay is at least :data:`_MERGE_MIN_DELAY` steps, all together in chunks of ``n_d`` steps
(:func:`forward_merged`).
"""
from __future__ import annotations

import numpy as np

from .filters import first_order
from .lif import _fast_path, lif

_MERGE_MIN_DELAY = 4  # simulate all LIF layers in one step loop when n_d >= this


def _drive(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``D[t, b] = W_b @ A[t, b]`` for arriving spikes ``A`` ``(T, 1 or n_net, n_pre)``; only rows with spikes are multiplied."""
    T, n_src, n_pre = A.shape
    n_net, n_post, _ = W.shape
    D = np.zeros((T, n_net, n_post))
    if n_src == 1:
        A2 = A[:, 0]
        rows = np.flatnonzero(A2.any(axis=1))
        if rows.size:
            D.reshape(T, n_net * n_post)[rows] = A2[rows].astype(float) @ W.reshape(n_net * n_post, n_pre).T
    else:
        for b in range(n_net):
            A2 = A[:, b]
            rows = np.flatnonzero(A2.any(axis=1))
            if rows.size:
                D[rows, b] = A2[rows].astype(float) @ W[b].T
    return D


def input_arriving(task, n_d: int, n0: int, n1: int) -> np.ndarray:
    """Input spikes arriving at steps n0..n1-1, ``S_in[n - n_d]`` (none before ``n_d``): ``(T, 1, n_in)``."""
    A = np.zeros((n1 - n0, 1, task.n_in), dtype=bool)
    lo = max(n0 - n_d, 0)
    if n1 - n_d > lo:
        A[lo - (n0 - n_d):, 0] = task.input_block(lo, n1 - n_d)
    return A


def delayed(history: list, k: int, S: np.ndarray, n_d: int) -> np.ndarray:
    """Spikes of LIF layer ``k`` arriving at connection ``k`` (delay ``n_d``); keeps the last ``n_d`` steps in ``history[k]``."""
    if n_d == 0:
        return S
    joined = np.concatenate([history[k], S])
    history[k] = joined[-n_d:].copy()
    return joined[: len(S)]


def forward(p, task, W: list, lif_state: tuple, history: list, n0: int, n1: int):
    """Spikes and membrane of every LIF layer over steps n0..n1-1 (SPEC §2).

    ``W`` holds the weights ``(n_net, n_post, n_pre)`` per connection, ``lif_state`` the lists
    ``(U, I, last_spike)`` per LIF layer and ``history`` the last ``n_d`` steps of spikes of
    every LIF layer that feeds another one; all three are advanced to the segment end.
    Returns lists (per connection / LIF layer) of the arriving spikes ``A_k``, the currents
    ``I``, the potentials ``Ũ`` and the spikes ``S``, each ``(T, n_net or 1, n)``.

    Equals ``T`` steps of :func:`~superspike_ref.core.delay_step` and
    :func:`~superspike_ref.neuron.lif_step` for every layer (tested in ``tests/test_fast_stages.py``).
    """
    A = input_arriving(task, p.n_delay, n0, n1)
    n_conn = len(W)
    if n_conn > 1 and p.n_delay >= _MERGE_MIN_DELAY and _fast_path(p):
        return forward_merged(p, W, lif_state, history, n0, n1, A)
    arriving, currents, u_tilde, spikes = [], [], [], []
    for k in range(n_conn):
        arriving.append(A)
        I = first_order(_drive(A, W[k]), p.decay(p.tau_syn_s), 1.0, lif_state[1][k])
        Ut, S = lif(p, [k], *lif_state, I, n0)
        currents.append(I)
        u_tilde.append(Ut)
        spikes.append(S)
        if k + 1 < n_conn:
            A = delayed(history, k + 1, S, p.n_delay)
    return arriving, currents, u_tilde, spikes


def forward_merged(p, W: list, lif_state: tuple, history: list, n0: int, n1: int, A0: np.ndarray):
    """All LIF layers in one step loop; layer ``l+1``'s current is computed ``n_d`` steps at a time (see :func:`forward`)."""
    T, n_net = n1 - n0, W[0].shape[0]
    sizes = [w.shape[1] for w in W]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    parts = [slice(int(bounds[l]), int(bounds[l + 1])) for l in range(len(sizes))]
    n_d, d_syn = p.n_delay, p.decay(p.tau_syn_s)
    I = np.empty((T, n_net, int(bounds[-1])))
    I[:, :, parts[0]] = first_order(_drive(A0, W[0]), d_syn, 1.0, lif_state[1][0])
    spikes_ext = np.zeros((n_d + T, n_net, int(bounds[-1])), dtype=bool)  # row i: step n0 - n_d + i
    for l in range(len(sizes) - 1):
        spikes_ext[:n_d, :, parts[l]] = history[l + 1]
    W_cols = [None] + [np.ascontiguousarray(w.transpose(0, 2, 1)) for w in W[1:]]
    lag = np.arange(n_d)[:, None] - np.arange(n_d)[None, :]
    toeplitz = np.where(lag >= 0, d_syn ** np.maximum(lag, 0).astype(float), 0.0)
    carry = d_syn ** np.arange(1, n_d + 1, dtype=float)
    I_prev = [None] + lif_state[1][1:]

    def chunk_currents(t0: int, t1: int) -> None:
        c = t1 - t0
        for l in range(1, len(sizes)):
            out = I[t0:t1, :, parts[l]]
            np.multiply(carry[:c, None, None], I_prev[l], out=out)
            arriving = spikes_ext[t0:t1, :, parts[l - 1]]  # emitted n_d steps earlier
            if arriving.any():
                t_idx, b_idx, j_idx = np.nonzero(arriving)
                drive = np.zeros((c, n_net, sizes[l]))
                np.add.at(drive, (t_idx, b_idx), W_cols[l][b_idx, j_idx])
                out += (toeplitz[:c, :c] @ drive.reshape(c, -1)).reshape(c, n_net, sizes[l])
            I_prev[l] = out[-1]

    layers = list(range(len(sizes)))
    Ut, S = lif(p, layers, *lif_state, I, n0, chunk=(n_d, chunk_currents), spikes=spikes_ext[n_d:])
    for l in range(len(sizes) - 1):
        history[l + 1] = spikes_ext[T:, :, parts[l]].copy()
    arriving = [A0] + [spikes_ext[:T, :, parts[l]] for l in range(len(sizes) - 1)]
    return (
        arriving,
        [I[:, :, part] for part in parts],
        [Ut[:, :, part] for part in parts],
        [S[:, :, part] for part in parts],
    )
