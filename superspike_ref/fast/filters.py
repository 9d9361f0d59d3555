r"""Linear recurrences along time computed by blocked matrix products (helpers of :mod:`superspike_ref.fast`).

Every trace of SuperSpike is a first-order linear recurrence or a chain of two
(SPEC §3). Stepping one in Python costs microseconds per step whatever its width;
written as matrix products it runs at BLAS speed. For

.. math::  y[n] = d\,y[n-1] + g\,x[n], \qquad y[-1] = y_0,

cut time into blocks of ``L`` steps. Inside block ``b`` (steps ``bL .. bL+L-1``)

.. math::  y[bL+i] = \sum_{j\le i} g\,d^{\,i-j}\,x[bL+j] \;+\; d^{\,i+1}\,s_b,

a product with the lower-triangular Toeplitz matrix ``T[i, j] = g d^(i-j)``, plus the
response to the state ``s_b = y[bL-1]`` carried in from the previous block. The carried
states obey the same kind of recurrence with factor ``d^L``,
``s_{b+1} = d^L s_b + (local end of block b)``, so they are computed by the same function,
recursively, on a sequence ``L`` times shorter.

The double-exponential kernel ``K`` (SPEC §3: exponential trace ``p``, then Euler follower
``q``) is applied in one product per block with the Toeplitz matrix of its impulse response
``K[i-j]``; the two carried states ``(p_b, q_b)`` enter through their homogeneous responses
``a K[i] p_b + (1-c)^{i+1} q_b``. :func:`kernel_filter_adjoint` applies ``K`` backwards in
time (the adjoint of the causal filter on a finite window).

Nothing is truncated or approximated: the results equal the step-by-step recurrences up to
floating-point rounding (a few units in the last place, from summing in a different order).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "first_order",
    "kernel_filter",
    "kernel_filter_adjoint",
    "kernel_sequence",
    "end_state",
    "block_buffer",
    "kernel_adjoint_blocked",
    "powers",
    "BLOCK_STEPS",
]

BLOCK_STEPS = 16
"""Block length ``L`` of the Toeplitz products (the work is about ``L`` multiply-adds per element)."""

_CACHE: dict = {}


def _cached(key, make):
    value = _CACHE.get(key)
    if value is None:
        if len(_CACHE) > 512:
            _CACHE.clear()
        value = _CACHE[key] = make()
    return value


def powers(base: float, n: int) -> np.ndarray:
    """``base**k`` for ``k = 0 .. n-1`` (float64)."""
    return base ** np.arange(n, dtype=float)


def kernel_sequence(n_steps: int, decay_rise: float, rate_decay: float) -> np.ndarray:
    r"""Impulse response ``K[0 .. n_steps-1]`` of the kernel, by its two recurrences (cached).

    Equal to ``c (q^{n+1} - a^{n+1}) / (q - a)`` (:func:`..filters.kernel_impulse_response`),
    computed without that formula's cancellation when ``q = 1-c`` is close to ``a``.
    """

    def make():
        p = powers(decay_rise, n_steps)[:, None]
        return first_order(p, 1.0 - rate_decay, rate_decay)[:, 0].copy()

    return _cached(("K", n_steps, decay_rise, rate_decay), make)


def _stack(matrix: np.ndarray, n_blocks: int) -> np.ndarray:
    # numpy's matmul is faster with an explicit stack than with a broadcast operand
    return np.ascontiguousarray(np.broadcast_to(matrix, (n_blocks,) + matrix.shape))


def block_buffer(n_steps: int, width: int, n_states: int = 2, block: int = BLOCK_STEPS):
    """A zeroed buffer ``(n_blocks, L + n_states, width)`` for :func:`kernel_adjoint_blocked`, and ``L``.

    Block ``b`` holds steps ``bL .. bL+L-1`` in rows ``0 .. L-1`` (zero past the last step);
    the last ``n_states`` rows receive the carried states.
    """
    L = min(block, n_steps)
    return np.zeros((-(-n_steps // L), L + n_states, width)), L


def _apply(xa: np.ndarray, L: int, matrices: tuple, states, extra_rows=None):
    """Filter the blocks of an augmented buffer ``xa`` (see :func:`block_buffer`) in place of a loop.

    ``matrices = (M, end_rows, carry, [M | carry])``: each block ``x_b`` is multiplied by ``M``
    ``(L, L)``; ``end_rows @ x_b`` is what the block alone contributes to the carried states,
    ``states(ends)`` the states ``s_b`` ``(n_blocks, S, width)`` entering every block, and
    ``carry`` ``(L, S)`` their response inside a block. The states are written below the
    blocks so that one product ``[M | carry] @ [x_b; s_b]`` gives the result. ``extra_rows``
    ``(E, L)`` are applied to every block in the same pass (returned ``(n_blocks, E, width)``).

    Returns ``y`` ``(n_blocks * L, width)`` and the extra products (or None).
    """
    M, end_rows, carry, combined = matrices
    n_blocks, n_states = xa.shape[0], carry.shape[1]
    rows = end_rows if extra_rows is None else np.vstack([end_rows, extra_rows])
    ends = np.matmul(_stack(rows, n_blocks), xa[:, :L])
    xa[:, L:] = states(ends[:, :n_states])
    y = np.matmul(_stack(combined, n_blocks), xa)
    return y.reshape(n_blocks * L, -1), (None if extra_rows is None else ends[:, n_states:])


def _blocked(x, L: int, matrices: tuple, states, need_carry: bool):
    """Apply a blocked filter (:func:`_apply`) to ``x`` ``(n_steps, ...)``; returns ``x``'s shape."""
    M, _, carry, _ = matrices
    x = np.asarray(x)
    n_steps, shape = x.shape[0], x.shape
    width = int(np.prod(shape[1:], dtype=np.int64))
    n_blocks = -(-n_steps // L)
    if not need_carry and n_blocks == 1:
        xb = np.zeros((L, width))
        xb[:n_steps] = x.reshape(n_steps, width)
        return (M @ xb)[:n_steps].reshape(shape)
    xa = np.zeros((n_blocks, L + carry.shape[1], width))
    blocks = xa[:, :L]
    full = n_steps // L
    blocks[:full] = x[: full * L].reshape(full, L, width)
    if full < n_blocks:
        blocks[full, : n_steps - full * L] = x[full * L:].reshape(-1, width)
    y, _ = _apply(xa, L, matrices, states)
    return y[:n_steps].reshape(shape)


def _layout(x, block: int) -> tuple:
    """``x`` as an array, its block length ``L`` (0 for an empty sequence) and the width of one step."""
    x = np.asarray(x)
    return x, min(block, x.shape[0]), int(np.prod(x.shape[1:], dtype=np.int64))


def first_order(x, decay: float, gain: float = 1.0, y0=None, block: int = BLOCK_STEPS) -> np.ndarray:
    r"""``y[n] = decay * y[n-1] + gain * x[n]`` along axis 0, with ``y[-1] = y0`` (default 0).

    Parameters
    ----------
    x : array ``(n_steps, ...)``
        Input sequence, time-major (bool is converted to float).
    decay, gain : float
    y0 : array broadcastable to ``x.shape[1:]``, optional
        State before the first step.

    Returns
    -------
    y : float array with the shape of ``x`` (a new array).
    """
    x, L, width = _layout(x, block)
    if L == 0:
        return np.zeros(x.shape)
    y0 = _flat_state(y0, x.shape[1:], width)

    def make():
        lag = np.arange(L)[:, None] - np.arange(L)[None, :]
        M = np.where(lag >= 0, gain * decay ** np.maximum(lag, 0).astype(float), 0.0)
        carry = decay ** np.arange(1, L + 1, dtype=float)[:, None]
        return M, M[-1:].copy(), carry, np.hstack([M, carry])

    def states(ends):  # s_0 = y0, s_{b+1} = d^L s_b + (end of block b from zero)
        s = np.empty((len(ends), 1, width))
        s[0, 0] = 0.0 if y0 is None else y0
        if len(ends) > 1:
            s[1:, 0] = _scan(ends[:-1, 0], decay**L, y0)
        return s

    return _blocked(x, L, _cached(("T1", decay, gain, L), make), states, y0 is not None)


def _two_stage_states(ends, decay_rise: float, rate_decay: float, L: int, rise0, out0):
    """States ``(p_b, q_b)`` ``(n_blocks, 2, width)`` entering each block of the kernel's recurrences.

    ``ends[:, 0]`` and ``ends[:, 1]`` are the block's own ``p`` and ``q`` at its end;
    ``p_{b+1} = a^L p_b + p_end[b]`` and ``q_{b+1} = q^L q_b + a K[L-1] p_b + q_end[b]``
    (``a = decay_rise``, ``q = 1 - rate_decay``); ``rise0``, ``out0`` are ``p``, ``q`` before the first block.
    """
    n_blocks, _, width = ends.shape
    s = np.empty((n_blocks, 2, width))
    s[0, 0] = 0.0 if rise0 is None else rise0
    s[0, 1] = 0.0 if out0 is None else out0
    if n_blocks > 1:
        K_last = kernel_sequence(L, decay_rise, rate_decay)[-1]
        s[1:, 0] = _scan(ends[:-1, 0], decay_rise**L, rise0)
        s[1:, 1] = _scan(ends[:-1, 1] + (decay_rise * K_last) * s[:-1, 0], (1.0 - rate_decay) ** L, out0)
    return s


def _scan(x: np.ndarray, decay: float, y0) -> np.ndarray:
    """``y[b] = decay * y[b-1] + x[b]`` with ``y[-1] = y0`` for the short sequences of block states.

    Up to 256 blocks: one product with the full lower-triangular ``(n, n)`` matrix ``decay^(i-j)``;
    longer sequences go through :func:`first_order` (blocked again).
    """
    n = x.shape[0]
    if n > 256:
        return first_order(x, decay, 1.0, y0)

    def make():
        lag = np.arange(n)[:, None] - np.arange(n)[None, :]
        return np.where(lag >= 0, decay ** np.maximum(lag, 0).astype(float), 0.0), decay ** np.arange(1, n + 1, dtype=float)

    M, carry = _cached(("scan", decay, n), make)
    y = M @ x
    if y0 is not None:
        y += carry[:, None] * y0
    return y


def _flat_state(s, tail, width):
    return None if s is None else np.broadcast_to(np.asarray(s, dtype=float), tail).reshape(width)


def _kernel_matrices(decay_rise: float, rate_decay: float, L: int, adjoint: bool):
    """Matrices of the blocked kernel filter (cached): ``M``, the end rows and the carry response.

    Causal: ``M[i, j] = K[i-j]``; end rows ``a^(L-1-j)`` (first stage) and ``K[L-1-j]``
    (second stage) at the block end; carry ``[a K[i], q^(i+1)]``. Adjoint (reversed time):
    ``M[i, j] = K[j-i]``; end rows ``a^j`` and ``K[j]`` at the block start; carry
    ``[a K[L-1-i], q^(L-i)]``.
    """

    def make():
        K = kernel_sequence(L, decay_rise, rate_decay)
        keep_decay = 1.0 - rate_decay
        lag = np.arange(L)[:, None] - np.arange(L)[None, :]
        if adjoint:
            lag = -lag
        M = np.where(lag >= 0, K[np.maximum(lag, 0)], 0.0)
        j = np.arange(L)
        if adjoint:
            ends = np.stack([decay_rise ** j.astype(float), K])
            carry = np.stack([decay_rise * K[::-1], keep_decay ** (L - j).astype(float)], axis=1)
        else:
            ends = np.stack([decay_rise ** (L - 1 - j).astype(float), K[::-1]])
            carry = np.stack([decay_rise * K, keep_decay ** (j + 1).astype(float)], axis=1)
        return M, ends, carry, np.hstack([M, carry])

    return _cached(("K", decay_rise, rate_decay, L, adjoint), make)


def kernel_filter(x, decay_rise: float, rate_decay: float, rise0=None, out0=None, block: int = BLOCK_STEPS) -> np.ndarray:
    r"""The kernel ``K`` along axis 0: ``p[n] = a p[n-1] + x[n]``, ``q[n] = q[n-1] + c (p[n] - q[n-1])``.

    ``a = decay_rise``, ``c = rate_decay``; ``rise0``, ``out0`` are the states ``p``, ``q``
    before the first step. Returns ``q`` (the filtered sequence) with the shape of ``x``; the
    first stage's final state is :func:`end_state` ``(x, decay_rise, rise0)``.
    """
    x, L, width = _layout(x, block)
    if L == 0:
        return np.zeros(x.shape)
    rise0, out0 = _flat_state(rise0, x.shape[1:], width), _flat_state(out0, x.shape[1:], width)
    states = lambda ends: _two_stage_states(ends, decay_rise, rate_decay, L, rise0, out0)  # noqa: E731
    return _blocked(x, L, _kernel_matrices(decay_rise, rate_decay, L, adjoint=False), states,
                    rise0 is not None or out0 is not None)


def kernel_filter_adjoint(x, decay_rise: float, rate_decay: float, block: int = BLOCK_STEPS) -> np.ndarray:
    r"""``x̃[s] = Σ_{t=s}^{n-1} K[t-s] x[t]``: the kernel applied backwards in time on a window.

    This is the transpose (adjoint) of the causal filter with zero initial state on the
    window, ``Σ_t u[t] (K * v)[t] = Σ_s (K ⋆ u)[s] v[s]``: the causal filter in reversed
    time. Blocks are taken in forward time (zero padding at the end is harmless: nothing
    comes from beyond the window) with the upper-triangular matrix ``K[j-i]``; the carried
    states run from the last block to the first.
    """
    x, L, _ = _layout(x, block)
    if L == 0:
        return np.zeros(x.shape)
    matrices = _kernel_matrices(decay_rise, rate_decay, L, adjoint=True)
    return _blocked(x, L, matrices, _adjoint_states(decay_rise, rate_decay, L), False)


def _adjoint_states(decay_rise: float, rate_decay: float, L: int):
    return lambda ends: _two_stage_states(ends[::-1], decay_rise, rate_decay, L, None, None)[::-1]


def kernel_adjoint_blocked(xa: np.ndarray, L: int, decay_rise: float, rate_decay: float, extra_rows=None):
    """:func:`kernel_filter_adjoint` of data already laid out in a :func:`block_buffer` ``xa``.

    Lets a caller write its products straight into the blocks (one memory pass less) and get
    extra per-block weighted sums ``extra_rows @ x_b`` in the same pass. Overwrites the state
    rows of ``xa``. Returns ``(y, extra)`` with ``y`` ``(n_blocks * L, width)``.
    """
    matrices = _kernel_matrices(decay_rise, rate_decay, L, adjoint=True)
    return _apply(xa, L, matrices, _adjoint_states(decay_rise, rate_decay, L), extra_rows)


def end_state(x, decay: float, y0=None) -> np.ndarray:
    """Final value ``y[n-1]`` of ``y[n] = decay * y[n-1] + x[n]`` (one weighted sum): ``(...)``."""
    x = np.asarray(x)
    n_steps = x.shape[0]
    w = powers(decay, n_steps)[::-1]
    out = np.tensordot(w, x, axes=(0, 0)) if n_steps else np.zeros(x.shape[1:])
    if y0 is not None:
        out = out + decay**n_steps * np.asarray(y0, dtype=float)
    return out
