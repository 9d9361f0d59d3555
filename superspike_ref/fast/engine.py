"""The fast engine's drivers: :class:`BatchFastEngine` (``n_networks`` networks in one pass) and :class:`FastEngine`.

A run is cut into segments of constant weights (they end at every weight update, SPEC §4,
and after at most ``max_segment_steps`` steps). Each segment is the forward pass
(:mod:`.forward`, :mod:`.lif`), then the learning accumulation (:mod:`.learning`), then the
recording and learning curves (:mod:`.recording`), handed to the run shell that the literal
engine uses too (:class:`~superspike_ref.recording.RunShell`); at batch ends every network gets
the literal engine's update (:func:`~superspike_ref.core.update_weights`). See the package
docstring (:mod:`superspike_ref.fast`) for why this is exact.
"""
from __future__ import annotations

import numpy as np

from ..core import update_weights
from ..network import Network, RunResult, _check_n_steps, check_task
from ..recording import RunShell
from ..surrogate import surrogate_grad
from .forward import forward
from .learning import accumulate, advance_traces, learning_signals, output_error, regularise
from .lif import _NEVER
from .recording import _check_fast_record, segment_curves, segment_traces

SEGMENT_BYTES = 3 * 2**19
"""Target size of the largest per-segment array, 1.5 MiB (see ``max_segment_steps``).

Small temporaries stay in cache and are recycled by the C allocator; segments whose arrays
are several MiB made glibc hand memory back and forth to the kernel (tens of thousands of
page faults per simulated second, 40 % of the run time)."""
MIN_SEGMENT_STEPS = 128
"""Shortest default segment. At every segment end each connection's per-synapse state (``m``,
``λ`` and its rise stage, ``n_net × n_pre × n_post``) is updated in a few passes; a batch of wide
networks (3 × 100→256→100: 85 steps by :data:`SEGMENT_BYTES` alone) spent more in those passes
than it gained in cache, and ran 10-30 % faster with 128-170 steps (docs/fast_engine.md §6)."""


