r"""The learning accumulation of a segment: error, its adjoint, hidden signals and ``m`` (SPEC §3).

The segment's contribution to the accumulator is the bilinear form of the package docstring
(:mod:`superspike_ref.fast`): the error filtered backwards in time ``ẽ`` (the adjoint of the
eligibility filter) and the weights ``gain_elig0``, ``gain_rise0`` of the eligibility state at the
segment start, mapped to the hidden layers by the feedback (:func:`learning_signals`), then
summed against the presynaptic traces one presynaptic spike at a time (:func:`accumulate`,
:func:`_add_spike_sum`). The regulariser term is :func:`regularise`.
"""
from __future__ import annotations

import numpy as np

from ..eligibility import error_gate
from ..feedback import hidden_errors
from ..regulariser import het_activity, weight_decay
from .filters import block_buffer, end_state, first_order, kernel_adjoint_blocked, kernel_filter
from .filters import kernel_filter_adjoint, kernel_sequence, powers

_DENSE_FRACTION = 0.02  # above this spike density, spike sums use a dense product


def output_error(p, task, spikes_out: np.ndarray, n0: int, error_state: list, err_rise: np.ndarray, err: np.ndarray):
    """The output error ``e`` over the segment ``(T, n_net, n_out)`` and the error filter's state at its end.

    Equals ``T`` steps of :func:`~superspike_ref.error.error_step` (tested in ``tests/test_fast_stages.py``).

    ``error_state`` (one per network, the XOR window of opportunity) is advanced in place.
    Returns ``(e, err_rise, err)``.
    """
    decay_rise, rate_decay = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
    impulses = np.empty(spikes_out.shape)
    for b in range(spikes_out.shape[1]):
        impulses[:, b], error_state[b] = task.error_impulses(n0, spikes_out[:, b], error_state[b])
    e = kernel_filter(impulses, decay_rise, rate_decay, err_rise, err)
    return e, end_state(impulses, decay_rise, err_rise), e[-1].copy()


def learning_signals(p, err: np.ndarray, W: list, networks: list, need_errors: bool):
    """``ẽ`` and ``gain_elig0`` of every LIF layer (and, if gated or ``need_errors``, every layer's error ``e``).

    Returns ``(errors, gates, adjoints, gains_elig0)``, lists indexed by LIF layer; ``errors`` is
    None unless needed, ``gates`` (hidden layers, :func:`~superspike_ref.eligibility.error_gate`)
    None unless the error gate is on.
    """
    decay_rise, rate_decay = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
    T, n_conn = len(err), len(W)
    q_pow = powers(1.0 - rate_decay, T + 1)
    adj = kernel_filter_adjoint(err, decay_rise, rate_decay)
    gain_elig0 = np.tensordot(q_pow[1:], err, axes=(0, 0))
    gated = p.e_gate > 0 and n_conn > 1
    errors = hidden_signals(err, W, networks) + [err] if gated or need_errors else None
    gates = None
    if gated:
        # error gate (original code): each hidden layer's own error, zero where |e_i| < e_gate,
        # through the same (linear) adjoint path as the output error
        gates = [error_gate(e, p) for e in errors[:-1]]
        gated_errors = [np.where(g, e, 0.0) for g, e in zip(gates, errors)]
        adjoints = [kernel_filter_adjoint(e, decay_rise, rate_decay) for e in gated_errors] + [adj]
        gains_elig0 = [np.tensordot(q_pow[1:], e, axes=(0, 0)) for e in gated_errors] + [gain_elig0]
    else:
        adjoints = hidden_signals(adj, W, networks) + [adj]
        gains_elig0 = hidden_signals(gain_elig0, W, networks) + [gain_elig0]
    return errors, gates, adjoints, gains_elig0


def hidden_signals(signal: np.ndarray, W: list, networks: list) -> list:
    """Map an output-layer signal ``(..., n_net, n_out)`` to every hidden layer (SPEC §3 feedback).

    It is :func:`~superspike_ref.feedback.hidden_errors`, applied to each network's own weights
    and feedback; the hidden signals are linear in the output one, so ``ẽ`` ``(T, n_net, n_out)``
    and ``gain_elig0`` ``(n_net, n_out)`` go through it like the error. Returns a list of ``(..., n_net, n_l)``
    arrays, first hidden layer first.
    """
    out = [np.empty(signal.shape[:-1] + (n,)) for n in networks[0].layers[1:-1]]
    for b, net in enumerate(networks):
        for l, x in enumerate(hidden_errors(signal[..., b, :], [w[b] for w in W], net.feedback, net.feedback_matrices)):
            out[l][..., b, :] = x
    return out


