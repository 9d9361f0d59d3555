"""What ``python -m superspike_ref reproduce`` does: one figure, or all of them with a summary.

:func:`reproduce_figure` runs one figure of :data:`~superspike_ref.experiments.EXPERIMENTS`
into its folder ``OUT/FIG/`` (result ``FIG.npz``, figure ``FIG.png``) and prints its wall time
and summary. :func:`reproduce_all` does that for every figure in turn and ends with the paper's
claims checked on the results (:mod:`~superspike_ref.experiments.claims`), written to
``OUT/summary.md`` and ``OUT/summary.json`` with every figure's wall and CPU seconds.
"""
from __future__ import annotations

import resource
import shutil
import time
from pathlib import Path

from . import EXPERIMENTS
from .claims import evaluate, format_claims, write_report
from .common import CHECKPOINT_NAME, PICKLE_CHECKPOINT_NAME
from .jobs import JOBS_FOLDER, check_parallel_options, supports_jobs

__all__ = ["reproduce_figure", "reproduce_all", "clear_earlier", "print_summary"]


def _earlier(figure: str, out: Path) -> list:
    """The files of an earlier run of ``figure`` in its folder ``out``: result, checkpoints, jobs."""
    return [p for p in (out / f"{figure}.npz", out / CHECKPOINT_NAME, out / PICKLE_CHECKPOINT_NAME, out / JOBS_FOLDER)
            if p.exists()]


def _resumable(out: Path) -> bool:
    """Whether ``out`` holds a checkpoint or a jobs folder that ``resume`` continues from."""
    return (out / CHECKPOINT_NAME).is_file() or (out / JOBS_FOLDER).is_dir()


def clear_earlier(figure: str, out: Path, force: bool, resume: bool) -> None:
    """Refuse to overwrite an earlier result or checkpoint of ``figure`` in ``out``, or delete them under ``force``."""
    earlier = _earlier(figure, out)
    if earlier and force:
        for path in earlier:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
    elif earlier and not resume:
        raise ValueError(f"{earlier[0]} exists: continue that run with --resume, overwrite it with --force, "
                         "or choose another --out")


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (user and system)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def print_summary(summary: dict, indent: str = "  ") -> None:
    """Print a result's summary, one number a line, nested dicts indented."""
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            print_summary(value, indent + "  ")
        else:
            print(f"{indent}{key:<{width}}  {value:.4g}" if isinstance(value, float) else f"{indent}{key:<{width}}  {value}")


def reproduce_figure(figure: str, out: Path, **options) -> tuple:
    """Run ``figure`` into the folder ``out``, draw ``out/<figure>.png`` and print where, its wall time and summary.

    ``options`` are the figure module's ``run`` options (``quick``, ``seeds``, ``resume``, ``engine``,
    ``progress``, and ``workers``/``scheduler`` for a figure that runs as jobs). Returns the
    :class:`~superspike_ref.experiments.common.ExperimentResult` and ``{"wall_s", "cpu_s"}``.
    """
    import matplotlib.pyplot as plt

    module = EXPERIMENTS[figure]
    start, cpu = time.perf_counter(), _cpu_seconds()
    result = module.run(out=out, **options)
    fig = module.figure(result)
    fig.savefig(out / f"{figure}.png", dpi=120)
    plt.close(fig)
    timing = {"wall_s": time.perf_counter() - start, "cpu_s": _cpu_seconds() - cpu}
    print(f"{figure}: results and figure in {out.resolve()} (wall time {timing['wall_s']:.1f} s)")
    print_summary(result.summary)
    return result, timing


def _check_folders(root: Path, force: bool, resume: bool) -> None:
    """Before anything runs: refuse earlier results (without ``force``/``resume``), delete them (``force``),
    or, under ``resume``, refuse a figure's folder holding a result but nothing to resume from."""
    for figure in EXPERIMENTS:
        out = root / figure
        clear_earlier(figure, out, force, resume)
        earlier = _earlier(figure, out)
        if resume and earlier and not _resumable(out):
            raise ValueError(f"{earlier[0]} exists but {out} holds no checkpoint or jobs folder to resume from: "
                             "overwrite it with --force, or choose another --out")


def reproduce_all(root: Path, command: str, force: bool = False, resume: bool = False, workers: int | None = None,
                  scheduler: str | None = None, **options) -> dict:
    """Run every figure in turn into ``root/<figure>/`` and write ``root/summary.md`` and ``root/summary.json``.

    Each figure runs as :func:`reproduce_figure` would run it alone; ``workers``/``scheduler`` go to
    the figures that run as jobs, the others run in this process. With ``resume`` a figure whose
    folder holds a checkpoint or jobs folder continues from it (a finished one is only reloaded)
    and one with an empty folder starts afresh; its timing is then marked ``"resumed"``, as it
    counts this invocation only. ``command`` is the command line, for the report.
    Returns the report (:func:`~superspike_ref.experiments.claims.write_report`).
    """
    check_parallel_options(workers, scheduler)
    _check_folders(root, force, resume)
    start, cpu = time.perf_counter(), _cpu_seconds()
    timings, summaries = {}, {}
    for figure, module in EXPERIMENTS.items():
        out = root / figure
        parallel = {}
        if supports_jobs(module) and (workers is not None or scheduler is not None):
            parallel = {"workers": workers, "scheduler": scheduler}
        elif workers is not None or scheduler is not None:
            print(f"{figure}: runs in this process (it does not run as separate jobs)")
        resumed = resume and _resumable(out)
        result, timings[figure] = reproduce_figure(figure, out, resume=resumed, **options, **parallel)
        timings[figure]["resumed"] = resumed
        summaries[figure] = result.summary
    timings["total"] = {"wall_s": time.perf_counter() - start, "cpu_s": _cpu_seconds() - cpu}
    report = write_report(root, evaluate(summaries), timings, command)
    print(format_claims(report["claims"]))
    print(f"all figures: total wall time {timings['total']['wall_s']:.1f} s; summary in {(root / 'summary.md').resolve()}")
    return report
