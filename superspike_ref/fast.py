r"""The fast exact engine: SPEC §2-§4 computed a stretch of time at a time.

:class:`~superspike_ref.network.LiteralEngine` updates every per-synapse quantity (λ, m)
at every step. This engine computes exactly the same spikes, weights and learning curves
(SPEC §8: identical spikes, everything else to rounding) with a different order of
operations. It rests on two facts:

1. **Weights only change at batch ends, and layers are feedforward.** Between two updates
   a *segment* of steps can be simulated layer by layer: the arriving (delayed) spikes of
   a connection are known for the whole segment, so the drive ``W @ A[n]`` of every step
   is one matrix product and the synaptic current ``I`` a linear filter of it. Only the
   threshold, reset and refractoriness remain a per-step loop, vectorised over neurons
   and over a batch of networks, with the same floating-point expression for ``Ũ`` as
   :func:`~superspike_ref.neuron.membrane_update` (:class:`_FastSteps`).
2. **The accumulator is a bilinear form.** With ``h_ij[s] = σ′_i[s] z̃_j[s]`` and the kernel
   ``K`` (eligibility, SPEC §3) the segment's contribution to ``m`` is

   .. math::  \sum_t e_i[t]\,\lambda_{ij}[t]
              = \sum_s \tilde e_i[s]\,\sigma'_i[s]\,\tilde z_j[s]
              + \alpha_i\,Q^0_{ij} + \beta_i\,P^0_{ij},
              \qquad \tilde e_i[s] = \sum_{t\ge s} K[t-s]\,e_i[t],

   where ``ẽ`` is the error filtered *backwards* in time (the adjoint of the eligibility
   filter) and ``(P⁰, Q⁰)`` are the two stages of the eligibility filter at the segment
   start, seen through their homogeneous responses ``λ[t] ∋ q^{t+1} Q⁰ + a K[t] P⁰``:
   ``α_i = Σ_t q^{t+1} e_i[t]`` and ``β_i = a Σ_t K[t] e_i[t] = a ẽ_i[0]``
   (``a = exp(-dt/τ_rise)``, ``c = dt/τ_decay``, ``q = 1 - c``). The eligibility state at the
   segment end is the same kind of sum with kernel weights,
   ``P = a^T P⁰ + Σ_s a^{T-1-s} h[s]`` and ``Q = q^T Q⁰ + a K[T-1] P⁰ + Σ_s K[T-1-s] h[s]``.

   The presynaptic factor is itself a filtered spike train, ``z̃_j = K_syn * A_j`` (plus its
   own homogeneous terms), so ``Σ_s w_i[s] z̃_j[s] = Σ_{r: A_j[r]=1} w̃_i[r] + …`` with ``w̃``
   the weight rows filtered backwards by ``K_syn``: each of the three sums above costs
   a backward filter of ``n_post`` columns plus one addition per presynaptic spike
   (:func:`_add_spike_sum`), instead of ``n_post × n_pre`` work per step.

Hidden layers need ``ẽ`` only, and it is linear in the output error: ``ẽ_l = ẽ_{l+1} W_{l+1}``
(symmetric) or ``ẽ_out B_l`` (random, uniform), and likewise ``α``. The regulariser adds
``-ρ w_ij Σ_n zh_i[n]^a`` (``w`` is constant within a segment). Learning-curve sums are
taken per cycle from the segment's error.

With the optional error gate (``params.e_gate > 0``, original code; see
:class:`~superspike_ref.network.LiteralEngine`) a hidden layer's accumulation uses its own
error masked to 0 where ``|e_i[n]| < e_gate``: ``Σ_t e λ`` and every term above
(``ẽ``, ``α``, ``β``) are linear in ``e``, so the masked error goes through the same adjoint
path exactly, and the regulariser sums ``mask_i[n] zh_i[n]^a`` instead. The output
connection is never gated.

The per-synapse traces ``lambda`` and ``m`` are never formed per step, so they cannot be
recorded; every other key of SPEC §9 can. Linear recurrences along time are blocked matrix
products (:mod:`.fast_filters`). See ``docs/fast_engine.md`` for the derivation.

:class:`BatchFastEngine` runs ``B`` networks with the same sizes and parameters on one task
in one pass (arrays carry a network axis); :class:`FastEngine` is the one-network case with
the interface of :class:`~superspike_ref.network.LiteralEngine`.
"""
from __future__ import annotations

import math

import numpy as np

from .error import AURYN_MSE_TAU_S, auryn_mse_value, vr_distance_from_energy
from .fast_filters import (
    block_buffer,
    end_state,
    first_order,
    kernel_adjoint_blocked,
    kernel_filter,
    kernel_filter_adjoint,
    kernel_sequence,
    powers,
)
from .network import (
    RECORDABLE,
    Network,
    RunResult,
    _allocate_traces,
    _check_n_steps,
    _check_record,
    _progress_bar,
    check_finite_state,
    check_task,
)
from .optimizers import learning_rate, optimizer_step
from .surrogate import surrogate_grad

