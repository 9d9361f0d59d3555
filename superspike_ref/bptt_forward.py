r"""The forward pass of :mod:`superspike_ref.bptt`: one window of SPEC §2, recorded for the reverse pass.

The model of a window is in :mod:`superspike_ref.bptt` ("Model of one window"). Per LIF layer,
in feedforward order, :func:`forward` takes the spikes arriving at its connection,
``A_k[n] = S_{l-1}[n - n_d]`` (from the :class:`WindowState` at the window start for the first
``n_d`` steps), runs the layer's steps and computes ``σ′``; then the error
``e = K(τ_rise, τ_decay) * (Ŝ - S_L)`` of the output spikes and the loss
``L = (Δt/2) Σ_n Σ_i e_i[n]²``. It records ``A``, ``I``, ``Ũ``, ``S``, ``σ′``, the gate and the
reset amount of every layer (:class:`WindowForward`), which
:func:`superspike_ref.bptt.backward` runs backwards. All names here are importable from
:mod:`superspike_ref.bptt`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .filters import exp_trace, follow
from .neuron import LIFState, lif_initial_state, lif_step, membrane_update
from .params import Params
from .surrogate import surrogate_grad

__all__ = ["SPIKE_FNS", "WindowState", "WindowForward", "task_window", "forward"]

SPIKE_FNS = ("heaviside", "sigmoid")
_RECORDED = ("arriving", "current", "U_tilde", "spikes", "sigma_prime", "gate", "reset")
"""The per-layer lists of :class:`WindowForward`, in the order :func:`forward` fills them."""


# ---------------------------------------------------------------------------
# state at the window start
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WindowState:
    """Network state at the start of a window (held constant by the gradient).

    Attributes
    ----------
    lif : tuple of LIFState
        State of every LIF layer after the step before the window (first hidden layer first).
    history : tuple of arrays
        Per connection ``k``, the presynaptic spikes of the ``n_d`` steps before the window,
        oldest first, ``(n_d, n_pre_k)`` (they arrive during the first ``n_d`` steps).
    err_rise, err : arrays ``(n_out,)``
        The two stages of the error filter ``K`` (exponential trace, then follower).
    """

    lif: tuple
    history: tuple
    err_rise: np.ndarray
    err: np.ndarray

    @classmethod
    def rest(cls, layers, params: Params) -> "WindowState":
        """SPEC §2's initial state: ``I = 0``, ``U = u_rest``, ``r = 0``, no spikes in flight, zero error."""
        layers = tuple(layers)
        return cls(
            lif=tuple(lif_initial_state(n, params) for n in layers[1:]),
            history=tuple(np.zeros((params.n_delay, n)) for n in layers[:-1]),
            err_rise=np.zeros(layers[-1]),
            err=np.zeros(layers[-1]),
        )

    @classmethod
    def from_engine(cls, engine) -> "WindowState":
        """The state of a :class:`~superspike_ref.network.LiteralEngine` before its next step.

        The next window then starts at ``engine.step_index`` and, with the engine's weights, has the
        spikes the engine would produce. (The fast engine keeps its state in another form and is not supported.)
        """
        if not all(hasattr(engine, a) for a in ("state", "network")):
            raise TypeError(f"engine must be a LiteralEngine, got {type(engine).__name__}")
        state, n_d = engine.state, engine.network.params.n_delay
        slots = np.arange(state.step_index - n_d, state.step_index) % (n_d + 1)  # slot m % (n_d + 1) holds S[m]; unwritten: 0
        return cls(
            lif=tuple(LIFState(I_V=s.I_V.copy(), U_V=s.U_V.copy(), r=s.r.copy()) for s in state.lif),
            history=tuple(syn.delay[slots].astype(float) for syn in state.synapses),
            err_rise=np.array(state.error.err_rise, dtype=float),
            err=np.array(state.error.e, dtype=float),
        )


