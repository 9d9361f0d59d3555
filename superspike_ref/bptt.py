r"""Exact surrogate gradients by reverse mode (BPTT), to compare with SuperSpike (SPEC §2-§3; paper notes §3, §4.2).

SuperSpike's accumulator ``m_ij = Σ_n e_i[n] λ_ij[n]`` estimates a gradient of the discrete van
Rossum loss of a window of ``T`` steps,

.. math::  L = \frac{\Delta t}{2}\sum_{n=0}^{T-1}\sum_i e_i[n]^2, \qquad e = K(\tau_r,\tau_d) * (\hat S - S).

This module computes that gradient *exactly*, by hand-written reverse-mode accumulation (the
adjoint method, backpropagation through time) in NumPy, through every layer and every step
of SPEC §2, with the surrogate :math:`\partial S/\partial\tilde U := \sigma'(\tilde U)` (SPEC §3,
the same function, including ``u_cut_V``). For the output layer the paper's rule *is* this
gradient (SPEC §3, "Why exact"); for hidden layers it is an approximation (paper notes §4.2),
and the functions here measure how good it is.

Model of one window (LIF layer ``l``, connection ``k = l - 1``, ``a_s = exp(-dt/τ_syn)``,
``c_m = dt/τ_mem``, ``A_k[n] = S_{l-1}[n - n_d]``; before the window from ``initial_state``):

.. code-block:: text

    I[n] = a_s I[n-1] + W_k A_k[n]
    Ũ[n] = g[n] (U[n-1] + c_m (u_rest - U[n-1] + I[n])) + (1 - g[n]) u_rest     g[n] = (r[n-1] == 0)
    S[n] = f(Ũ[n])                                        ∂S/∂Ũ := σ′[n]
    U[n] = (1 - ρ[n]) Ũ[n] + ρ[n] u_rest                  ρ[n] = S[n]  (reset)

With ``spike_fn="heaviside"``, ``f(Ũ) = g (Ũ > θ)`` and σ′ is SPEC's surrogate: this *is*
SPEC §2 (the forward pass calls :func:`~superspike_ref.neuron.lif_step`, so the spikes are the
engines' spikes). With ``spike_fn="sigmoid"``, ``f(Ũ) = 1/(1 + exp(-k(Ũ - θ)))`` and
``σ′ = k f (1 - f)`` is its true derivative; the reset is soft (``ρ = f``) and the refractory
counter is started by the hard crossing ``Ũ > θ``. This smooth model exists to check the
adjoints by finite differences.

Two gradient variants, differing in what carries no gradient:

``"free"`` (SuperSpike's assumption, paper eq. 2.4 without the η term)
    Reset and refractoriness carry no gradient: the tangent of Ũ follows the *free* (reset-free,
    non-refractory) membrane ``V[n] = V[n-1] + c_m (u_rest - V[n-1] + I[n])``, so that
    ``∂Ũ_i[n]/∂w_ij = z̃_j[n]`` (SPEC §3). Formally: the derivative of the model
    ``Ũ[n] = V[n] + R[n]`` in which the offset ``R = Ũ - V`` that resets and refractoriness
    have built up is held fixed. σ′ is still taken at the actual Ũ.
``"detached_reset"`` (what surrogate-gradient codes with a detached reset compute)
    The gradient of SPEC's membrane with the spike in the reset detached and the refractory
    gate constant: ``∂U[n]/∂Ũ[n] = 1 - ρ[n]`` (0 at spike steps for Heaviside spikes) and
    ``∂Ũ[n]/∂(U[n-1], I[n]) = 0`` at refractory steps (``g[n] = 0``).

Reverse pass (``x̄ = ∂L/∂x``, total adjoints; zero beyond the window):

.. code-block:: text

    ē      = Δt e                                     (∂L/∂e)
    Ē      = K^T ē: p̄[n] = ē[n] + (1 - c_d) p̄[n+1],  Ē[n] = c_d p̄[n] + a_r Ē[n+1]
    S̄_L    = -Ē                                       (output layer: e = K * (Ŝ - S))
    per layer, n = T-1 .. 0:
        Ū[n]  = (1 - c_m) g[n+1] Ũ̄[n+1]               (adjoint of U[n] from step n+1)
        Ũ̄[n]  = σ′[n] S̄[n] + (1 - ρ[n]) Ū[n]
        Ī[n]  = c_m g[n] Ũ̄[n] + a_s Ī[n+1]
    ∂L/∂W_k = Σ_n Ī_l[n] A_k[n]^T
    S̄_{l-1}[n] = W_k^T Ī_l[n + n_d]                    (for n + n_d < T)

``"free"`` is the same recursion with ``g ≡ 1`` and ``ρ ≡ 0``: ``Ī = exp_traceᵀ(followᵀ(σ′ S̄))``
and ``∂L/∂W_k = Σ_n σ′_l[n] S̄_l[n] z̃_k[n]^T``. For the output layer ``S̄_L = -Δt K^T e``, so

.. math::  -\frac{1}{\Delta t}\frac{\partial L}{\partial w_{ij}} = \sum_n \tilde e_i[n]\,\sigma'_i[n]\,\tilde z_j[n]
           = \sum_n e_i[n]\,\lambda_{ij}[n],

SuperSpike's accumulator (SPEC §3), for a window that starts at rest (zero traces). A window
that starts mid-run is handled by ``initial_state`` (truncated BPTT: the state at the window
start is a constant); SuperSpike's ``m`` over the same window then also contains the boundary
terms of λ and e carried in from before the window.

Symbols
-------
==================  ==========  ==============================================
code                symbol      meaning
==================  ==========  ==============================================
``arriving[k]``     A_k         spikes arriving at connection k (delayed)
``U_tilde[l]``      Ũ_l         potential compared with the threshold (V)
``sigma_prime[l]``  σ′_l        ∂S/∂Ũ (surrogate, or true for the sigmoid)
``gate[l]``         g_l         1 where not refractory
``reset[l]``        ρ_l         reset amount (= S)
``spike_adjoint``   S̄_l         ∂L/∂S_l[n] (s per unit spike)
``current_adjoint`` Ī_l         ∂L/∂I_l[n]: ∂L/∂W_k = Σ_n Ī_l[n] A_k[n]^T
==================  ==========  ==============================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .filters import exp_trace, follow
from .neuron import LIFState, lif_initial_state, lif_step, membrane_update
from .params import Params
from .surrogate import surrogate_grad

__all__ = [
    "VARIANTS",
    "SPIKE_FNS",
    "WindowState",
    "WindowForward",
    "BPTTResult",
    "task_window",
    "forward",
    "backward",
    "bptt_gradients",
    "frozen_loss",
    "exp_trace_adjoint",
    "follow_adjoint",
    "kernel_adjoint",
    "cosine_similarity",
    "relative_norm",
]

VARIANTS = ("free", "detached_reset")
SPIKE_FNS = ("heaviside", "sigmoid")


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
        if not all(hasattr(engine, a) for a in ("lif", "delay", "err_rise", "err", "step_index", "network")):
            raise TypeError(f"engine must be a LiteralEngine, got {type(engine).__name__}")
        n, n_d = engine.step_index, engine.network.params.n_delay
        history = []
        for line in engine.delay:
            slots = np.arange(n - n_d, n) % (n_d + 1)  # slot m % (n_d + 1) holds S[m]; unwritten slots are zero
            history.append(line.buffer[slots].astype(float))
        return cls(
            lif=tuple(LIFState(I_V=s.I_V.copy(), U_V=s.U_V.copy(), r=s.r.copy()) for s in engine.lif),
            history=tuple(history),
            err_rise=np.array(engine.err_rise, dtype=float),
            err=np.array(engine.err, dtype=float),
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
        Per LIF layer ``I``, ``Ũ``, ``S`` (float), ``σ′``, ``g`` and ``ρ``.
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


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


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


def forward(
    weights,
    inputs,
    target,
    params: Params,
    initial_state: WindowState | None = None,
    spike_fn: str = "heaviside",
    sigmoid_gain_per_V: float = 1e3,
) -> WindowForward:
    """Simulate one window of SPEC §2 and record what :func:`backward` needs.

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
    spike_fn : ``"heaviside"`` (SPEC) or ``"sigmoid"`` (smooth test model, see the module docstring)
    sigmoid_gain_per_V : float
        ``k`` of the sigmoid (1/V).

    Returns
    -------
    WindowForward
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
    p, T, n_d = params, inputs.shape[0], params.n_delay
    a_syn, k_gain = p.decay(p.tau_syn_s), float(sigmoid_gain_per_V)
    rec = {name: [] for name in ("arriving", "current", "U_tilde", "spikes", "sigma_prime", "gate", "reset")}
    final_lif, final_history = [], []
    pre = inputs
    for l, W in enumerate(weights, start=1):
        history = np.asarray(state0.history[l - 1], dtype=float).reshape(n_d, layers[l - 1])
        emitted = np.concatenate([history, pre])            # S_pre[n - n_d .. T - 1]
        A = emitted[:T]                                      # A[n] = S_pre[n - n_d]
        final_history.append(emitted[T:].copy() if n_d else np.zeros((0, layers[l - 1])))
        state = state0.lif[l - 1]
        n = layers[l]
        I, Ut, S, G = (np.zeros((T, n)) for _ in range(4))
        for t in range(T):
            G[t] = state.r == 0
            if spike_fn == "heaviside":
                state, Ut[t], spikes = lif_step(state, W @ A[t], p)   # SPEC §2, the engines' expression
                S[t] = spikes
            else:
                I_V = a_syn * state.I_V + W @ A[t]
                Ut[t] = G[t] * membrane_update(state.U_V, I_V, p) + (1.0 - G[t]) * p.u_rest_V
                S[t] = _sigmoid(k_gain * (Ut[t] - p.theta_V))
                crossed = (G[t] > 0) & (Ut[t] > p.theta_V)
                state = LIFState(
                    I_V=I_V,
                    U_V=(1.0 - S[t]) * Ut[t] + S[t] * p.u_rest_V,
                    r=np.where(crossed, p.n_ref, np.maximum(state.r - 1, 0)),
                )
            I[t] = state.I_V
        if spike_fn == "heaviside":
            sp = surrogate_grad(Ut, p.theta_V, p.beta_per_V, p.u_cut_V)
        else:
            sp = k_gain * S * (1.0 - S)
        for name, value in (("arriving", A), ("current", I), ("U_tilde", Ut), ("spikes", S), ("sigma_prime", sp),
                            ("gate", G), ("reset", S.copy())):
            rec[name].append(value)
        final_lif.append(state)
        pre = S
    rise = exp_trace(target - pre, p.tau_rise_s, p.dt_s, y0=state0.err_rise)
    e = follow(rise, p.tau_decay_s, p.dt_s, y0=state0.err)
    final = WindowState(lif=tuple(final_lif), history=tuple(final_history), err_rise=rise[-1].copy(), err=e[-1].copy())
    return WindowForward(
        weights=weights, params=p, spike_fn=spike_fn, sigmoid_gain_per_V=k_gain, initial_state=state0, final_state=final,
        inputs=inputs, target=target, e=e, loss=float(0.5 * p.dt_s * np.sum(e**2)), **rec,
    )


