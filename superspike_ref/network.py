r"""Networks of LIF layers and the literal online engine, the project's reference (SPEC §2-§4).

A :class:`Network` is the fixed description of an experiment: layer sizes (input first,
output last), initial weights, parameters, feedback, optimiser, learning-rate schedule
and burn-in. :class:`LiteralEngine` runs it on a :class:`~superspike_ref.tasks.CyclicTask`
one time step at a time, exactly as SPEC states it, with the paper's online rule:

.. math::  \frac{\partial w_{ij}}{\partial t} = r\int ds\; e_i(s)\,\lambda_{ij}(s)
           \qquad\text{(paper eq. 2.5)},

accumulated every step in ``m_ij`` and applied every ``n_b`` steps by the optimiser.
It is written to be read next to SPEC and the paper, not to be fast: every per-synapse
quantity (λ, m) is a full ``(n_post, n_pre)`` array updated at every step. Faster engines
must reproduce it (identical spikes, weights to 1e-9 relative).

Connections are numbered ``k = 0, 1, ...`` (connection ``k`` feeds LIF layer ``k + 1``);
LIF layers ``l = 1 .. L`` (the input is layer 0, the output layer ``L``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .eligibility import accumulate, eligibility_step, psp_trace_step
from .error import auryn_mse_step, auryn_mse_value, error_step, vr_distance_from_energy
from .feedback import FEEDBACK_KINDS, hidden_errors, make_feedback_matrices
from .memory import _short_int, check_memory
from .neuron import LIFState, lif_initial_state, lif_step
from .optimizers import OPTIMIZERS, check_schedule, learning_rate, optimizer_step
from .params import Params
from .regulariser import het_trace_step
from .surrogate import surrogate_grad

__all__ = ["Network", "init_weights", "LiteralEngine", "RunResult", "concat_results", "RECORDABLE", "LAYER_KEYS",
           "CONNECTION_KEYS", "recording_bytes", "check_finite_state"]

LAYER_KEYS = ("U_tilde", "S", "I", "sigma_prime", "e")
"""Per-step traces of LIF layer ``l``, recorded as ``<name>_<l>`` ``(n_steps, n_l)``."""
CONNECTION_KEYS = ("z", "z_tilde", "lambda", "m", "W", "v")
"""Traces of connection ``k``, recorded as ``<name>_<k>`` (shapes in SPEC §9)."""
RECORDABLE = LAYER_KEYS + CONNECTION_KEYS


def recording_bytes(layers, n_steps: int, record, n_networks: int = 1, n_batch: int = 1) -> int:
    """Bytes the engines' recorders allocate to record ``record`` over ``n_steps`` steps.

    Per-step traces (every key but ``W`` and ``v``) take ``n_steps`` rows of their SPEC §9
    shape (``S`` 1 byte per neuron, the others 8); ``W_k`` and ``v_k`` one ``(n_post, n_pre)``
    copy per weight update (``W_k`` one more for the initial weights), counted twice since the
    copies are stacked into one array at the end.

    Parameters
    ----------
    layers : sequence of int
        Layer sizes, input first.
    n_steps : int
        Steps of the run.
    record : iterable of str
        Names from :data:`RECORDABLE`.
    n_networks : int
        Networks recorded side by side (:class:`~superspike_ref.fast.BatchFastEngine`).
    n_batch : int
        Steps per weight update (``params.n_batch``); the default 1 (an update every step)
        gives an upper bound for ``W`` and ``v``.

    Returns
    -------
    int
    """
    layers = _check_layers(layers)
    n_steps = _check_n_steps(n_steps)
    record = _check_record_names(record)
    for name, value in (("n_networks", n_networks), ("n_batch", n_batch)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value!r}")
    layout = _per_step_layout(layers, record)
    per_step = sum(np.dtype(dtype).itemsize * int(np.prod(shape)) for _, shape, dtype in layout)
    n_updates = -(-n_steps // int(n_batch))  # at most one per n_batch steps, wherever the run starts
    copies = ("W" in record) * (n_updates + 1) + ("v" in record) * n_updates
    per_update = sum(8 * n_post * n_pre for n_pre, n_post in zip(layers[:-1], layers[1:]))
    return int(n_networks) * (n_steps * per_step + 2 * copies * per_update)


def _per_step_layout(layers: tuple, record: tuple) -> list:
    """``(key, shape of one step, dtype)`` of every per-step trace of ``record`` (SPEC §9 keys)."""
    n_conn = len(layers) - 1
    layout = []
    for name in LAYER_KEYS:
        if name in record:
            layout += [(f"{name}_{l}", (layers[l],), bool if name == "S" else float) for l in range(1, n_conn + 1)]
    for name in ("z", "z_tilde", "lambda", "m"):
        if name in record:
            layout += [(f"{name}_{k}", (layers[k],) if name in ("z", "z_tilde") else (layers[k + 1], layers[k]), float)
                       for k in range(n_conn)]
    return layout


def _allocate_traces(layers: tuple, n_steps: int, record: tuple, n_batch: int, n_networks: int = 1) -> list:
    """Zeroed per-step trace arrays (one dict per network), once :func:`check_memory` says the recording fits."""
    what = f"recording {list(record)} over {_short_int(n_steps)} steps"
    what += f" of {n_networks} networks" if n_networks > 1 else ""
    check_memory(recording_bytes(layers, n_steps, record, n_networks, n_batch), what)
    layout = _per_step_layout(layers, record)
    return [{key: np.zeros((n_steps,) + shape, dtype=dtype) for key, shape, dtype in layout} for _ in range(n_networks)]


def check_finite_state(n: int, k: int, quantities) -> None:
    """Raise ``FloatingPointError`` if a quantity of connection ``k`` is not finite at the update after step ``n``.

    Both engines call it at every weight update (end of a batch, SPEC §4) for every connection,
    with the accumulator ``m`` of the batch and the new ``v`` and ``W``. A NaN or infinity in a
    trace (``λ``, its rise stage, ``σ′``, ``z̃``) or an error ends up in ``m``, which adds
    ``e_i λ_ij`` at every step (``NaN × 0`` is NaN), and it would never go away again; one check
    per batch and connection costs three passes over ``(n_post, n_pre)`` arrays.

    Parameters
    ----------
    n : int
        Step at whose end the update happens.
    k : int
        Connection.
    quantities : sequence of ``(name, array)``
        Checked in this order; arrays are ``(n_post, n_pre)``, or ``(B, n_post, n_pre)`` for
        ``B`` networks run side by side (the message then names the network if ``B > 1``).
    """
    for name, x in quantities:
        if not np.isfinite(x).all():
            index = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
            network = f"network {index[0]}, " if x.ndim == 3 and x.shape[0] > 1 else ""
            i, j = index[-2:]
            raise FloatingPointError(
                f"{network}connection k={k}: {name}[{i}, {j}] = {float(x[index])!r} is not finite at the weight "
                f"update after step n={n}; stopping (check the parameters, the initial weights and the task)"
            )


def init_weights(layers, rng: np.random.Generator, w0_V: float = 0.05, params: Params = Params()) -> tuple:
    """Initial weights ``W_k ~ N(0, w0_V / sqrt(n_pre))`` clipped to the bounds (paper notes §5.4).

    Drawn from ``rng`` connection by connection, each as one ``(n_post, n_pre)`` array.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    layers = tuple(layers)
    return tuple(
        np.clip(rng.normal(0.0, w0_V / np.sqrt(n_pre), size=(n_post, n_pre)), params.w_min_V, params.w_max_V)
        for n_pre, n_post in zip(layers[:-1], layers[1:])
    )


