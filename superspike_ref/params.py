"""Model and learning parameters (SPEC §1, paper Table 1).

Every quantity is SI and carries its unit in its name (``tau_mem_s`` in seconds,
``theta_V`` in volts, ``beta_per_V`` in 1/V). :class:`Params` is a frozen dataclass:
it is validated once, in ``__post_init__``, and never changes afterwards. Derived
integer step counts (``n_ref``, ``n_delay``, ``n_batch``) and per-step factors are
properties, so that nothing can drift out of sync.

Symbols
-------
=================  ==========  ==========================================
code               paper       meaning
=================  ==========  ==========================================
``dt_s``           Δt          time step
``tau_mem_s``      τ_mem       membrane time constant (eq. 3.1)
``tau_syn_s``      τ_syn       synaptic current time constant (eq. 3.2)
``u_rest_V``       U_rest      rest and reset potential
``theta_V``        ϑ           firing threshold
``t_ref_s``        τ_ref       absolute refractory period
``delay_s``        --          axonal delay of every forward connection
``tau_rise_s``     τ_rise      van Rossum / eligibility kernel α, rise
``tau_decay_s``    τ_decay     van Rossum / eligibility kernel α, decay
``beta_per_V``     β           surrogate steepness (§3.3.2)
``u_cut_V``        --          optional σ′ cut-off (original code: -80 mV)
``t_batch_s``      t_b         gradient integration interval (§3.3.5)
``r0``             r_0         learning rate, V per update at most (RMaxProp)
``tau_rms_s``      τ_rms       RMaxProp memory, γ = exp(-t_b/τ_rms)
``eps``            ε           RMaxProp / RMSprop denominator guard
``w_min_V``        --          lower weight bound
``w_max_V``        --          upper weight bound
``rho``            ρ           heterosynaptic regulariser strength (eq. 3.4)
``a``              a           regulariser exponent (eq. 3.5)
``tau_het_s``      τ_het       regulariser trace time constant
``e_gate``         --          optional gate: hidden-layer accumulation skipped where
                               |e_i| < e_gate (original code: 5e-6 in these units)
=================  ==========  ==========================================

``e_gate`` (not in SPEC or the paper; default 0, off) mimics the original C++ code, which
skips the whole per-synapse accumulation ``e_i λ_ij - ρ w_ij zh_i^a`` of a hidden neuron
``i`` at every step where its error is below ``1e-7`` in its own units. With
``e_auryn = (dt/tau_rise) e`` (SPEC §5) the original value is ``1e-7 * tau_rise_s/dt_s``,
i.e. ``5e-6`` with the default ``dt_s`` and ``tau_rise_s``. See
:class:`~superspike_ref.network.LiteralEngine` and ``docs/design_choices.md``.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

__all__ = ["Params", "whole_steps"]

_TIME_CONSTANTS = ("tau_mem_s", "tau_syn_s", "tau_rise_s", "tau_decay_s", "tau_rms_s", "tau_het_s")


def whole_steps(duration_s: float, dt_s: float, name: str) -> int:
    """Return ``duration_s / dt_s`` as an int, or raise if it is not a whole number of steps.

    "Whole" means within 1e-9 relative (SPEC §1); a duration of exactly 0 is 0 steps, while a
    tiny non-zero one (say 1e-14 s) is rejected rather than rounded to 0.

    Raises
    ------
    TypeError
        If ``duration_s`` or ``dt_s`` is not a real number.
    ValueError
        If either is infinite or NaN, ``dt_s <= 0``, or the ratio is not a whole number (or too
        large to be a float), naming ``name`` (or ``dt_s``).
    """
    duration_s = _finite_real(duration_s, name, "s")
    dt_s = _finite_real(dt_s, "dt_s", "s")
    if dt_s <= 0:
        raise ValueError(f"dt_s must be > 0 s, got {dt_s!r} s")
    ratio = duration_s / dt_s
    if not math.isfinite(ratio):
        raise ValueError(f"{name}={duration_s!r} s is too many time steps of dt_s={dt_s!r} s to count")
    n = round(ratio)
    if abs(ratio - n) > 1e-9 * abs(ratio):
        raise ValueError(
            f"{name}={duration_s!r} s is not a whole number of time steps of dt_s={dt_s!r} s "
            f"({ratio:.6g} steps)"
        )
    return int(n)


def _finite_real(value, name: str, unit: str = "") -> float:
    """``value`` as a float if it is a finite real number (bool excluded), else TypeError/ValueError naming ``name``.

    Shared by every check of a real argument (also :func:`_check_real`).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number{' in ' + unit if unit else ''}, got {value!r} "
                        f"({type(value).__name__})")
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got an integer of {len(str(abs(value)))} digits") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}{' ' + unit if unit else ''}")
    return x


