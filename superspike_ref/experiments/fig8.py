"""Paper Fig 8 (Appendix): the heterosynaptic regulariser's strength ρ and exponent a
(docs/paper.md §"Fig 8").

The Fig 7 task with random feedback, ``n_h = 256`` and r0 = 1e-3 (same schedule and burn-in);
the regulariser ``-ρ w_ij z_i^a`` on the hidden weights for every ρ of a log grid and every
exponent a. ρ is given in the original code's units (``rho_code``; the paper's "ρ = 1") and
converted to SPEC units with :func:`~superspike_ref.conventions.rho_from` (ρ_code = 1 ⇔ ρ = 0.05).
Run i of every (ρ, a) starts from the same weights and feedback matrix. The full grid (:data:`FULL`):
ρ_code ∈ {0.01, 0.1, 1, 10, 100, 1000} × a ∈ {0, 1, 2, 4}, 3 runs per cell, 24 jobs of 3 networks
(about 3.3 h on 2 cores).

The paper reports: for a > 0 there is an optimal range of ρ; a = 0 (plain weight decay) is
consistently worse and becomes unstable around ρ ≈ 100, where the network falls silent with
strongly negative weights; a = 4 with ρ = 1 works well. Panel b: mean hidden rate after learning.
"""
from __future__ import annotations

import numpy as np

from ..conventions import rho_from
from ..network import Network
from ..params import Params
from .common import ExperimentResult, experiment_config, experiment_size, has_checkpoint, run_cycle_jobs
from .fig678 import final, make_task, run_finals, schedule
from .jobs import Job, run_figure

__all__ = ["run", "figure", "jobs", "run_job", "assemble", "grid", "run_range", "FULL", "QUICK", "job_name"]

FULL = {"seeds": 3, "n_in": 100, "n_rows": 100, "n_cols": 70, "n_hidden": 256, "cycles": 286, "cycles_per_chunk": 5,
        "burn_in_cycles": 2, "drops_s": [400.0, 800.0], "rho_code": [0.01, 0.1, 1.0, 10.0, 100.0, 1000.0],
        "exponents": [0.0, 1.0, 2.0, 4.0]}
"""The full grid: 6 ρ_code × 4 exponents, 3 runs each (issue P12: at least 3 runs per cell, and ρ_code up to
1000 so that the upper edge of the good range of ρ for a > 0 is seen or ruled out); the grid of the committed
``results/fig8/fig8.npz``."""
QUICK = {"seeds": 1, "n_in": 40, "n_rows": 30, "n_cols": 20, "n_hidden": 16, "cycles": 4, "cycles_per_chunk": 2,
         "burn_in_cycles": 1, "drops_s": [2.0, 3.0], "rho_code": [0.1, 10.0], "exponents": [0.0, 4.0]}


def job_name(rho_code: float, a: float) -> str:
    """``"a<a>_rho<rho_code>"``, e.g. ``"a4_rho1"``."""
    return f"a{a:g}_rho{rho_code:g}"


