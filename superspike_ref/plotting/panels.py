"""Panels: rasters, membranes, errors and learning curves, each drawn on one axis.

Every function takes an optional ``ax`` and returns it, so that notebooks and scripts can
compose figures. Arrays are SI and time-major; axes show ms and mV.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_raster", "plot_membrane", "plot_error", "plot_learning_curve", "plot_snapshot", "plot_learning_curves", "plot_spike_timing", "plot_membranes"]

_MS, _MV = 1e3, 1e3
"""Display factors: seconds to ms and volts to mV."""


def _ax(ax):
    return plt.gca() if ax is None else ax


def plot_raster(raster, dt_s: float, ax=None, t0_s: float = 0.0, color="k", marker_size: float = 2.0, label=None):
    """Spike raster ``(n_steps, n_neurons)``: one dot per spike, neuron index upwards."""
    ax = _ax(ax)
    steps, neurons = np.nonzero(np.asarray(raster))
    ax.scatter((t0_s + steps * dt_s) * _MS, neurons, s=marker_size, c=color, marker="|" if marker_size > 4 else ".",
               linewidths=0.8, label=label)
    ax.set_ylim(-0.5, np.asarray(raster).shape[1] - 0.5)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    return ax


def plot_membrane(U_tilde_V, dt_s: float, theta_V: float, ax=None, t0_s: float = 0.0, target=None,
                  spikes=None, color="C0"):
    """Membrane potential with the threshold (dashed), target spikes (dots) and output spikes (ticks).

    ``U_tilde_V`` is ``(n_steps,)``; ``target`` and ``spikes`` are boolean ``(n_steps,)``.
    """
    ax = _ax(ax)
    U = np.asarray(U_tilde_V)
    t_ms = (t0_s + np.arange(U.shape[0]) * dt_s) * _MS
    ax.plot(t_ms, U * _MV, color=color, lw=0.8, label="membrane $\\tilde U$")
    ax.axhline(theta_V * _MV, color="k", ls="--", lw=0.8, label="threshold")
    top = max(theta_V * _MV + 3, float(np.max(U)) * _MV + 1)
    if spikes is not None and np.any(spikes):
        ax.vlines(t_ms[np.asarray(spikes)], theta_V * _MV, top, color=color, lw=1.0, label="output spike")
    if target is not None and np.any(target):
        ax.plot(t_ms[np.asarray(target)], np.full(int(np.sum(target)), top + 1), "o", color="C3", ms=4, label="target spike")
    ax.set_ylabel("U (mV)")
    ax.set_xlabel("time (ms)")
    return ax


def plot_error(e, dt_s: float, ax=None, t0_s: float = 0.0, color="C2"):
    """Error signal ``e = α∗(Ŝ − S)`` ``(n_steps,)`` with a dotted zero line."""
    ax = _ax(ax)
    e = np.asarray(e)
    ax.plot((t0_s + np.arange(e.shape[0]) * dt_s) * _MS, e, color=color, lw=0.8)
    ax.axhline(0.0, color="k", ls=":", lw=0.8)
    ax.set_ylabel("error e")
    ax.set_xlabel("time (ms)")
    return ax


def plot_learning_curve(time_s, cost, ax=None, label=None, color="k", ylabel="van Rossum distance\n(unmatched spikes / cycle)", **kw):
    """Cost per cycle against training time (s)."""
    ax = _ax(ax)
    ax.plot(np.asarray(time_s), np.asarray(cost), color=color, label=label, **kw)
    ax.set_xlabel("training time (s)")
    ax.set_ylabel(ylabel)
    return ax


def plot_snapshot(U_tilde_V, spikes, e, input_raster, target, params, axes=None, title: str | None = None):
    """The paper's Fig 2a/b panel for one cycle of one output neuron.

    Error (top), membrane with threshold, target and output spikes (middle), input raster
    (bottom); all arrays cover the same cycle: ``U_tilde_V``, ``spikes``, ``e``, ``target``
    ``(n_cycle,)`` and ``input_raster`` ``(n_cycle, n_in)``. Time is shown within the cycle.
    """
    if axes is None:
        _, axes = plt.subplots(3, 1, sharex=True, figsize=(6, 5), gridspec_kw={"height_ratios": [1, 1.5, 2]})
    ax_e, ax_u, ax_in = axes
    dt = params.dt_s
    plot_error(e, dt, ax=ax_e)
    plot_membrane(U_tilde_V, dt, params.theta_V, ax=ax_u, target=target, spikes=spikes)
    plot_raster(input_raster, dt, ax=ax_in)
    ax_in.set_ylabel("input neuron")
    ax_in.set_xlabel("time in the cycle (ms)")
    for ax in (ax_e, ax_u):
        ax.set_xlabel("")
    if title:
        ax_e.set_title(title)
    return axes


def plot_learning_curves(time_s, curves, ax=None, ylabel="van Rossum distance\n(unmatched spikes / cycle)",
                         color="k", label="mean", log: bool = True):
    """Learning curves of many runs (grey, ``curves`` ``(n_runs, n_points)``) and their mean."""
    ax = _ax(ax)
    curves = np.atleast_2d(curves)
    ax.plot(time_s, curves.T, color="0.7", lw=0.5)
    ax.plot(time_s, curves.mean(axis=0), color=color, lw=1.5, label=label)
    if log:
        ax.set_yscale("symlog", linthresh=0.01)
        ax.set_ylim(0.0, None)
    ax.set_xlabel("training time (s)")
    ax.set_ylabel(ylabel)
    return ax


def plot_spike_timing(spike_cycle, spike_time_s, target_times_s, cycle_s: float, ax=None):
    """Output spike times within the cycle against the cycle number (paper Fig 2c)."""
    ax = _ax(ax)
    ax.scatter(np.asarray(spike_time_s) * _MS, np.asarray(spike_cycle), s=2, c="k", marker=".")
    for t in target_times_s:
        ax.axvline(t * _MS, color="C3", lw=0.6, ls=":")
    ax.set_xlim(0, cycle_s * _MS)
    ax.set_xlabel("spike time in the cycle (ms)")
    ax.set_ylabel("cycle")
    return ax


def plot_membranes(U_tilde_V, dt_s: float, theta_V: float, ax=None, offset_mV: float = 25.0, spikes=None):
    """Membranes of several neurons ``(n_steps, n)``, stacked ``offset_mV`` apart, thresholds dashed."""
    ax = _ax(ax)
    U = np.asarray(U_tilde_V) * _MV
    t_ms = np.arange(U.shape[0]) * dt_s * _MS
    for i in range(U.shape[1]):
        shift = i * offset_mV - theta_V * _MV
        ax.plot(t_ms, U[:, i] + shift, lw=0.6, color=f"C{4 + i % 6}")
        ax.axhline(i * offset_mV, color="k", ls="--", lw=0.4)
        if spikes is not None and np.any(spikes[:, i]):
            ax.vlines(t_ms[np.asarray(spikes[:, i])], i * offset_mV, i * offset_mV + 0.6 * offset_mV,
                      color=f"C{4 + i % 6}", lw=0.8)
    ax.set_yticks([i * offset_mV for i in range(U.shape[1])], [f"h{i}" for i in range(U.shape[1])])
    ax.set_ylabel("hidden U (threshold = dashed)")
    ax.set_xlabel("time in the cycle (ms)")
    return ax