def accumulate(p, T: int, A, sp, adj, gain_elig0, z, z_tilde, elig_rise, elig, m) -> None:
    """Add the segment's ``Σ_t e λ`` to ``m`` and advance the eligibility state ``elig_rise``, ``elig`` in place.

    Equals ``T`` steps of :func:`~superspike_ref.eligibility.psp_trace_step`,
    :func:`~superspike_ref.eligibility.eligibility_step` and :func:`~superspike_ref.eligibility.accumulate`
    (without the regulariser, :func:`regularise`), tested in ``tests/test_fast_stages.py``.

    ``A`` are the connection's arriving spikes, ``sp`` the postsynaptic ``σ′``, ``adj`` its
    ``ẽ`` and ``gain_elig0`` the weight of ``elig`` at the segment start in the sum (the
    weight of ``elig_rise`` is ``gain_rise0 = decay_rise ẽ[0]``); ``z``, ``z_tilde`` are the
    presynaptic traces at the segment start; ``elig_rise``, ``elig``, ``m`` are stored
    transposed, ``(n_net, n_pre, n_post)``. The three row sets ``ẽσ′``,
    ``decay_rise^{T-1-s} σ′`` and ``K[T-1-s] σ′`` are written straight into the blocks of
    the backward ``K_syn`` filter, which also returns ``Σ_s (1 - rate_mem)^{s+1} rows[s]``
    (the weight of ``z̃⁰``) in the same pass.
    """
    decay_rise, rate_decay = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
    decay_syn, rate_mem = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
    _, n_net, n = sp.shape
    K = kernel_sequence(T, decay_rise, rate_decay)
    xa, L = block_buffer(T, n_net * 3 * n)
    n_blocks, full = xa.shape[0], T // L
    blocks = xa.reshape(n_blocks, -1, n_net, 3, n)
    time_weights = (powers(decay_rise, T)[::-1], K[::-1])
    for lo, hi, dst in ((0, full * L, blocks[:full, :L]), (full * L, T, blocks[full:, : T - full * L])):
        if hi > lo:
            shape = dst.shape[:2] + (n_net, n)
            s_part = sp[lo:hi].reshape(shape)
            np.multiply(adj[lo:hi].reshape(shape), s_part, out=dst[..., 0, :])
            for r, w in enumerate(time_weights, start=1):
                np.multiply(s_part, w[lo:hi].reshape(shape[:2] + (1, 1)), out=dst[..., r, :])
    q_row = powers(1.0 - rate_mem, L)[None, :]
    filtered, extra = kernel_adjoint_blocked(xa, L, decay_syn, rate_mem, extra_rows=q_row)
    filtered = filtered[:T].reshape(T, n_net, 3 * n)  # Σ_{s>=r} K_syn[s-r] rows[s]
    h_q = np.tensordot(powers(1.0 - rate_mem, n_blocks * L)[::L] * (1.0 - rate_mem), extra[:, 0], axes=(0, 0))
    h_z = decay_syn * filtered[0]
    # Σ_s rows[s] z̃[s] = h_q z̃⁰ + h_z z⁰ + Σ_{spikes r} filtered[r], as (n_net, n_pre, 3n)
    H = np.stack([h_q.reshape(n_net, 3 * n), h_z], axis=1)  # (n_net, 2, 3n)
    Z = np.stack([z_tilde, z], axis=-1)  # (1 or n_net, n_pre, 2)
    prod = np.matmul(Z, H)
    _add_spike_sum(prod, filtered, A)
    prod = prod.reshape(n_net, -1, 3, n)
    m += prod[:, :, 0]
    m += gain_elig0[:, None, :] * elig
    gain_rise0 = decay_rise * adj[0]
    m += gain_rise0[:, None, :] * elig_rise
    elig *= (1.0 - rate_decay) ** T
    elig += (decay_rise * K[-1]) * elig_rise
    elig += prod[:, :, 2]
    elig_rise *= decay_rise**T
    elig_rise += prod[:, :, 1]