@dataclass(frozen=True)
class Network:
    """A feedforward network of LIF layers and how it learns.

    Parameters
    ----------
    layers : tuple of int
        Layer sizes, input first, output last (e.g. ``(100, 4, 1)``).
    weights : tuple of float arrays
        Initial weights ``W_k`` ``(layers[k+1], layers[k])`` in volts, finite and within
        ``[params.w_min_V, params.w_max_V]`` (the bounds the optimiser clips to).
    params : Params
    feedback : ``"symmetric"``, ``"random"`` or ``"uniform"``
    feedback_matrices : tuple of arrays or None
        ``B_l`` ``(n_out, n_l)`` per hidden layer for random and uniform feedback.
    optimizer : ``"rmaxprop"``, ``"rmsprop"`` or ``"fixed"``
    schedule : tuple of ``(time_s, factor)``
        Learning-rate schedule (SPEC §4); empty means constant ``r0``.
    t_burn_s : float
        Burn-in time: ``v`` is updated but ``w`` frozen while ``t < t_burn_s``.
    plastic : tuple of bool or None
        Which connections learn (default: all). ``False`` for the hidden connection gives
        the paper's "fixed hidden" control.

    Use :meth:`create` to draw initial weights and feedback from a generator.
    """

    layers: tuple
    weights: tuple
    params: Params = field(default_factory=Params)
    feedback: str = "symmetric"
    feedback_matrices: tuple | None = None
    optimizer: str = "rmaxprop"
    schedule: tuple = ()
    t_burn_s: float = 0.0
    plastic: tuple | None = None

    def __post_init__(self) -> None:
        layers = _check_layers(self.layers)
        object.__setattr__(self, "layers", layers)
        if not isinstance(self.params, Params):
            raise TypeError(f"params must be a Params, got {type(self.params).__name__}")
        weights = tuple(self.weights)
        if len(weights) != len(layers) - 1:
            raise ValueError(f"weights must have {len(layers) - 1} arrays for layers {layers}, got {len(weights)}")
        for k, w in enumerate(weights):
            _check_float_array(w, f"weights[{k}]", (layers[k + 1], layers[k]))
            _check_weight_bounds(w, k, self.params)
        object.__setattr__(self, "weights", weights)
        if self.feedback not in FEEDBACK_KINDS:
            raise ValueError(f"feedback must be one of {FEEDBACK_KINDS}, got {self.feedback!r}")
        n_hidden_layers = len(layers) - 2
        if self.feedback == "symmetric":
            if self.feedback_matrices is not None:
                raise ValueError("feedback_matrices must be None for symmetric feedback (it uses the forward weights)")
        else:
            if self.feedback_matrices is None or len(self.feedback_matrices) != n_hidden_layers:
                raise ValueError(
                    f"{self.feedback} feedback needs {n_hidden_layers} feedback_matrices (one per hidden layer)"
                )
            for l, B in enumerate(self.feedback_matrices, start=1):
                _check_float_array(B, f"feedback_matrices[{l - 1}] (B_{l})", (layers[-1], layers[l]))
            object.__setattr__(self, "feedback_matrices", tuple(self.feedback_matrices))
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        object.__setattr__(self, "schedule", check_schedule(self.schedule))
        if not np.isfinite(self.t_burn_s) or self.t_burn_s < 0:
            raise ValueError(f"t_burn_s must be a finite time >= 0 s, got {self.t_burn_s!r}")
        plastic = (True,) * len(weights) if self.plastic is None else tuple(bool(p) for p in self.plastic)
        if len(plastic) != len(weights):
            raise ValueError(f"plastic must have one flag per connection ({len(weights)}), got {self.plastic!r}")
        object.__setattr__(self, "plastic", plastic)

    @classmethod
    def create(
        cls,
        layers,
        rng: np.random.Generator,
        params: Params = Params(),
        feedback: str = "symmetric",
        w0_V: float = 0.05,
        **options,
    ) -> "Network":
        """Draw initial weights (:func:`init_weights`), then feedback matrices, from ``rng``.

        ``options`` are the remaining fields (``optimizer``, ``schedule``, ``t_burn_s``, ``plastic``).
        """
        weights = init_weights(layers, rng, w0_V, params)
        return cls(
            layers=tuple(layers),
            weights=weights,
            params=params,
            feedback=feedback,
            feedback_matrices=make_feedback_matrices(feedback, layers, rng),
            **options,
        )

    @property
    def n_connections(self) -> int:
        return len(self.layers) - 1


