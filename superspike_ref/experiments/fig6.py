"""Paper Fig 6: a complex spatiotemporal pattern learned with symmetric feedback (paper §4.2;
docs/paper.md §"Fig 6").

The task (100 → ``n_h`` → 100, a 3.5 s picture target), its learning-rate schedule and the final
numbers are shared with Figs 7 and 8 (:mod:`~superspike_ref.experiments.fig678`).

Fig 6 itself: ``n_h = 32``, symmetric feedback. After the training time the learning rate is
set to 0 (learning switched off) and the now fixed network replays the pattern for a few
cycles; the rasters of the last learning cycle and the replay, and the hidden-layer
statistics (rates, inter-spike intervals, CV of the ISI) over the replay, are stored.

The paper reports: with ``n_h ≥ 32`` and symmetric feedback the output matches the target
visually within 1000 s, with some spurious spikes left; hidden units fire irregularly at
10-20 Hz with near-exponential ISI distributions.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..network import Network
from ..params import Params
from .common import (ExperimentResult, batch_engine, cycle_statistics, experiment_config, experiment_size,
                     run_chunks, save_result)
from .fig678 import COLUMN_S, FINAL_CYCLES, INPUT_RATE_HZ, JITTER_S, make_task, schedule

__all__ = ["run", "figure", "make_task", "schedule", "hidden_statistics", "FULL", "QUICK", "INPUT_RATE_HZ",
           "COLUMN_S", "JITTER_S", "FINAL_CYCLES"]

FULL = {"seeds": 1, "n_in": 100, "n_rows": 100, "n_cols": 70, "n_hidden": 32, "cycles": 286, "cycles_per_chunk": 10,
        "burn_in_cycles": 2, "drops_s": [400.0, 800.0], "replay_cycles": 3}
QUICK = {"seeds": 1, "n_in": 40, "n_rows": 30, "n_cols": 20, "n_hidden": 16, "cycles": 6, "cycles_per_chunk": 3,
         "burn_in_cycles": 1, "drops_s": [3.0, 5.0], "replay_cycles": 1}


def hidden_statistics(spikes: np.ndarray, dt_s: float) -> dict:
    """Rates, pooled inter-spike intervals and per-unit CV of the ISI of a raster ``(n_steps, n)``.

    ``cv_isi`` is NaN for units with fewer than three spikes (fewer than two intervals).
    """
    spikes = np.asarray(spikes, dtype=bool)
    rates_Hz = spikes.mean(axis=0) / dt_s
    isis, cvs = [], []
    for unit in spikes.T:
        isi = np.diff(np.flatnonzero(unit)) * dt_s
        isis.append(isi)
        cvs.append(isi.std() / isi.mean() if isi.size >= 2 else np.nan)
    return {"rates_Hz": rates_Hz, "isi_s": np.concatenate(isis) if isis else np.zeros(0), "cv_isi": np.array(cvs)}


def run(quick: bool = False, seeds: int | None = None, cycles: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 6, progress: bool = True) -> ExperimentResult:
    """Run Fig 6 (``quick``: 40 → 16 → 30, 6 cycles of 1 s) and save ``fig6.npz`` in ``out`` if given."""
    size = experiment_size(FULL, QUICK, quick, seeds=seeds, cycles=cycles)
    params = Params()
    config = experiment_config("fig6", size, seed, engine, params)
    task, image = make_task(size, seed, params)
    n_cycle, n_learn, n_replay = task.n_cycle, size["cycles"], size["replay_cycles"]
    cycle_s = n_cycle * params.dt_s
    t_off_s = n_learn * cycle_s
    layers = (task.n_in, size["n_hidden"], task.n_out)
    networks = [Network.create(layers, np.random.default_rng([seed, i]), params, feedback="symmetric",
                               schedule=schedule(size) + ((t_off_s, 0.0),), t_burn_s=size["burn_in_cycles"] * cycle_s)
                for i in range(size["seeds"])]
    per_chunk = size["cycles_per_chunk"]
    n_total = n_learn + n_replay
    kept = range(n_learn - 1, n_total)  # last learning cycle and the replay
    state = {"config": config, "chunks_done": 0, "engine": batch_engine(networks, task, engine),
             "curves": [], "rasters": {}}

    def advance(state: dict) -> None:
        c0 = state["chunks_done"] * per_chunk
        for c in range(c0, min(c0 + per_chunk, n_total)):
            results = state["engine"].run(n_cycle, record=("S",))
            state["curves"].append(cycle_statistics(results, params.dt_s))
            if c in kept:  # run 0
                state["rasters"][c] = {k: results[0].traces[k] for k in ("S_1", "S_2")}

    state = run_chunks(state, advance, -(-n_total // per_chunk), out_dir=out, resume=resume, progress=progress,
                       desc="fig6")
    curves = {k: np.array([c[k] for c in state["curves"]]).T for k in state["curves"][0]}  # (runs, cycles)
    arrays = {
        "cycle_end_s": (np.arange(n_total) + 1) * cycle_s,
        "t_off_s": np.array(t_off_s),
        "layers": np.array(layers),
        "image": image,
        "input": task.input,
        "target": task.target,
        **curves,
    }
    for key in ("S_1", "S_2"):  # run 0: (cycles kept, n_cycle, n)
        arrays[f"raster_{key}"] = np.stack([state["rasters"][c][key] for c in kept])
    stats = hidden_statistics(np.concatenate(list(arrays["raster_S_1"][1:])), params.dt_s)
    arrays.update({f"hidden_{k}": v for k, v in stats.items()})
    result = ExperimentResult("fig6", arrays, summarise(arrays, n_learn), config)
    if out is not None:
        save_result(result, Path(out) / "fig6.npz")
    return result


def summarise(arrays: dict, n_learn: int) -> dict:
    """Final cost (mean over the last learning cycles), replay cost and the hidden statistics over the replay."""
    k = min(FINAL_CYCLES, n_learn)
    vr, mse = arrays["vr"][:, :n_learn], arrays["mse"][:, :n_learn]
    cv = arrays["hidden_cv_isi"]
    return {
        "runs": int(vr.shape[0]),
        "first_cycle_vr_distance": float(vr[:, 0].mean()),
        "final_vr_distance": float(vr[:, -k:].mean()),
        "final_auryn_mse": float(mse[:, -k:].mean()),
        "replay_vr_distance": float(arrays["vr"][:, n_learn:].mean()),
        "target_spikes_per_cycle": int(arrays["target"].sum()),
        "output_spikes_per_replay_cycle": float(arrays["raster_S_2"][1:].sum(axis=(1, 2)).mean()),
        "hidden_rate_mean_Hz": float(arrays["hidden_rates_Hz"].mean()),
        "hidden_rate_median_Hz": float(np.median(arrays["hidden_rates_Hz"])),
        "hidden_silent_units": int(np.sum(arrays["hidden_rates_Hz"] == 0)),
        "hidden_cv_isi_median": float(np.nanmedian(cv)) if np.isfinite(cv).any() else None,
    }


def figure(result: ExperimentResult):
    """The paper's Fig 6: target, input/hidden/output rasters around the switch-off, hidden statistics."""
    from ..plotting import fig6_figure

    return fig6_figure(result.arrays, Params.from_dict(result.config["params"]))
