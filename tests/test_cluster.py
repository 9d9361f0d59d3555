"""Figures as jobs (experiments.jobs): serial, process pool and dask cluster give the same bits;
per-job checkpoints and --resume; errors name the job (issue P12 item 2)."""
import matplotlib

matplotlib.use("Agg")

import multiprocessing
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import superspike_ref
from superspike_ref.__main__ import main
from superspike_ref.experiments import common, fig5, fig7, fig8, jobs, picture
from superspike_ref.experiments.common import load_result

FIG7 = {"quick": True, "cycles": 4, "progress": False}
"""Fig 7 at quick size with 4 cycles: 11 jobs of 2 chunks each."""
FIG8 = {"quick": True, "progress": False}
"""Fig 8 at quick size: 4 jobs of 2 chunks each."""


def assert_identical(result, expected):
    """Every array bitwise equal (same dtype and shape; NaN where NaN), and the same summary."""
    assert result.arrays.keys() == expected.arrays.keys()
    for key, value in expected.arrays.items():
        got = result.arrays[key]
        assert got.dtype == value.dtype and got.shape == value.shape, key
        assert np.array_equal(got, value, equal_nan=value.dtype.kind == "f"), key
    assert result.summary == expected.summary and result.config == expected.config


@pytest.fixture(scope="module")
def fig7_serial():
    return fig7.run(**FIG7)


@pytest.fixture(scope="module")
def fig8_serial():
    return fig8.run(**FIG8)


def test_jobs_cover_every_condition_once(fig7_serial):
    names = [job.name for job in fig7.jobs(fig7_serial.config)]
    assert len(names) == len(set(names)) == 2 * len(fig7.SWEEP) + len(fig7.CONDITIONS) - len(fig7.SWEEP)
    assert {f"vr_{name}" for name in names} == {k for k in fig7_serial.arrays if k.startswith("vr_")}
    assert all(job.n_chunks == 2 for job in fig7.jobs(fig7_serial.config))


def test_process_pool_gives_the_serial_bits(fig7_serial, tmp_path):
    pooled = fig7.run(**FIG7, out=tmp_path, workers=2)
    assert_identical(pooled, fig7_serial)
    assert_identical(load_result(tmp_path / "fig7.npz"), fig7_serial)
    finished = sorted(p.name for p in (tmp_path / "jobs").iterdir())
    assert finished == sorted(f"{job.name}.npz" for job in fig7.jobs(fig7_serial.config))  # checkpoints dropped


@pytest.mark.parametrize("module, size", [(picture, {"gif": False}), (fig5, {"seeds": 1, "trials": 100})],
                         ids=["picture", "fig5"])
def test_other_figures_in_a_pool_give_the_serial_bits(tmp_path, module, size):
    serial = module.run(quick=True, progress=False, **size)
    assert_identical(module.run(quick=True, progress=False, out=tmp_path, workers=2, **size), serial)
    assert sorted(p.name for p in (tmp_path / "jobs").iterdir()) == sorted(f"{job.name}.npz"
                                                                         for job in module.jobs(serial.config))


