"""A figure as independent jobs: run one after the other, in a local process pool, or on a dask cluster.

A figure that runs as jobs (Figs 5, 7 and 8, the picture task) offers three things:

* ``jobs(config)``: the list of :class:`Job` (a name and a JSON-ready specification, e.g. a
  condition and a hidden size), in a fixed order;
* ``run_job(config, job, folder=None, on_chunk=None)``: that job's arrays, computed from
  ``config`` and ``job`` alone (every job draws its own seeds, so it gives the same numbers
  wherever it runs), checkpointed after every chunk in ``folder`` and resumed from a
  checkpoint found there;
* ``assemble(config, arrays)``: the figure's result from every job's arrays, taken in job order.

:func:`run_jobs` runs the jobs and returns their arrays in job order, so that the serial run,
``workers=N`` (a :class:`concurrent.futures.ProcessPoolExecutor`) and ``scheduler=ADDRESS``
(a ``dask.distributed`` cluster) give bitwise identical results. With an output folder ``out``,
job ``name`` checkpoints in ``out/jobs/<name>/checkpoint.npz`` while it runs, and its arrays are
written to ``out/jobs/<name>.npz`` (arrays and JSON, never pickle) when it finishes; ``resume``
skips finished jobs and continues partial ones. Results travel between processes in memory only.
"""
from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..checkpoint import atomic_write
from ..files import load_npz

__all__ = ["Job", "JobError", "WorkerDied", "run_jobs", "run_figure", "supports_jobs", "check_parallel_options",
           "JOBS_FOLDER", "CONNECT_TIMEOUT_S"]

JOBS_FOLDER = "jobs"
"""Folder in a figure's output folder holding the jobs' checkpoints and finished arrays."""
CONNECT_TIMEOUT_S = 20
"""How long to wait for a dask scheduler to answer."""
_NUMERIC_KINDS = "biuf"


@dataclass(frozen=True)
class Job:
    """One independent piece of a figure.

    Parameters
    ----------
    name : str
        Unique within the figure; names its files (letters, digits, ``_ . -`` only).
    spec : dict
        JSON-ready description of what the job computes (e.g. ``{"condition": "random", "n_hidden": 8}``).
    n_chunks : int
        Checkpointed chunks of the job (the progress bar counts them).
    """

    name: str
    spec: dict = field(default_factory=dict)
    n_chunks: int = 1


class JobError(RuntimeError):
    """A job failed; the message names the figure and the job, ``__cause__`` is the job's own error."""


class WorkerDied(JobError):
    """The process running a job died (killed, out of memory): nothing wrong with the job itself."""


_DEATHS = ("BrokenProcessPool", "KilledWorker")
"""Errors of concurrent.futures and dask saying that a worker process died under a job."""


def supports_jobs(module) -> bool:
    """Whether a figure module runs as jobs (has ``jobs``, ``run_job`` and ``assemble``)."""
    return all(callable(getattr(module, name, None)) for name in ("jobs", "run_job", "assemble"))


def _limited(run_job, config: dict, job: Job, folder) -> tuple:
    """``run_job`` in a worker process with BLAS limited to one thread; returns (version, arrays)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return __version__, run_job(config, job, folder)


def _job_meta(config: dict, job: Job) -> str:
    """The JSON that identifies a finished job's file: figure, job, configuration, package version."""
    return json.dumps({"figure": config["figure"], "job": job.name, "spec": job.spec, "config": config,
                       "version": __version__}, sort_keys=True)


def _save_job(path: Path, config: dict, job: Job, arrays: dict) -> None:
    """Write a finished job's arrays (and what identifies it, as JSON) to ``path``."""
    odd = sorted(k for k, a in arrays.items() if not isinstance(a, np.ndarray) or a.dtype.kind not in _NUMERIC_KINDS)
    if odd:
        raise TypeError(f"{config['figure']} job {job.name!r}: results must be numeric arrays, not {odd}")
    atomic_write(path, lambda f: np.savez_compressed(f, _meta=np.array(_job_meta(config, job)), **arrays))