class BatchFastEngine:
    """``n_networks`` independent networks with equal layer sizes and parameters, run on one task.

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
        :data:`SEGMENT_BYTES` (cache-sized: the work is memory-bound), between :data:`MIN_SEGMENT_STEPS`
        and 8192 steps.

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
            max_segment_steps = int(np.clip(SEGMENT_BYTES // (8 * widest), MIN_SEGMENT_STEPS, 8192))
        if isinstance(max_segment_steps, bool) or not isinstance(max_segment_steps, (int, np.integer)) or max_segment_steps < 1:
            raise ValueError(f"max_segment_steps must be a positive integer or None, got {max_segment_steps!r}")
        self.networks, self.task = networks, task
        self.max_segment_steps = int(max_segment_steps)
        p = first.params
        self.params = p
        sizes = first.layers
        n_conn = len(sizes) - 1
        n_net = len(networks)
        self.step_index = 0
        # per connection k: (n_net, n_post, n_pre)
        self._W = [np.stack([net.weights[k] for net in networks]).astype(float) for k in range(n_conn)]
        self._v = [np.zeros_like(w) for w in self._W]
        # per-synapse sums, stored transposed (n_net, n_pre, n_post): a presynaptic spike adds a row
        self._m = [np.zeros((n_net, sizes[k], sizes[k + 1])) for k in range(n_conn)]
        self._elig_rise = [np.zeros_like(m) for m in self._m]  # P: exponential stage of λ
        self._elig = [np.zeros_like(m) for m in self._m]  # Q: λ itself
        # per LIF layer l = 1..L (index l-1): (n_net, n_l)
        self._I = [np.zeros((n_net, n)) for n in sizes[1:]]
        self._U = [np.full((n_net, n), p.u_rest_V) for n in sizes[1:]]
        self._last_spike = [np.full((n_net, n), _NEVER, dtype=np.int64) for n in sizes[1:]]
        # presynaptic traces of connection k; the input is shared by all networks
        self._z = [np.zeros((1 if k == 0 else n_net, sizes[k])) for k in range(n_conn)]
        self._z_tilde = [np.zeros((1 if k == 0 else n_net, sizes[k])) for k in range(n_conn)]
        # the last n_d steps of spikes of every LIF layer that feeds another one
        self._history = [None] + [np.zeros((p.n_delay, n_net, sizes[k]), dtype=bool) for k in range(1, n_conn)]
        self._err_rise = np.zeros((n_net, sizes[-1]))
        self._err = np.zeros((n_net, sizes[-1]))
        self._zh = [np.zeros((n_net, n)) for n in sizes[1:-1]]
        self._q_auryn = np.zeros((n_net, sizes[-1]))
        self._cycle_err2 = np.zeros((n_net, sizes[-1]))
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
        t_start, start, end = self.step_index * p.dt_s, self.step_index, self.step_index + n_steps
        with RunShell(self.name, self.networks[0].layers, p, record, n_steps, self.n_networks, progress) as shell:
            shell.weights(self._W, self._v, initial=True)
            n0 = start
            while n0 < end:
                n1 = min(end, (n0 // n_b + 1) * n_b, n0 + self.max_segment_steps)
                self._segment(n0, n1, shell, start)
                self.step_index = n1
                if n1 % n_b == 0:
                    self._update(n1 - 1)
                    shell.weights(self._W, self._v)
                shell.advance(n1 - n0)
                n0 = n1
        return shell.results(t_start)

    def _update(self, n: int) -> None:
        """Every network's weight update at the end of step ``n``: :func:`~superspike_ref.core.update_weights` (SPEC §4)."""
        for b, net in enumerate(self.networks):
            m = [m[b].T for m in self._m]  # stored transposed, (n_pre, n_post)
            try:
                W, _, v = update_weights(net, [w[b] for w in self._W], m, [v[b] for v in self._v], n)
            except FloatingPointError as err:
                raise FloatingPointError(f"network {b}, {err}" if self.n_networks > 1 else str(err)) from None
            for k, (w_k, v_k) in enumerate(zip(W, v)):
                self._W[k][b], self._v[k][b] = w_k, v_k
        for m in self._m:
            m[...] = 0.0

    # --- one segment: steps n0 .. n1-1 with constant weights ---------------------------
    def _segment(self, n0: int, n1: int, shell: RunShell, run_start: int) -> None:
        p, task = self.params, self.task
        T = n1 - n0
        n_conn = len(self._W)
        arriving, currents, u_tilde, spikes = forward(
            p, task, self._W, (self._U, self._I, self._last_spike), self._history, n0, n1, shell.wants("I")
        )
        sigma_prime = [surrogate_grad(Ut, p.theta_V, p.beta_per_V, p.u_cut_V) for Ut in u_tilde]
        # output error and its adjoint (SPEC §3), mapped to every LIF layer
        err, self._err_rise, self._err = output_error(p, task, spikes[-1], n0, self._error_state, self._err_rise, self._err)
        errors, gates, adjoints, gains_elig0 = learning_signals(p, err, self._W, self.networks, shell.wants("e"))
        # accumulate m, advance the eligibility state, then the presynaptic traces
        for k in range(n_conn):
            accumulate(p, T, arriving[k], sigma_prime[k], adjoints[k], gains_elig0[k],
                       self._z[k], self._z_tilde[k], self._elig_rise[k], self._elig[k], self._m[k])
            if k < n_conn - 1 and p.rho > 0:
                regularise(p, spikes[k], self._zh, k, self._W[k], self._m[k], None if gates is None else gates[k])
        presynaptic = advance_traces(p, T, arriving, shell.wants("z", "z_tilde"), self._z, self._z_tilde)
        self._cycle_err2, self._q_auryn = segment_curves(p, task.n_cycle, n0, err, shell, self._cycle_err2, self._q_auryn)
        shell.write(n0 - run_start, segment_traces(u_tilde, spikes, currents, sigma_prime, errors, presynaptic))


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