def _check_layers(layers) -> tuple:
    """``layers`` as a tuple of ints, or ``ValueError`` unless it lists at least two positive integer sizes."""
    sizes = tuple(layers)
    if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
        raise ValueError(f"layers must list at least two positive integer sizes, got {layers!r}")
    return tuple(int(n) for n in sizes)


def _check_float_array(x, name: str, shape: tuple) -> None:
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError(f"{name} must be a float64 numpy array of shape {shape}, got {getattr(x, 'dtype', type(x).__name__)}")
    if x.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite")


def _check_weight_bounds(w: np.ndarray, k: int, params: Params) -> None:
    """Raise ``ValueError`` naming ``weights[k]``, the first entry outside the clipping bounds and the bounds."""
    outside = (w < params.w_min_V) | (w > params.w_max_V)
    if outside.any():
        i, j = (int(x) for x in np.argwhere(outside)[0])
        raise ValueError(
            f"weights[{k}][{i}, {j}] = {float(w[i, j])!r} V is outside [params.w_min_V, params.w_max_V] = "
            f"[{params.w_min_V!r}, {params.w_max_V!r}] V ({int(outside.sum())} of {w.size} entries are); "
            "clip the initial weights to the bounds (init_weights does) or widen the bounds"
        )


@dataclass
class RunResult:
    """What :meth:`LiteralEngine.run` returns.

    Attributes
    ----------
    t_start_s, n_steps : start time and length of the run.
    traces : dict of arrays
        Recorded variables with SPEC §9 keys (``S_1``, ``lambda_0``, ``W_0`` ...).
    cycle_end_s : array ``(n_cycles,)``
        End time of every cycle completed during the run.
    vr_distance : array ``(n_cycles,)``
        Van Rossum distance of each completed cycle (unmatched spikes per output neuron).
    vr_distance_per_neuron : array ``(n_cycles, n_out)``
    auryn_mse : array ``(n_cycles,)``
        The original code's learning-curve value at each cycle end.
    """

    t_start_s: float
    n_steps: int
    traces: dict
    cycle_end_s: np.ndarray
    vr_distance: np.ndarray
    vr_distance_per_neuron: np.ndarray
    auryn_mse: np.ndarray