def _load_job(path: Path, config: dict, job: Job) -> dict:
    """A finished job's arrays from ``path``; ValueError if it belongs to another run or version."""
    arrays = load_npz(path)
    meta = arrays.pop("_meta", None)
    if meta is None or meta.shape != () or str(meta) != _job_meta(config, job):
        raise ValueError(f"{path}: written by another run or package version; use another --out or --force")
    return arrays


def _prepare(out, config: dict, jobs: list, resume: bool) -> tuple:
    """The jobs folder (or None), the finished jobs' arrays and the jobs still to run."""
    names = [job.name for job in jobs]
    if len(set(names)) != len(names) or not all(re.fullmatch(r"[A-Za-z0-9_.-]+", n) for n in names):
        raise ValueError(f"{config['figure']}: job names must be unique file names (letters, digits, _ . -): {names}")
    if out is None:
        if resume:
            raise ValueError("--resume needs an output folder")
        return None, {}, list(jobs)
    folder = Path(out) / JOBS_FOLDER
    if not resume and folder.exists() and any(folder.iterdir()):
        raise ValueError(f"{folder} exists: continue that run with --resume, or start afresh with --force")
    if resume and not folder.is_dir():
        raise ValueError(f"--resume needs a checkpoint, none at {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    done = {job.name: _load_job(folder / f"{job.name}.npz", config, job) for job in jobs
            if (folder / f"{job.name}.npz").is_file()}
    return folder, done, [job for job in jobs if job.name not in done]


def _finish(folder, config: dict, job: Job, arrays: dict, version: str = __version__) -> dict:
    """Check where a job ran, store its arrays and drop its checkpoint; returns the arrays."""
    if version != __version__:
        raise JobError(f"{config['figure']} job {job.name!r}: ran with superspike_ref {version}, "
                       f"this is {__version__}; install the same version on every worker")
    if folder is not None:
        _save_job(folder / f"{job.name}.npz", config, job, arrays)
        shutil.rmtree(folder / job.name, ignore_errors=True)
    return arrays


def _failed(config: dict, job: Job, exc: BaseException) -> JobError:
    """The error to raise for ``job``'s ``exc``: it names the figure and the job."""
    if type(exc).__name__ in _DEATHS:
        return WorkerDied(f"{config['figure']} job {job.name!r}: a worker process died ({type(exc).__name__}: "
                          f"{exc}); finished jobs are kept, continue with --resume")
    return JobError(f"{config['figure']} job {job.name!r}: {type(exc).__name__}: {exc}")


def _run_serial(run_job, config, pending, folder, bar) -> dict:
    """Run ``pending`` jobs in this process, one after the other (BLAS threads as configured)."""
    done = {}
    for job in pending:
        counted = []

        def on_chunk() -> None:
            counted.append(1)
            bar.update(1)

        try:
            arrays = run_job(config, job, None if folder is None else folder / job.name, on_chunk)
        except Exception as exc:
            raise _failed(config, job, exc) from exc
        bar.update(job.n_chunks - len(counted))  # the chunks a resumed job had done before
        done[job.name] = _finish(folder, config, job, arrays)
    return done


def _collect(futures: dict, completed, config, folder, bar, drain: bool = False) -> dict:
    """Arrays of every future in ``futures`` (future → job), stored as each finishes.

    On a job's error: with ``drain``, jobs not started are cancelled and the running ones are
    waited for (and stored) before the error is raised; otherwise it is raised at once.
    """
    done, failure = {}, None
    for future in completed(futures):
        job = futures[future]
        if future.cancelled():
            continue
        try:
            version, arrays = future.result()
        except Exception as exc:
            if not drain:
                raise _failed(config, job, exc) from exc
            if failure is None:
                failure = (_failed(config, job, exc), exc)
                for other in futures:
                    other.cancel()
                bar.write(f"{failure[0]}; waiting for the running jobs to finish (their results are kept)")
            continue
        done[job.name] = _finish(folder, config, job, arrays, version)
        bar.update(job.n_chunks)
    if failure is not None:
        raise failure[0] from failure[1]
    return done