def task_window(task, n0: int, n_steps: int):
    """Input and target rasters of steps ``n0 .. n0 + n_steps - 1`` of a cyclic task.

    Returns ``(inputs, target)``, bool ``(n_steps, n_in)`` and ``(n_steps, n_out)``.
    """
    steps = np.arange(n0, n0 + n_steps)
    return task.input_block(n0, n0 + n_steps), task.target[steps % task.n_cycle]


# ---------------------------------------------------------------------------
# forward pass
# ---------------------------------------------------------------------------

@dataclass
class WindowForward:
    """Everything the reverse pass needs, recorded by :func:`forward`. Per-step arrays are ``(T, n)``.

    Attributes
    ----------
    weights : tuple of arrays ``(n_post, n_pre)``
    params : Params
    spike_fn : ``"heaviside"`` or ``"sigmoid"``
    sigmoid_gain_per_V : float
    initial_state, final_state : WindowState
        State before the first and after the last step (chain windows with ``final_state``).
    arriving : list of arrays ``(T, n_pre_k)``
        Spikes arriving at every connection (float).
    current, U_tilde, spikes, sigma_prime, gate, reset : lists of arrays ``(T, n_l)``
        Per LIF layer ``I``, ``Ũ``, ``S`` (float), ``σ′``, the gate (1 where not refractory) and the reset amount (``= S``).
    inputs, target : arrays ``(T, n_in)``, ``(T, n_out)`` (float)
    e : array ``(T, n_out)``
        Error signal (SPEC §3).
    loss : float
        ``(dt/2) Σ_n Σ_i e_i[n]²``.
    """

    weights: tuple
    params: Params
    spike_fn: str
    sigmoid_gain_per_V: float
    initial_state: WindowState
    final_state: WindowState
    arriving: list
    current: list
    U_tilde: list
    spikes: list
    sigma_prime: list
    gate: list
    reset: list
    inputs: np.ndarray
    target: np.ndarray
    e: np.ndarray
    loss: float

    @property
    def n_steps(self) -> int:
        return self.e.shape[0]


# ---------------------------------------------------------------------------
# the steps of the forward pass
# ---------------------------------------------------------------------------

def _check_weights(weights) -> tuple:
    weights = tuple(weights)
    if not weights:
        raise ValueError("weights must hold at least one (n_post, n_pre) array")
    for k, w in enumerate(weights):
        if not isinstance(w, np.ndarray) or w.dtype != np.float64 or w.ndim != 2:
            raise TypeError(f"weights[{k}] must be a 2-D float64 numpy array (n_post, n_pre), got {getattr(w, 'dtype', type(w).__name__)}")
        if k > 0 and w.shape[1] != weights[k - 1].shape[0]:
            raise ValueError(f"weights[{k}] has {w.shape[1]} presynaptic neurons, weights[{k - 1}] {weights[k - 1].shape[0]} postsynaptic")
    return weights


def _check_raster(x, name: str, n: int) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != n or x.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n_steps >= 1, {n}), got {x.shape}")
    return x.astype(float)


def _check_forward_args(weights, inputs, target, params, initial_state, spike_fn):
    """The arguments of :func:`forward`, checked: ``(weights, inputs, target, initial_state)``.

    ``inputs`` and ``target`` as float, ``initial_state`` :meth:`WindowState.rest` if None.
    """
    if spike_fn not in SPIKE_FNS:
        raise ValueError(f"spike_fn must be one of {SPIKE_FNS}, got {spike_fn!r}")
    if not isinstance(params, Params):
        raise TypeError(f"params must be a Params, got {type(params).__name__}")
    weights = _check_weights(weights)
    layers = (weights[0].shape[1],) + tuple(w.shape[0] for w in weights)
    inputs = _check_raster(inputs, "inputs", layers[0])
    target = _check_raster(target, "target", layers[-1])
    if inputs.shape[0] != target.shape[0]:
        raise ValueError(f"inputs and target must have the same number of steps, got {inputs.shape[0]} and {target.shape[0]}")
    state0 = WindowState.rest(layers, params) if initial_state is None else initial_state
    if not isinstance(state0, WindowState) or len(state0.lif) != len(weights) or len(state0.history) != len(weights):
        raise TypeError(f"initial_state must be a WindowState with {len(weights)} LIF layers and connections, got {state0!r:.80}")
    return weights, inputs, target, state0


