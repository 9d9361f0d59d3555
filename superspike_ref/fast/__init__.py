r"""The fast exact engine: SPEC §2-§4 computed a stretch of time at a time.

:class:`~superspike_ref.network.LiteralEngine` updates every per-synapse quantity (λ, m)
at every step. This engine computes exactly the same spikes, weights and learning curves
(SPEC §8: identical spikes, everything else to rounding) with a different order of
operations. It rests on two facts:

1. **Weights only change at batch ends, and layers are feedforward.** Between two updates
   a *segment* of steps can be simulated layer by layer: the arriving (delayed) spikes of
   a connection are known for the whole segment, so the drive ``W @ A[n]`` of every step
   is one matrix product and the synaptic current ``I`` a linear filter of it. Between
   spikes the membrane is a linear filter of ``I`` too; the spikes, resets and refractory
   periods are found in rounds, each a vectorised pass over the segment (:mod:`.lif`).
2. **The accumulator is a bilinear form.** With ``h_ij[s] = σ′_i[s] z̃_j[s]`` and the kernel
   ``K`` (eligibility, SPEC §3) the segment's contribution to ``m`` is

   .. math::  \sum_t e_i[t]\,\lambda_{ij}[t]
              = \sum_s \tilde e_i[s]\,\sigma'_i[s]\,\tilde z_j[s]
              + g^{\lambda}_i\,\lambda^0_{ij} + g^{r}_i\,r^0_{ij},
              \qquad \tilde e_i[s] = \sum_{t\ge s} K[t-s]\,e_i[t],

   where ``ẽ`` is the error filtered *backwards* in time (the adjoint of the eligibility
   filter) and ``(r⁰, λ⁰)`` (``elig_rise``, ``elig``) are the two stages of the eligibility
   filter at the segment start, seen through their homogeneous responses
   ``λ[t] ∋ q^{t+1} λ⁰ + d K[t] r⁰``: their gains are ``gain_elig0 = g^λ_i = Σ_t q^{t+1} e_i[t]``
   and ``gain_rise0 = g^r_i = d Σ_t K[t] e_i[t] = d ẽ_i[0]``
   (``d = decay_rise = exp(-dt/τ_rise)``, ``q = 1 - rate_decay``, ``rate_decay = dt/τ_decay``).
   The eligibility state at the segment end is the same kind of sum with kernel weights,
   ``r = d^T r⁰ + Σ_s d^{T-1-s} h[s]`` and ``λ = q^T λ⁰ + d K[T-1] r⁰ + Σ_s K[T-1-s] h[s]``.

   The presynaptic factor is itself a filtered spike train, ``z̃_j = K_syn * A_j`` (plus its
   own homogeneous terms), so ``Σ_s w_i[s] z̃_j[s] = Σ_{r: A_j[r]=1} w̃_i[r] + …`` with ``w̃``
   the weight rows filtered backwards by ``K_syn``: each of the three sums above costs
   a backward filter of ``n_post`` columns plus one addition per presynaptic spike
   (:func:`.learning._add_spike_sum`), instead of ``n_post × n_pre`` work per step.

Hidden layers need ``ẽ`` only, and it is linear in the output error: ``ẽ_l = ẽ_{l+1} W_{l+1}``
(symmetric) or ``ẽ_out B_l`` (random, uniform), and likewise ``gain_elig0``. The regulariser adds
``-ρ w_ij Σ_n zh_i[n]^a`` (``w`` is constant within a segment). Learning-curve sums are
taken per cycle from the segment's error.

With the optional error gate (``params.e_gate > 0``, original code; see
:class:`~superspike_ref.network.LiteralEngine`) a hidden layer's accumulation uses its own
error masked to 0 where ``|e_i[n]| < e_gate``: ``Σ_t e λ`` and every term above
(``ẽ``, ``gain_elig0``, ``gain_rise0``) are linear in ``e``, so the masked error goes through the same adjoint
path exactly, and the regulariser sums ``mask_i[n] zh_i[n]^a`` instead. The output
connection is never gated.

The per-synapse traces ``lambda`` and ``m`` are never formed per step, so they cannot be
recorded; every other key of SPEC §9 can. Linear recurrences along time are blocked matrix
products (:mod:`.filters`). See ``docs/fast_engine.md`` for the derivation.

:class:`BatchFastEngine` runs ``n_networks`` networks with the same sizes and parameters on one task
in one pass (arrays carry a network axis); :class:`FastEngine` is the one-network case with
the interface of :class:`~superspike_ref.network.LiteralEngine`.

The package is split by concern: :mod:`.filters` (linear recurrences along time as blocked
matrix products), :mod:`.lif` (the LIF scan over a segment), :mod:`.forward` (arriving
spikes and currents of every layer), :mod:`.learning` (error, adjoint signals and the
accumulation of ``m``), :mod:`.recording` (traces and learning curves) and :mod:`.engine`
(the drivers).
"""
from .engine import SEGMENT_BYTES, BatchFastEngine, FastEngine
from .forward import _drive
from .learning import _DENSE_FRACTION, _add_spike_sum
from .lif import _NEVER, _event_scan, _fast_path, _general_steps
from .recording import FAST_RECORDABLE, NOT_RECORDABLE, _check_fast_record

__all__ = ["FastEngine", "BatchFastEngine", "FAST_RECORDABLE", "NOT_RECORDABLE"]
