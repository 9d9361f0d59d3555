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

from .core import ErrorState, NetworkState, SynapseState, check_finite_state, initial_state, step
from .error import auryn_mse_step
from .feedback import FEEDBACK_KINDS, make_feedback_matrices
from .neuron import LIFState
from .optimizers import OPTIMIZERS, check_schedule
from .params import Params
from .variants import SPEC_DISCRETISATION, Discretisation
from .recording import (
    CONNECTION_KEYS,
    LAYER_KEYS,
    RECORDABLE,
    RunResult,
    _check_layers,
    _check_n_steps,
    _check_record_names,
    RunShell,
    concat_results,
    recording_bytes,
)
from .recording import _allocate_traces  # noqa: F401  (superspike_ref.fast imports it from here)

__all__ = ["Network", "init_weights", "LiteralEngine", "RunResult", "concat_results", "RECORDABLE", "LAYER_KEYS",
           "CONNECTION_KEYS", "recording_bytes", "check_finite_state"]


def init_weights(layers, rng: np.random.Generator, w0_V: float = 0.05, params: Params = Params()) -> tuple:
    """Initial weights ``W_k ~ N(0, w0_V / sqrt(n_pre))`` clipped to the bounds (docs/paper.md §"Initial weights and bounds").

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


class _TaskImpulses:
    """The ``error_impulses`` callable of step ``n`` for :func:`core.step`: the task's impulses (SPEC §3, §6).

    The task's new error state is kept in ``state`` for the next step.
    """

    def __init__(self, task, n: int, state) -> None:
        self.task, self.n, self.before, self.state = task, n, state, state

    def __call__(self, S_out: np.ndarray) -> np.ndarray:
        impulses, self.state = self.task.error_impulses(self.n, S_out[None, :], self.before)
        return impulses[0]


def _state_view(doc: str, get):
    """A read-only attribute of :class:`LiteralEngine` that shows part of its :class:`~superspike_ref.core.NetworkState`."""
    return property(lambda engine: get(engine.state), doc=doc)


class LiteralEngine:
    """The reference engine: SPEC §2-§4 one step at a time, a loop over :func:`superspike_ref.core.step`.

    Create it with a network and a task; each call of :meth:`run` continues the same
    simulation (nothing is reset between calls).

    Parameters
    ----------
    network : Network
    task : CyclicTask or XorTask
        What the network sees and how its output is judged (see :func:`check_task`);
        its neuron counts must match the network.
    discretisation : Discretisation
        SPEC's (default) or that of declared SPEC variants (:mod:`superspike_ref.variants`).

    Attributes
    ----------
    state : NetworkState
        The network's state before the next step; ``step_index``, ``weights``, ``v``, ``m`` and the
        traces (``lif``, ``z``, ``z_tilde``, ``elig_rise``, ``elig``, ``zh``, ``err_rise``, ``err``)
        show parts of it (lists of its arrays, one per layer or connection).
    q_auryn, cycle_err2 : arrays ``(n_out,)``
        State of the cost measures (SPEC §7).
    error_state
        The task's error state.

    Notes
    -----
    With ``params.e_gate > 0`` (default 0: SPEC §3 exactly) the accumulation of the
    connections into *hidden* layers is gated as in the original code: at a step ``n`` where
    a hidden neuron ``i`` has ``|e_i[n]| < e_gate``, neither ``e_i λ_ij`` nor
    ``-ρ w_ij zh_i^a`` is added to ``m_ij`` (:func:`~superspike_ref.eligibility.accumulate`).
    The trace ``zh`` still advances every step, the recorded ``e`` is the ungated error, and
    the output connection is never gated.
    """

    name = "literal"

    def __init__(self, network: Network, task, discretisation: Discretisation = SPEC_DISCRETISATION) -> None:
        if not isinstance(network, Network):
            raise TypeError(f"network must be a Network, got {type(network).__name__}")
        check_task(task, network.layers)
        self.network, self.task, self.discretisation = network, task, discretisation
        self.state = initial_state(network)
        self.q_auryn = np.zeros(network.layers[-1])
        self.cycle_err2 = np.zeros(network.layers[-1])
        self.error_state = task.initial_error_state()

    step_index = _state_view("The next step ``n``.", lambda s: s.step_index)
    weights = _state_view("Weights ``W_k`` (V), one per connection.", lambda s: list(s.weights))
    v = _state_view("Optimiser states ``v_k``.", lambda s: list(s.v))
    m = _state_view("Accumulators ``m_k`` of the current batch.", lambda s: list(s.m))
    lif = _state_view("LIF states, one per LIF layer.", lambda s: list(s.lif))
    z = _state_view("Synaptic traces ``z_k``.", lambda s: [x.z for x in s.synapses])
    z_tilde = _state_view("PSP traces ``z̃_k``.", lambda s: [x.z_tilde for x in s.synapses])
    elig_rise = _state_view("First stages of the eligibility traces.", lambda s: [x.elig_rise for x in s.synapses])
    elig = _state_view("Eligibility traces ``λ_k``.", lambda s: [x.elig for x in s.synapses])
    zh = _state_view("Heterosynaptic traces of the hidden layers.", lambda s: list(s.zh))
    err_rise = _state_view("First stage of the output error.", lambda s: s.error.err_rise)
    err = _state_view("Output error ``e``.", lambda s: s.error.e)

    _STATE = ("step_index", "weights", "v", "m", "z", "z_tilde", "elig_rise", "elig", "err_rise", "err", "zh",
              "q_auryn", "cycle_err2", "error_state")

    def checkpoint_state(self) -> dict:
        """The engine's whole state as numbers and arrays (see :mod:`superspike_ref.checkpoint`)."""
        state = {name: getattr(self, name) for name in self._STATE}
        state["lif"] = [(s.I_V, s.U_V, s.r) for s in self.lif]
        state["delay"] = [x.delay for x in self.state.synapses]
        return state

    def restore_checkpoint_state(self, state: dict) -> None:
        """Continue from a state returned by :meth:`checkpoint_state` (of an engine of the same network)."""
        traces = zip(state["delay"], state["z"], state["z_tilde"], state["elig_rise"], state["elig"])
        self.state = NetworkState(
            step_index=state["step_index"], lif=tuple(LIFState(*s) for s in state["lif"]),
            synapses=tuple(SynapseState(*x) for x in traces), zh=tuple(state["zh"]),
            error=ErrorState(state["err_rise"], state["err"]),
            weights=tuple(state["weights"]), m=tuple(state["m"]), v=tuple(state["v"]),
        )
        self.q_auryn, self.cycle_err2, self.error_state = state["q_auryn"], state["cycle_err2"], state["error_state"]

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
        n_steps, record = _check_n_steps(n_steps), _check_record(record, self.network)
        net, p, task, inputs = self.network, self.network.params, self.task, _InputBuffer(self.task)
        t_start = self.step_index * p.dt_s
        with RunShell(self.name, net.layers, p, record, n_steps, 1, progress) as shell:
            shell.weights([w[None] for w in self.state.weights], [], initial=True)
            for i in range(n_steps):
                n = self.step_index
                impulses = _TaskImpulses(task, n, self.error_state)
                self.state, seen = step(net, self.state, inputs.row(n), impulses, self.discretisation)  # SPEC §2-§4
                self.error_state = impulses.state
                if seen.updated:
                    shell.weights([w[None] for w in self.state.weights], [v[None] for v in self.state.v])
                shell.write(i, _step_traces(shell, self.state, seen))
                e_out = seen.errors[-1]
                self.q_auryn, self.cycle_err2 = auryn_mse_step(self.q_auryn, e_out, p), self.cycle_err2 + e_out**2
                if (n + 1) % task.n_cycle == 0:
                    shell.cycle_end((n + 1) * p.dt_s, self.cycle_err2[None], self.q_auryn[None])
                    self.cycle_err2 = np.zeros_like(self.cycle_err2)
                shell.advance(1)
        return shell.results(t_start)[0]


def _step_traces(shell: RunShell, state, seen) -> dict:
    """The SPEC §9 traces of one step that ``shell`` records, as ``(1, 1, ...)`` arrays (one step, one network)."""
    if not shell.traces[0]:
        return {}
    per_layer = (("U_tilde", seen.U_tilde), ("S", seen.S), ("sigma_prime", seen.sigma_prime), ("e", seen.errors),
                 ("I", [x.I_V for x in state.lif]))
    per_connection = (("z", [x.z for x in state.synapses]), ("z_tilde", [x.z_tilde for x in state.synapses]),
                      ("lambda", [x.elig for x in state.synapses]), ("m", state.m))
    values = {}
    for names, start in ((per_layer, 1), (per_connection, 0)):
        for name, arrays in names:
            if shell.wants(name):
                values.update({f"{name}_{i}": x[None, None] for i, x in enumerate(arrays, start=start)})
    return values


def _check_record(record, network: Network) -> tuple:
    record = _check_record_names(record)
    if "v" in record and network.optimizer == "fixed":
        raise ValueError("cannot record 'v': the 'fixed' optimiser has no state")
    return record