def _arriving(history, presynaptic, n_delay: int):
    """Spikes arriving at a connection, ``A[n] = S_pre[n - n_d]``, and those still in flight at the end.

    ``history`` holds ``S_pre`` of the ``n_d`` steps before the window (oldest first),
    ``presynaptic`` ``S_pre`` of the window's ``T`` steps. Returns ``(A, in_flight)``:
    ``A`` ``(T, n_pre)`` and the last ``n_d`` steps' spikes ``(n_d, n_pre)``, the history of the next window.
    """
    history = np.asarray(history, dtype=float).reshape(n_delay, presynaptic.shape[1])
    emitted = np.concatenate([history, presynaptic])  # S_pre[n - n_d .. T - 1]
    T = presynaptic.shape[0]
    return emitted[:T], emitted[T:].copy()


def _gated_membrane(U_V, I_V, gate, params: Params):
    """``Ũ[n] = gate[n] (U[n-1] + rate_mem (u_rest - U[n-1] + I[n])) + (1 - gate[n]) u_rest``: ``u_rest`` while refractory."""
    return gate * membrane_update(U_V, I_V, params) + (1.0 - gate) * params.u_rest_V


def _reset_membrane(U_tilde_V, reset, params: Params):
    """``U[n] = (1 - reset[n]) Ũ[n] + reset[n] u_rest``: the potential after the (soft) reset."""
    return (1.0 - reset) * U_tilde_V + reset * params.u_rest_V


def _sigmoid_spike(U_tilde_V, params: Params, gain_per_V: float):
    """The smooth model's spike ``f(Ũ) = 1/(1 + exp(-gain (Ũ - θ)))``, computed as ``(1 + tanh(x/2))/2``."""
    return 0.5 * (1.0 + np.tanh(0.5 * (gain_per_V * (U_tilde_V - params.theta_V))))


def _sigmoid_lif_step(state: LIFState, drive_V, params: Params, gain_per_V: float):
    """One step of the smooth test model; returns ``(new_state, Ũ, S)`` like :func:`~superspike_ref.neuron.lif_step`.

    SPEC §2 with ``S = f(Ũ)`` the sigmoid, the soft reset ``reset[n] = S[n]``, and the refractory
    counter started by the hard crossing ``gate[n] (Ũ[n] > θ)``.
    """
    gate = (state.r == 0).astype(float)
    I_V = params.decay(params.tau_syn_s) * state.I_V + drive_V
    U_tilde_V = _gated_membrane(state.U_V, I_V, gate, params)
    S = _sigmoid_spike(U_tilde_V, params, gain_per_V)
    crossed = (gate > 0) & (U_tilde_V > params.theta_V)
    new_state = LIFState(
        I_V=I_V,
        U_V=_reset_membrane(U_tilde_V, S, params),
        r=np.where(crossed, params.n_ref, np.maximum(state.r - 1, 0)),
    )
    return new_state, U_tilde_V, S


def _layer_forward(w, arriving, state: LIFState, params: Params, spike_fn: str, gain_per_V: float):
    """Run one LIF layer through the window from ``state``, step by step.

    Returns ``(I, Ũ, S, gate, final_state)``, the first four ``(T, n)`` float arrays. Heaviside
    spikes are :func:`~superspike_ref.neuron.lif_step`'s, so they are the engines' spikes.
    """
    T, n = arriving.shape[0], w.shape[0]
    I, U_tilde, S, gate = (np.zeros((T, n)) for _ in range(4))
    for t in range(T):
        gate[t] = state.r == 0
        if spike_fn == "heaviside":
            state, U_tilde[t], S[t] = lif_step(state, w @ arriving[t], params)
        else:
            state, U_tilde[t], S[t] = _sigmoid_lif_step(state, w @ arriving[t], params, gain_per_V)
        I[t] = state.I_V
    return I, U_tilde, S, gate, state


