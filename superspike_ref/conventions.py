r"""Exact converters between the scale conventions of SuperSpike implementations (SPEC §5).

Implementations of SuperSpike agree on the model but not on the scale of its learning
signals. Three conventions are known here:

* ``"paper"``: the reference (this package, SPEC §3). σ′ peaks at 1; the kernel ``K`` has
  the shape and scale of the PSP kernel (peak 0.25, area τ_rise); weights, potentials in V.
* ``"auryn"``: the original C++ code. ``σ′_A = β σ′`` (1/V); the eligibility trace
  carries the same factor; the error's **first filter stage is an Euler follower**
  (``x += dt/τ_r (err - x)``) instead of SPEC's exponential trace. Volts and seconds.
* ``"genn"``: GeNN's units and scales. Potentials, currents and weights in mV (×1000);
  σ′ as in the original code (×β); the error normalised to unit peak (÷ ``K_peak``); the
  eligibility trace ×β·dt[ms] (GeNN's first stage integrates ``x·dt`` with dt in ms).
  This is GeNN's *scale*; GeNN's own discretisations differ from SPEC (docs/conventions.md §5).

With :math:`c = \Delta t/\tau_{rise}`, :math:`a = e^{-\Delta t/\tau_{rise}}`,
:math:`K_{peak} = \max_n K[n]` (0.2533 with the defaults), :math:`\Delta t_{ms} = 1000\,\Delta t`
and, for symmetric feedback, :math:`h_l = L - l` feedback hops from the output to layer ``l``
(0 otherwise), the relations (value in the convention = function of the paper value) are:

==================  ==========================================  =============================================
quantity            ``"auryn"``                                 ``"genn"``
==================  ==========================================  =============================================
``U_tilde``, ``I``  ×1 (V)                                      ×1000 (mV)
``W``               ×1 (V)                                      ×1000 (mV)
``S, z, z_tilde``   ×1                                          ×1
``sigma_prime``     ×β, exact                                   ×β, exact
``lambda``          ×β, exact                                   ×β·dt_ms, exact
``e`` (output)      filter re-mapping, exact (below);            ÷K_peak, exact
                    the factor c is approximate (≈1 %)
``e`` (hidden l)    ``e_l + (e_A,out - e_out) M_l[n]``, exact    ×1000^h_l / K_peak, exact
``m``               ``βc (m - C)``, exact (below)                 ×k_l = β dt_ms 1000^h_l / K_peak, exact
``v``               ×(βc)², approximate                           ×k_l², exact
``rho``             ×βc (SPEC §5), exact in ``m``                 ×k_l / 1000 (weights in mV), exact
==================  ==========================================  =============================================

**The original code's error.** Its impulse response is ``c (1 - c)^n`` in the first stage
where SPEC's is ``a^n``. The two errors are related exactly (zero initial state) by

.. math::  e_A[n] = (1-c)\,e_A[n-1] + c\,\big(e[n] - a\,e[n-1]\big), \qquad
           e[n] = a\,e[n-1] + \big(e_A[n] - (1-c)\,e_A[n-1]\big)/c,

i.e. :func:`error_to_auryn` and :func:`error_from_auryn`. Equivalently
``e_A = c · K(τ*_rise, τ_decay) ∗ (Ŝ - S)`` with ``τ*_rise = -dt / ln(1 - c)``
(:func:`auryn_equivalent_rise_s`, 4.94983 ms). SPEC §5's factor-only form ``e_A ≈ c e``
is **approximate**: for one isolated impulse it is off by up to 0.82 % of the peak and
its area is 1.0100 times the code's (:func:`auryn_error_factor_accuracy`).

**The accumulator.** ``m_A = Σ e_A λ_A - ρ_A w zh^a`` with ``λ_A = βλ`` and ``ρ_A = βcρ`` is
exactly ``βc (m - C)`` with the correction

.. math::  C_{ij}[n] = \sum_{s=n_0}^{n} \lambda_{ij}[s]\,\big(e_i[s] - e_{A,i}[s]/c\big),

summed since the start ``n_0`` of the current batch (``C = 0`` after an update, when ``m`` is
reset). ``v`` has no exact converter: the original code's ``g_A`` is ``βc g`` only to
O(dt/τ_rise), and RMaxProp's max is not linear. A candidate that *learns* with the
original code's error therefore differs from the reference in ``W`` from its first update
on; that is a difference of the model, not of the scale.

Under RMaxProp the overall scale of ``g`` cancels in Δw except through ``eps`` (which acts
as ``eps/k``) and ``rho`` (which must be converted, as above).

Every converter works on time-major arrays (axis 0 = step) and leaves its input unchanged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .feedback import hidden_errors
from .filters import exp_trace, follow, kernel_impulse_response
from .params import Params

__all__ = [
    "CONVENTIONS",
    "check_convention",
    "potential_factor",
    "weight_factor",
    "sigma_prime_factor",
    "eligibility_factor",
    "kernel_peak_discrete",
    "error_factor",
    "gradient_factor",
    "rho_to",
    "rho_from",
    "error_to_auryn",
    "error_from_auryn",
    "auryn_equivalent_rise_s",
    "auryn_error_factor_accuracy",
    "TraceContext",
    "to_paper",
    "from_paper",
    "convert_traces",
    "conversion_accuracy",
]

CONVENTIONS = ("paper", "auryn", "genn")
"""Known conventions: the reference, the original C++ code, GeNN's units and scales."""