def kill_a_worker_mid_job(out, pid: int, killed: list) -> None:
    """SIGKILL process ``pid`` as soon as a job has written its first checkpoint in ``out``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list(out.glob("jobs/*/checkpoint.npz"))
        if found:
            os.kill(pid, signal.SIGKILL)
            killed.append(found[0].parent.name)
            return
        time.sleep(0.005)


@pytest.fixture(scope="module")
def distributed():
    """The dask.distributed package (the optional extra ``cluster``), or skip."""
    return pytest.importorskip("distributed")


def test_dask_cluster_gives_the_serial_bits_when_a_worker_is_killed(distributed, fig7_serial, tmp_path):
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            pid = next(iter(client.run(os.getpid).values()))
        killed = []
        threading.Thread(target=kill_a_worker_mid_job, args=(tmp_path, pid, killed), daemon=True).start()
        clustered = fig7.run(**FIG7, out=tmp_path, scheduler=cluster.scheduler_address)
    assert killed, "no worker was killed"            # the nanny restarted it; the scheduler reran its job
    assert_identical(clustered, fig7_serial)


def interrupt_in_second_job(tmp_path, interrupt_after_checkpoints, monkeypatch):
    """A serial Fig 8 run killed after the third checkpoint: job 1 finished, job 2 half done."""
    interrupt_after_checkpoints(3)
    with pytest.raises(KeyboardInterrupt):
        fig8.run(**FIG8, out=tmp_path)
    monkeypatch.undo()
    first, second = [job.name for job in fig8.jobs(load_config())][:2]
    assert (tmp_path / "jobs" / f"{first}.npz").is_file() and not (tmp_path / "jobs" / first).exists()
    assert (tmp_path / "jobs" / second / "checkpoint.npz").is_file()
    assert not (tmp_path / "jobs" / f"{second}.npz").exists() and not (tmp_path / "fig8.npz").exists()
    return first, second


def load_config() -> dict:
    return common.experiment_config("fig8", fig8.QUICK, 6, "fast", fig8.Params())


def test_resume_reruns_only_unfinished_jobs(tmp_path, monkeypatch, interrupt_after_checkpoints, fig8_serial):
    first, second = interrupt_in_second_job(tmp_path, interrupt_after_checkpoints, monkeypatch)
    ran, loaded = [], []
    real_run_job, real_load = fig8.run_job, common.load_checkpoint
    monkeypatch.setattr(fig8, "run_job", lambda config, job, *a: ran.append(job.name) or real_run_job(config, job, *a))
    monkeypatch.setattr(common, "load_checkpoint", lambda path, *a: loaded.append(path) or real_load(path, *a))
    resumed = fig8.run(**FIG8, out=tmp_path, resume=True)
    assert ran == [job.name for job in fig8.jobs(load_config())][1:]      # the finished job is not rerun
    assert loaded == [tmp_path / "jobs" / second / "checkpoint.npz"]      # the partial one continues
    assert_identical(resumed, fig8_serial)


def test_resume_in_a_pool_keeps_finished_jobs(tmp_path, monkeypatch, interrupt_after_checkpoints, fig8_serial):
    first, _ = interrupt_in_second_job(tmp_path, interrupt_after_checkpoints, monkeypatch)
    stamp = (tmp_path / "jobs" / f"{first}.npz").stat().st_mtime_ns
    with pytest.raises(ValueError, match="jobs exists: continue that run with --resume"):
        fig8.run(**FIG8, out=tmp_path, workers=2)
    resumed = fig8.run(**FIG8, out=tmp_path, resume=True, workers=2)
    assert (tmp_path / "jobs" / f"{first}.npz").stat().st_mtime_ns == stamp
    assert_identical(resumed, fig8_serial)


def test_an_error_in_a_worker_names_the_job(tmp_path, monkeypatch, interrupt_after_checkpoints, capsys):
    _, second = interrupt_in_second_job(tmp_path / "fig8", interrupt_after_checkpoints, monkeypatch)
    checkpoint = tmp_path / "fig8" / "jobs" / second / "checkpoint.npz"
    checkpoint.write_bytes(checkpoint.read_bytes()[:-100])
    with pytest.raises(jobs.JobError, match=rf"fig8 job '{second}': ValueError: .*checkpoint.npz"):
        fig8.run(**FIG8, out=tmp_path / "fig8", resume=True, workers=2)
    argv = ["reproduce", "fig8", "--quick", "--out", str(tmp_path), "--no-progress", "--resume", "--workers", "2"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: fig8 job '{second}': ValueError:")


def test_a_pool_whose_worker_is_killed_stops_and_resumes(tmp_path, fig8_serial, capsys):
    killed = []

    def kill_when_a_job_has_a_checkpoint() -> None:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("fig8/jobs/*/checkpoint.npz")) and time.monotonic() < deadline:
            time.sleep(0.005)
        for child in multiprocessing.active_children():     # the pool's worker processes
            os.kill(child.pid, signal.SIGKILL)
            killed.append(child.pid)
            return

    threading.Thread(target=kill_when_a_job_has_a_checkpoint, daemon=True).start()
    argv = ["reproduce", "fig8", "--quick", "--out", str(tmp_path), "--no-progress", "--workers", "2"]
    assert main(argv) == 2 and killed
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a worker process died" in err[0] and "continue with --resume" in err[0], err
    assert main(argv + ["--resume"]) == 0
    assert_identical(load_result(tmp_path / "fig8" / "fig8.npz"), fig8_serial)


def test_finished_jobs_of_another_run_are_refused(tmp_path):
    fig8.run(**FIG8, cycles=2, out=tmp_path)
    with pytest.raises(ValueError, match="written by another run or package version"):
        fig8.run(**FIG8, cycles=2, seed=7, out=tmp_path, resume=True)


def test_cli_workers_equals_serial_and_force_clears_jobs(tmp_path, fig8_serial, capsys):
    argv = ["reproduce", "fig8", "--quick", "--out", str(tmp_path), "--no-progress", "--workers", "2"]
    assert main(argv) == 0
    assert_identical(load_result(tmp_path / "fig8" / "fig8.npz"), fig8_serial)
    assert main(argv) == 2 and "fig8.npz exists" in capsys.readouterr().err
    stale = tmp_path / "fig8" / "jobs" / "stale.npz"
    stale.write_bytes(b"")
    assert main(argv + ["--force"]) == 0 and not stale.exists()


@pytest.mark.parametrize("option", [["--workers", "2"], ["--scheduler", "tcp://127.0.0.1:1"]])
def test_figures_not_yet_in_jobs_refuse_parallel_options(tmp_path, capsys, option):
    assert main(["reproduce", "fig2", "--quick", "--out", str(tmp_path), *option]) == 2
    assert "fig2 does not run as separate jobs yet" in capsys.readouterr().err
    assert not (tmp_path / "fig2").exists()


def test_bad_parallel_options_are_one_line_errors(tmp_path, capsys, monkeypatch):
    base = ["reproduce", "fig8", "--quick", "--no-progress"]
    assert main(base + ["--out", str(tmp_path / "a"), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(base + ["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"])
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert main(base + ["--out", str(tmp_path / "b"), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "needs the optional package distributed" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_a_one_line_error(distributed, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(jobs, "CONNECT_TIMEOUT_S", 2)
    assert main(["reproduce", "fig8", "--quick", "--no-progress", "--out", str(tmp_path),
                 "--scheduler", "tcp://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "127.0.0.1:1" in err[0]


def test_job_results_must_be_numeric_and_names_file_names(tmp_path):
    config = {"figure": "toy"}
    with pytest.raises(TypeError, match="toy job 'a': results must be numeric arrays, not \\['x'\\]"):
        jobs.run_jobs(config, [jobs.Job("a")], lambda *a: {"x": np.array(["text"])}, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="job names must be unique file names"):
        jobs.run_jobs(config, [jobs.Job("../a")], lambda *a: {}, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="job names must be unique file names"):
        jobs.run_jobs(config, [jobs.Job("a"), jobs.Job("a")], lambda *a: {}, progress=False)


def test_one_progress_bar_counts_the_chunks_of_every_job(capsys):
    def run_job(config, job, folder, on_chunk):
        on_chunk()      # a resumed job reports only the chunks it still runs
        return {"x": np.zeros(1)}

    jobs.run_jobs({"figure": "toy"}, [jobs.Job("a", n_chunks=1), jobs.Job("b", n_chunks=3)], run_job, progress=True)
    err = capsys.readouterr().err
    assert err.count("toy:") >= 1 and "4/4" in err.rsplit("toy:", 1)[1] and "5/4" not in err


def test_a_job_in_a_worker_uses_one_blas_thread():
    from threadpoolctl import threadpool_info

    version, threads = jobs._limited(lambda *a: [i["num_threads"] for i in threadpool_info()], {}, jobs.Job("a"), None)
    assert version == superspike_ref.__version__ and threads and set(threads) == {1}