def _check_count(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_real(value, name: str, unit: str, positive: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number (> 0 if ``positive``, else >= 0)."""
    value = _finite_real(value, name, unit)
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0 {unit}, got {value!r} {unit}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 {unit}, got {value!r} {unit}")
    return value


def _check_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a :class:`numpy.random.Generator`, else raise ``TypeError``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


_KERNEL_TOLERANCE = 1e-10
"""Smallest allowed conditioning of the error kernel's closed forms (see :func:`_check_kernel`)."""


def _check_kernel(p: "Params") -> None:
    """Raise ``ValueError`` unless the closed forms of the error kernel ``K(τ_rise, τ_decay)`` are usable.

    The continuous forms (``kernel_energy_s``, the ``auryn_mse`` scale) divide by
    ``τ_decay - τ_rise``; the discrete ones (``kernel_energy_steps``, which normalises every
    ``vr_distance``) by ``keep_decay - decay_rise`` with the per-step factors
    ``decay_rise = exp(-dt/τ_rise)``, ``keep_decay = 1 - dt/τ_decay``, and by ``1 - decay_rise``,
    ``1 - keep_decay``. Their rounding error grows like ``1e-16 / δ²`` and
    ``1e-16 / (δ_d² (1 - max(decay_rise, keep_decay)))`` with the relative differences
    ``δ = |τ_decay - τ_rise| / max(τ)`` and
    ``δ_d = |keep_decay - decay_rise| / max(1 - decay_rise, 1 - keep_decay)``; both must stay below
    ``1e-6``, i.e. ``δ² ≥ 1e-10`` and ``δ_d² (1 - max(decay_rise, keep_decay)) ≥ 1e-10``.
    """
    r, d = p.tau_rise_s, p.tau_decay_s
    decay_rise, keep_decay = math.exp(-p.dt_s / r), 1.0 - p.dt_s / d
    slow, fast = sorted((1.0 - decay_rise, 1.0 - keep_decay))
    delta = abs(d - r) / max(r, d)
    delta_d = abs(decay_rise - keep_decay) / fast if fast > 0 else 0.0
    if not (delta**2 >= _KERNEL_TOLERANCE and delta_d**2 * slow >= _KERNEL_TOLERANCE):
        raise ValueError(
            f"tau_rise_s={r!r} s and tau_decay_s={d!r} s (dt_s={p.dt_s!r} s) give an ill-conditioned error "
            "kernel: its closed forms divide by tau_decay_s - tau_rise_s, by the difference of the per-step "
            f"factors exp(-dt_s/tau_rise_s) = {decay_rise:.12g} and 1 - dt_s/tau_decay_s = {keep_decay:.12g} "
            "and by 1 minus each, and would lose more than 1e-6 relative precision; move the two time constants "
            "further apart or keep them below about 1e9 dt_s"
        )


@dataclass(frozen=True)
class Params:
    """All parameters of SPEC §1 with their defaults (paper Table 1, original code).

    Valid ranges (every value a finite ``int`` or ``float``; ``u_cut_V`` may be None):

    - ``dt_s > 0``; every time constant ``tau_*_s > dt_s``;
    - ``t_ref_s >= 0``, ``delay_s >= 0`` and ``t_batch_s > 0``, each a whole number of steps;
    - ``tau_rise_s`` and ``tau_decay_s`` such that the error kernel's closed forms are well
      conditioned: not (nearly) equal, nor with (nearly) equal per-step factors
      ``exp(-dt_s/tau_rise_s)`` and ``1 - dt_s/tau_decay_s``, nor longer than about ``1e9 dt_s``
      (they would divide by 0 or lose all precision, see :func:`_check_kernel`);
    - ``w_min_V < w_max_V``;
    - ``r0, rho, beta_per_V, e_gate, a >= 0`` (``a < 0`` would make ``zh**a`` of a silent
      neuron infinite);
    - ``eps > 0`` (with ``eps = 0`` a synapse without gradient, ``g = v = 0``, gets ``0/0``).

    Raises
    ------
    TypeError
        For a value that is not an int or float (bool included), naming the parameter.
    ValueError
        For any value outside its valid range, naming the parameter and its unit.
    """

    dt_s: float = 1e-4
    tau_mem_s: float = 10e-3
    tau_syn_s: float = 5e-3
    u_rest_V: float = -60e-3
    theta_V: float = -50e-3
    t_ref_s: float = 5e-3
    delay_s: float = 0.8e-3
    tau_rise_s: float = 5e-3
    tau_decay_s: float = 10e-3
    beta_per_V: float = 1e3
    u_cut_V: float | None = None
    t_batch_s: float = 0.5
    r0: float = 1e-3
    tau_rms_s: float = 30.0
    eps: float = 1e-12
    w_min_V: float = -0.1
    w_max_V: float = 0.1
    rho: float = 0.0
    a: float = 4.0
    tau_het_s: float = 0.1
    e_gate: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name == "u_cut_V":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"{f.name} must be a real number, got {value!r}")
            _finite_real(value, f.name)
        if self.dt_s <= 0:
            raise ValueError(f"dt_s must be > 0 s, got {self.dt_s!r}")
        for name in _TIME_CONSTANTS:
            if getattr(self, name) <= self.dt_s:
                raise ValueError(
                    f"{name} must be larger than dt_s={self.dt_s!r} s, got {getattr(self, name)!r} s"
                )
        _check_kernel(self)
        if self.t_batch_s <= 0:
            raise ValueError(f"t_batch_s must be > 0 s, got {self.t_batch_s!r}")
        for name in ("t_ref_s", "delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0 s, got {getattr(self, name)!r} s")
        if self.w_min_V >= self.w_max_V:
            raise ValueError(
                f"w_min_V must be < w_max_V, got w_min_V={self.w_min_V!r} V, w_max_V={self.w_max_V!r} V"
            )
        for name in ("r0", "rho", "beta_per_V", "e_gate", "a"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.eps <= 0:
            raise ValueError(
                f"eps must be > 0 (it keeps g / (sqrt(v) + eps) finite when g = v = 0), got {self.eps!r}"
            )
        for name in ("t_ref_s", "delay_s", "t_batch_s"):
            whole_steps(getattr(self, name), self.dt_s, name)

    # --- derived quantities -------------------------------------------------------
    @property
    def n_ref(self) -> int:
        """Refractory period in steps, ``round(t_ref_s / dt_s)``."""
        return whole_steps(self.t_ref_s, self.dt_s, "t_ref_s")

    @property
    def n_delay(self) -> int:
        """Axonal delay in steps, ``round(delay_s / dt_s)``."""
        return whole_steps(self.delay_s, self.dt_s, "delay_s")

    @property
    def n_batch(self) -> int:
        """Steps per weight update, ``n_b = t_batch_s / dt_s``."""
        return whole_steps(self.t_batch_s, self.dt_s, "t_batch_s")

    @property
    def gamma(self) -> float:
        """Optimiser memory factor ``γ = exp(-t_batch_s / tau_rms_s)``."""
        return math.exp(-self.t_batch_s / self.tau_rms_s)

    def decay(self, tau_s: float) -> float:
        """Per-step factor ``exp(-dt/τ)`` of an exponential trace."""
        return math.exp(-self.dt_s / tau_s)

    def replace(self, **changes) -> "Params":
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """All fields as a plain dict (for result files and case files)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Params":
        """Build from a dict, rejecting unknown names (``ValueError`` naming them)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown parameter name(s) {unknown}; known: {sorted(known)}")
        return cls(**values)
