"""The forward pass of a segment: arriving spikes, currents and the LIF scan of every layer (SPEC §2).

Weights are constant within a segment and layers are feedforward, so the arriving (delayed)
spikes of a connection are known for the whole segment: the drive ``W @ A[n]`` of every
step is one matrix product (:func:`_drive`) and the synaptic current ``I`` a linear filter
of it. Layers are simulated one after the other over the whole segment: the spikes a layer
sends arrive ``n_d`` steps later (``delay_s``), the ones of the last ``n_d`` steps of the
previous segment from ``history``.
"""
from __future__ import annotations

import numpy as np

from .lif import lif


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


def forward(p, task, W: list, lif_state: tuple, history: list, n0: int, n1: int, need_currents: bool = True):
    """Spikes and membrane of every LIF layer over steps n0..n1-1 (SPEC §2).

    ``W`` holds the weights ``(n_net, n_post, n_pre)`` per connection, ``lif_state`` the lists
    ``(U, I, last_spike)`` per LIF layer and ``history`` the last ``n_d`` steps of spikes of
    every LIF layer that feeds another one; all three are advanced to the segment end.
    Returns lists (per connection / LIF layer) of the arriving spikes ``A_k``, the currents
    ``I`` (None unless ``need_currents``), the potentials ``Ũ`` and the spikes ``S``, each
    ``(T, n_net or 1, n)``.

    Equals ``T`` steps of :func:`~superspike_ref.core.delay_step` and
    :func:`~superspike_ref.neuron.lif_step` for every layer (tested in ``tests/test_fast_stages.py``).
    """
    A = input_arriving(task, p.n_delay, n0, n1)
    n_conn = len(W)
    arriving, currents, u_tilde, spikes = [], [], [], []
    for k in range(n_conn):
        arriving.append(A)
        Ut, S, I = lif(p, k, *lif_state, _drive(A, W[k]), n0, need_currents)
        currents.append(I)
        u_tilde.append(Ut)
        spikes.append(S)
        if k + 1 < n_conn:
            A = delayed(history, k + 1, S, p.n_delay)
    return arriving, currents, u_tilde, spikes