def concat_results(parts) -> RunResult:
    """Join the results of consecutive ``run()`` calls of one engine into one.

    Per-step traces and ``v_k`` are concatenated; ``W_k`` keeps the first part's initial
    weights once. Only the keys recorded in every part are kept.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("concat_results needs at least one RunResult")
    keys = set(parts[0].traces).intersection(*(p.traces for p in parts[1:]))
    traces = {}
    for key in sorted(keys):
        pieces = [p.traces[key] for p in parts]
        if key.startswith("W_"):
            pieces = pieces[:1] + [x[1:] for x in pieces[1:]]
        traces[key] = np.concatenate(pieces)
    return RunResult(
        t_start_s=parts[0].t_start_s,
        n_steps=sum(p.n_steps for p in parts),
        traces=traces,
        cycle_end_s=np.concatenate([p.cycle_end_s for p in parts]),
        vr_distance=np.concatenate([p.vr_distance for p in parts]),
        vr_distance_per_neuron=np.concatenate([p.vr_distance_per_neuron for p in parts]),
        auryn_mse=np.concatenate([p.auryn_mse for p in parts]),
    )


def check_task(task, layers=None) -> None:
    """Raise ``TypeError`` unless ``task`` offers what the engines use, ``ValueError`` unless
    its neuron counts match the network's ``layers`` (if given).

    A task has ``n_in``, ``n_out``, ``n_cycle`` (the learning-curve period, in steps),
    ``input_block(n0, n1)`` (bool ``(n1 - n0, n_in)``), ``initial_error_state()`` and
    ``error_impulses(n0, output, state) -> (impulses, state)`` (SPEC §3, §6). See
    :class:`~superspike_ref.tasks.CyclicTask` and :class:`~superspike_ref.xor.XorTask`.
    """
    missing = [a for a in ("n_in", "n_out", "n_cycle", "input_block", "initial_error_state", "error_impulses")
               if not hasattr(task, a)]
    if missing:
        raise TypeError(f"task must be a CyclicTask, an XorTask or offer {missing}; got {type(task).__name__}")
    if layers is not None and task.n_in != layers[0]:
        raise ValueError(f"task input has {task.n_in} neurons, the network's input layer {layers[0]}")
    if layers is not None and task.n_out != layers[-1]:
        raise ValueError(f"task target has {task.n_out} neurons, the network's output layer {layers[-1]}")


class _InputBuffer:
    """Input rows fetched from the task in blocks, so that lazily generated tasks stay cheap."""

    BLOCK = 1000

    def __init__(self, task) -> None:
        self.task, self.start, self.block = task, 0, np.zeros((0, task.n_in), dtype=bool)

    def row(self, n: int) -> np.ndarray:
        if not self.start <= n < self.start + self.block.shape[0]:
            self.start = n
            self.block = self.task.input_block(n, n + self.BLOCK)
        return self.block[n - self.start]


class _DelayLine:
    """Axonal delay of ``n_d`` steps: ``push(S[n])`` returns ``S[n - n_d]`` (zeros before step ``n_d``)."""

    def __init__(self, n_neurons: int, n_delay: int) -> None:
        self.buffer = np.zeros((n_delay + 1, n_neurons), dtype=bool)
        self.n_delay = n_delay

    def push(self, spikes: np.ndarray, n: int) -> np.ndarray:
        slots = self.n_delay + 1
        self.buffer[n % slots] = spikes
        return self.buffer[(n - self.n_delay) % slots].copy()


class LiteralEngine:
    """The reference engine: SPEC §2-§4 one step at a time.

    Create it with a network and a task; each call of :meth:`run` continues the same
    simulation (nothing is reset between calls).

    Parameters
    ----------
    network : Network
    task : CyclicTask or XorTask
        What the network sees and how its output is judged (see :func:`check_task`);
        its neuron counts must match the network.

    Notes
    -----
    With ``params.e_gate > 0`` (default 0: SPEC §3 exactly) the accumulation of the
    connections into *hidden* layers is gated as in the original code: at a step ``n`` where
    a hidden neuron ``i`` has ``|e_i[n]| < e_gate``, neither ``e_i λ_ij`` nor
    ``-ρ w_ij zh_i^a`` is added to ``m_ij``. The trace ``zh`` still advances every step, the
    recorded ``e`` is the ungated error, and the output connection is never gated.
    """

    name = "literal"

    def __init__(self, network: Network, task) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        check_task(task, network.layers)
        self.network, self.task = network, task
        p = network.params
        sizes = network.layers
        n_conn = network.n_connections
        self.step_index = 0  # next step n
        self.weights = [w.copy() for w in network.weights]
        self.v = [np.zeros_like(w) for w in self.weights]
        self.m = [np.zeros_like(w) for w in self.weights]
        self.lif = [lif_initial_state(n, p) for n in sizes[1:]]
        self.delay = [_DelayLine(sizes[k], p.n_delay) for k in range(n_conn)]
        self.z = [np.zeros(sizes[k]) for k in range(n_conn)]
        self.z_tilde = [np.zeros(sizes[k]) for k in range(n_conn)]
        self.elig_rise = [np.zeros_like(w) for w in self.weights]
        self.elig = [np.zeros_like(w) for w in self.weights]
        self.err_rise = np.zeros(sizes[-1])
        self.err = np.zeros(sizes[-1])
        self.zh = [np.zeros(n) for n in sizes[1:-1]]
        self.q_auryn = np.zeros(sizes[-1])
        self.cycle_err2 = np.zeros(sizes[-1])
        self.error_state = task.initial_error_state()

    _STATE = ("step_index", "weights", "v", "m", "z", "z_tilde", "elig_rise", "elig", "err_rise", "err", "zh",
              "q_auryn", "cycle_err2", "error_state")

    def checkpoint_state(self) -> dict:
        """The engine's whole state as numbers and arrays (see :mod:`superspike_ref.checkpoint`)."""
        state = {name: getattr(self, name) for name in self._STATE}
        state["lif"] = [(s.I_V, s.U_V, s.r) for s in self.lif]
        state["delay"] = [d.buffer for d in self.delay]
        return state

    def restore_checkpoint_state(self, state: dict) -> None:
        """Continue from a state returned by :meth:`checkpoint_state` (of an engine of the same network)."""
        for name in self._STATE:
            setattr(self, name, state[name])
        self.lif = [LIFState(*s) for s in state["lif"]]
        for d, buffer in zip(self.delay, state["delay"]):
            d.buffer = buffer

    # -------------------------------------------------------------------------------
    def run(self, n_steps: int, record=(), progress: bool = False) -> RunResult:
        """Simulate ``n_steps`` more steps.

        Parameters
        ----------
        n_steps : int
        record : iterable of str
            Names from :data:`RECORDABLE` to record (all layers or connections of each).
        progress : bool
            Show a progress bar (tqdm) with the latest cycle's ``vr_distance``.

        Raises
        ------
        ValueError
            If the recording would not fit in the memory available (:func:`recording_bytes`).
        FloatingPointError
            At the first weight update where ``m``, ``v`` or ``W`` of a connection is not finite
            (:func:`check_finite_state`).
        """
        n_steps = _check_n_steps(n_steps)
        record = _check_record(record, self.network)
        net, p, task = self.network, self.network.params, self.task
        n_conn = net.n_connections
        n_b, n_cycle = p.n_batch, task.n_cycle
        rec = _Recorder(record, net, n_steps)
        rec.weights(self.weights, self.v, initial=True)
        t_start = self.step_index * p.dt_s
        ends, vr, vr_neuron, mse = [], [], [], []
        bar = _progress_bar(n_steps, progress, self.name)
        inputs = _InputBuffer(task)
        for _ in range(n_steps):
            n = self.step_index
            # --- forward pass: every LIF layer in order (SPEC §2) -------------------
            pre_spikes = inputs.row(n)
            U_tilde, S, sigma_prime = [], [], []
            for k in range(n_conn):
                arriving = self.delay[k].push(pre_spikes, n)
                self.z[k], self.z_tilde[k] = psp_trace_step(self.z[k], self.z_tilde[k], arriving, p)
                self.lif[k], u_tilde, spikes = lif_step(self.lif[k], self.weights[k] @ arriving, p)
                sp = surrogate_grad(u_tilde, p.theta_V, p.beta_per_V, p.u_cut_V)
                self.elig_rise[k], self.elig[k] = eligibility_step(self.elig_rise[k], self.elig[k], sp, self.z_tilde[k], p)
                U_tilde.append(u_tilde)
                S.append(spikes)
                sigma_prime.append(sp)
                pre_spikes = spikes
            # --- error: output, then feedback to hidden layers (SPEC §3) -------------
            impulses, self.error_state = task.error_impulses(n, S[-1][None, :], self.error_state)
            self.err_rise, self.err = error_step(self.err_rise, self.err, impulses[0], p)
            errors = hidden_errors(self.err, self.weights, net.feedback, net.feedback_matrices) + [self.err]
            # --- accumulator m += e λ (- ρ w zh^a on hidden layers) -------------------
            for k in range(n_conn):
                if k < n_conn - 1 and p.rho > 0:
                    self.zh[k] = het_trace_step(self.zh[k], S[k], p)  # advances every step, gated or not
                w, zh = (self.weights[k], self.zh[k]) if k < n_conn - 1 else (None, None)
                self.m[k] = accumulate(self.m[k], errors[k], self.elig[k], p, w, zh)
            # --- cost measures ---------------------------------------------------------
            self.q_auryn = auryn_mse_step(self.q_auryn, self.err, p)
            self.cycle_err2 += self.err**2
            # --- weight update at the end of a batch (SPEC §4) ---------------------
            if (n + 1) % n_b == 0:
                self._update(n)
                rec.weights(self.weights, self.v)
            rec.step(self, U_tilde, S, sigma_prime, errors)
            self.step_index += 1
            if (n + 1) % n_cycle == 0:
                t_end = (n + 1) * p.dt_s
                per_neuron = vr_distance_from_energy(self.cycle_err2, p, per_neuron=True)
                ends.append(t_end)
                vr_neuron.append(per_neuron)
                vr.append(float(np.mean(per_neuron)))
                mse.append(auryn_mse_value(self.q_auryn, t_end, p))
                self.cycle_err2 = np.zeros_like(self.cycle_err2)
                bar.set_postfix_str(f"vr_distance={vr[-1]:.3f}", refresh=False)
            bar.update(1)
        bar.close()
        return RunResult(
            t_start_s=t_start,
            n_steps=n_steps,
            traces=rec.result(),
            cycle_end_s=np.array(ends),
            vr_distance=np.array(vr),
            vr_distance_per_neuron=np.array(vr_neuron).reshape(len(vr), net.layers[-1]),
            auryn_mse=np.array(mse),
        )

    def _update(self, n: int) -> None:
        """Apply the optimiser to every plastic connection at the end of step ``n`` (SPEC §4)."""
        net, p = self.network, self.network.params
        t_s = n * p.dt_s
        rate = learning_rate(t_s, p.r0, net.schedule)
        for k in range(net.n_connections):
            if net.plastic[k]:
                self.weights[k], self.v[k] = optimizer_step(
                    net.optimizer, self.weights[k], self.m[k], self.v[k], p.n_batch, rate, p, frozen=t_s < net.t_burn_s
                )
            # stop at the first NaN or infinity (it would spread and never go away)
            check_finite_state(n, k, (("m", self.m[k]), ("v", self.v[k]), ("W", self.weights[k])))
            self.m[k] = np.zeros_like(self.m[k])


