"""Whole figures of the demo and the paper's Figs 2, 4 and 5, drawn from arrays of an experiment's result."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .panels import (_MS, plot_error, plot_learning_curve, plot_learning_curves, plot_membrane, plot_membranes,
                     plot_raster, plot_snapshot, plot_spike_timing)

__all__ = ["demo_figure", "fig2_figure", "fig4_figure", "fig5_figure"]


def demo_figure(before: dict, after: dict, task, params, cycle_end_s, vr_distance, t_after_s: float):
    """Figure of the main demo: snapshots before and after learning, and the learning curve."""
    fig = plt.figure(figsize=(12, 6.5), layout="constrained")
    grid = fig.add_gridspec(3, 3, height_ratios=[1, 1.5, 2])
    for col, (traces, title) in enumerate(((before, "before learning (first cycle)"),
                                           (after, f"after {t_after_s:.0f} s of learning"))):
        axes = [fig.add_subplot(grid[row, col]) for row in range(3)]
        plot_snapshot(traces["U_tilde_1"][:, 0], traces["S_1"][:, 0], traces["e_1"][:, 0], task.input,
                      task.target[:, 0], params, axes=axes, title=title)
    ax = fig.add_subplot(grid[:, 2])
    plot_learning_curve(cycle_end_s, vr_distance, ax=ax)
    ax.axhline(1.0, color="C3", ls=":", lw=0.8, label="one unmatched spike")
    ax.set_ylim(0.0, None)                                          # a linear axis: 5 means five unmatched spikes
    ax.add_artist(ax.legend(loc="upper right"))
    handles, labels = axes[1].get_legend_handles_labels()           # the last membrane panel's: dots are targets
    ax.legend(handles, labels, loc="center right", title="membrane panels", fontsize=9)
    ax.set_title("learning curve")
    return fig


def fig2_figure(arrays: dict, params, run_index: int = 0):
    """Paper Fig 2 from a result of :mod:`superspike_ref.experiments.fig2`."""
    fig = plt.figure(figsize=(13, 6.5), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[1, 1.5, 2])
    n_cycle = arrays["input"].shape[0]
    target = np.zeros(n_cycle, dtype=bool)
    target[np.round(arrays["target_times_s"] / params.dt_s).astype(int)] = True
    t_end = arrays["cycle_end_s"][-1]
    for col, title in enumerate(("a  initial", f"b  after {t_end:.0f} s")):
        axes = [fig.add_subplot(grid[row, col]) for row in range(3)]
        plot_snapshot(arrays["snap_U_tilde_1"][col, run_index, :, 0], arrays["snap_S_1"][col, run_index, :, 0],
                      arrays["snap_e_1"][col, run_index, :, 0], arrays["input"], target, params, axes=axes,
                      title=f"{title} (run {run_index})")
    mine = arrays["spike_run"] == run_index
    ax = plot_spike_timing(arrays["spike_cycle"][mine], arrays["spike_time_s"][mine], arrays["target_times_s"],
                           n_cycle * params.dt_s, ax=fig.add_subplot(grid[:, 2]))
    ax.set_title(f"c  spike timing (run {run_index})")
    ax = plot_learning_curves(arrays["cycle_end_s"], arrays["vr_distance"], ax=fig.add_subplot(grid[:, 3]))
    ax.axhline(1.0, color="C3", ls=":", lw=0.8)
    ax.set_title(f"d  {arrays['vr_distance'].shape[0]} runs and their mean")
    return fig


def fig4_figure(arrays: dict, params, run_index: int = 0):
    """Paper Fig 4 from a result of :mod:`superspike_ref.experiments.fig4`: snapshots of a random-feedback
    run (hidden membranes, output membrane, error) and learning curves per feedback type."""
    cycles = arrays["h4_snap_cycles"]
    n_cycle = arrays["input"].shape[0]
    target = np.zeros(n_cycle, dtype=bool)
    target[np.round(arrays["target_times_s"] / params.dt_s).astype(int)] = True
    fig = plt.figure(figsize=(3.0 * (len(cycles) + 1.3), 7), layout="constrained")
    grid = fig.add_gridspec(3, len(cycles) + 1, height_ratios=[1, 1.5, 2])
    conditions = list(arrays["h4_conditions"])
    b = conditions.index("random") * len(arrays["h4_snap_runs"]) // len(conditions) + run_index
    B = arrays["B_random"][run_index]
    for col, c in enumerate(cycles):
        ax_e, ax_u, ax_h = (fig.add_subplot(grid[row, col]) for row in range(3))
        plot_error(arrays["h4_snap_e_2"][col, b, :, 0], params.dt_s, ax=ax_e)
        plot_membrane(arrays["h4_snap_U_tilde_2"][col, b, :, 0], params.dt_s, params.theta_V, ax=ax_u, target=target,
                      spikes=arrays["h4_snap_S_2"][col, b, :, 0])
        plot_membranes(arrays["h4_snap_U_tilde_1"][col, b], params.dt_s, params.theta_V, ax=ax_h,
                       spikes=arrays["h4_snap_S_1"][col, b])
        ax_h.set_yticks(ax_h.get_yticks(), [f"h{i} (B{'+' if B[i] > 0 else '−'})" for i in range(B.size)])
        ax_e.set_title(f"random feedback, t = {(c + 1) * n_cycle * params.dt_s:.0f} s")
        for ax in (ax_e, ax_u):
            ax.set_xlabel("")
    t = arrays["cycle_end_s"]
    for row, (name, letter) in enumerate((("random", "c"), ("symmetric", "d"), ("uniform", "e"))):
        ax = plot_learning_curves(t, arrays[f"vr_{name}"], ax=fig.add_subplot(grid[row, -1]))
        if name == "random":
            ax.plot(t, arrays["vr_random_8"].mean(axis=0), "k--", lw=1.0, label="mean, 8 hidden")
            ax.legend(fontsize=7, loc="upper right")
        ax.set_title(f"{letter}  {name} feedback")
        ax.set_ylabel("vr distance")
    return fig


def fig5_figure(arrays: dict, params, conditions, accuracy_curves, block: int = 100, run_index: int = 0,
                run_accuracy: float | None = None):
    """Paper Fig 5 from a result of :mod:`superspike_ref.experiments.fig5`: the last second of activity
    of random-feedback run ``run_index`` (input, hidden, output spikes; windows shaded; its final accuracy
    in the title if given) and accuracy per condition (runs grey, mean black; the mean of ``random_reg``
    also in green on the random panel)."""
    fig = plt.figure(figsize=(13, 7), layout="constrained")
    grid = fig.add_gridspec(3, 3)
    n0 = int(arrays["last_n0"])
    span = min(10000, arrays["input_last"].shape[0])
    for row, (key, label) in enumerate((("S_2", "output"), ("S_1", "hidden"), ("input", "input"))):
        ax = fig.add_subplot(grid[row, 0])
        raster = arrays["input_last"] if key == "input" else arrays[f"last_random_{key}"][run_index]
        plot_raster(raster[-span:], params.dt_s, ax=ax, t0_s=(n0 + raster.shape[0] - span) * params.dt_s,
                    marker_size=6 if key != "input" else 2)
        t_lo, t_hi = (n0 + raster.shape[0] - span) * params.dt_s, (n0 + raster.shape[0]) * params.dt_s
        for onset, label_k in zip(arrays["onset_steps"], arrays["labels"]):
            t = onset * params.dt_s
            if t_lo <= t < t_hi:
                ax.axvspan(t * _MS, (t + arrays["window_steps"] * params.dt_s) * _MS, color=f"C{label_k}", alpha=0.15)
        ax.set_ylabel(f"{label} neuron")
        if row == 0:
            ax.set_yticks(range(raster.shape[1]))
            note = "" if run_accuracy is None else f" (final accuracy {run_accuracy:.2f})"
            ax.set_title(f"b  random feedback, run {run_index}{note}", fontsize=10)
    for i, name in enumerate(conditions[:6]):
        ax = fig.add_subplot(grid[i % 3, 1 + i // 3])
        acc = accuracy_curves(arrays[f"correct_{name}"], block)
        trials = (np.arange(acc.shape[1]) + 1) * block
        ax.plot(trials, acc.T, color="0.7", lw=0.5)
        ax.plot(trials, acc.mean(axis=0), color="k", lw=1.5, label="mean")
        if name == "random" and "random_reg" in conditions:
            ax.plot(trials, accuracy_curves(arrays["correct_random_reg"], block).mean(axis=0), color="C2", lw=1.5,
                    label="mean with regulariser")
            ax.legend(fontsize=7, loc="lower right")
        ax.axhline(0.5, color="C3", ls=":", lw=0.8)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("trial")
        ax.set_ylabel(f"accuracy (per {block} trials)")
        ax.set_title(name.replace("_", " "))
    return fig
