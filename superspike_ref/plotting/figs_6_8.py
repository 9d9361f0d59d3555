"""Whole figures of the picture tasks (paper Figs 6, 7 and 8, the original code's picture task) and its movie.

Drawn from arrays of an experiment's result and names passed in; the rasters' time axes show s.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["picture_figure", "picture_animation", "fig6_figure", "fig7_figure", "fig8_figure"]


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


def fig7_figure(arrays: dict, params, largest_jobs: dict, final_vr: dict, final_vr_no_hidden: float,
                t_learn_s: float | None = None, drops_s=()):
    """Paper Fig 7 from a result of :mod:`superspike_ref.experiments.fig7`: learning curves of every
    condition at the largest hidden size (a, c; learning starts at the dashed line ``t_learn_s``, the
    rate drops ×10 at the dotted lines ``drops_s``), final cost against ``n_h`` (b) and final output
    rasters with hidden-rate histograms (d-g).

    ``largest_jobs`` maps every condition, in colour order, to its job name at the largest hidden
    size (the suffix of its arrays ``vr_<job>``, ``last_S_1_<job>``, ``last_S_2_<job>``);
    ``final_vr`` maps every condition of the size sweep to its final ``vr_distance`` per hidden size
    (``arrays["hidden_sizes"]``); ``final_vr_no_hidden`` is that of the network without hidden layer.
    """
    conditions = list(largest_jobs)
    sizes = [int(n) for n in arrays["hidden_sizes"]]
    largest = max(sizes)
    t = arrays["cycle_end_s"]
    dt = params.dt_s
    fig = plt.figure(figsize=(14, 9), layout="constrained")
    grid = fig.add_gridspec(3, 4, height_ratios=[1.1, 1, 0.6])
    ax = fig.add_subplot(grid[0, :2])
    for j, c in enumerate(conditions):
        ax.plot(t, arrays[f"vr_{largest_jobs[c]}"].mean(axis=0), color=f"C{j}", lw=1, label=c.replace("_", " "))
    if t_learn_s is not None:
        ax.axvline(t_learn_s, color="0.5", ls="--", lw=0.8)
    for t_drop in drops_s:
        ax.axvline(t_drop, color="0.5", ls=":", lw=0.8)
    ax.set_yscale("log")
    ax.set(xlabel="training time (s)", ylabel="van Rossum distance\n(per output neuron and cycle)",
           title=f"learning curves, n_h = {largest}")
    ax.legend(fontsize=7, ncol=2)
    ax = fig.add_subplot(grid[0, 2:])
    for c, values in final_vr.items():
        ax.plot(sizes, values, "o-", color=f"C{conditions.index(c)}", label=c.replace("_", " "))
    ax.axhline(final_vr_no_hidden, color="k", ls="--", lw=1, label="no hidden")
    ax.set_xscale("log", base=2)
    ax.set(xlabel="hidden units n_h", ylabel="final van Rossum distance", title="cost after learning vs n_h")
    ax.legend(fontsize=7)
    shown = [c for c in ("symmetric", "random", "random_reg", "symm_linear") if c in conditions]
    for j, c in enumerate(shown):
        name = largest_jobs[c]
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


def fig8_figure(arrays: dict, cost, hidden_rate, cost_range, rate_range):
    """Paper Fig 8: final cost (a) and mean hidden rate (b) against ρ (original code's units), one line per
    exponent a: the mean over a cell's runs, with a bar from its lowest to its highest run (``*_range``:
    ``(2, n_exponents, n_rho)``, as :func:`~superspike_ref.experiments.fig8.run_range` gives)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    rho = arrays["rho_code"]
    n_runs = next(v.shape[0] for k, v in arrays.items() if k.startswith("vr_"))
    for ax, mean, (low, high) in ((axes[0], cost, cost_range), (axes[1], hidden_rate, rate_range)):
        for i, a in enumerate(arrays["exponents"]):
            bars = np.maximum([mean[i] - low[i], high[i] - mean[i]], 0.0)   # runs that agree: 0 up to rounding
            ax.errorbar(rho, mean[i], yerr=bars, fmt="o-", capsize=3, label=f"a = {a:g}")
    for ax, label in zip(axes, ("final van Rossum distance", "mean hidden rate (Hz)")):
        ax.set_xscale("log")
        ax.set(xlabel="ρ (original code's units; SPEC ρ = 0.05 ρ_code)", ylabel=label)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right center", fontsize=8,
               title=f"{n_runs} runs: mean,\nbar lowest to highest" if n_runs > 1 else None, title_fontsize=8)
    axes[0].set_title("a  cost after learning")
    axes[1].set_title("b  hidden activity after learning")
    return fig
