r"""Discrete linear filters and the double-exponential kernel (SPEC §3, paper §3.3.1).

Two first-order filters build every trace of SuperSpike:

* exponential trace, a leaky counter that jumps by the input:
  :math:`y[n] = e^{-\Delta t/\tau}\,y[n-1] + x[n]`
  (continuous: :math:`\dot y = -y/\tau + x(t)`);
* Euler follower, a low-pass that follows its input with unit DC gain:
  :math:`y[n] = y[n-1] + \frac{\Delta t}{\tau}(x[n] - y[n-1])`
  (continuous: :math:`\tau\dot y = -y + x`).

Chaining them gives the double-exponential kernel
:math:`K(\tau_r, \tau_d) = \mathrm{follow}(\mathrm{exp\_trace}(x;\tau_r);\tau_d)`, the
discrete form of

.. math::  \alpha(t) = \frac{\tau_r}{\tau_d-\tau_r}\left(e^{-t/\tau_d} - e^{-t/\tau_r}\right),

which has the shape and scale of the PSP kernel ε (peak 0.25 at 6.93 ms and area
τ_r = 5 ms for τ_r = 5 ms, τ_d = 10 ms). It is used for the presynaptic trace
(τ_syn, τ_mem), the van Rossum error and the eligibility trace (τ_rise, τ_decay).

Each filter comes as a one-step update (used by the literal engine) and as a whole
sequence along axis 0 (time-major arrays), with an optional initial state.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "exp_trace_step",
    "follow_step",
    "double_exp_step",
    "exp_trace",
    "follow",
    "double_exp",
    "kernel_impulse_response",
    "kernel_continuous",
    "kernel_peak_time_s",
    "kernel_peak",
    "kernel_area_s",
    "kernel_energy_s",
    "kernel_energy_steps",
]


def exp_trace_step(y, x, decay: float):
    """One step of the exponential trace: ``decay * y + x`` with ``decay = exp(-dt/τ)``."""
    return decay * y + x


def follow_step(y, x, rate: float):
    """One step of the Euler follower: ``y + rate * (x - y)`` with ``rate = dt/τ``."""
    return y + rate * (x - y)


def double_exp_step(rise, out, x, decay_rise: float, rate_decay: float):
    """One step of the kernel ``K``: exponential trace ``rise``, then follower ``out``.

    Returns the new ``(rise, out)``; ``out`` is the filtered value of this step.
    """
    rise = exp_trace_step(rise, x, decay_rise)
    return rise, follow_step(out, rise, rate_decay)


def exp_trace(x: np.ndarray, tau_s: float, dt_s: float, y0=0.0) -> np.ndarray:
    """Exponential trace of a time-major sequence ``x`` (shape ``(n_steps, ...)``).

    ``y0`` is the state before the first step. Returns ``y`` with ``x``'s shape.
    """
    decay = math.exp(-dt_s / tau_s)
    return _scan_steps(lambda state, x_n: exp_trace_step(state, x_n, decay), x, y0)


def follow(x: np.ndarray, tau_s: float, dt_s: float, y0=0.0) -> np.ndarray:
    """Euler follower of a time-major sequence ``x`` (shape ``(n_steps, ...)``)."""
    rate = dt_s / tau_s
    return _scan_steps(lambda state, x_n: follow_step(state, x_n, rate), x, y0)


def _scan_steps(step, x, y0) -> np.ndarray:
    """``y[n] = step(y[n-1], x[n])`` along axis 0 of ``x``, from ``y[-1] = y0``."""
    x = np.asarray(x, dtype=float)
    y = np.empty_like(x)
    state = np.zeros(x.shape[1:]) + y0
    for n in range(x.shape[0]):
        state = step(state, x[n])
        y[n] = state
    return y


def double_exp(x: np.ndarray, tau_rise_s: float, tau_decay_s: float, dt_s: float) -> np.ndarray:
    """Double-exponential kernel ``K(τ_r, τ_d)`` applied to ``x`` (zero initial state)."""
    return follow(exp_trace(x, tau_rise_s, dt_s), tau_decay_s, dt_s)


def kernel_impulse_response(n_steps: int, tau_rise_s: float, tau_decay_s: float, dt_s: float) -> np.ndarray:
    r"""Exact impulse response of the discrete kernel ``K``, in closed form.

    With the per-step factors ``decay_rise = exp(-dt/τ_r)`` (of the exponential trace),
    ``rate_decay = dt/τ_d`` (of the follower) and ``keep_decay = 1 - rate_decay``:

    .. code-block:: text

        K[n] = rate_decay (keep_decay^(n+1) - decay_rise^(n+1)) / (keep_decay - decay_rise),   n = 0, 1, ...

    It approaches :math:`\alpha(n\Delta t)` of :func:`kernel_continuous` as Δt → 0.
    """
    decay_rise = math.exp(-dt_s / tau_rise_s)
    rate_decay = dt_s / tau_decay_s
    keep_decay = 1.0 - rate_decay
    n = np.arange(n_steps)
    return rate_decay * (keep_decay ** (n + 1) - decay_rise ** (n + 1)) / (keep_decay - decay_rise)


def kernel_continuous(t_s, tau_rise_s: float, tau_decay_s: float) -> np.ndarray:
    r"""Continuous kernel :math:`\alpha(t) = \frac{\tau_r}{\tau_d-\tau_r}(e^{-t/\tau_d}-e^{-t/\tau_r})`, 0 for t < 0."""
    t = np.asarray(t_s, dtype=float)
    alpha = tau_rise_s / (tau_decay_s - tau_rise_s) * (np.exp(-t / tau_decay_s) - np.exp(-t / tau_rise_s))
    return np.where(t >= 0, alpha, 0.0)


def kernel_peak_time_s(tau_rise_s: float, tau_decay_s: float) -> float:
    r"""Time of the peak of α: :math:`t^* = \frac{\tau_r\tau_d}{\tau_d-\tau_r}\ln(\tau_d/\tau_r)`."""
    return tau_rise_s * tau_decay_s / (tau_decay_s - tau_rise_s) * math.log(tau_decay_s / tau_rise_s)


def kernel_peak(tau_rise_s: float, tau_decay_s: float) -> float:
    """Peak value of α (0.25 for τ_r = 5 ms, τ_d = 10 ms)."""
    return float(kernel_continuous(kernel_peak_time_s(tau_rise_s, tau_decay_s), tau_rise_s, tau_decay_s))


def kernel_area_s(tau_rise_s: float, tau_decay_s: float) -> float:
    """Area of α, :math:`\\int_0^\\infty \\alpha\\,dt = \\tau_r` (seconds)."""
    return tau_rise_s


def kernel_energy_s(tau_rise_s: float, tau_decay_s: float) -> float:
    r"""Energy of α, :math:`\int_0^\infty \alpha^2 dt = \left(\frac{\tau_r}{\tau_d-\tau_r}\right)^2
    \left(\frac{\tau_d}{2} + \frac{\tau_r}{2} - \frac{2\tau_d\tau_r}{\tau_d+\tau_r}\right)` (0.833 ms)."""
    d, r = tau_decay_s, tau_rise_s
    return (r / (d - r)) ** 2 * (d / 2 + r / 2 - 2 * d * r / (d + r))


def kernel_energy_steps(tau_rise_s: float, tau_decay_s: float, dt_s: float) -> float:
    r"""Energy of the discrete kernel, :math:`\sum_{n\ge0} K[n]^2`, in closed form.

    With ``decay_rise``, ``rate_decay`` and ``keep_decay`` as in :func:`kernel_impulse_response`:

    .. code-block:: text

        Σ_n K[n]² = rate_decay² / (keep_decay - decay_rise)²
                    × (keep_decay² / (1 - keep_decay²) + decay_rise² / (1 - decay_rise²)
                       - 2 keep_decay decay_rise / (1 - keep_decay decay_rise))

    It is about ``kernel_energy_s / dt_s`` (8.33 with the defaults).
    """
    decay_rise = math.exp(-dt_s / tau_rise_s)
    rate_decay = dt_s / tau_decay_s
    keep_decay = 1.0 - rate_decay
    return rate_decay**2 / (keep_decay - decay_rise) ** 2 * (
        keep_decay**2 / (1 - keep_decay**2) + decay_rise**2 / (1 - decay_rise**2)
        - 2 * keep_decay * decay_rise / (1 - keep_decay * decay_rise)
    )
