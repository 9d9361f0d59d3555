"""The original code's picture task at quick size: result, snapshots, resume, figure and GIF."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.experiments import EXPERIMENTS, picture
from superspike_ref.experiments.common import load_result
from superspike_ref.network import Network
from superspike_ref.params import Params
from superspike_ref.tasks import draw_building


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("picture")
    return picture.run(quick=True, out=out, progress=False), out


def test_registered():
    assert EXPERIMENTS["picture"] is picture


def test_quick_result_shapes_and_summary(quick):
    result, out = quick
    a, q = result.arrays, picture.QUICK
    n_cycle = q["n_cols"] * 100  # 10 ms per column at dt = 0.1 ms
    assert int(a["n_cycle"]) == n_cycle and list(a["layers"]) == [q["n_in"], q["n_hidden"], q["n_rows"]]
    np.testing.assert_allclose(a["cycle_end_s"], (np.arange(q["cycles"]) + 1) * n_cycle * 1e-4)
    assert np.array_equal(a["image"], draw_building(q["n_rows"], q["n_cols"]))
    # the target: one spike per dark pixel, inside its column's 10 ms window
    target = picture.spikes_to_raster(a["target_spikes"], n_cycle, q["n_rows"])
    assert target.sum() == a["image"].sum()
    steps, rows = np.nonzero(target)
    assert np.all(a["image"][rows, steps // 100])
    for name in picture.CONDITIONS:
        for key in ("vr", "mse", "hidden_rate", "output_rate"):
            assert a[f"{key}_{name}"].shape == (1, q["cycles"]), key
            assert np.all(np.isfinite(a[f"{key}_{name}"]))
        # silent outputs in the first cycle: every target spike missing
        assert a[f"vr_{name}"][0, 0] > 0 and a[f"mse_{name}"][0, 0] > 0
        s = result.summary[name]
        assert {"runs", "final_auryn_mse", "final_vr_distance", "final_hidden_rate_Hz", "final_output_rate_Hz",
                "first_cycle_auryn_mse", "original_code"} <= set(s)
        assert s["final_auryn_mse"] == pytest.approx(a[f"mse_{name}"].mean())
    assert a["B_random"].shape == (1, q["n_rows"], q["n_hidden"])
    # same data as the stored result
    stored = load_result(out / "picture.npz")
    assert stored.summary == result.summary
    for key, value in result.arrays.items():
        assert np.array_equal(stored.arrays[key], value), key


def test_snapshots_are_spike_indices_of_the_recorded_cycles(quick):
    result, _ = quick
    a, q = result.arrays, picture.QUICK
    assert list(a["snap_cycles"]) == [0, 2, 3]
    n_cycle = int(a["n_cycle"])
    for name in picture.CONDITIONS:
        for key, n in (("S_1", q["n_hidden"]), ("S_2", q["n_rows"])):
            s = a[f"snap_{name}_{key}"]
            assert s.dtype == np.int32 and s.shape[1] == 3
            assert s[:, 0].max(initial=0) < 3 and s[:, 1].max(initial=0) < n_cycle and s[:, 2].max(initial=0) < n
        # the hidden rate of a snapshot cycle matches its stored spikes
        for frame, c in enumerate(a["snap_cycles"]):
            count = np.sum(a[f"snap_{name}_S_1"][:, 0] == frame)
            assert count / (n_cycle * 1e-4 * q["n_hidden"]) == pytest.approx(a[f"hidden_rate_{name}"][0, c])
    # the two conditions differ once learning starts (after the burn-in cycle)
    assert not np.array_equal(a["snap_symmetric_S_1"], a["snap_random_S_1"])


def test_snapshot_matches_an_independent_run(quick):
    """The last cycle's hidden spikes equal those of a plain engine run of the same network."""
    from superspike_ref.fast import FastEngine

    result, _ = quick
    a, q = result.arrays, picture.QUICK
    params = Params()
    task, _ = picture.make_task(q, 7, params)
    net = Network.create((q["n_in"], q["n_hidden"], q["n_rows"]), np.random.default_rng([7, 0]), params,
                         schedule=((q["drop_s"], 0.1),), t_burn_s=q["t_burn_s"])
    r = FastEngine(net, task).run(q["cycles"] * task.n_cycle, record=("S",))
    last = r.traces["S_1"][-task.n_cycle:]
    frame = len(a["snap_cycles"]) - 1
    assert np.array_equal(picture.spikes_to_raster(a["snap_symmetric_S_1"], task.n_cycle, q["n_hidden"], frame), last)
    np.testing.assert_allclose(r.auryn_mse, a["mse_symmetric"][0], rtol=1e-12)


def test_figure_and_gif_written(quick, tmp_path):
    result, out = quick
    gif = out / "picture.gif"
    assert gif.is_file() and gif.stat().st_size > 1000
    from PIL import Image

    with Image.open(gif) as im:
        assert im.n_frames == len(result.arrays["snap_cycles"])
    fig = picture.figure(result)
    fig.savefig(tmp_path / "picture.png")
    assert (tmp_path / "picture.png").stat().st_size > 1000
    assert picture.animation(result, tmp_path / "again.gif").is_file()


def test_resume_after_interruption_gives_identical_results(quick, tmp_path, monkeypatch, interrupt_after_checkpoints):
    interrupt_after_checkpoints(1)
    with pytest.raises(KeyboardInterrupt):
        picture.run(quick=True, out=tmp_path, progress=False)
    monkeypatch.undo()
    assert not (tmp_path / "picture.npz").exists()
    resumed = picture.run(quick=True, out=tmp_path, resume=True, progress=False, gif=False)
    for key, value in quick[0].arrays.items():
        assert np.array_equal(resumed.arrays[key], value), key


def test_reproduce_command(tmp_path, capsys):
    assert main(["reproduce", "picture", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    for name in ("picture.npz", "picture.png", "picture.gif"):
        assert (tmp_path / "picture" / name).is_file(), name
    printed = capsys.readouterr().out
    assert "final_auryn_mse" in printed and "original_code" in printed
