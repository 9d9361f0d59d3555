"""The fast engine's drivers: :class:`BatchFastEngine` (``B`` networks in one pass) and :class:`FastEngine`.

A run is cut into segments of constant weights (they end at every weight update, SPEC §4,
and after at most ``max_segment_steps`` steps). Each segment is the forward pass
(:mod:`.forward`, :mod:`.lif`), then the learning accumulation (:mod:`.learning`), then the
recording and learning curves (:mod:`.recording`); the optimiser runs at batch ends. See the
package docstring (:mod:`superspike_ref.fast`) for why this is exact.
"""
from __future__ import annotations

import numpy as np

from ..network import Network, RunResult, _check_n_steps, _progress_bar, check_finite_state, check_task
from ..optimizers import learning_rate, optimizer_step
from ..surrogate import surrogate_grad
from .forward import forward
from .learning import accumulate, advance_traces, learning_signals, output_error, regularise
from .lif import _NEVER
from .recording import _check_fast_record, _Curves, _Recording, add_curves

SEGMENT_BYTES = 3 * 2**19
"""Target size of the largest per-segment array, 1.5 MiB (see ``max_segment_steps``).

Small temporaries stay in cache and are recycled by the C allocator; segments whose arrays
are several MiB made glibc hand memory back and forth to the kernel (tens of thousands of
page faults per simulated second, 40 % of the run time)."""


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
    def _segment(self, n0: int, n1: int, rec: _Recording, run_start: int, curves: list) -> None:
        p, task = self.params, self.task
        T = n1 - n0
        n_conn = len(self._W)
        arriving, currents, u_tilde, spikes = forward(
            p, task, self._W, (self._U, self._I, self._last_spike), self._history, n0, n1
        )
        sigma_prime = [surrogate_grad(Ut, p.theta_V, p.beta_per_V, p.u_cut_V) for Ut in u_tilde]
        # output error and its adjoint (SPEC §3), mapped to every LIF layer
        err, self._err_rise, self._err = output_error(p, task, spikes[-1], n0, self._error_state, self._err_rise, self._err)
        errors, gates, adjoints, alphas = learning_signals(p, err, self._W, self.networks, "e" in rec.record)
        # accumulate m, advance the eligibility state, then the presynaptic traces
        for k in range(n_conn):
            accumulate(p, T, arriving[k], sigma_prime[k], adjoints[k], alphas[k],
                       self._z[k], self._z_tilde[k], self._elig_rise[k], self._elig[k], self._m[k])
            if k < n_conn - 1 and p.rho > 0:
                regularise(p, spikes[k], self._zh, k, self._W[k], self._m[k], None if gates is None else gates[k])
        traces = advance_traces(p, T, arriving, "z" in rec.record or "z_tilde" in rec.record, self._z, self._z_tilde)
        self._cycle_err2, self._q_auryn = add_curves(p, task.n_cycle, n0, err, curves, self._cycle_err2, self._q_auryn)
        rec.segment(n0 - run_start, T, u_tilde, spikes, currents, sigma_prime, errors, traces)


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
