r"""Exact surrogate gradients by reverse mode (BPTT), to compare with SuperSpike (SPEC §2-§3;
docs/paper.md §"The derivation" and §"What the hidden rule leaves out").

SuperSpike's accumulator ``m_ij = Σ_n e_i[n] λ_ij[n]`` estimates a gradient of the discrete van
Rossum loss of a window of ``T`` steps,

.. math::  L = \frac{\Delta t}{2}\sum_{n=0}^{T-1}\sum_i e_i[n]^2, \qquad e = K(\tau_r,\tau_d) * (\hat S - S).

This module computes that gradient *exactly*, by hand-written reverse-mode accumulation (the
adjoint method, backpropagation through time) in NumPy, through every layer and every step
of SPEC §2, with the surrogate :math:`\partial S/\partial\tilde U := \sigma'(\tilde U)` (SPEC §3,
the same function, including ``u_cut_V``). For the output layer the paper's rule *is* this
gradient (SPEC §3, "Why exact"); for hidden layers it is an approximation (docs/paper.md
§"What the hidden rule leaves out"), and the functions here measure how good it is.

Model of one window (LIF layer ``l``, connection ``k = l - 1``, the per-step factors
``decay_syn = exp(-dt/τ_syn)`` and ``rate_mem = dt/τ_mem``, ``A_k[n] = S_{l-1}[n - n_d]``; before the
window from ``initial_state``):

.. code-block:: text

    I[n] = decay_syn I[n-1] + W_k A_k[n]
    Ũ[n] = gate[n] (U[n-1] + rate_mem (u_rest - U[n-1] + I[n])) + (1 - gate[n]) u_rest
                                                          gate[n] = (r[n-1] == 0)
    S[n] = f(Ũ[n])                                        ∂S/∂Ũ := σ′[n]
    U[n] = (1 - reset[n]) Ũ[n] + reset[n] u_rest          reset[n] = S[n]

With ``spike_fn="heaviside"``, ``f(Ũ) = gate (Ũ > θ)`` and σ′ is SPEC's surrogate: this *is*
SPEC §2 (the forward pass calls :func:`~superspike_ref.neuron.lif_step`, so the spikes are the
engines' spikes). With ``spike_fn="sigmoid"``, ``f(Ũ) = 1/(1 + exp(-gain (Ũ - θ)))`` (``gain`` is
``sigmoid_gain_per_V``) and ``σ′ = gain f (1 - f)`` is its true derivative; the reset is soft
(``reset = f``) and the refractory counter is started by the hard crossing ``Ũ > θ``. This smooth
model exists to check the adjoints by finite differences.

Two gradient variants, differing in what carries no gradient:

``"free"`` (SuperSpike's assumption, paper eq. 2.4 without the η term)
    Reset and refractoriness carry no gradient: the tangent of Ũ follows the *free* (reset-free,
    non-refractory) membrane ``V[n] = V[n-1] + rate_mem (u_rest - V[n-1] + I[n])``, so that
    ``∂Ũ_i[n]/∂w_ij = z̃_j[n]`` (SPEC §3). Formally: the derivative of the model
    ``Ũ[n] = V[n] + R[n]`` in which the offset ``R = Ũ - V`` that resets and refractoriness
    have built up is held fixed. σ′ is still taken at the actual Ũ.
``"detached_reset"`` (what surrogate-gradient codes with a detached reset compute)
    The gradient of SPEC's membrane with the spike in the reset detached and the refractory
    gate constant: ``∂U[n]/∂Ũ[n] = 1 - reset[n]`` (0 at spike steps for Heaviside spikes) and
    ``∂Ũ[n]/∂(U[n-1], I[n]) = 0`` at refractory steps (``gate[n] = 0``).

Reverse pass (``x̄ = ∂L/∂x``, total adjoints; zero beyond the window):

.. code-block:: text

    ē      = Δt e                                     (∂L/∂e)
    Ē      = K^T ē: p̄[n] = ē[n] + (1 - rate_decay) p̄[n+1],  Ē[n] = rate_decay p̄[n] + decay_rise Ē[n+1]
    S̄_L    = -Ē                                       (output layer: e = K * (Ŝ - S))
    per layer, n = T-1 .. 0:
        Ū[n]  = (1 - rate_mem) gate[n+1] Ũ̄[n+1]       (adjoint of U[n] from step n+1)
        Ũ̄[n]  = σ′[n] S̄[n] + (1 - reset[n]) Ū[n]
        Ī[n]  = rate_mem gate[n] Ũ̄[n] + decay_syn Ī[n+1]
    ∂L/∂W_k = Σ_n Ī_l[n] A_k[n]^T
    S̄_{l-1}[n] = W_k^T Ī_l[n + n_d]                    (for n + n_d < T)

``"free"`` is the same recursion with ``gate ≡ 1`` and ``reset ≡ 0``: ``Ī = exp_traceᵀ(followᵀ(σ′ S̄))``
and ``∂L/∂W_k = Σ_n σ′_l[n] S̄_l[n] z̃_k[n]^T``. For the output layer ``S̄_L = -Δt K^T e``, so

.. math::  -\frac{1}{\Delta t}\frac{\partial L}{\partial w_{ij}} = \sum_n \tilde e_i[n]\,\sigma'_i[n]\,\tilde z_j[n]
           = \sum_n e_i[n]\,\lambda_{ij}[n],

SuperSpike's accumulator (SPEC §3), for a window that starts at rest (zero traces). A window
that starts mid-run is handled by ``initial_state`` (truncated BPTT: the state at the window
start is a constant); SuperSpike's ``m`` over the same window then also contains the boundary
terms of λ and e carried in from before the window.

The forward pass (:func:`forward`, :class:`WindowState`, :class:`WindowForward`,
:func:`task_window`) is in :mod:`superspike_ref.bptt_forward` and importable from here; this
module holds the variants and the reverse pass.

Symbols
-------
==================  ==========  ==============================================
code                symbol      meaning
==================  ==========  ==============================================
``arriving[k]``     A_k         spikes arriving at connection k (delayed)
``U_tilde[l]``      Ũ_l         potential compared with the threshold (V)
``sigma_prime[l]``  σ′_l        ∂S/∂Ũ (surrogate, or true for the sigmoid)
``gate[l]``         —           1 where not refractory
``reset[l]``        reset_l     reset amount (= S)
``spike_adjoint``   S̄_l         ∂L/∂S_l[n] (s per unit spike)
``current_adjoint`` Ī_l         ∂L/∂I_l[n]: ∂L/∂W_k = Σ_n Ī_l[n] A_k[n]^T
==================  ==========  ==============================================
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bptt_forward import (
    SPIKE_FNS,
    WindowForward,
    WindowState,
    _arriving,
    _check_weights,
    _gated_membrane,
    _reset_membrane,
    _sigmoid_spike,
    _window_error,
    _window_loss,
    forward,
    task_window,
)
from .neuron import membrane_update
from .params import Params

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


# ---------------------------------------------------------------------------
# the variants: what carries no gradient
# ---------------------------------------------------------------------------

def _free_membrane(current, U0_V, params: Params) -> np.ndarray:
    """Free (reset-free, non-refractory) membrane ``V[n] = V[n-1] + rate_mem (u_rest - V[n-1] + I[n])`` from ``V[-1] = U0``."""
    V = np.empty_like(current)
    v = U0_V
    for t in range(current.shape[0]):
        v = V[t] = membrane_update(v, current[t], params)
    return V


def _frozen_layer(fwd: WindowForward, k: int, w, arriving, variant: str) -> np.ndarray:
    """Spikes ``(T, n)`` of LIF layer ``k + 1`` with weights ``w``, what ``variant`` detaches held at its value in ``fwd``.

    ``"free"``: ``Ũ[n] = V[n] + R[n]``, the free membrane ``V`` recomputed from the new currents,
    the offset ``R = Ũ - V`` of ``fwd``. ``"detached_reset"``: SPEC's membrane with the gates
    and reset amounts of ``fwd``. The currents ``I[n] = decay_syn I[n-1] + w A[n]`` are recomputed in both.
    """
    p, T = fwd.params, arriving.shape[0]
    decay_syn = p.decay(p.tau_syn_s)
    s0 = fwd.initial_state.lif[k]
    I_V, U_V, V = s0.I_V, s0.U_V, s0.U_V
    gate, reset = fwd.gate[k], fwd.reset[k]
    if variant == "free":
        offset = fwd.U_tilde[k] - _free_membrane(fwd.current[k], s0.U_V, p)
    S = np.zeros((T, w.shape[0]))
    for t in range(T):
        I_V = decay_syn * I_V + w @ arriving[t]
        if variant == "free":
            V = membrane_update(V, I_V, p)
            U_tilde = V + offset[t]
        else:
            U_tilde = _gated_membrane(U_V, I_V, gate[t], p)
            U_V = _reset_membrane(U_tilde, reset[t], p)
        if fwd.spike_fn == "heaviside":
            S[t] = (gate[t] > 0) & (U_tilde > p.theta_V)
        else:
            S[t] = _sigmoid_spike(U_tilde, p, fwd.sigmoid_gain_per_V)
    return S


def frozen_loss(fwd: WindowForward, weights, variant: str = "free") -> float:
    """The window loss as a function of ``weights``, with what ``variant`` detaches held at its value in ``fwd``.

    ``"free"``: ``Ũ[n] = V[n] + R[n]`` with the free membrane ``V`` recomputed and the offset
    ``R = Ũ - V`` of ``fwd`` fixed. ``"detached_reset"``: the gates and reset amounts
    of ``fwd`` are fixed. Everything else (currents, membranes, spikes, error) is recomputed.
    Its exact derivative at ``weights = fwd.weights`` is ``backward(fwd, variant).grads``; for the
    sigmoid model this is what the finite-difference tests differentiate. At ``fwd.weights`` it
    equals ``fwd.loss`` (up to rounding for ``"free"``).
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    weights = _check_weights(weights)
    S = fwd.inputs
    for k, w in enumerate(weights):
        A, _ = _arriving(fwd.initial_state.history[k], S, fwd.params.n_delay)
        S = _frozen_layer(fwd, k, w, A, variant)
    _, e = _window_error(fwd.target, S, fwd.initial_state, fwd.params)
    return _window_loss(e, fwd.params.dt_s)


