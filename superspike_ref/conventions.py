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

With :math:`c = \Delta t/\tau_{rise}`, ``decay_rise`` :math:`= e^{-\Delta t/\tau_{rise}}`,
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
where SPEC's is ``decay_rise^n``. The two errors are related exactly (zero initial state) by

.. code-block:: text

    e_A[n] = (1 - c) e_A[n-1] + c (e[n] - decay_rise e[n-1]),
    e[n]   = decay_rise e[n-1] + (e_A[n] - (1 - c) e_A[n-1]) / c,

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
as ``eps/k_l``) and ``rho`` (which must be converted, as above).

Every converter works on time-major arrays (axis 0 = step) and leaves its input unchanged.

The factors and the error re-mapping (one quantity at a time) are in
:mod:`superspike_ref.convention_scales` and importable from here; this module converts whole
trace dictionaries (SPEC §9 keys).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import convention_scales
from .convention_scales import (
    CONVENTIONS,
    auryn_equivalent_rise_s,
    auryn_error_factor_accuracy,
    check_convention,
    eligibility_factor,
    error_factor,
    error_from_auryn,
    error_to_auryn,
    gradient_factor,
    kernel_peak_discrete,
    potential_factor,
    rho_from,
    rho_to,
    sigma_prime_factor,
    weight_factor,
)
from .feedback import hidden_errors
from .params import Params

__all__ = convention_scales.__all__ + [
    "TraceContext",
    "to_paper",
    "from_paper",
    "convert_traces",
    "conversion_accuracy",
]


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
    euler_error_rise : bool
        The run used the ``auryn-error-kernel`` SPEC variant (:mod:`superspike_ref.variants`):
        its errors are exactly ``e_A = c e`` (and ``m_A = βc m``), so ``"auryn"`` errors and
        accumulators convert by these factors alone, exactly.
    """

    params: Params
    layers: tuple
    feedback: str
    hidden_maps: tuple
    euler_error_rise: bool = False

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


# ----------------------------------------------------------------------------------------
# the conversion, step by step
# ----------------------------------------------------------------------------------------

def _scale(out: dict, key: str, factor: float, to_paper: bool) -> None:
    """``out[key]`` divided by ``factor`` (to the paper convention) or multiplied by it, if present and numeric."""
    if key in out and np.issubdtype(out[key].dtype, np.number) and out[key].dtype != bool:
        out[key] = out[key] / factor if to_paper else out[key] * factor


def _scale_states(out: dict, convention: str, context: TraceContext, to_paper: bool) -> None:
    """``Ũ``, ``I``, ``σ′``, ``λ`` and ``W`` by their factors, exact in both non-paper conventions (module docstring)."""
    p = context.params
    for l in range(1, context.n_layers + 1):
        _scale(out, f"U_tilde_{l}", potential_factor(convention), to_paper)
        _scale(out, f"I_{l}", potential_factor(convention), to_paper)
        _scale(out, f"sigma_prime_{l}", sigma_prime_factor(convention, p), to_paper)
    for k in range(context.n_layers):
        _scale(out, f"lambda_{k}", eligibility_factor(convention, p), to_paper)
        _scale(out, f"W_{k}", weight_factor(convention), to_paper)


def _scale_genn_signals(out: dict, context: TraceContext, to_paper: bool) -> None:
    """genn's learning signals, all exact factors: ``e_l`` ×1000^h_l / K_peak, ``m_k`` ×k_l, ``v_k`` ×k_l²."""
    p = context.params
    for l in range(1, context.n_layers + 1):
        _scale(out, f"e_{l}", error_factor("genn", p, context.hops(l)), to_paper)
    for k in range(context.n_layers):
        factor = gradient_factor("genn", p, context.hops(k + 1))
        _scale(out, f"m_{k}", factor, to_paper)
        _scale(out, f"v_{k}", factor**2, to_paper)