def frozen_loss(fwd: WindowForward, weights, variant: str = "free") -> float:
    """The window loss as a function of ``weights``, with what ``variant`` detaches held at its value in ``fwd``.

    ``"free"``: ``Ũ[n] = V[n] + R[n]`` with the free membrane ``V`` recomputed and the offset
    ``R = Ũ - V`` of ``fwd`` fixed. ``"detached_reset"``: the gates ``g`` and reset amounts ``ρ``
    of ``fwd`` are fixed. Everything else (currents, membranes, spikes, error) is recomputed.
    Its exact derivative at ``weights = fwd.weights`` is ``backward(fwd, variant).grads``; for the
    sigmoid model this is what the finite-difference tests differentiate. At ``fwd.weights`` it
    equals ``fwd.loss`` (up to rounding for ``"free"``).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    weights = _check_weights(weights)
    p, T, n_d = fwd.params, fwd.n_steps, fwd.params.n_delay
    a_syn = p.decay(p.tau_syn_s)
    pre = fwd.inputs
    for l, W in enumerate(weights, start=1):
        history = np.asarray(fwd.initial_state.history[l - 1], dtype=float).reshape(n_d, W.shape[1])
        A = np.concatenate([history, pre])[:T]
        s0 = fwd.initial_state.lif[l - 1]
        I_V, U_V, V = s0.I_V, s0.U_V, s0.U_V
        G, rho = fwd.gate[l - 1], fwd.reset[l - 1]
        if variant == "free":
            R = fwd.U_tilde[l - 1] - _free_membrane(fwd.current[l - 1], s0.U_V, p)
        S = np.zeros((T, W.shape[0]))
        for t in range(T):
            I_V = a_syn * I_V + W @ A[t]
            if variant == "free":
                V = membrane_update(V, I_V, p)
                Ut = V + R[t]
            else:
                Ut = G[t] * membrane_update(U_V, I_V, p) + (1.0 - G[t]) * p.u_rest_V
                U_V = (1.0 - rho[t]) * Ut + rho[t] * p.u_rest_V
            if fwd.spike_fn == "heaviside":
                S[t] = (G[t] > 0) & (Ut > p.theta_V)
            else:
                S[t] = _sigmoid(fwd.sigmoid_gain_per_V * (Ut - p.theta_V))
        pre = S
    rise = exp_trace(fwd.target - pre, p.tau_rise_s, p.dt_s, y0=fwd.initial_state.err_rise)
    e = follow(rise, p.tau_decay_s, p.dt_s, y0=fwd.initial_state.err)
    return float(0.5 * p.dt_s * np.sum(e**2))


# ---------------------------------------------------------------------------
# reverse pass
# ---------------------------------------------------------------------------

def exp_trace_adjoint(g, tau_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.exp_trace` on a window (zero initial state).

    For ``y = exp_trace(x)`` and ``L = Σ_n g[n]·y[n]``, returns ``∂L/∂x``:
    ``x̄[n] = g[n] + exp(-dt/τ) x̄[n+1]``, the trace run backwards in time.
    """
    g = np.asarray(g, dtype=float)
    decay = math.exp(-dt_s / tau_s)
    out = np.empty_like(g)
    acc = np.zeros(g.shape[1:])
    for n in range(g.shape[0] - 1, -1, -1):
        acc = g[n] + decay * acc
        out[n] = acc
    return out


