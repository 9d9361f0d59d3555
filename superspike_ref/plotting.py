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
    "plot_learning_curves",
    "plot_spike_timing",
    "fig2_figure",
    "plot_membranes",
    "fig4_figure",
    "fig5_figure",
    "demo_figure",
    "fig6_figure",
    "fig7_figure",
    "fig8_figure",
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
    ax.set_yscale("symlog", linthresh=0.01)
    ax.set_ylim(0.0, None)
    ax.legend(loc="upper right")
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


def _binned_picture(spikes, dt_s: float, n_neurons: int, n_steps: int, bin_s: float = 0.01, frame=None):
    """Spike indices ``(k, 2)`` [step, neuron] (or ``(k, 3)`` with a leading frame) as a ``(n_neurons, n_bins)``
    image: 1 where the neuron spiked in the time bin (10 ms = one column of the picture)."""
    spikes = np.asarray(spikes)
    if frame is not None:
        spikes = spikes[spikes[:, 0] == frame, 1:]
    per_bin = max(1, int(round(bin_s / dt_s)))
    image = np.zeros((n_neurons, -(-n_steps // per_bin)))
    image[spikes[:, 1], spikes[:, 0] // per_bin] = 1.0
    return image


def _picture_raster(ax, spikes, dt_s: float, n_neurons: int, n_steps: int, frame=None):
    """Spike indices as a picture (neuron 0 at the top, black = a spike in the 10 ms bin); returns the image artist."""
    im = ax.imshow(_binned_picture(spikes, dt_s, n_neurons, n_steps, frame=frame), cmap="gray_r", vmin=0, vmax=1,
                   aspect="auto", interpolation="antialiased", extent=(0, n_steps * dt_s, n_neurons - 0.5, -0.5))
    ax.set_xlabel("time in cycle (s)")
    return im


def picture_figure(arrays: dict, params, conditions):
    """The picture task from a result of :mod:`superspike_ref.experiments.picture`: target and final output
    rasters (run 0, last cycle) side by side, learning curves (auryn_mse, vr_distance) and hidden rates."""
    n_cycle, n_out = int(arrays["n_cycle"]), int(arrays["layers"][-1])
    frame = len(arrays["snap_cycles"]) - 1
    last_c = int(arrays["snap_cycles"][-1])
    fig = plt.figure(figsize=(4.0 * (len(conditions) + 1), 8), layout="constrained")
    grid = fig.add_gridspec(2, max(3, len(conditions) + 1), height_ratios=[1.4, 1])
    ax = fig.add_subplot(grid[0, 0])
    _picture_raster(ax, arrays["target_spikes"], params.dt_s, n_out, n_cycle)
    ax.set_ylabel("output neuron")
    ax.set_title("target")
    for j, name in enumerate(conditions):
        ax = fig.add_subplot(grid[0, j + 1])
        _picture_raster(ax, arrays[f"snap_{name}_S_2"], params.dt_s, n_out, n_cycle, frame=frame)
        ax.set_title(f"{name} feedback: output, cycle {last_c + 1}")
    t = arrays["cycle_end_s"]
    panels = (("mse", "auryn_mse (original code's units)", True), ("vr", "vr distance\n(unmatched spikes / neuron)", True),
              ("hidden_rate", "mean rate (Hz): hidden solid, output dotted", False))
    for col, (key, label, log) in enumerate(panels):
        ax = fig.add_subplot(grid[1, col])
        for j, name in enumerate(conditions):
            y = arrays[f"{key}_{name}"]
            ax.plot(t, y.T, color=f"C{j}", lw=0.5, alpha=0.4)
            ax.plot(t, y.mean(axis=0), color=f"C{j}", lw=1.2, label=name)
        if key == "hidden_rate":
            for j, name in enumerate(conditions):
                ax.plot(t, arrays[f"output_rate_{name}"].mean(axis=0), color=f"C{j}", lw=0.8, ls=":",
                        label=f"{name} (output)")
        values = np.concatenate([arrays[f"{key}_{n}"].ravel() for n in conditions])
        if log and np.all(values > 0) and values.max() > 10 * values.min():
            ax.set_yscale("log")
        ax.set_xlabel("time (s)")
        ax.set_ylabel(label)
        ax.legend(fontsize=7)
    return fig


def picture_animation(arrays: dict, params, conditions, path, fps: float = 2.0, dpi: int = 100):
    """GIF movie (matplotlib's PillowWriter) of the picture task over training: the input raster and, per
    condition, the hidden and output rasters of run 0 at every stored snapshot cycle. Returns the path."""
    from pathlib import Path

    from matplotlib.animation import FuncAnimation, PillowWriter

    n_cycle, (n_in, n_hidden, n_out) = int(arrays["n_cycle"]), arrays["layers"]
    cycles = arrays["snap_cycles"]
    cycle_s = n_cycle * params.dt_s
    fig = plt.figure(figsize=(3.2 * (len(conditions) + 1), 6.5))
    grid = fig.add_gridspec(2, len(conditions) + 1, height_ratios=[1, 1.6], hspace=0.35, wspace=0.3)
    for k, (key, n, label) in enumerate((("input_spikes", n_in, "input"), ("target_spikes", n_out, "target"))):
        ax = fig.add_subplot(grid[k, 0])
        _picture_raster(ax, arrays[key], params.dt_s, n, n_cycle)
        ax.set_title(label)
    axes = {name: (fig.add_subplot(grid[0, j + 1]), fig.add_subplot(grid[1, j + 1])) for j, name in enumerate(conditions)}
    dots = {}
    for name, (ax_h, ax_o) in axes.items():
        for ax, n, label in ((ax_h, n_hidden, "hidden"), (ax_o, n_out, "output")):
            dots[name, label] = _picture_raster(ax, np.zeros((0, 3), dtype=int), params.dt_s, n, n_cycle, frame=0)
            ax.set_title(f"{name}: {label}")
    title = fig.suptitle("")

    def draw(frame: int):
        for name in conditions:
            for key, label in (("S_1", "hidden"), ("S_2", "output")):
                n = n_hidden if key == "S_1" else n_out
                dots[name, label].set_data(_binned_picture(arrays[f"snap_{name}_{key}"], params.dt_s, n, n_cycle,
                                                           frame=frame))
        c = int(cycles[frame])
        title.set_text(f"end of cycle {c + 1}, t = {(c + 1) * cycle_s:.4g} s (run 0)")
        return list(dots.values()) + [title]

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FuncAnimation(fig, draw, frames=len(cycles), blit=False).save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    plt.close(fig)
    return path


def _spike_dots(ax, raster, dt_s: float, t0_s: float = 0.0, color="k", size: float = 0.5, picture: bool = False):
    """Spikes of a ``(n_steps, n)`` raster as dots at (time in s, neuron); neuron 0 at the bottom, or at
    the top if ``picture`` (a target drawn from an image then reads upright, row 0 = neuron 0)."""
    steps, neurons = np.nonzero(np.asarray(raster))
    ax.scatter(t0_s + steps * dt_s, neurons, s=size, c=color, marker=".", linewidths=0)
    limits = (-0.5, np.asarray(raster).shape[1] - 0.5)
    ax.set_ylim(limits[::-1] if picture else limits)
    return ax


def fig6_figure(arrays: dict, params):
    """Paper Fig 6 from a result of :mod:`superspike_ref.experiments.fig6`: the target; input, hidden
    and output rasters of the last learning cycle and the replay (arrow: learning switched off) with
    the target in red; hidden-unit rates, ISI distribution and CV of the ISI over the replay."""
    dt = params.dt_s
    n_cycle = arrays["target"].shape[0]
    cycle_s = n_cycle * dt
    t0 = float(arrays["t_off_s"]) - cycle_s
    fig = plt.figure(figsize=(12, 8), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[1, 0.8, 1.4])
    ax = fig.add_subplot(grid[0, 0])
    _spike_dots(ax, arrays["target"], dt, color="C3", picture=True)
    ax.set(title="target", xlabel="time in cycle (s)", ylabel="output neuron")
    ax_in = fig.add_subplot(grid[0, 1:])
    n_shown = arrays["raster_S_1"].shape[0]
    _spike_dots(ax_in, np.tile(arrays["input"], (n_shown, 1)), dt, t0)
    ax_in.set(title="input (frozen Poisson, repeated)", ylabel="input neuron")
    ax_h = fig.add_subplot(grid[1, 1:], sharex=ax_in)
    _spike_dots(ax_h, np.concatenate(list(arrays["raster_S_1"])), dt, t0, size=1.0)
    ax_h.set(ylabel="hidden unit")
    ax_o = fig.add_subplot(grid[2, 1:], sharex=ax_in)
    _spike_dots(ax_o, np.tile(arrays["target"], (n_shown, 1)), dt, t0, color="C3", size=2.0, picture=True)
    _spike_dots(ax_o, np.concatenate(list(arrays["raster_S_2"])), dt, t0, size=1.5, picture=True)
    ax_o.set(xlabel="time (s)", ylabel="output neuron (target red)")
    for a in (ax_in, ax_h, ax_o):
        a.axvline(float(arrays["t_off_s"]), color="C0", lw=1)
    ax_o.annotate("learning off", xy=(float(arrays["t_off_s"]), -0.5), xytext=(12, 14), textcoords="offset points",
                  color="C0", arrowprops={"arrowstyle": "->", "color": "C0"}, annotation_clip=False)
    stats = (("hidden_rates_Hz", "rate (Hz)", "units", False), ("hidden_isi_s", "ISI (s)", "count", True),
             ("hidden_cv_isi", "CV of ISI", "units", False))
    sub = grid[1:, 0].subgridspec(3, 1)
    for i, (key, xlabel, ylabel, log) in enumerate(stats):
        ax = fig.add_subplot(sub[i])
        x = np.asarray(arrays[key])
        ax.hist(x[np.isfinite(x)], bins=20, color="0.4")
        if log:
            ax.set_yscale("log")
        ax.set(xlabel=xlabel, ylabel=ylabel)
    fig.suptitle(f"symmetric feedback, n_h = {arrays['layers'][1]}: end of training and replay")
    return fig


def fig7_figure(arrays: dict, params, conditions, sweep, t_learn_s: float | None = None, drops_s=()):
    """Paper Fig 7 from a result of :mod:`superspike_ref.experiments.fig7`: learning curves of every
    condition at the largest hidden size (a, c; learning starts at the dashed line ``t_learn_s``, the
    rate drops ×10 at the dotted lines ``drops_s``), final cost against ``n_h`` (b) and final output
    rasters with hidden-rate histograms (d-g)."""
    from .experiments.fig7 import final, job_name

    sizes = [int(n) for n in arrays["hidden_sizes"]]
    largest = max(sizes)
    t = arrays["cycle_end_s"]
    dt = params.dt_s
    fig = plt.figure(figsize=(14, 9), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[1.1, 1, 0.6])
    ax = fig.add_subplot(grid[0, :2])
    for j, c in enumerate(conditions):
        ax.plot(t, arrays[f"vr_{job_name(c, largest)}"].mean(axis=0), color=f"C{j}", lw=1, label=c.replace("_", " "))
    if t_learn_s is not None:
        ax.axvline(t_learn_s, color="0.5", ls="--", lw=0.8)
    for t_drop in drops_s:
        ax.axvline(t_drop, color="0.5", ls=":", lw=0.8)
    ax.set_yscale("log")
    ax.set(xlabel="training time (s)", ylabel="van Rossum distance\n(per output neuron and cycle)",
           title=f"learning curves, n_h = {largest}")
    ax.legend(fontsize=7, ncol=2)
    ax = fig.add_subplot(grid[0, 2:])
    for j, c in enumerate(sweep):
        ax.plot(sizes, [final(arrays, "vr", job_name(c, n)) for n in sizes], "o-", color=f"C{conditions.index(c)}",
                label=c.replace("_", " "))
    ax.axhline(final(arrays, "vr", "no_hidden"), color="k", ls="--", lw=1, label="no hidden")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="hidden units n_h", ylabel="final van Rossum distance", title="cost after learning vs n_h")
    ax.legend(fontsize=7)
    shown = [c for c in ("symmetric", "random", "random_reg", "symm_linear") if c in conditions]
    for j, c in enumerate(shown):
        name = job_name(c, largest)
        ax = fig.add_subplot(grid[1, j])
        _spike_dots(ax, arrays["target"], dt, color="C3", size=2.0, picture=True)
        _spike_dots(ax, arrays[f"last_S_2_{name}"], dt, size=1.5, picture=True)
        ax.set(title=f"{c.replace('_', ' ')}: output (target red)", xlabel="time in last cycle (s)")
        ax = fig.add_subplot(grid[2, j])
        rates = arrays[f"last_S_1_{name}"].mean(axis=0) / dt
        ax.hist(rates, bins=20, color="0.4")
        ax.set(xlabel="hidden rate, last cycle (Hz)", ylabel="units")
    fig.axes[2].set_ylabel("output neuron")
    return fig


def fig8_figure(arrays: dict, cost, hidden_rate):
    """Paper Fig 8: final cost (a) and mean hidden rate (b) against ρ (original code's units), one line per exponent a."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    rho = arrays["rho_code"]
    for i, a in enumerate(arrays["exponents"]):
        axes[0].plot(rho, cost[i], "o-", label=f"a = {a:g}")
        axes[1].plot(rho, hidden_rate[i], "o-", label=f"a = {a:g}")
    for ax, label in zip(axes, ("final van Rossum distance", "mean hidden rate (Hz)")):
        ax.set_xscale("log")
        ax.set(xlabel="ρ (original code's units; SPEC ρ = 0.05 ρ_code)", ylabel=label)
        ax.legend(fontsize=8)
    axes[0].set_title("a  cost after learning")
    axes[1].set_title("b  hidden activity after learning")
    return fig