def _convert_auryn_errors(traces: dict, out: dict, context: TraceContext, to_paper: bool):
    """auryn's errors: the output error by the exact filter re-mapping, hidden errors through ``M_l``.

    ``e_{A,l} = e_l + (e_{A,out} - e_out) M_l[n]``: the hidden errors are linear in the output
    error with the maps ``M_l`` of the context. Without the output error the hidden errors get the
    factor-only form ``c = dt/τ_rise`` (approximate; exact with ``context.euler_error_rise``, which
    also gives the output error the factor alone). Returns ``(paper_err, auryn_err)``, the
    errors of both conventions per LIF layer ``l`` that was converted exactly.
    """
    p, L = context.params, context.n_layers
    paper_err, auryn_err = {}, {}
    if f"e_{L}" not in traces or context.euler_error_rise:
        for l in range(1, L + 1):
            _scale(out, f"e_{l}", p.dt_s / p.tau_rise_s, to_paper)
        return paper_err, auryn_err
    source = {l: np.asarray(traces[f"e_{l}"], dtype=float) for l in range(1, L + 1) if f"e_{l}" in traces}
    mapping = error_from_auryn if to_paper else error_to_auryn
    out[f"e_{L}"] = mapping(source[L], p)
    shift = out[f"e_{L}"] - source[L]                      # target-convention minus source-convention
    for l in range(1, L):
        if l in source:
            out[f"e_{l}"] = source[l] + np.einsum("no,nol->nl", shift, context.hidden_map(l, shift.shape[0]))
    for l in source:
        paper_err[l], auryn_err[l] = (out[f"e_{l}"], source[l]) if to_paper else (source[l], out[f"e_{l}"])
    return paper_err, auryn_err


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


def _convert_auryn_accumulators(traces: dict, out: dict, context: TraceContext, to_paper: bool,
                                paper_err: dict, auryn_err: dict) -> None:
    r"""auryn's ``m_k = βc (m - C)`` (exact, with the errors of both conventions and ``λ``) and ``v_k`` ×(βc)².

    ``C[n] = Σ_{s=n_0}^{n} λ[s] (e[s] - e_A[s]/c)``, summed since the last update (module docstring).
    Without the errors or ``lambda_k``, ``m_k`` gets the factor-only form ``βc`` (approximate).
    """
    p = context.params
    c, k_m = p.dt_s / p.tau_rise_s, gradient_factor("auryn", p)
    for k in range(context.n_layers):
        key, l, elig_key = f"m_{k}", k + 1, f"lambda_{k}"
        if key not in out:
            continue
        if l in paper_err and elig_key in traces:
            elig = np.asarray(traces[elig_key], dtype=float)
            elig = elig / p.beta_per_V if to_paper else elig
            correction = _batch_cumsum(elig * (paper_err[l] - auryn_err[l] / c)[:, :, None], p.n_batch)
            m = np.asarray(traces[key], dtype=float)
            out[key] = m / k_m + correction if to_paper else k_m * (m - correction)
        else:
            _scale(out, key, k_m, to_paper)
        _scale(out, f"v_{k}", k_m**2, to_paper)


def _convert(traces: dict, convention: str, context: TraceContext, to_paper: bool) -> dict:
    """Convert every known key of ``traces`` between the paper convention and ``convention``."""
    check_convention(convention)
    out = {key: np.array(value, copy=True) for key, value in traces.items()}
    if convention == "paper":
        return out
    _scale_states(out, convention, context, to_paper)
    if convention == "genn":
        _scale_genn_signals(out, context, to_paper)
    else:
        paper_err, auryn_err = _convert_auryn_errors(traces, out, context, to_paper)
        _convert_auryn_accumulators(traces, out, context, to_paper, paper_err, auryn_err)
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


def conversion_accuracy(convention: str, name: str, exact_inputs: bool = True, euler_error_rise: bool = False) -> str:
    """``"exact"`` or ``"approximate (...)"`` for the converter of trace ``name`` in ``convention``.

    ``exact_inputs`` says whether the keys the exact auryn converters need were present
    (the output error for ``e``; the error and ``lambda`` for ``m``). With ``euler_error_rise``
    (the ``auryn-error-kernel`` variant, :class:`TraceContext`) every auryn factor is exact.
    """
    check_convention(convention)
    if convention != "auryn" or euler_error_rise:
        return "exact"
    if name == "v":
        return "approximate (factor (β dt/τ_rise)², g_A = 20 g only to ≈1 %)"
    if name in ("e", "m") and not exact_inputs:
        return "approximate (factor-only dt/τ_rise, ≈1 %)"
    return "exact"