def follow_adjoint(g, tau_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.follow` on a window (zero initial state).

    ``y[n] = (1 - c) y[n-1] + c x[n]`` with ``c = dt/τ``: ``ỹ[n] = g[n] + (1 - c) ỹ[n+1]``, ``x̄ = c ỹ``.
    """
    g = np.asarray(g, dtype=float)
    c = dt_s / tau_s
    out = np.empty_like(g)
    acc = np.zeros(g.shape[1:])
    for n in range(g.shape[0] - 1, -1, -1):
        acc = g[n] + (1.0 - c) * acc
        out[n] = c * acc
    return out


def kernel_adjoint(g, tau_rise_s: float, tau_decay_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.double_exp` ``K = follow ∘ exp_trace``: ``Kᵀ g``.

    ``Kᵀ g[s] = Σ_{t ≥ s} K[t - s] g[t]``, the kernel applied backwards in time.
    """
    return exp_trace_adjoint(follow_adjoint(g, tau_decay_s, dt_s), tau_rise_s, dt_s)


def _free_membrane(current, U0_V, params: Params) -> np.ndarray:
    """Free (reset-free, non-refractory) membrane ``V[n] = V[n-1] + c_m (u_rest - V[n-1] + I[n])`` from ``V[-1] = U0``."""
    V = np.empty_like(current)
    v = U0_V
    for t in range(current.shape[0]):
        v = V[t] = membrane_update(v, current[t], params)
    return V


def _layer_backward(S_bar, sigma_prime, gate, reset, params: Params):
    """Adjoints ``(Ũ̄, Ī)`` of one LIF layer from the total spike adjoint ``S̄`` (module docstring)."""
    T = S_bar.shape[0]
    c_m, a_syn = params.dt_s / params.tau_mem_s, params.decay(params.tau_syn_s)
    U_tilde_bar, I_bar = np.empty_like(S_bar), np.empty_like(S_bar)
    ut_next, i_next, g_next = np.zeros(S_bar.shape[1]), np.zeros(S_bar.shape[1]), np.ones(S_bar.shape[1])
    for n in range(T - 1, -1, -1):
        u_bar = (1.0 - c_m) * g_next * ut_next                 # ∂L/∂U[n] through Ũ[n+1]
        ut_next = U_tilde_bar[n] = sigma_prime[n] * S_bar[n] + (1.0 - reset[n]) * u_bar
        i_next = I_bar[n] = c_m * gate[n] * ut_next + a_syn * i_next
        g_next = gate[n]
    return U_tilde_bar, I_bar


@dataclass
class BPTTResult:
    """What :func:`backward` returns.

    Attributes
    ----------
    grads : tuple of arrays
        ``∂L/∂W_k`` (s/V: the loss is in seconds), same shapes as the weights.
    loss : float
    variant : str
    dt_s : float
    spike_adjoint, membrane_adjoint, current_adjoint : lists of arrays ``(T, n_l)`` or None
        ``S̄_l``, ``Ũ̄_l``, ``Ī_l`` per LIF layer (with ``return_adjoints=True``).
    """

    grads: tuple
    loss: float
    variant: str
    dt_s: float
    spike_adjoint: list | None = None
    membrane_adjoint: list | None = None
    current_adjoint: list | None = None

    def accumulator_equivalent(self) -> tuple:
        """``-(1/dt) ∂L/∂W_k`` per connection: what SuperSpike's accumulator ``m`` estimates (SPEC §3)."""
        return tuple(-g / self.dt_s for g in self.grads)


def backward(fwd: WindowForward, variant: str = "free", return_adjoints: bool = False) -> BPTTResult:
    """Reverse pass: ``∂L/∂W_k`` for every connection under ``variant`` (``"free"`` or ``"detached_reset"``).

    See the module docstring for the recursion. With ``return_adjoints`` the per-step adjoints
    ``S̄``, ``Ũ̄``, ``Ī`` of every layer are returned too.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if not isinstance(fwd, WindowForward):
        raise TypeError(f"fwd must be a WindowForward (from forward()), got {type(fwd).__name__}")
    p, T, n_d = fwd.params, fwd.n_steps, fwd.params.n_delay
    n_layers = len(fwd.weights)
    S_bar = -kernel_adjoint(p.dt_s * fwd.e, p.tau_rise_s, p.tau_decay_s, p.dt_s)   # ∂L/∂S_out
    grads, adj_S, adj_U, adj_I = [None] * n_layers, [None] * n_layers, [None] * n_layers, [None] * n_layers
    for l in range(n_layers, 0, -1):
        if variant == "free":
            gate, reset = np.ones_like(S_bar), np.zeros_like(S_bar)
        else:
            gate, reset = fwd.gate[l - 1], fwd.reset[l - 1]
        U_bar, I_bar = _layer_backward(S_bar, fwd.sigma_prime[l - 1], gate, reset, p)
        grads[l - 1] = I_bar.T @ fwd.arriving[l - 1]
        adj_S[l - 1], adj_U[l - 1], adj_I[l - 1] = S_bar, U_bar, I_bar
        if l > 1:
            S_bar = np.zeros((T, fwd.weights[l - 1].shape[1]))
            S_bar[: T - n_d] = I_bar[n_d:] @ fwd.weights[l - 1]                     # A[n + n_d] = S_pre[n]
    return BPTTResult(
        grads=tuple(grads), loss=fwd.loss, variant=variant, dt_s=p.dt_s,
        spike_adjoint=adj_S if return_adjoints else None,
        membrane_adjoint=adj_U if return_adjoints else None,
        current_adjoint=adj_I if return_adjoints else None,
    )


def bptt_gradients(
    weights,
    inputs,
    target,
    params: Params,
    variant: str = "free",
    initial_state: WindowState | None = None,
    spike_fn: str = "heaviside",
    sigmoid_gain_per_V: float = 1e3,
    return_adjoints: bool = False,
) -> BPTTResult:
    """:func:`forward` then :func:`backward`: ``∂L/∂W_k`` of the window loss for every connection.

    Parameters are those of :func:`forward` and :func:`backward`. Use ``forward`` once and
    ``backward`` twice to get both variants from one simulation.
    """
    fwd = forward(weights, inputs, target, params, initial_state, spike_fn, sigmoid_gain_per_V)
    return backward(fwd, variant, return_adjoints)


# ---------------------------------------------------------------------------
# comparing updates
# ---------------------------------------------------------------------------

def cosine_similarity(a, b) -> float:
    """``<a, b> / (|a| |b|)`` of two arrays of equal shape, flattened (0 if either is zero)."""
    a, b = np.ravel(a), np.ravel(b)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 0 else 0.0


def relative_norm(a, b) -> float:
    """``|a| / |b|`` (Frobenius norms); NaN if ``b`` is zero."""
    denom = np.linalg.norm(np.ravel(b))
    return float(np.linalg.norm(np.ravel(a)) / denom) if denom > 0 else float("nan")