def check_convention(convention) -> str:
    """Return ``convention`` if it is one of :data:`CONVENTIONS`, else raise ``ValueError``."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    return convention


# ----------------------------------------------------------------------------------------
# scale factors (value in the convention = factor × paper value)
# ----------------------------------------------------------------------------------------

def potential_factor(convention: str) -> float:
    """Factor of ``U_tilde`` and ``I``: 1 (V) for paper and auryn, 1000 (mV) for genn."""
    return 1e3 if check_convention(convention) == "genn" else 1.0


def weight_factor(convention: str) -> float:
    """Factor of the weights ``W``: 1 (V) for paper and auryn, 1000 (mV) for genn."""
    return potential_factor(convention)


def sigma_prime_factor(convention: str, params: Params) -> float:
    r"""Factor of σ′: 1 (paper, dimensionless), β (auryn and genn, 1/V). Exact.

    Both the original code and GeNN compute :math:`\beta/(1 + \beta|U - \vartheta|)^2`
    (GeNN with U in mV and steepness 0.001·β per mV: the same number).
    """
    return 1.0 if check_convention(convention) == "paper" else params.beta_per_V


def eligibility_factor(convention: str, params: Params) -> float:
    r"""Factor of λ: 1 (paper), β (auryn), β·dt[ms] (genn). Exact for the scale.

    λ is linear in σ′; the original code's two stages are SPEC's (docs/conventions.md §4).
    GeNN's first stage adds ``σ′ z̃ · dt`` with dt in ms, hence the extra ``dt_ms``.
    """
    c = check_convention(convention)
    if c == "paper":
        return 1.0
    if c == "auryn":
        return params.beta_per_V
    return params.beta_per_V * params.dt_s * 1e3


def kernel_peak_discrete(params: Params) -> float:
    """``max_n K[n]`` of the discrete error kernel ``K(τ_rise, τ_decay)`` (0.2533 with the defaults)."""
    n_steps = int(math.ceil(20 * max(params.tau_rise_s, params.tau_decay_s) / params.dt_s))
    return float(kernel_impulse_response(n_steps, params.tau_rise_s, params.tau_decay_s, params.dt_s).max())


def error_factor(convention: str, params: Params, hops: int = 0) -> float:
    """Factor of the error ``e`` of a layer ``hops`` symmetric-feedback steps below the output.

    paper: 1. genn: ``1000**hops / K_peak`` (exact; ``hops > 0`` only with symmetric feedback,
    whose feedback matrices are the weights in mV). auryn: ``dt/τ_rise``, SPEC §5's
    factor-only form, which is **approximate** (see :func:`auryn_error_factor_accuracy`;
    the exact relation is :func:`error_to_auryn`).
    """
    c = check_convention(convention)
    if c == "paper":
        return 1.0
    if c == "auryn":
        return params.dt_s / params.tau_rise_s
    return weight_factor("genn") ** hops / kernel_peak_discrete(params)


def gradient_factor(convention: str, params: Params, hops: int = 0) -> float:
    """Factor of ``m``, ``g`` (``eligibility_factor × error_factor``); ``v`` scales with its square.

    Exact for genn; for auryn the factor-only form ``β dt/τ_rise`` (20), approximate like the error.
    """
    return eligibility_factor(convention, params) * error_factor(convention, params, hops)


def rho_to(convention: str, rho: float, params: Params, hops: int = 0) -> float:
    r"""Regulariser strength in ``convention`` that gives the same learning as ``rho`` in the paper's.

    The term ``ρ w zhᵃ`` is subtracted from ``m``, so it must scale like ``m``:
    ``ρ_A = ρ β dt/τ_rise`` (SPEC §5; ``ρ_A = 1 ⇔ ρ = 0.05``) and, with weights in mV,
    ``ρ_genn = ρ k / 1000`` with ``k`` = :func:`gradient_factor`. Exact: the auryn accumulator
    with ``ρ_A`` is exactly ``βc (m - C)`` (module docstring).
    """
    return rho * gradient_factor(convention, params, hops) / weight_factor(convention)


def rho_from(convention: str, rho_conv: float, params: Params, hops: int = 0) -> float:
    """Inverse of :func:`rho_to`."""
    return rho_conv * weight_factor(convention) / gradient_factor(convention, params, hops)


# ----------------------------------------------------------------------------------------
# the original code's error: exact filter re-mapping
# ----------------------------------------------------------------------------------------

def _shift(x: np.ndarray) -> np.ndarray:
    """``x[n-1]`` along axis 0, with 0 before the first step."""
    out = np.zeros_like(x)
    out[1:] = x[:-1]
    return out


def error_to_auryn(e, params: Params) -> np.ndarray:
    r"""Original code's error ``e_A`` from the reference error ``e`` (exact, zero initial state).

    .. math::  e_A[n] = (1-c)\,e_A[n-1] + c\,(e[n] - a\,e[n-1]),
               \quad c = \Delta t/\tau_{rise},\ a = e^{-\Delta t/\tau_{rise}}

    Proof: ``e = follow(u; τ_d)`` with ``u = exp_trace(x; τ_r)``, so ``x[n] = u[n] - a u[n-1]``;
    the code's first stage is ``follow(x; τ_r)``, and the common second stage commutes with
    both linear maps. Works on any time-major array ``(n_steps, ...)``.
    """
    e = np.asarray(e, dtype=float)
    a = math.exp(-params.dt_s / params.tau_rise_s)
    return follow(e - a * _shift(e), params.tau_rise_s, params.dt_s)


def error_from_auryn(e_auryn, params: Params) -> np.ndarray:
    r"""Reference error ``e`` from the original code's ``e_A`` (exact inverse of :func:`error_to_auryn`).

    .. math::  e[n] = a\,e[n-1] + \big(e_A[n] - (1-c)\,e_A[n-1]\big)/c
    """
    e_auryn = np.asarray(e_auryn, dtype=float)
    c = params.dt_s / params.tau_rise_s
    return exp_trace((e_auryn - (1.0 - c) * _shift(e_auryn)) / c, params.tau_rise_s, params.dt_s)


def auryn_equivalent_rise_s(params: Params) -> float:
    """``τ*_rise = -dt / ln(1 - dt/τ_rise)``: ``e_A = (dt/τ_rise) · K(τ*_rise, τ_decay) ∗ (Ŝ - S)`` exactly."""
    return -params.dt_s / math.log(1.0 - params.dt_s / params.tau_rise_s)


def auryn_error_factor_accuracy(params: Params) -> dict:
    """How far SPEC §5's factor-only form ``e_A ≈ (dt/τ_rise) e`` is from exact, for one impulse.

    Returns ``max_deviation_of_peak`` (``max|e_A - c e| / max e_A``, 0.0082 with the defaults) and
    ``area_ratio`` (``Σ c e / Σ e_A = c / (1 - a)``, 1.0100 ≈ 1 + c/2).
    """
    n_steps = int(math.ceil(40 * max(params.tau_rise_s, params.tau_decay_s) / params.dt_s))
    e = kernel_impulse_response(n_steps, params.tau_rise_s, params.tau_decay_s, params.dt_s)[:, None]
    c = params.dt_s / params.tau_rise_s
    e_auryn = error_to_auryn(e, params)
    return {
        "max_deviation_of_peak": float(np.abs(e_auryn - c * e).max() / e_auryn.max()),
        "area_ratio": float((c * e).sum() / e_auryn.sum()),
    }


# ----------------------------------------------------------------------------------------
# whole trace dictionaries (SPEC §9 keys)
# ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TraceContext:
    """What the converters need to know about the run that produced a set of traces.

    Parameters
    ----------
    params : Params
    layers : tuple of int
        Layer sizes, input first.
    feedback : ``"symmetric"``, ``"random"`` or ``"uniform"``
    hidden_maps : tuple of arrays
        Per hidden layer ``l = 1 .. L-1``: the matrices ``M_l`` ``(n_segments, n_out, n_l)`` with
        ``e_l = e_out @ M_l`` in the paper convention, one per batch segment (segment ``n // n_b``;
        the last one is used beyond the end). Build it with :meth:`from_network`.
    """

    params: Params
    layers: tuple
    feedback: str
    hidden_maps: tuple

    @classmethod
    def from_network(cls, network, weights_per_update=None) -> "TraceContext":
        """Context of a :class:`~superspike_ref.network.Network` run from its initial weights.

        ``weights_per_update`` is the recorded ``W_k`` of every connection (``(n_updates + 1,
        n_post, n_pre)`` each, a sequence indexed by ``k``); only symmetric feedback with hidden
        layers needs it, and without it the initial weights are used throughout (exact until the
        first update).
        """
        layers = tuple(network.layers)
        n_out = layers[-1]
        eye = np.eye(n_out)
        if network.feedback == "symmetric" and weights_per_update is not None:
            n_seg = min(np.asarray(w).shape[0] for w in weights_per_update)
            per_segment = [hidden_errors(eye, [np.asarray(w)[s] for w in weights_per_update], "symmetric", None)
                           for s in range(n_seg)]
        else:
            per_segment = [hidden_errors(eye, network.weights, network.feedback, network.feedback_matrices)]
        maps = tuple(np.stack([seg[l] for seg in per_segment]) for l in range(len(layers) - 2))
        return cls(params=network.params, layers=layers, feedback=network.feedback, hidden_maps=maps)

    @property
    def n_layers(self) -> int:
        """Number of LIF layers ``L``."""
        return len(self.layers) - 1

    def hops(self, layer: int) -> int:
        """Symmetric feedback steps from the output to LIF layer ``layer`` (0 for fixed feedback)."""
        return self.n_layers - layer if self.feedback == "symmetric" else 0

    def hidden_map(self, layer: int, n_steps: int) -> np.ndarray:
        """``M_l`` at every step ``(n_steps, n_out, n_l)`` for hidden LIF layer ``layer``."""
        maps = self.hidden_maps[layer - 1]
        segment = np.minimum(np.arange(n_steps) // self.params.n_batch, maps.shape[0] - 1)
        return maps[segment]


def _split(key: str):
    name, _, index = key.rpartition("_")
    return name, int(index)


def _batch_cumsum(x: np.ndarray, n_batch: int) -> np.ndarray:
    """Running sum along axis 0 restarted after every update step; 0 at update steps (m's reset)."""
    out = np.empty_like(x)
    total = np.zeros(x.shape[1:])
    for n in range(x.shape[0]):
        total = total + x[n]
        if (n + 1) % n_batch == 0:
            total = np.zeros(x.shape[1:])
        out[n] = total
    return out


def _convert(traces: dict, convention: str, context: TraceContext, to_paper: bool) -> dict:
    """Convert every known key of ``traces`` between the paper convention and ``convention``."""
    check_convention(convention)
    p, L = context.params, context.n_layers
    out = {}
    for key, value in traces.items():
        out[key] = np.array(value, copy=True)
    if convention == "paper":
        return out

    def scale(key: str, factor: float) -> None:
        if key in out and np.issubdtype(out[key].dtype, np.number) and out[key].dtype != bool:
            out[key] = out[key] / factor if to_paper else out[key] * factor

    for l in range(1, L + 1):
        scale(f"U_tilde_{l}", potential_factor(convention))
        scale(f"I_{l}", potential_factor(convention))
        scale(f"sigma_prime_{l}", sigma_prime_factor(convention, p))
    for k in range(L):
        scale(f"lambda_{k}", eligibility_factor(convention, p))
        scale(f"W_{k}", weight_factor(convention))

    if convention == "genn":
        for l in range(1, L + 1):
            scale(f"e_{l}", error_factor("genn", p, context.hops(l)))
        for k in range(L):
            factor = gradient_factor("genn", p, context.hops(k + 1))
            scale(f"m_{k}", factor)
            scale(f"v_{k}", factor**2)
        return out

    # auryn: the error by the exact filter re-mapping, hidden errors through M_l, m exactly
    c = p.dt_s / p.tau_rise_s
    src_err = {l: np.asarray(traces[f"e_{l}"], dtype=float) for l in range(1, L + 1) if f"e_{l}" in traces}
    mapping = error_from_auryn if to_paper else error_to_auryn
    paper_err, auryn_err = {}, {}
    if L in src_err:
        converted = mapping(src_err[L], p)
        out[f"e_{L}"] = converted
        paper_err[L], auryn_err[L] = (converted, src_err[L]) if to_paper else (src_err[L], converted)
        shift = converted - src_err[L]                       # target-convention minus source-convention
        for l in range(1, L):
            if l in src_err:
                M = context.hidden_map(l, shift.shape[0])
                out[f"e_{l}"] = src_err[l] + np.einsum("no,nol->nl", shift, M)
                paper_err[l], auryn_err[l] = (out[f"e_{l}"], src_err[l]) if to_paper else (src_err[l], out[f"e_{l}"])
    else:
        for l in range(1, L):                                # no output error: factor-only (approximate)
            scale(f"e_{l}", c)
    for k in range(L):
        key, l = f"m_{k}", k + 1
        if key not in out:
            continue
        k_m = gradient_factor("auryn", p)
        lam_key = f"lambda_{k}"
        if l in paper_err and lam_key in traces:
            lam = np.asarray(traces[lam_key], dtype=float)
            lam = lam / p.beta_per_V if to_paper else lam
            correction = _batch_cumsum(lam * (paper_err[l] - auryn_err[l] / c)[:, :, None], p.n_batch)
            m = np.asarray(traces[key], dtype=float)
            out[key] = m / k_m + correction if to_paper else k_m * (m - correction)
        else:
            scale(key, k_m)
        scale(f"v_{k}", k_m**2)
    return out


def to_paper(traces: dict, convention: str, context: TraceContext) -> dict:
    """Convert traces (SPEC §9 keys) recorded in ``convention`` to the paper convention.

    Unknown keys and keys that need no conversion are copied. For ``"auryn"`` the errors and
    ``m`` are converted exactly if the output error ``e_L`` (and, for ``m_k``, ``lambda_k``) is
    present, else by the factor-only form; ``v`` always by the factor ``(βc)²`` (approximate).
    """
    return _convert(traces, convention, context, to_paper=True)


def from_paper(traces: dict, convention: str, context: TraceContext) -> dict:
    """Convert paper-convention traces to ``convention`` (the inverse of :func:`to_paper`)."""
    return _convert(traces, convention, context, to_paper=False)


def convert_traces(traces: dict, source: str, target: str, context: TraceContext) -> dict:
    """Convert traces from convention ``source`` to convention ``target`` (through the paper's)."""
    return from_paper(to_paper(traces, source, context), target, context)


def conversion_accuracy(convention: str, name: str, exact_inputs: bool = True) -> str:
    """``"exact"`` or ``"approximate (...)"`` for the converter of trace ``name`` in ``convention``.

    ``exact_inputs`` says whether the keys the exact auryn converters need were present
    (the output error for ``e``; the error and ``lambda`` for ``m``).
    """
    check_convention(convention)
    if convention != "auryn":
        return "exact"
    if name == "v":
        return "approximate (factor (β dt/τ_rise)², g_A = 20 g only to ≈1 %)"
    if name in ("e", "m") and not exact_inputs:
        return "approximate (factor-only dt/τ_rise, ≈1 %)"
    return "exact"
