"""Plots (the only module that imports matplotlib).

Every function takes an optional ``ax`` and returns it, so that notebooks and scripts can
compose figures. Arrays are SI and time-major; axes show ms and mV.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "plot_raster",
    "plot_membrane",
    "plot_error",
    "plot_learning_curve",
    "plot_snapshot",
    "demo_figure",
]

_MS, _MV = 1e3, 1e3

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

def plot_snapshot(traces: dict, task, params, axes=None, t0_s: float = 0.0, title: str | None = None):
    """The paper's Fig 2a/b panel for one cycle: error (top), membrane (middle), input raster (bottom).

    ``traces`` are a run's traces with ``U_tilde``, ``S`` and ``e`` of the output layer recorded
    over one cycle aligned with the task.
    """
    if axes is None:
        _, axes = plt.subplots(3, 1, sharex=True, figsize=(6, 5), gridspec_kw={"height_ratios": [1, 1.5, 2]})
    out = max(int(k.split("_")[-1]) for k in traces if k.startswith("S_"))
    ax_e, ax_u, ax_in = axes
    dt = params.dt_s
    plot_error(traces[f"e_{out}"][:, 0], dt, ax=ax_e, t0_s=t0_s)
    plot_membrane(traces[f"U_tilde_{out}"][:, 0], dt, params.theta_V, ax=ax_u, t0_s=t0_s,
                  target=task.target[:, 0], spikes=traces[f"S_{out}"][:, 0])
    plot_raster(task.input, dt, ax=ax_in, t0_s=t0_s)
    ax_in.set_ylabel("input neuron")
    for ax in (ax_e, ax_u):
        ax.set_xlabel("")
    if title:
        ax_e.set_title(title)
    return axes

def demo_figure(before: dict, after: dict, task, params, cycle_end_s, vr_distance, t_after_s: float):
    """Figure of the main demo: snapshots before and after learning, and the learning curve."""
    fig = plt.figure(figsize=(12, 6.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=[1, 1.5, 2])
    for col, (traces, title) in enumerate(((before, "before learning (first cycle)"),
                                           (after, f"after {t_after_s:.0f} s of learning"))):
        axes = [fig.add_subplot(grid[row, col]) for row in range(3)]
        plot_snapshot(traces, task, params, axes=axes, title=title)
        axes[-1].set_xlabel("time in the cycle (ms)")
    ax = fig.add_subplot(grid[:, 2])
    plot_learning_curve(cycle_end_s, vr_distance, ax=ax)
    ax.axhline(1.0, color="C3", ls=":", lw=0.8, label="one unmatched spike")
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(0.0, None)
    ax.legend(loc="upper right")
    ax.set_title("learning curve")
    return fig