def _sigma_prime(U_tilde, S, params: Params, spike_fn: str, gain_per_V: float):
    """``σ′ = ∂S/∂Ũ``: SPEC's surrogate for Heaviside spikes, the sigmoid's true derivative ``gain f (1 - f)``."""
    if spike_fn == "heaviside":
        return surrogate_grad(U_tilde, params.theta_V, params.beta_per_V, params.u_cut_V)
    return gain_per_V * S * (1.0 - S)


def _window_error(target, output, state0: WindowState, params: Params):
    """Error of the window, ``e = K * (Ŝ - S_L)`` from the filter state at its start (SPEC §3).

    Returns ``(err_rise, e)``, the two stages of ``K`` (exponential trace, then follower) at every step.
    """
    err_rise = exp_trace(target - output, params.tau_rise_s, params.dt_s, y0=state0.err_rise)
    return err_rise, follow(err_rise, params.tau_decay_s, params.dt_s, y0=state0.err)


def _window_loss(e, dt_s: float) -> float:
    """The discrete van Rossum loss ``L = (Δt/2) Σ_n Σ_i e_i[n]²`` (seconds)."""
    return float(0.5 * dt_s * np.sum(e**2))


# ---------------------------------------------------------------------------
# forward pass
# ---------------------------------------------------------------------------

def forward(
    weights,
    inputs,
    target,
    params: Params,
    initial_state: WindowState | None = None,
    spike_fn: str = "heaviside",
    sigmoid_gain_per_V: float = 1e3,
) -> WindowForward:
    """Simulate one window of SPEC §2 and record what :func:`~superspike_ref.bptt.backward` needs.

    Layer by layer (module docstring): the arriving spikes ``A``, the layer's steps, ``σ′``;
    then the error ``e`` of the output spikes and the loss.

    Parameters
    ----------
    weights : sequence of float64 arrays ``(n_post, n_pre)``
        ``W_k`` in volts, connection 0 (input → first LIF layer) first; constant in the window.
    inputs : array ``(T, n_in)``
        Input spikes ``S_in[n]`` of the window's steps (bool, or float for the sigmoid model).
    target : array ``(T, n_out)``
        Target spikes ``Ŝ[n]``.
    params : Params
    initial_state : WindowState or None
        State at the window start; default :meth:`WindowState.rest`.
    spike_fn : ``"heaviside"`` (SPEC) or ``"sigmoid"`` (smooth test model, see :mod:`superspike_ref.bptt`)
    sigmoid_gain_per_V : float
        ``gain`` of the sigmoid (1/V).

    Returns
    -------
    WindowForward
    """
    weights, inputs, target, state0 = _check_forward_args(weights, inputs, target, params, initial_state, spike_fn)
    gain = float(sigmoid_gain_per_V)
    recorded = {name: [] for name in _RECORDED}
    final_lif, final_history = [], []
    S = inputs
    for k, w in enumerate(weights):
        A, in_flight = _arriving(state0.history[k], S, params.n_delay)
        I, U_tilde, S, gate, state = _layer_forward(w, A, state0.lif[k], params, spike_fn, gain)
        sigma_prime = _sigma_prime(U_tilde, S, params, spike_fn, gain)
        for name, value in zip(_RECORDED, (A, I, U_tilde, S, sigma_prime, gate, S.copy())):
            recorded[name].append(value)
        final_lif.append(state)
        final_history.append(in_flight)
    err_rise, e = _window_error(target, S, state0, params)
    final = WindowState(lif=tuple(final_lif), history=tuple(final_history), err_rise=err_rise[-1].copy(),
                        err=e[-1].copy())
    return WindowForward(
        weights=weights, params=params, spike_fn=spike_fn, sigmoid_gain_per_V=gain, initial_state=state0,
        final_state=final, inputs=inputs, target=target, e=e, loss=_window_loss(e, params.dt_s), **recorded,
    )