def _check_n_steps(n_steps) -> int:
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
        raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 0:
        raise ValueError(f"n_steps must be >= 0, got {n_steps}")
    return int(n_steps)


def _check_record_names(record) -> tuple:
    """``record`` (one name or an iterable of names) as a tuple, or ``ValueError`` for a name not in RECORDABLE."""
    if isinstance(record, str):
        record = (record,)
    record = tuple(record)
    unknown = [r for r in record if r not in RECORDABLE]
    if unknown:
        raise ValueError(f"cannot record {unknown}; recordable: {RECORDABLE}")
    return record


def _check_record(record, network: Network) -> tuple:
    record = _check_record_names(record)
    if "v" in record and network.optimizer == "fixed":
        raise ValueError("cannot record 'v': the 'fixed' optimiser has no state")
    return record


class _Recorder:
    """Preallocated per-step traces with SPEC §9 keys."""

    def __init__(self, record: tuple, network: Network, n_steps: int) -> None:
        self.record, self.i = record, 0
        self.data = _allocate_traces(network.layers, n_steps, record, network.params.n_batch)[0]
        self.lists = {name: [[] for _ in range(network.n_connections)] for name in ("W", "v") if name in record}
        self.shapes = [w.shape for w in network.weights]

    def step(self, engine: "LiteralEngine", U_tilde, S, sigma_prime, errors) -> None:
        i, d, r = self.i, self.data, self.record
        for l in range(1, len(U_tilde) + 1):
            for name, values in (("U_tilde", U_tilde), ("S", S), ("sigma_prime", sigma_prime), ("e", errors)):
                if name in r:
                    d[f"{name}_{l}"][i] = values[l - 1]
            if "I" in r:
                d[f"I_{l}"][i] = engine.lif[l - 1].I_V
        for k in range(len(U_tilde)):
            for name, values in (("z", engine.z), ("z_tilde", engine.z_tilde), ("lambda", engine.elig), ("m", engine.m)):
                if name in r:
                    d[f"{name}_{k}"][i] = values[k]
        self.i += 1

    def weights(self, weights, v, initial: bool = False) -> None:
        for name, values in (("W", weights), ("v", v)):
            if name in self.lists and not (initial and name == "v"):
                for k, x in enumerate(values):
                    self.lists[name][k].append(x.copy())

    def result(self) -> dict:
        out = dict(self.data)
        for name, per_conn in self.lists.items():
            for k, xs in enumerate(per_conn):
                out[f"{name}_{k}"] = np.stack(xs) if xs else np.zeros((0,) + self.shapes[k])
        return out


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def close(self):
        pass


def _progress_bar(n_steps: int, enabled: bool, name: str):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=n_steps, desc=f"{name} engine", unit="step", unit_scale=True, mininterval=0.5)