def _run_pool(run_job, config, pending, folder, bar, workers: int) -> dict:
    """Run ``pending`` jobs in ``workers`` new (spawned) processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(_limited, run_job, config, job, None if folder is None else folder / job.name): job
                   for job in pending}
        return _collect(futures, as_completed, config, folder, bar, drain=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(run_job, config, pending, folder, bar, scheduler: str) -> dict:
    """Submit ``pending`` jobs to the dask scheduler at ``scheduler``; checkpoints go to the folder's absolute path."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ValueError("--scheduler needs the optional package distributed: pip install -e .[cluster]") from None
    with Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False) as client:
        futures = {client.submit(_limited, run_job, config, job,
                                 None if folder is None else str(folder.resolve() / job.name),
                                 key=f"{config['figure']}-{job.name}-{uuid.uuid4().hex}"): job
                   for job in pending}
        try:
            return _collect(futures, lambda fs: as_completed(fs, loop=client.loop), config, folder, bar)
        finally:
            client.cancel(list(futures))


def check_parallel_options(workers: int | None, scheduler: str | None) -> None:
    """ValueError naming the option unless ``workers`` (≥ 1) and ``scheduler`` are given one at most."""
    if workers is not None and scheduler is not None:
        raise ValueError("give --workers or --scheduler, not both")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")


def run_jobs(config: dict, jobs: list, run_job, out=None, resume: bool = False, progress: bool = True,
             workers: int | None = None, scheduler: str | None = None) -> dict:
    """Run a figure's ``jobs`` and return ``{name: arrays}`` in job order.

    Parameters
    ----------
    config : dict
        The figure's configuration (:func:`~superspike_ref.experiments.common.experiment_config`).
    jobs : list of Job
    run_job : callable
        The figure module's ``run_job(config, job, folder=None, on_chunk=None)`` (a module-level
        function, so that worker processes can import it).
    out : path, optional
        The figure's output folder; jobs go to ``out/jobs/``.
    resume : bool
        Skip finished jobs and continue partial ones from their checkpoints.
    progress : bool
        One progress bar counting the chunks of all jobs (in a pool or cluster they count when a job ends).
    workers : int, optional
        Run in a local process pool of this many processes (BLAS limited to one thread each).
    scheduler : str, optional
        Address of a ``dask.distributed`` scheduler (``tcp://HOST:PORT``) to submit the jobs to.

    Raises
    ------
    JobError
        Naming the figure and the job, when a job fails.
    """
    check_parallel_options(workers, scheduler)
    folder, done, pending = _prepare(out, config, jobs, resume)
    from tqdm.auto import tqdm

    total = sum(job.n_chunks for job in jobs)
    initial = total - sum(job.n_chunks for job in pending)
    with tqdm(total=total, initial=initial, desc=config["figure"], unit="chunk", disable=not progress) as bar:
        if pending and scheduler is not None:
            done.update(_run_dask(run_job, config, pending, folder, bar, scheduler))
        elif pending and workers is not None:
            done.update(_run_pool(run_job, config, pending, folder, bar, workers))
        elif pending:
            done.update(_run_serial(run_job, config, pending, folder, bar))
    return {job.name: done[job.name] for job in jobs}


def run_figure(config: dict, jobs, run_job, assemble, out=None, **options):
    """A figure that runs as jobs: ``assemble(config, run_jobs(...))``, saved as ``out/<figure>.npz`` if ``out``.

    ``jobs``, ``run_job`` and ``assemble`` are the figure module's functions; ``options`` are
    :func:`run_jobs`'s (``resume``, ``progress``, ``workers``, ``scheduler``).
    """
    from .common import save_result

    result = assemble(config, run_jobs(config, jobs(config), run_job, out=out, **options))
    if out is not None:
        save_result(result, Path(out) / f"{config['figure']}.npz")
    return result