__all__ = ["FastEngine", "BatchFastEngine", "FAST_RECORDABLE", "NOT_RECORDABLE"]

NOT_RECORDABLE = ("lambda", "m")
"""Per-synapse per-step traces the fast engine never forms."""
FAST_RECORDABLE = tuple(r for r in RECORDABLE if r not in NOT_RECORDABLE)

_NEVER = -(2**62)  # "last spike" of a neuron that has not spiked yet
_DENSE_FRACTION = 0.02  # above this spike density, spike sums use a dense product
SEGMENT_BYTES = 3 * 2**19
"""Target size of the largest per-segment array, 1.5 MiB (see ``max_segment_steps``).

Small temporaries stay in cache and are recycled by the C allocator; segments whose arrays
are several MiB made glibc hand memory back and forth to the kernel (tens of thousands of
page faults per simulated second, 40 % of the run time)."""
_MERGE_MIN_DELAY = 4  # simulate all LIF layers in one step loop when n_d >= this


class BatchFastEngine:
    """``B`` independent networks with equal layer sizes and parameters, run on one task.

    Weights, seeds, feedback kind and matrices, optimiser, schedule, burn-in and plastic
    flags may differ between the networks. Every network's results are identical to
    running it alone (with :class:`FastEngine` or :class:`~superspike_ref.network.LiteralEngine`).

    Parameters
    ----------
    networks : sequence of Network
    task : CyclicTask or XorTask
        Shared by all networks (see :func:`~superspike_ref.network.check_task`); each network
        keeps its own error state (the XOR window of opportunity).
    max_segment_steps : int or None
        Longest stretch simulated in one piece. Results do not depend on it; the default
        (None) picks it so that the largest per-segment array stays near
        :data:`SEGMENT_BYTES` (cache-sized: the work is memory-bound), between 32 and 8192 steps.

    Attributes
    ----------
    step_index : int
        Next step ``n``.
    weights, v, m : list (per network) of lists (per connection) of ``(n_post, n_pre)`` arrays
        Live views of the engine state.
    """

    name = "fast"

    def __init__(self, networks, task, max_segment_steps: int | None = None) -> None:
        networks = list(networks)
        if not networks:
            raise ValueError("networks must hold at least one Network")
        for i, net in enumerate(networks):
            if not isinstance(net, Network):
                raise TypeError(f"networks[{i}] must be a Network, got {type(net).__name__}")
        first = networks[0]
        for i, net in enumerate(networks[1:], start=1):
            if net.layers != first.layers:
                raise ValueError(f"networks[{i}] has layers {net.layers}, networks[0] has {first.layers}; all must match")
            if net.params != first.params:
                raise ValueError(f"networks[{i}] has different params from networks[0]; all must match")
        check_task(task, first.layers)
        if max_segment_steps is None:
            widest = len(networks) * 3 * max(first.layers[1:])  # columns of the widest per-segment array
            max_segment_steps = int(np.clip(SEGMENT_BYTES // (8 * widest), 32, 8192))
        if isinstance(max_segment_steps, bool) or not isinstance(max_segment_steps, (int, np.integer)) or max_segment_steps < 1:
            raise ValueError(f"max_segment_steps must be a positive integer or None, got {max_segment_steps!r}")
        self.networks, self.task = networks, task
        self.max_segment_steps = int(max_segment_steps)
        p = first.params
        self.params = p
        sizes = first.layers
        n_conn = len(sizes) - 1
        B = len(networks)
        self.step_index = 0
        # per connection k: (B, n_post, n_pre)
        self._W = [np.stack([net.weights[k] for net in networks]).astype(float) for k in range(n_conn)]
        self._v = [np.zeros_like(w) for w in self._W]
        # per-synapse sums, stored transposed (B, n_pre, n_post): a presynaptic spike adds a row
        self._m = [np.zeros((B, sizes[k], sizes[k + 1])) for k in range(n_conn)]
        self._elig_rise = [np.zeros_like(m) for m in self._m]  # P: exponential stage of λ
        self._elig = [np.zeros_like(m) for m in self._m]  # Q: λ itself
        # per LIF layer l = 1..L (index l-1): (B, n_l)
        self._I = [np.zeros((B, n)) for n in sizes[1:]]
        self._U = [np.full((B, n), p.u_rest_V) for n in sizes[1:]]
        self._last_spike = [np.full((B, n), _NEVER, dtype=np.int64) for n in sizes[1:]]
        # presynaptic traces of connection k; the input is shared by all networks
        self._z = [np.zeros((1 if k == 0 else B, sizes[k])) for k in range(n_conn)]
        self._z_tilde = [np.zeros((1 if k == 0 else B, sizes[k])) for k in range(n_conn)]
        # the last n_d steps of spikes of every LIF layer that feeds another one
        self._history = [None] + [np.zeros((p.n_delay, B, sizes[k]), dtype=bool) for k in range(1, n_conn)]
        self._err_rise = np.zeros((B, sizes[-1]))
        self._err = np.zeros((B, sizes[-1]))
        self._zh = [np.zeros((B, n)) for n in sizes[1:-1]]
        self._q_auryn = np.zeros((B, sizes[-1]))
        self._cycle_err2 = np.zeros((B, sizes[-1]))
        self._error_state = [task.initial_error_state() for _ in networks]

    # --- public views ------------------------------------------------------------------
    @property
    def n_networks(self) -> int:
        return len(self.networks)

    @property
    def weights(self) -> list:
        return [[w[b] for w in self._W] for b in range(self.n_networks)]

    @property
    def v(self) -> list:
        return [[v[b] for v in self._v] for b in range(self.n_networks)]

    @property
    def m(self) -> list:
        return [[m[b].T for m in self._m] for b in range(self.n_networks)]

    _STATE = ("step_index", "_W", "_v", "_m", "_elig_rise", "_elig", "_I", "_U", "_last_spike", "_z", "_z_tilde",
              "_history", "_err_rise", "_err", "_zh", "_q_auryn", "_cycle_err2", "_error_state")

    def checkpoint_state(self) -> dict:
        """The engines' whole state as numbers and arrays (see :mod:`superspike_ref.checkpoint`)."""
        return {name: getattr(self, name) for name in self._STATE}

    def restore_checkpoint_state(self, state: dict) -> None:
        """Continue from a state returned by :meth:`checkpoint_state` (of engines of the same networks)."""
        for name in self._STATE:
            setattr(self, name, state[name])

    # --- running ---------------------------------------------------------------------
    def run(self, n_steps: int, record=(), progress: bool = False) -> list:
        """Simulate ``n_steps`` more steps of every network; one :class:`RunResult` per network.

        ``record`` takes the names of :data:`FAST_RECORDABLE` (SPEC §9 keys without
        ``lambda`` and ``m``, which raise ``ValueError``). Like the literal engine, it raises
        ``ValueError`` if the recording would not fit in memory and ``FloatingPointError`` at the
        first weight update with a non-finite ``m``, ``v`` or ``W``
        (:func:`~superspike_ref.network.check_finite_state`; the message names the network if
        there are several).
        """
        n_steps = _check_n_steps(n_steps)
        record = _check_fast_record(record, self.networks)
        p, n_b = self.params, self.params.n_batch
        rec = _Recording(record, self.networks, int(n_steps))
        rec.weights(self._W, self._v, initial=True)
        curves = [_Curves() for _ in self.networks]
        t_start = self.step_index * p.dt_s
        start, end = self.step_index, self.step_index + int(n_steps)
        bar = _progress_bar(int(n_steps), progress, self.name)
        n0 = start
        while n0 < end:
            n1 = min(end, (n0 // n_b + 1) * n_b, n0 + self.max_segment_steps)
            self._segment(n0, n1, rec, start, curves)
            self.step_index = n1
            if n1 % n_b == 0:
                self._update(n1 - 1)
                rec.weights(self._W, self._v)
            if curves[0].vr:
                bar.set_postfix_str(f"vr_distance={curves[0].vr[-1]:.3f}", refresh=False)
            bar.update(n1 - n0)
            n0 = n1
        bar.close()
        n_out = self.networks[0].layers[-1]
        return [
            RunResult(
                t_start_s=t_start,
                n_steps=int(n_steps),
                traces=rec.result(b),
                cycle_end_s=np.array(c.ends),
                vr_distance=np.array(c.vr),
                vr_distance_per_neuron=np.array(c.vr_neuron).reshape(len(c.vr), n_out),
                auryn_mse=np.array(c.mse),
            )
            for b, c in enumerate(curves)
        ]

    def _update(self, n: int) -> None:
        """Apply every network's optimiser at the end of step ``n`` (SPEC §4), as the literal engine."""
        p = self.params
        t_s = n * p.dt_s
        for b, net in enumerate(self.networks):
            rate = learning_rate(t_s, p.r0, net.schedule)
            for k in range(len(self._W)):
                if net.plastic[k]:
                    w, v = optimizer_step(
                        net.optimizer, self._W[k][b], self._m[k][b].T, self._v[k][b], p.n_batch, rate, p,
                        frozen=t_s < net.t_burn_s,
                    )
                    self._W[k][b] = w
                    self._v[k][b] = v
        for k in range(len(self._W)):
            m = self._m[k].transpose(0, 2, 1)  # stored transposed, (B, n_pre, n_post)
            check_finite_state(n, k, (("m", m), ("v", self._v[k]), ("W", self._W[k])))
            self._m[k][...] = 0.0

    # --- one segment: steps n0 .. n1-1 with constant weights ---------------------------
    def _segment(self, n0: int, n1: int, rec: "_Recording", run_start: int, curves: list) -> None:
        p, task = self.params, self.task
        T = n1 - n0
        n_conn = len(self._W)
        arriving, currents, u_tilde, spikes = self._forward(n0, n1)
        sigma_prime = [surrogate_grad(Ut, p.theta_V, p.beta_per_V, p.u_cut_V) for Ut in u_tilde]
        # output error and its adjoint (SPEC §3)
        a, c = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
        impulses = np.empty(spikes[-1].shape)
        for b in range(self.n_networks):
            impulses[:, b], self._error_state[b] = task.error_impulses(n0, spikes[-1][:, b], self._error_state[b])
        err = kernel_filter(impulses, a, c, self._err_rise, self._err)
        self._err_rise, self._err = end_state(impulses, a, self._err_rise), err[-1].copy()
        q_pow = powers(1.0 - c, T + 1)
        adj = kernel_filter_adjoint(err, a, c)
        alpha = np.tensordot(q_pow[1:], err, axes=(0, 0))
        gated = p.e_gate > 0 and n_conn > 1
        errors = self._hidden_signals(err, None)[0] if gated or "e" in rec.record else None
        if gated:
            # error gate (original code): each hidden layer's own error, zero where |e_i| < e_gate,
            # through the same (linear) adjoint path as the output error
            gates = [np.abs(e) >= p.e_gate for e in errors[:-1]]
            gated_errors = [np.where(g, e, 0.0) for g, e in zip(gates, errors)]
            adjoints = [kernel_filter_adjoint(e, a, c) for e in gated_errors] + [adj]
            alphas = [np.tensordot(q_pow[1:], e, axes=(0, 0)) for e in gated_errors] + [alpha]
        else:
            adjoints, alphas = self._hidden_signals(adj, alpha)
        # accumulate m, advance the eligibility state, then the presynaptic traces
        for k in range(n_conn):
            self._accumulate(k, T, arriving[k], sigma_prime[k], adjoints[k], alphas[k])
            if k < n_conn - 1 and p.rho > 0:
                zh = first_order(spikes[k], p.decay(p.tau_het_s), 1.0, self._zh[k])
                self._zh[k] = zh[-1].copy()
                zh_a = zh**p.a
                if gated:
                    zh_a *= gates[k]
                self._m[k] -= p.rho * self._W[k].transpose(0, 2, 1) * np.sum(zh_a, axis=0)[:, None, :]
        traces = self._advance_traces(T, arriving, "z" in rec.record or "z_tilde" in rec.record)
        self._curves(n0, err, curves)
        rec.segment(n0 - run_start, T, u_tilde, spikes, currents, sigma_prime, errors, traces)

    def _input_arriving(self, n0: int, n1: int) -> np.ndarray:
        """Input spikes arriving at steps n0..n1-1, ``S_in[n - n_d]`` (none before ``n_d``): ``(T, 1, n_in)``."""
        n_d = self.params.n_delay
        A = np.zeros((n1 - n0, 1, self.task.n_in), dtype=bool)
        lo = max(n0 - n_d, 0)
        if n1 - n_d > lo:
            A[lo - (n0 - n_d):, 0] = self.task.input_block(lo, n1 - n_d)
        return A

    def _delayed(self, k: int, S: np.ndarray) -> np.ndarray:
        """Spikes of LIF layer ``k`` arriving at connection ``k`` (delay ``n_d``); keeps the last ``n_d`` steps."""
        n_d = self.params.n_delay
        if n_d == 0:
            return S
        joined = np.concatenate([self._history[k], S])
        self._history[k] = joined[-n_d:].copy()
        return joined[: len(S)]

    def _forward(self, n0: int, n1: int):
        """Spikes and membrane of every LIF layer over steps n0..n1-1 (SPEC §2).

        Returns lists (per connection / LIF layer) of the arriving spikes ``A_k``, the currents
        ``I``, the potentials ``Ũ`` and the spikes ``S``, each ``(T, B or 1, n)``. Layers are
        simulated one after the other over the whole segment, or, when the axonal delay is at
        least :data:`_MERGE_MIN_DELAY` steps, all together in chunks of ``n_d`` steps (the
        drive of a layer in a chunk only needs the previous layer's spikes of the chunk before).
        """
        p = self.params
        A = self._input_arriving(n0, n1)
        n_conn = len(self._W)
        if n_conn > 1 and p.n_delay >= _MERGE_MIN_DELAY and _fast_path(p):
            return self._forward_merged(n0, n1, A)
        arriving, currents, u_tilde, spikes = [], [], [], []
        for k in range(n_conn):
            arriving.append(A)
            I = first_order(_drive(A, self._W[k]), p.decay(p.tau_syn_s), 1.0, self._I[k])
            Ut, S = self._lif([k], I, n0)
            currents.append(I)
            u_tilde.append(Ut)
            spikes.append(S)
            if k + 1 < n_conn:
                A = self._delayed(k + 1, S)
        return arriving, currents, u_tilde, spikes

    def _forward_merged(self, n0: int, n1: int, A0: np.ndarray):
        """All LIF layers in one step loop; layer ``l+1``'s current is computed ``n_d`` steps at a time."""
        p = self.params
        T, B = n1 - n0, self.n_networks
        sizes = self.networks[0].layers[1:]
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        parts = [slice(int(bounds[l]), int(bounds[l + 1])) for l in range(len(sizes))]
        n_d, d_syn = p.n_delay, p.decay(p.tau_syn_s)
        I = np.empty((T, B, int(bounds[-1])))
        I[:, :, parts[0]] = first_order(_drive(A0, self._W[0]), d_syn, 1.0, self._I[0])
        spikes_ext = np.zeros((n_d + T, B, int(bounds[-1])), dtype=bool)  # row i: step n0 - n_d + i
        for l in range(len(sizes) - 1):
            spikes_ext[:n_d, :, parts[l]] = self._history[l + 1]
        W_cols = [None] + [np.ascontiguousarray(w.transpose(0, 2, 1)) for w in self._W[1:]]
        lag = np.arange(n_d)[:, None] - np.arange(n_d)[None, :]
        toeplitz = np.where(lag >= 0, d_syn ** np.maximum(lag, 0).astype(float), 0.0)
        carry = d_syn ** np.arange(1, n_d + 1, dtype=float)
        I_prev = [None] + self._I[1:]

        def chunk_currents(t0: int, t1: int) -> None:
            c = t1 - t0
            for l in range(1, len(sizes)):
                out = I[t0:t1, :, parts[l]]
                np.multiply(carry[:c, None, None], I_prev[l], out=out)
                arriving = spikes_ext[t0:t1, :, parts[l - 1]]  # emitted n_d steps earlier
                if arriving.any():
                    t_idx, b_idx, j_idx = np.nonzero(arriving)
                    drive = np.zeros((c, B, sizes[l]))
                    np.add.at(drive, (t_idx, b_idx), W_cols[l][b_idx, j_idx])
                    out += (toeplitz[:c, :c] @ drive.reshape(c, -1)).reshape(c, B, sizes[l])
                I_prev[l] = out[-1]

        layers = list(range(len(sizes)))
        Ut, S = self._lif(layers, I, n0, chunk=(n_d, chunk_currents), spikes=spikes_ext[n_d:])
        for l in range(len(sizes) - 1):
            self._history[l + 1] = spikes_ext[T:, :, parts[l]].copy()
        arriving = [A0] + [spikes_ext[:T, :, parts[l]] for l in range(len(sizes) - 1)]
        return (
            arriving,
            [I[:, :, part] for part in parts],
            [Ut[:, :, part] for part in parts],
            [S[:, :, part] for part in parts],
        )

    def _lif(self, layers: list, I: np.ndarray, n0: int, chunk=None, spikes=None):
        """Threshold, reset and refractoriness of LIF layers (list indices ``layers``), step by step.

        ``I`` ``(T, B, n)`` holds the layers' currents side by side (SPEC §2 (a)); with
        ``chunk = (C, fill)``, ``fill(t0, t1)`` writes the currents of steps t0..t1-1 just
        before they are needed, in chunks of ``C`` steps. Returns ``Ũ`` and ``S``, ``(T, B, n)``.
        ``Ũ = U + dt/tau_mem * (u_rest - U + I)`` is evaluated with the operations of
        :func:`~superspike_ref.neuron.membrane_update`, in the same order.
        """
        p = self.params
        T, B, n = I.shape
        rows = np.empty((T + 1, B, n))  # row t+1: step n0+t
        rows[0] = np.concatenate([self._U[l] for l in layers], axis=1)
        S = np.zeros((T, B, n), dtype=bool) if spikes is None else spikes
        last = np.concatenate([self._last_spike[l] for l in layers], axis=1)
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
            state = {"U": rows[0].copy(), "refractory": ~active, "active": active, "tmp": np.empty((B, n))}
            U_rows, I_rows, S_rows = list(rows), list(I), list(S)
            for t0 in range(0, T, size):
                t1 = min(T, t0 + size)
                if fill is not None:
                    fill(t0, t1)
                _general_steps(U_rows, I_rows, S_rows, last, t0, t1, n0 + t0, p, state)
            U_end = state["U"]
        start = 0
        for l in layers:
            width = self._U[l].shape[1]
            part = slice(start, start + width)
            self._U[l] = U_end[:, part].copy()
            self._I[l] = I[-1, :, part].copy()
            self._last_spike[l] = last[:, part].copy()
            start += width
        return rows[1:], S

    def _hidden_signals(self, signal: np.ndarray, alpha):
        """Map an output-layer signal ``(T, B, n_out)`` (and ``α``) to every LIF layer (SPEC §3 feedback).

        Returns lists indexed by LIF layer (first hidden layer first, output last).
        """
        n_conn = len(self._W)
        T, B, _ = signal.shape
        sizes = self.networks[0].layers
        out = [np.empty((T, B, n)) for n in sizes[1:-1]] + [signal]
        out_alpha = [None if alpha is None else np.empty((B, n)) for n in sizes[1:-1]] + [alpha]
        for b, net in enumerate(self.networks):
            for l in range(n_conn - 1, 0, -1):  # hidden LIF layer l (1-based), list index l-1
                if net.feedback == "symmetric":
                    F = self._W[l][b]
                    src, src_alpha = out[l][:, b], None if alpha is None else out_alpha[l][b]
                else:
                    F = net.feedback_matrices[l - 1]
                    src, src_alpha = signal[:, b], None if alpha is None else alpha[b]
                out[l - 1][:, b] = src @ F
                if alpha is not None:
                    out_alpha[l - 1][b] = src_alpha @ F
        return out, out_alpha

    def _accumulate(self, k: int, T: int, A: np.ndarray, sp: np.ndarray, adj: np.ndarray, alpha: np.ndarray) -> None:
        """Add the segment's ``Σ_t e λ`` to ``m_k`` and advance the eligibility state (module docstring).

        The three row sets ``ẽσ′``, ``a^{T-1-s} σ′`` and ``K[T-1-s] σ′`` are written straight into
        the blocks of the backward ``K_syn`` filter, which also returns ``Σ_s q_mem^{s+1} rows[s]``
        (the weight of ``z̃⁰``) in the same pass.
        """
        p = self.params
        a, c = p.decay(p.tau_rise_s), p.dt_s / p.tau_decay_s
        a_syn, c_mem = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
        _, B, n = sp.shape
        K = kernel_sequence(T, a, c)
        xa, L = block_buffer(T, B * 3 * n)
        n_blocks, full = xa.shape[0], T // L
        blocks = xa.reshape(n_blocks, -1, B, 3, n)
        time_weights = (powers(a, T)[::-1], K[::-1])
        for lo, hi, dst in ((0, full * L, blocks[:full, :L]), (full * L, T, blocks[full:, : T - full * L])):
            if hi > lo:
                shape = dst.shape[:2] + (B, n)
                s_part = sp[lo:hi].reshape(shape)
                np.multiply(adj[lo:hi].reshape(shape), s_part, out=dst[..., 0, :])
                for r, w in enumerate(time_weights, start=1):
                    np.multiply(s_part, w[lo:hi].reshape(shape[:2] + (1, 1)), out=dst[..., r, :])
        q_row = powers(1.0 - c_mem, L)[None, :]
        filtered, extra = kernel_adjoint_blocked(xa, L, a_syn, c_mem, extra_rows=q_row)
        filtered = filtered[:T].reshape(T, B, 3 * n)  # Σ_{s>=r} K_syn[s-r] rows[s]
        h_q = np.tensordot(powers(1.0 - c_mem, n_blocks * L)[::L] * (1.0 - c_mem), extra[:, 0], axes=(0, 0))
        h_z = a_syn * filtered[0]
        # Σ_s rows[s] z̃[s] = h_q z̃⁰ + h_z z⁰ + Σ_{spikes r} filtered[r], as (B, n_pre, 3n)
        H = np.stack([h_q.reshape(B, 3 * n), h_z], axis=1)  # (B, 2, 3n)
        Z = np.stack([self._z_tilde[k], self._z[k]], axis=-1)  # (1 or B, n_pre, 2)
        prod = np.matmul(Z, H)
        _add_spike_sum(prod, filtered, A)
        prod = prod.reshape(B, -1, 3, n)
        P, Q, m = self._elig_rise[k], self._elig[k], self._m[k]
        m += prod[:, :, 0]
        m += alpha[:, None, :] * Q
        m += (a * adj[0])[:, None, :] * P
        Q *= (1.0 - c) ** T
        Q += (a * K[-1]) * P
        Q += prod[:, :, 2]
        P *= a**T
        P += prod[:, :, 1]

    def _advance_traces(self, T: int, arriving: list, full: bool):
        """Presynaptic traces ``z``, ``z̃`` at the segment end (and over it if ``full``)."""
        p = self.params
        a_syn, c_mem = p.decay(p.tau_syn_s), p.dt_s / p.tau_mem_s
        K_syn = kernel_sequence(T, a_syn, c_mem)
        weights = np.stack([powers(a_syn, T)[::-1], K_syn[::-1]])  # (2, T)
        traces = []
        for k, A in enumerate(arriving):
            z0, zt0 = self._z[k], self._z_tilde[k]
            if full:
                z = first_order(A, a_syn, 1.0, z0)
                traces.append((z, first_order(z, 1.0 - c_mem, c_mem, zt0)))
            t, col = np.divmod(np.flatnonzero(A.reshape(-1)), A.shape[1] * A.shape[2])
            sums = [np.bincount(col, weights=w[t], minlength=z0.size).reshape(z0.shape) for w in weights]
            self._z[k] = a_syn**T * z0 + sums[0]
            self._z_tilde[k] = (1.0 - c_mem) ** T * zt0 + (a_syn * K_syn[-1]) * z0 + sums[1]
        return traces

    def _curves(self, n0: int, err: np.ndarray, curves: list) -> None:
        """Per-cycle van Rossum distance and the original code's running MSE (SPEC §7)."""
        p, n_cycle = self.params, self.task.n_cycle
        T = len(err)
        err2 = err**2
        x_auryn = (p.dt_s / p.tau_rise_s * err) ** 2 * p.dt_s
        decay = math.exp(-p.dt_s / AURYN_MSE_TAU_S)
        first_end = (-(n0 + 1)) % n_cycle  # local index of the first step n with (n+1) % n_cycle == 0
        bounds = list(range(first_end, T, n_cycle))
        start = 0
        for stop in bounds + [None]:
            stop_excl = T if stop is None else stop + 1
            if stop_excl > start:
                self._cycle_err2 += np.sum(err2[start:stop_excl], axis=0)
                w = powers(decay, stop_excl - start)[::-1]
                self._q_auryn = decay ** (stop_excl - start) * self._q_auryn + np.tensordot(w, x_auryn[start:stop_excl], axes=(0, 0))
            if stop is not None:
                t_end = (n0 + stop + 1) * p.dt_s
                for b, c in enumerate(curves):
                    per_neuron = vr_distance_from_energy(self._cycle_err2[b], p, per_neuron=True)
                    c.ends.append(t_end)
                    c.vr_neuron.append(per_neuron)
                    c.vr.append(float(np.mean(per_neuron)))
                    c.mse.append(auryn_mse_value(self._q_auryn[b], t_end, p))
                self._cycle_err2 = np.zeros_like(self._cycle_err2)
            start = stop_excl


class FastEngine:
    """The fast exact engine for one network, with the interface of :class:`~superspike_ref.network.LiteralEngine`.

    Each call of :meth:`run` continues the same simulation. Use :meth:`batch` (or
    :class:`BatchFastEngine`) to run several networks in one pass.

    Parameters
    ----------
    network : Network
    task : CyclicTask or XorTask
    max_segment_steps : int or None
        Longest stretch simulated in one piece (see :class:`BatchFastEngine`).
    """

    name = "fast"

    def __init__(self, network: Network, task, max_segment_steps: int | None = None) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        self.network, self.task = network, task
        self._batch = BatchFastEngine([network], task, max_segment_steps)

    @classmethod
    def batch(cls, networks, task, max_segment_steps: int | None = None) -> BatchFastEngine:
        """A :class:`BatchFastEngine` running ``networks`` side by side on ``task``."""
        return BatchFastEngine(networks, task, max_segment_steps)

    @property
    def step_index(self) -> int:
        return self._batch.step_index

    @property
    def weights(self) -> list:
        return self._batch.weights[0]

    @property
    def v(self) -> list:
        return self._batch.v[0]

    @property
    def m(self) -> list:
        return self._batch.m[0]

    def run(self, n_steps: int, record=(), progress: bool = False) -> RunResult:
        """Simulate ``n_steps`` more steps (see :meth:`BatchFastEngine.run`)."""
        return self._batch.run(n_steps, record, progress)[0]


# --- helpers ----------------------------------------------------------------------------

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
        sub, add, mul, greater, count = np.subtract, np.add, np.multiply, np.greater, np.count_nonzero
        for t, prev, cur, current, s in zip(range(t0, t1), rows[t0:t1], rows[t0 + 1:t1 + 1], drive[t0:t1], S[t0:t1]):
            sub(u_rest, prev, tmp)
            add(tmp, current, tmp)
            mul(tmp, k_mem, tmp)
            add(tmp, prev, cur)
            greater(cur, theta, s)
            if count(s):
                np.copyto(last, n0 + t, where=s)
                self.resets.append((t, s, cur[s]))
                np.copyto(cur, u_rest, where=s)
                drive[t + 1:min(t + 1 + n_ref, t1), s] = 0.0
                self.refractory_until = n0 + t + n_ref

    def finish(self) -> np.ndarray:
        """Put the values before the reset back; return ``U`` after the last step."""
        U_end = self.rows[-1].copy()
        for t, s, values in self.resets:
            self.rows[t + 1][s] = values
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


def _check_fast_record(record, networks) -> tuple:
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    refused = [r for r in record if r in NOT_RECORDABLE]
    if refused:
        raise ValueError(
            f"the fast engine cannot record {refused}: it never forms the per-synapse, per-step traces "
            f"'lambda' and 'm' (use LiteralEngine for them); recordable: {FAST_RECORDABLE}"
        )
    for net in networks:
        _check_record(record, net)
    return record


def _drive(A: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``D[t, b] = W_b @ A[t, b]`` for arriving spikes ``A`` ``(T, 1 or B, n_pre)``; only rows with spikes are multiplied."""
    T, n_src, n_pre = A.shape
    B, n_post, _ = W.shape
    D = np.zeros((T, B, n_post))
    if n_src == 1:
        A2 = A[:, 0]
        rows = np.flatnonzero(A2.any(axis=1))
        if rows.size:
            D.reshape(T, B * n_post)[rows] = A2[rows].astype(float) @ W.reshape(B * n_post, n_pre).T
    else:
        for b in range(B):
            A2 = A[:, b]
            rows = np.flatnonzero(A2.any(axis=1))
            if rows.size:
                D[rows, b] = A2[rows].astype(float) @ W[b].T
    return D


def _add_spike_sum(out: np.ndarray, x: np.ndarray, A: np.ndarray, dense_fraction: float = _DENSE_FRACTION) -> None:
    """``out[b, j, r] += Σ_t A[t, b, j] x[t, b, r]`` for a boolean raster ``A`` ``(T, 1 or B, n_pre)``.

    ``out`` is ``(B, n_pre, R)``. Adds one row of ``x`` per spike when the raster is sparse
    (in time order, one pass per spike rank so that fancy indices stay unique), else one
    dense product.
    """
    T, B, R = x.shape
    n_src, n_pre = A.shape[1:]
    flat = np.flatnonzero(A.reshape(-1))
    if flat.size == 0:
        return
    if flat.size > dense_fraction * A.size:
        if n_src == 1:
            out += (A[:, 0].T.astype(float) @ x.reshape(T, B * R)).reshape(n_pre, B, R).transpose(1, 0, 2)
        else:
            for b in range(B):
                out[b] += A[:, b].T.astype(float) @ x[:, b]
        return
    t, key = np.divmod(flat, n_src * n_pre)  # key = b * n_pre + j (b = 0 for a shared raster)
    order = np.argsort(key, kind="stable")
    t, key = t[order], key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(key.size), 0))
    rank = np.arange(key.size) - group_start
    if n_src == 1:
        rows = x[t].transpose(1, 0, 2)  # (B, n_spikes, R)
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            out[:, key[sel]] += rows[:, sel]
    else:
        target = out.reshape(B * n_pre, R)
        rows = x[t, key // n_pre]
        for r in range(int(rank.max()) + 1):
            sel = rank == r
            target[key[sel]] += rows[sel]


class _Curves:
    def __init__(self) -> None:
        self.ends, self.vr, self.vr_neuron, self.mse = [], [], [], []


class _Recording:
    """Per-network traces with SPEC §9 keys, filled a segment at a time."""

    def __init__(self, record: tuple, networks: list, n_steps: int) -> None:
        self.record = record
        sizes = networks[0].layers
        n_conn = len(sizes) - 1
        self.data = _allocate_traces(sizes, n_steps, record, networks[0].params.n_batch, len(networks))
        self.lists = [{name: [[] for _ in range(n_conn)] for name in ("W", "v") if name in record} for _ in networks]
        self.shapes = [(sizes[k + 1], sizes[k]) for k in range(n_conn)]

    def weights(self, W: list, v: list, initial: bool = False) -> None:
        for b, lists in enumerate(self.lists):
            for name, values in (("W", W), ("v", v)):
                if name in lists and not (initial and name == "v"):
                    for k, x in enumerate(values):
                        lists[name][k].append(x[b].copy())

    def segment(self, i0, T, u_tilde, spikes, currents, sigma_prime, errors, traces) -> None:
        if not any(self.data):
            return
        sl = slice(i0, i0 + T)
        for b, d in enumerate(self.data):
            for l in range(1, len(u_tilde) + 1):
                for name, values in (("U_tilde", u_tilde), ("S", spikes), ("I", currents), ("sigma_prime", sigma_prime), ("e", errors)):
                    if name in self.record:
                        d[f"{name}_{l}"][sl] = values[l - 1][:, b]
            for k, (z, z_tilde) in enumerate(traces):
                src = 0 if z.shape[1] == 1 else b
                for name, values in (("z", z), ("z_tilde", z_tilde)):
                    if name in self.record:
                        d[f"{name}_{k}"][sl] = values[:, src]

    def result(self, b: int) -> dict:
        out = dict(self.data[b])
        for name, per_conn in self.lists[b].items():
            for k, xs in enumerate(per_conn):
                out[f"{name}_{k}"] = np.stack(xs) if xs else np.zeros((0,) + self.shapes[k])
        return out
