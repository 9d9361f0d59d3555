"""The command line's one error path, overwrite protection, interruption and safe resume."""
import json
import pickle
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.experiments import fig2
from superspike_ref.experiments.common import load_result

QUICK_FIG2 = ["reproduce", "fig2", "--quick", "--seeds", "1", "--no-progress"]


def test_quick_runs_never_touch_results_and_nothing_is_overwritten(tmp_path, monkeypatch, capsys, one_line_error):
    monkeypatch.chdir(tmp_path)
    assert main(QUICK_FIG2) == 0
    assert (tmp_path / "results-quick" / "fig2" / "fig2.npz").is_file() and not (tmp_path / "results").exists()
    stamp = (tmp_path / "results-quick" / "fig2" / "fig2.npz").stat().st_mtime_ns
    capsys.readouterr()
    assert main(QUICK_FIG2) == 2
    one_line_error("fig2.npz exists", "--resume", "--force")
    assert (tmp_path / "results-quick" / "fig2" / "fig2.npz").stat().st_mtime_ns == stamp
    (tmp_path / "results-quick" / "fig2" / "fig2.npz").unlink()      # only the checkpoint is left
    assert main(QUICK_FIG2) == 2
    one_line_error("checkpoint.npz exists")
    assert main(QUICK_FIG2 + ["--force"]) == 0
    assert main(QUICK_FIG2 + ["--resume"]) == 0                      # a finished checkpoint: result rebuilt
    assert load_result(tmp_path / "results-quick" / "fig2" / "fig2.npz").config["seeds"] == 1


class _Payload:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("name", ["checkpoint.npz", "checkpoint.pkl", "fig2.npz", "object array"])
def test_crafted_pickles_in_the_out_folder_execute_nothing(tmp_path, capsys, name, one_line_error):
    folder = tmp_path / "fig2"
    folder.mkdir()
    marker = tmp_path / "pwned"
    if name == "object array":
        np.savez(folder / "checkpoint.npz", _header=np.array([_Payload(marker)], dtype=object))
    else:
        (folder / name).write_bytes(pickle.dumps(_Payload(marker)))
    assert main(QUICK_FIG2 + ["--out", str(tmp_path), "--resume"]) == 2
    one_line_error("checkpoint")
    assert not marker.exists()


def test_json_errors_and_debug(tmp_path, capsys):
    (tmp_path / "junk.npz").write_bytes(b"")
    args = ["validate", str(tmp_path / "junk.npz"), "--against", str(tmp_path), "--json"]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["exit_status"] == 2 and len(err.strip().splitlines()) == 1
    with pytest.raises((ValueError, FileNotFoundError)):
        main(args + ["--debug"])


def test_run_case_out_is_exactly_the_file_named(tmp_path, capsys, one_line_error):
    from superspike_ref.validation import CASE_FORMAT

    case = tmp_path / "case"
    case.mkdir()
    layers = [3, 2]
    (case / "case.json").write_text(json.dumps({"format": CASE_FORMAT, "n_steps": 20, "layers": layers,
                                                "feedback": "symmetric", "optimizer": "rmaxprop",
                                                "record": ["S", "U_tilde"]}))
    np.savez(case / "arrays.npz", input=np.eye(10, 3, dtype=bool), target=np.zeros((10, 2), bool),
             W0_0=np.full((2, 3), 0.01))
    assert main(["run-case", str(case), "--out", str(tmp_path / "traces"), "--no-progress"]) == 0
    assert (tmp_path / "traces").is_file() and not (tmp_path / "traces.npz").exists()
    assert np.load(tmp_path / "traces")["S_1"].shape == (20, 2)
    capsys.readouterr()
    assert main(["run-case", str(case), "--out", str(tmp_path), "--no-progress"]) == 2
    one_line_error("is a folder")
    assert not (tmp_path.parent / f"{tmp_path.name}.npz").exists()
    assert main(["run-case", str(case), "--out", str(tmp_path / "t.npz"), "--max-memory", "100", "--no-progress"]) == 2
    one_line_error("case.json", "n_steps", "needs")
    spec = json.loads((case / "case.json").read_text())
    (case / "case.json").write_text(json.dumps({**spec, "n_steps": 10**12}))
    assert main(["run-case", str(case), "--out", str(tmp_path / "t.npz"), "--no-progress"]) == 2
    one_line_error("n_steps", "needs")


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, tmp_path, capsys):
    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fig2, "run", interrupted)
    assert main(QUICK_FIG2 + ["--out", str(tmp_path)]) == 130
    assert capsys.readouterr().err.strip() == "interrupted; the last checkpoint is intact, continue with --resume"


def _start_and_signal(tmp_path, sig):
    """Start a quick Fig 2 run in a child process and send it ``sig`` once its first checkpoint is written."""
    cmd = [sys.executable, "-m", "superspike_ref", "reproduce", "fig2", "--quick", "--no-progress", "--out", str(tmp_path)]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "fig2" / "checkpoint.npz"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(sig)
    out, err = child.communicate(timeout=60)
    assert not (tmp_path / "fig2" / "fig2.npz").exists(), "the run finished before it was interrupted"
    return child.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_resume_after_a_real_signal_gives_identical_results(tmp_path, sig):
    returncode, err = _start_and_signal(tmp_path, sig)
    if sig == signal.SIGINT:
        assert returncode == 130 and err.strip().splitlines()[-1].startswith("interrupted"), err
    else:
        assert returncode == -signal.SIGKILL
    resumed = fig2.run(quick=True, out=tmp_path / "fig2", resume=True, progress=False)
    straight = fig2.run(quick=True, progress=False)
    for key, value in straight.arrays.items():
        assert np.array_equal(resumed.arrays[key], value), key


def test_unwritable_output_is_a_user_error(tmp_path, capsys, one_line_error):
    (tmp_path / "file").write_text("x")
    assert main(QUICK_FIG2 + ["--out", str(tmp_path / "file")]) == 2
    one_line_error("is a file, not a folder")