def jobs(config: dict) -> list:
    """The figure's jobs, one per (a, ρ) with all ``seeds`` runs in one batch, a-major."""
    n_chunks = -(-config["cycles"] // config["cycles_per_chunk"])
    return [Job(job_name(rho_code, a), {"a": a, "rho_code": rho_code}, n_chunks)
            for a in config["exponents"] for rho_code in config["rho_code"]]


def run_job(config: dict, job: Job, folder=None, on_chunk=None) -> dict:
    """One (a, ρ): its curves and ``last_S_<l>``, checkpointed in ``folder`` (if given) and resumed from there."""
    size, seed = {k: config[k] for k in FULL}, config["seed"]
    base = Params.from_dict(config["params"])
    task, _ = make_task(size, seed, base)
    params = base.replace(rho=rho_from("auryn", job.spec["rho_code"], base), a=job.spec["a"])
    t_burn_s = size["burn_in_cycles"] * task.n_cycle * base.dt_s
    nets = [Network.create((task.n_in, size["n_hidden"], task.n_out), np.random.default_rng([seed, size["n_hidden"], i]),
                           params, feedback="random", schedule=schedule(size), t_burn_s=t_burn_s)
            for i in range(size["seeds"])]
    return run_cycle_jobs({job.name: nets}, task, size["cycles"], size["cycles_per_chunk"], {**config, "job": job.name},
                          engine=config["engine"], out=folder, resume=has_checkpoint(folder), progress=False,
                          on_chunk=on_chunk)[job.name]


def assemble(config: dict, arrays: dict) -> ExperimentResult:
    """The figure's result from every job's arrays (``{name: arrays}`` in job order)."""
    base = Params.from_dict(config["params"])
    task, _ = make_task({k: config[k] for k in FULL}, config["seed"], base)
    out = {
        "cycle_end_s": (np.arange(config["cycles"]) + 1) * task.n_cycle * base.dt_s,
        "rho_code": np.array(config["rho_code"]),
        "exponents": np.array(config["exponents"]),
        "target": task.target,
        **{f"{key}_{name}": v for name, job in arrays.items() for key, v in job.items()},
    }
    return ExperimentResult("fig8", out, summarise(out), config)


def run(quick: bool = False, seeds: int | None = None, cycles: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 6, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> ExperimentResult:
    """Run Fig 8 (``quick``: 40 → 16 → 30, 2 × 2 grid, 4 cycles of 1 s) and save ``fig8.npz`` in ``out`` if given.

    The jobs run one after the other, in a pool of ``workers`` processes, or on the dask
    cluster at ``scheduler`` (:func:`~superspike_ref.experiments.jobs.run_jobs`); same numbers in all three.
    """
    config = experiment_config("fig8", experiment_size(FULL, QUICK, quick, seeds=seeds, cycles=cycles), seed, engine,
                               Params())
    return run_figure(config, jobs, run_job, assemble, out=out, resume=resume, progress=progress, workers=workers,
                      scheduler=scheduler)


def grid(arrays: dict, key: str) -> np.ndarray:
    """Final ``key`` (``"vr"``, ``"mse"``, ``"hidden_rate"`` ...) as an ``(n_exponents, n_rho)`` array."""
    return np.array([[final(arrays, key, job_name(r, a)) for r in arrays["rho_code"]] for a in arrays["exponents"]])


def run_range(arrays: dict, key: str) -> np.ndarray:
    """Lowest and highest final ``key`` over the runs of each cell, as a ``(2, n_exponents, n_rho)`` array
    (a run's final value: :func:`~superspike_ref.experiments.fig678.run_finals`)."""
    per_run = np.array([[run_finals(arrays, key, job_name(r, a)) for r in arrays["rho_code"]]
                        for a in arrays["exponents"]])
    return np.stack([per_run.min(axis=2), per_run.max(axis=2)])


def summarise(arrays: dict) -> dict:
    """Per exponent: final vr_distance and hidden rate for every ρ, and the best ρ."""
    vr, rate = grid(arrays, "vr"), grid(arrays, "hidden_rate")
    summary = {}
    for i, a in enumerate(arrays["exponents"]):
        best = int(np.nanargmin(vr[i])) if np.isfinite(vr[i]).any() else 0
        summary[f"a={a:g}"] = {
            **{f"vr_rho{r:g}": float(vr[i, j]) for j, r in enumerate(arrays["rho_code"])},
            **{f"hidden_Hz_rho{r:g}": float(rate[i, j]) for j, r in enumerate(arrays["rho_code"])},
            "best_rho_code": float(arrays["rho_code"][best]),
        }
    return summary


def figure(result: ExperimentResult):
    """The paper's Fig 8: final cost (a) and mean hidden rate (b) against ρ for every exponent."""
    from ..plotting import fig8_figure

    arrays = result.arrays
    return fig8_figure(arrays, grid(arrays, "vr"), grid(arrays, "hidden_rate"), run_range(arrays, "vr"),
                       run_range(arrays, "hidden_rate"))