# ---------------------------------------------------------------------------
# reverse pass
# ---------------------------------------------------------------------------

def exp_trace_adjoint(y_bar, tau_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.exp_trace` on a window (zero initial state).

    For ``y = exp_trace(x)`` and ``L = Σ_n ȳ[n]·y[n]`` (``y_bar`` is ``ȳ = ∂L/∂y``), returns
    ``∂L/∂x``: ``x̄[n] = ȳ[n] + exp(-dt/τ) x̄[n+1]``, the trace run backwards in time.
    """
    y_bar = np.asarray(y_bar, dtype=float)
    decay = math.exp(-dt_s / tau_s)
    out = np.empty_like(y_bar)
    acc = np.zeros(y_bar.shape[1:])
    for n in range(y_bar.shape[0] - 1, -1, -1):
        acc = y_bar[n] + decay * acc
        out[n] = acc
    return out


def follow_adjoint(y_bar, tau_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.follow` on a window (zero initial state).

    ``y[n] = (1 - rate) y[n-1] + rate x[n]`` with ``rate = dt/τ``; for ``L = Σ_n ȳ[n]·y[n]``
    (``y_bar`` is ``ȳ``): ``ỹ[n] = ȳ[n] + (1 - rate) ỹ[n+1]``, ``x̄ = rate ỹ``.
    """
    y_bar = np.asarray(y_bar, dtype=float)
    rate = dt_s / tau_s
    out = np.empty_like(y_bar)
    acc = np.zeros(y_bar.shape[1:])
    for n in range(y_bar.shape[0] - 1, -1, -1):
        acc = y_bar[n] + (1.0 - rate) * acc
        out[n] = rate * acc
    return out


def kernel_adjoint(y_bar, tau_rise_s: float, tau_decay_s: float, dt_s: float) -> np.ndarray:
    """Adjoint of :func:`~superspike_ref.filters.double_exp` ``K = follow ∘ exp_trace``: ``Kᵀ ȳ``.

    ``Kᵀ ȳ[s] = Σ_{t ≥ s} K[t - s] ȳ[t]`` (``y_bar`` is ``ȳ``), the kernel applied backwards in time.
    """
    return exp_trace_adjoint(follow_adjoint(y_bar, tau_decay_s, dt_s), tau_rise_s, dt_s)


def _layer_backward(S_bar, sigma_prime, gate, reset, params: Params):
    """Adjoints ``(Ũ̄, Ī)`` of one LIF layer from the total spike adjoint ``S̄`` (module docstring)."""
    T = S_bar.shape[0]
    rate_mem, decay_syn = params.dt_s / params.tau_mem_s, params.decay(params.tau_syn_s)
    U_tilde_bar, I_bar = np.empty_like(S_bar), np.empty_like(S_bar)
    ut_next, i_next, gate_next = np.zeros(S_bar.shape[1]), np.zeros(S_bar.shape[1]), np.ones(S_bar.shape[1])
    for n in range(T - 1, -1, -1):
        u_bar = (1.0 - rate_mem) * gate_next * ut_next         # ∂L/∂U[n] through Ũ[n+1]
        ut_next = U_tilde_bar[n] = sigma_prime[n] * S_bar[n] + (1.0 - reset[n]) * u_bar
        i_next = I_bar[n] = rate_mem * gate[n] * ut_next + decay_syn * i_next
        gate_next = gate[n]
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
        return tuple(-grad / self.dt_s for grad in self.grads)


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

def cosine_similarity(x, y) -> float:
    """``<x, y> / (|x| |y|)`` of two arrays of equal shape, flattened (0 if either is zero)."""
    x, y = np.ravel(x), np.ravel(y)
    denom = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / denom) if denom > 0 else 0.0


def relative_norm(x, y) -> float:
    """``|x| / |y|`` (Frobenius norms); NaN if ``y`` is zero."""
    denom = np.linalg.norm(np.ravel(y))
    return float(np.linalg.norm(np.ravel(x)) / denom) if denom > 0 else float("nan")
