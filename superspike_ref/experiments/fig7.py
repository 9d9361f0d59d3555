"""Paper Fig 7: feedback types, hidden-layer size and ablations on the Fig 6 task (paper §4.2; docs/paper.md §"Fig 7").

Task, initialisation and schedule as in :mod:`~superspike_ref.experiments.fig678` (1001 s, rate
×0.1 from 400 s and ×0.01 from 800 s, two cycles of burn-in). Conditions:

* ``symmetric``, ``random``, ``uniform`` feedback (B ~ N(0, 1), B ≡ 1);
* ``random_reg``: random feedback with the heterosynaptic regulariser on the hidden weights,
  ρ = 0.05 in SPEC units (the original code's ρ = 1), a = 4, τ_het = 100 ms;
* ``fixed_hidden``: only the output weights learn (hidden weights stay at their initial values);
* ``symm_linear``: symmetric feedback with σ′ ≡ 1 in the whole rule (β = 0 makes the fast
  sigmoid's derivative 1 everywhere), the paper's "Symm. linear";
* ``no_hidden``: 100 → 100.

The hidden-size sweep runs symmetric, random, random + regulariser and uniform feedback for
every ``n_h`` in ``hidden_sizes``; the ablations run at the largest size (256, the paper's
Fig 7c-g). Run ``i`` at a given ``n_h`` starts from the same weights in every condition
(``default_rng([seed, n_h, i])``; random feedback draws B after them).

The paper reports: symmetric ≤ no hidden < random + regulariser < random; uniform worst;
wider hidden layers help; random feedback drives hidden rates abnormally high and the
regulariser lowers them; "symmetric linear" degrades the output pattern.
"""
from __future__ import annotations

import numpy as np

from ..network import Network
from ..params import Params
from .common import ExperimentResult, experiment_config, experiment_size, has_checkpoint, run_cycle_jobs
from .fig678 import final, make_task, schedule
from .jobs import Job, run_figure

__all__ = ["run", "figure", "jobs", "run_job", "assemble", "CONDITIONS", "SWEEP", "FULL", "QUICK", "RHO_REGULARISER"]

RHO_REGULARISER = 0.05
"""ρ of the regularised condition in SPEC units (the original code's ρ = 1, SPEC §5)."""
CONDITIONS = {
    "symmetric": {"feedback": "symmetric"},
    "random": {"feedback": "random"},
    "random_reg": {"feedback": "random", "rho": RHO_REGULARISER},
    "uniform": {"feedback": "uniform"},
    "fixed_hidden": {"feedback": "symmetric", "plastic": (False, True)},
    "symm_linear": {"feedback": "symmetric", "beta_per_V": 0.0},
    "no_hidden": {"feedback": "symmetric", "hidden": False},
}
"""Condition name → feedback and the changes from the defaults (``rho``, ``beta_per_V``, ``plastic``, ``hidden``)."""
SWEEP = ("symmetric", "random", "random_reg", "uniform")
"""Conditions run at every hidden size; the others only at the largest."""
FULL = {"seeds": 1, "n_in": 100, "n_rows": 100, "n_cols": 70, "hidden_sizes": [8, 16, 32, 64, 128, 256],
        "cycles": 286, "cycles_per_chunk": 5, "burn_in_cycles": 2, "drops_s": [400.0, 800.0]}
QUICK = {"seeds": 1, "n_in": 40, "n_rows": 30, "n_cols": 20, "hidden_sizes": [8, 16], "cycles": 6,
         "cycles_per_chunk": 3, "burn_in_cycles": 1, "drops_s": [3.0, 5.0]}


def job_name(condition: str, n_hidden: int) -> str:
    """``"<condition>_h<n_hidden>"`` (``"no_hidden"`` alone)."""
    return condition if condition == "no_hidden" else f"{condition}_h{n_hidden}"


def make_networks(condition: str, n_hidden: int, n_runs: int, task, size: dict, seed: int, base: Params) -> list:
    """The ``n_runs`` networks of one condition and hidden size."""
    spec = dict(CONDITIONS[condition])
    hidden = spec.pop("hidden", True)
    feedback, plastic = spec.pop("feedback"), spec.pop("plastic", None)
    params = base.replace(**spec)
    layers = (task.n_in, n_hidden, task.n_out) if hidden else (task.n_in, task.n_out)
    t_burn_s = size["burn_in_cycles"] * task.n_cycle * base.dt_s
    return [Network.create(layers, np.random.default_rng([seed, n_hidden, i]), params, feedback=feedback,
                           schedule=schedule(size), t_burn_s=t_burn_s, plastic=plastic)
            for i in range(n_runs)]


