"""The original code's picture task: a domed building (after Oxford's Radcliffe Camera) as a spike raster.

Not a paper figure: the public C++ code ships this task instead (docs/paper.md §"The picture task of
the original code"). 200 frozen Poisson inputs at 5 Hz over a 1.89 s cycle → 256 hidden → 200
outputs; the target is :func:`~superspike_ref.tasks.draw_building` (200 × 189) with one spike per
dark pixel at 10 ms per column, jittered by U[0, 10 ms) (:func:`~superspike_ref.tasks.picture_raster`).
Initial weights w0 = 0.05, RMaxProp r0 = 1e-3, ε = 1e-12, 20 s burn-in (weights frozen), the
rate ×0.1 from 400 s (non-cumulative, SPEC §4), 600 cycles ≈ 1134 s.

Conditions: symmetric feedback (no regulariser) and random feedback with the heterosynaptic
regulariser (ρ = 0.05 in SPEC units = the original code's ρ = 1, a = 4, τ_het = 100 ms). The
original random-feedback run also delays the hidden eligibility by 1.6 ms instead of 0.8 ms;
this implementation uses the same delay in both conditions.

Recorded per cycle: ``vr_distance``, ``auryn_mse`` (the original code's ``stats`` number) and the
mean hidden and output rates; spike indices (not dense rasters) of hidden and output layers of
run 0 in every ``snapshot_every``-th cycle and the last one, for the figure and the GIF movie
(``picture.gif``, written beside ``picture.npz`` when ``out`` is given).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..network import Network
from ..params import Params
from ..tasks import CyclicTask, draw_building, frozen_poisson, picture_raster
from .common import (ExperimentResult, batch_engine, cycle_statistics, experiment_config, experiment_size,
                     has_checkpoint, run_chunks)
from .jobs import Job, run_figure

__all__ = ["run", "figure", "jobs", "run_job", "assemble", "animation", "make_task", "spikes_to_raster", "CONDITIONS", "FULL", "QUICK",
           "RHO_REGULARISER", "ORIGINAL_CODE"]

RHO_REGULARISER = 0.05
"""ρ of the random-feedback condition in SPEC units (the original code's ρ = 1, SPEC §5)."""
CONDITIONS = {"symmetric": ("symmetric", 0.0), "random": ("random", RHO_REGULARISER)}
"""Condition name → (feedback, ρ)."""
FULL = {"seeds": 1, "cycles": 600, "cycles_per_chunk": 20, "snapshot_every": 50, "n_in": 200, "n_hidden": 256,
        "n_rows": 200, "n_cols": 189, "t_burn_s": 20.0, "drop_s": 400.0}
QUICK = {"seeds": 1, "cycles": 4, "cycles_per_chunk": 2, "snapshot_every": 2, "n_in": 40, "n_hidden": 32,
         "n_rows": 40, "n_cols": 38, "t_burn_s": 0.38, "drop_s": 1.14}
INPUT_RATE_HZ = 5.0
COLUMN_S = 0.01
DROP_FACTOR = 0.1
FINAL_CYCLES = 10
"""Cycles at the end over which the final numbers are averaged."""
ORIGINAL_CODE = {
    "symmetric": "auryn_mse 214.4 at block 0 (t = 20 s, end of burn-in, untrained), 23.6 at block 20 (420 s), "
                 "16.4 at block 49 (1000 s)",
    "random": "auryn_mse 214.4 at block 0 (20 s), 103 at block 2 (60 s), 72-83 over blocks 7-14 (160-300 s; run "
              "stopped), where symmetric was 27-33",
}
"""The original C++ code's runs of this task (reference-data/original-code-runs). Its ``stats`` line of block
``b`` is written when the block starts, at ``t = 20 + 20 b`` s (after the 20 s burn-in)."""
COMPARE_AT_S = (20.0, 300.0, 420.0, 1000.0)


def make_task(size: dict, seed: int, params: Params) -> tuple[CyclicTask, np.ndarray]:
    """The task (frozen input, picture target) and the picture, all from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    image = draw_building(size["n_rows"], size["n_cols"])
    cycle_s = size["n_cols"] * COLUMN_S
    task = CyclicTask(frozen_poisson(rng, size["n_in"], INPUT_RATE_HZ, cycle_s, params.dt_s),
                      picture_raster(image, COLUMN_S, params.dt_s, rng))
    return task, image


def spikes_to_raster(spikes: np.ndarray, n_steps: int, n_neurons: int, frame: int | None = None) -> np.ndarray:
    """Dense bool raster from stored spike indices: ``(k, 2)`` [step, neuron] or ``(k, 3)`` [frame, step, neuron]."""
    spikes = np.asarray(spikes)
    if frame is not None:
        spikes = spikes[spikes[:, 0] == frame, 1:]
    raster = np.zeros((n_steps, n_neurons), dtype=bool)
    raster[spikes[:, 0], spikes[:, 1]] = True
    return raster


def _indices(raster: np.ndarray) -> np.ndarray:
    return np.argwhere(raster).astype(np.int32)


def _snap_cycles(size: dict) -> list:
    """Cycles whose rasters are kept: every ``snapshot_every``-th and the last."""
    return sorted(set(range(0, size["cycles"], size["snapshot_every"])) | {size["cycles"] - 1})


def jobs(config: dict) -> list:
    """The figure's jobs: one per condition of :data:`CONDITIONS` (all ``seeds`` runs in one batch)."""
    n_chunks = -(-config["cycles"] // config["cycles_per_chunk"])
    return [Job(name, {"feedback": feedback, "rho": rho}, n_chunks) for name, (feedback, rho) in CONDITIONS.items()]


def _advance(state: dict, task, size: dict, dt_s: float) -> None:
    """One chunk of cycles of a condition: its per-cycle numbers and the spike indices of kept cycles."""
    snap_cycles, group = _snap_cycles(size), state["group"]
    c0 = state["chunks_done"] * size["cycles_per_chunk"]
    for c in range(c0, min(c0 + size["cycles_per_chunk"], size["cycles"])):
        results = group["engine"].run(task.n_cycle, record=("S",))
        for key, values in cycle_statistics(results, dt_s).items():
            group[key].append(values)
        if c in snap_cycles:
            frame = snap_cycles.index(c)
            for key in ("S_1", "S_2"):
                idx = _indices(results[0].traces[key])
                group["snap"][key].append(np.column_stack([np.full(len(idx), frame, np.int32), idx]))


def run_job(config: dict, job: Job, folder=None, on_chunk=None) -> dict:
    """One condition: per-cycle ``vr``, ``mse``, rates ``(runs, cycles)``, ``snap_S_<l>`` spike indices of
    run 0 and ``B`` (random feedback); checkpointed in ``folder`` (if given) and resumed from there."""
    size, seed = {k: config[k] for k in FULL}, config["seed"]
    base = Params.from_dict(config["params"])
    task, _ = make_task(size, seed, base)
    params, feedback = base.replace(rho=job.spec["rho"]), job.spec["feedback"]
    networks = [Network.create((task.n_in, size["n_hidden"], task.n_out), np.random.default_rng([seed, i]), params,
                               feedback=feedback, schedule=((size["drop_s"], DROP_FACTOR),), t_burn_s=size["t_burn_s"])
                for i in range(size["seeds"])]
    group = {"engine": batch_engine(networks, task, config["engine"]), "vr": [], "mse": [], "hidden_rate": [],
             "output_rate": [], "snap": {"S_1": [], "S_2": []}}
    state = run_chunks({"config": {**config, "job": job.name}, "chunks_done": 0, "group": group},
                       lambda state: _advance(state, task, size, base.dt_s), job.n_chunks, out_dir=folder,
                       resume=has_checkpoint(folder), progress=False, desc="picture", on_chunk=on_chunk)
    group = state["group"]
    arrays = {key: np.array(group[key]).T for key in ("vr", "mse", "hidden_rate", "output_rate")}
    for key, pieces in group["snap"].items():
        arrays[f"snap_{key}"] = np.concatenate(pieces) if pieces else np.zeros((0, 3), np.int32)
    if feedback != "symmetric":
        arrays["B"] = np.stack([net.feedback_matrices[0] for net in networks])
    return arrays


def assemble(config: dict, arrays: dict) -> ExperimentResult:
    """The figure's result from every job's arrays (``{name: arrays}`` in job order)."""
    size, base = {k: config[k] for k in FULL}, Params.from_dict(config["params"])
    task, image = make_task(size, config["seed"], base)
    out = {
        "cycle_end_s": (np.arange(size["cycles"]) + 1) * task.n_cycle * base.dt_s,
        "layers": np.array((task.n_in, size["n_hidden"], task.n_out)),
        "n_cycle": np.array(task.n_cycle),
        "image": image,
        "input_spikes": _indices(task.input),
        "target_spikes": _indices(task.target),
        "snap_cycles": np.array(_snap_cycles(size)),
        **{f"B_{name}": job["B"] for name, job in arrays.items() if "B" in job},
        **{f"{key}_{name}" if key in ("vr", "mse", "hidden_rate", "output_rate") else f"snap_{name}_{key[5:]}": v
           for name, job in arrays.items() for key, v in job.items() if key != "B"},
    }
    return ExperimentResult("picture", out, summarise(out), config)


def run(quick: bool = False, seeds: int | None = None, cycles: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 7, progress: bool = True, gif: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> ExperimentResult:
    """Run the picture task (``quick``: 40 → 32 → 40, 4 cycles) and save ``picture.npz`` and
    ``picture.gif`` (if ``gif``) in ``out`` if given.

    The two conditions are jobs, run one after the other, in a pool of ``workers`` processes,
    or on the dask cluster at ``scheduler`` (:func:`~superspike_ref.experiments.jobs.run_jobs`).
    """
    config = experiment_config("picture", experiment_size(FULL, QUICK, quick, seeds=seeds, cycles=cycles), seed,
                               engine, Params())
    result = run_figure(config, jobs, run_job, assemble, out=out, resume=resume, progress=progress, workers=workers,
                        scheduler=scheduler)
    if out is not None and gif:
        animation(result, Path(out) / "picture.gif")
    return result


def summarise(arrays: dict) -> dict:
    """Per condition: final auryn_mse, vr_distance and rates (mean of the last cycles), auryn_mse at the
    original code's block ends, and the original code's numbers for comparison."""
    t = arrays["cycle_end_s"]
    k = min(FINAL_CYCLES, t.size)
    summary = {}
    for name in CONDITIONS:
        entry = {"runs": int(arrays[f"vr_{name}"].shape[0])}
        for key, label in (("mse", "final_auryn_mse"), ("vr", "final_vr_distance"),
                           ("hidden_rate", "final_hidden_rate_Hz"), ("output_rate", "final_output_rate_Hz")):
            entry[label] = float(arrays[f"{key}_{name}"][:, -k:].mean())
        entry["first_cycle_auryn_mse"] = float(arrays[f"mse_{name}"][:, 0].mean())
        for when in COMPARE_AT_S:
            if when <= t[-1]:
                entry[f"auryn_mse_at_{when:.0f}s"] = float(arrays[f"mse_{name}"][:, np.argmin(np.abs(t - when))].mean())
        entry["original_code"] = ORIGINAL_CODE[name]
        summary[name] = entry
    return summary


def figure(result: ExperimentResult):
    """Target vs final output rasters per condition, learning curves (auryn_mse, vr_distance), hidden rates."""
    from ..plotting import picture_figure

    return picture_figure(result.arrays, Params.from_dict(result.config["params"]), list(CONDITIONS))


def animation(result: ExperimentResult, path, fps: float = 2.0, dpi: int = 100):
    """Write the GIF movie of input, hidden and output rasters over training (matplotlib only)."""
    from ..plotting import picture_animation

    return picture_animation(result.arrays, Params.from_dict(result.config["params"]), list(CONDITIONS), path,
                             fps=fps, dpi=dpi)