def regularise(p, spikes: np.ndarray, zh: list, k: int, W: np.ndarray, m: np.ndarray, gate=None) -> None:
    """Subtract the segment's ``ρ w_ij Σ_n ζ_i[n]`` (masked by the error ``gate``) from ``m`` of hidden layer ``k``.

    Equals, summed over the segment, the regulariser part of
    :func:`~superspike_ref.eligibility.accumulate` with ``zh`` from
    :func:`~superspike_ref.regulariser.het_trace_step` (its windowed form, :func:`.filters.first_order`),
    since ``w`` is constant within a segment: it calls
    :func:`~superspike_ref.regulariser.het_activity` and :func:`~superspike_ref.regulariser.weight_decay`.
    ``zh[k]`` (the heterosynaptic trace of LIF layer ``k``) is advanced to the segment end.
    Tested in ``tests/test_fast_stages.py``.
    """
    trace = first_order(spikes, p.decay(p.tau_het_s), 1.0, zh[k])
    zh[k] = trace[-1].copy()
    zeta = het_activity(trace, p)
    if gate is not None:
        zeta *= gate
    m -= weight_decay(W, np.sum(zeta, axis=0), p).transpose(0, 2, 1)


def advance_traces(p, T: int, arriving: list, full: bool, z: list, z_tilde: list):
    """Presynaptic traces ``z``, ``z̃`` (lists per connection, advanced to the segment end); over the segment if ``full``.

    Equals ``T`` steps of :func:`~superspike_ref.eligibility.psp_trace_step` (tested in ``tests/test_fast_stages.py``).
    """
    decay_syn, rate_mem = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
    K_syn = kernel_sequence(T, decay_syn, rate_mem)
    weights = np.stack([powers(decay_syn, T)[::-1], K_syn[::-1]])  # (2, T)
    traces = []
    for k, A in enumerate(arriving):
        z0, zt0 = z[k], z_tilde[k]
        if full:
            zk = first_order(A, decay_syn, 1.0, z0)
            traces.append((zk, first_order(zk, 1.0 - rate_mem, rate_mem, zt0)))
        t, col = np.divmod(np.flatnonzero(A.reshape(-1)), A.shape[1] * A.shape[2])
        sums = [np.bincount(col, weights=w[t], minlength=z0.size).reshape(z0.shape) for w in weights]
        z[k] = decay_syn**T * z0 + sums[0]
        z_tilde[k] = (1.0 - rate_mem) ** T * zt0 + (decay_syn * K_syn[-1]) * z0 + sums[1]
    return traces


def _add_spike_sum(out: np.ndarray, x: np.ndarray, A: np.ndarray, dense_fraction: float = _DENSE_FRACTION) -> None:
    """``out[b, j, r] += Σ_t A[t, b, j] x[t, b, r]`` for a boolean raster ``A`` ``(T, 1 or n_net, n_pre)``.

    ``out`` is ``(n_net, n_pre, R)``. Adds one row of ``x`` per spike when the raster is sparse
    (in time order, one pass per spike rank so that fancy indices stay unique), else one
    dense product.
    """
    T, n_net, R = x.shape
    n_src, n_pre = A.shape[1:]
    flat = np.flatnonzero(A.reshape(-1))
    if flat.size == 0:
        return
    if flat.size > dense_fraction * A.size:
        if n_src == 1:
            out += (A[:, 0].T.astype(float) @ x.reshape(T, n_net * R)).reshape(n_pre, n_net, R).transpose(1, 0, 2)
        else:
            for b in range(n_net):
                out[b] += A[:, b].T.astype(float) @ x[:, b]
        return
    t, key = np.divmod(flat, n_src * n_pre)  # key = b * n_pre + j (b = 0 for a shared raster)
    order = np.argsort(key, kind="stable")
    t, key = t[order], key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(key.size), 0))
    rank = np.arange(key.size) - group_start
    if n_src == 1:
        rows = x[t].transpose(1, 0, 2)  # (n_net, n_spikes, R)
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            out[:, key[sel]] += rows[:, sel]
    else:
        target = out.reshape(n_net * n_pre, R)
        rows = x[t, key // n_pre]
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            target[key[sel]] += rows[sel]