def jobs(config: dict) -> list:
    """The figure's jobs, one per condition and hidden size (all ``seeds`` runs of it in one batch):
    the sweep for every size, then the ablations at the largest."""
    sizes = config["hidden_sizes"]
    pairs = [(c, n) for n in sizes for c in SWEEP] + [(c, max(sizes)) for c in CONDITIONS if c not in SWEEP]
    n_chunks = -(-config["cycles"] // config["cycles_per_chunk"])
    return [Job(job_name(c, n), {"condition": c, "n_hidden": n}, n_chunks) for c, n in pairs]


def run_job(config: dict, job: Job, folder=None, on_chunk=None) -> dict:
    """One condition at one hidden size: its curves, ``last_S_<l>`` and ``B`` (random and uniform feedback).

    Checkpointed in ``folder`` (if given) and resumed from a checkpoint there.
    """
    size = {k: config[k] for k in FULL}
    base = Params.from_dict(config["params"])
    task, _ = make_task(size, config["seed"], base)
    nets = make_networks(job.spec["condition"], job.spec["n_hidden"], size["seeds"], task, size, config["seed"], base)
    curves = run_cycle_jobs({job.name: nets}, task, size["cycles"], size["cycles_per_chunk"], {**config, "job": job.name},
                            engine=config["engine"], out=folder, resume=has_checkpoint(folder), progress=False,
                            on_chunk=on_chunk)[job.name]
    if nets[0].feedback_matrices:
        curves["B"] = np.stack([net.feedback_matrices[0] for net in nets])
    return curves


def assemble(config: dict, arrays: dict) -> ExperimentResult:
    """The figure's result from every job's arrays (``{name: arrays}`` in job order)."""
    base = Params.from_dict(config["params"])
    task, image = make_task({k: config[k] for k in FULL}, config["seed"], base)
    sizes = config["hidden_sizes"]
    out = {
        "cycle_end_s": (np.arange(config["cycles"]) + 1) * task.n_cycle * base.dt_s,
        "hidden_sizes": np.array(sizes),
        "image": image,
        "target": task.target,
        **{f"{key}_{name}": v for name, job in arrays.items() for key, v in job.items() if key != "B"},
        **{f"B_{name}": job["B"] for name, job in arrays.items() if "B" in job},
    }
    return ExperimentResult("fig7", out, summarise(out, sizes), config)


def run(quick: bool = False, seeds: int | None = None, cycles: int | None = None, out=None, resume: bool = False,
        engine: str = "fast", seed: int = 6, progress: bool = True, workers: int | None = None,
        scheduler: str | None = None) -> ExperimentResult:
    """Run Fig 7 (``quick``: 40 → {8, 16} → 30, 6 cycles of 1 s) and save ``fig7.npz`` in ``out`` if given.

    The jobs run one after the other, in a pool of ``workers`` processes, or on the dask
    cluster at ``scheduler`` (:func:`~superspike_ref.experiments.jobs.run_jobs`); same numbers in all three.
    """
    config = experiment_config("fig7", experiment_size(FULL, QUICK, quick, seeds=seeds, cycles=cycles), seed, engine,
                               Params())
    return run_figure(config, jobs, run_job, assemble, out=out, resume=resume, progress=progress, workers=workers,
                      scheduler=scheduler)


def summarise(arrays: dict, sizes) -> dict:
    """Final cost (vr_distance, auryn_mse) and rates per condition at the largest size; final cost per size."""
    largest = max(sizes)
    summary = {}
    for condition in CONDITIONS:
        name = job_name(condition, largest)
        summary[name] = {"final_vr_distance": final(arrays, "vr", name),
                         "final_auryn_mse": final(arrays, "mse", name),
                         "final_hidden_rate_Hz": final(arrays, "hidden_rate", name),
                         "final_output_rate_Hz": final(arrays, "output_rate", name)}
    for condition in SWEEP:
        summary[f"{condition}_vs_n_hidden"] = {str(n): final(arrays, "vr", job_name(condition, n)) for n in sizes}
    summary["target_spikes_per_cycle"] = int(arrays["target"].sum())
    return summary


def figure(result: ExperimentResult):
    """The paper's Fig 7: learning curves per condition, final cost vs n_h, n_h = 256 snapshots."""
    from ..plotting import fig7_figure

    arrays, config = result.arrays, result.config
    sizes = [int(n) for n in arrays["hidden_sizes"]]
    largest_jobs = {c: job_name(c, max(sizes)) for c in CONDITIONS}
    final_vr = {c: [final(arrays, "vr", job_name(c, n)) for n in sizes] for c in SWEEP}
    return fig7_figure(arrays, Params.from_dict(config["params"]), largest_jobs, final_vr,
                       final(arrays, "vr", job_name("no_hidden", max(sizes))),
                       t_learn_s=config["burn_in_cycles"] * arrays["cycle_end_s"][0], drops_s=config["drops_s"])
