"""Experiment code at quick size: results, resume from checkpoints, clear errors."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.experiments import fig2
from superspike_ref.experiments.common import load_result, moving_average
from superspike_ref.xor import make_xor_task


@pytest.fixture(scope="module")
def fig2_quick():
    return fig2.run(quick=True, progress=False)


def test_fig2_quick_result(fig2_quick, tmp_path):
    a = fig2_quick.arrays
    assert a["vr_distance"].shape == (3, 40)
    assert fig2_quick.summary["runs_silent_in_first_cycle"] == 3
    assert np.all(a["vr_distance"][:, 0] == pytest.approx(5.0, abs=0.01))
    # learning is under way after 20 s: every run has improved on its first cycle
    assert np.all(a["vr_distance"][:, -5:].mean(axis=1) < 0.8 * a["vr_distance"][:, :5].mean(axis=1))
    assert a["snap_U_tilde_1"].shape == (2, 3, 5000, 1) and a["snap_U_tilde_1"].dtype == np.float32
    assert np.all((a["spike_time_s"] >= 0) & (a["spike_time_s"] < 0.5))


def test_fig2_literal_and_fast_agree(fig2_quick):
    literal = fig2.run(quick=True, seeds=1, duration_s=5.0, engine="literal", progress=False)
    fast = fig2.run(quick=True, seeds=1, duration_s=5.0, progress=False)
    assert np.array_equal(literal.arrays["spike_cycle"], fast.arrays["spike_cycle"])
    np.testing.assert_allclose(literal.arrays["vr_distance"], fast.arrays["vr_distance"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast.arrays["vr_distance"], fig2_quick.arrays["vr_distance"][:1, :10], rtol=1e-9)


def test_resume_after_interruption_gives_identical_results(tmp_path, monkeypatch, fig2_quick, interrupt_after_checkpoints):
    interrupt_after_checkpoints(2)
    with pytest.raises(KeyboardInterrupt):
        fig2.run(quick=True, out=tmp_path, progress=False)
    monkeypatch.undo()
    assert not (tmp_path / "fig2.npz").exists()
    resumed = fig2.run(quick=True, out=tmp_path, resume=True, progress=False)
    for key, value in fig2_quick.arrays.items():
        assert np.array_equal(resumed.arrays[key], value), key
    stored = load_result(tmp_path / "fig2.npz")
    assert stored.summary == resumed.summary and stored.config["seeds"] == 3


def test_corrupted_or_mismatched_checkpoint_is_a_clear_error(tmp_path):
    fig2.run(quick=True, seeds=1, duration_s=5.0, out=tmp_path, progress=False)
    with pytest.raises(ValueError, match="another run .config.seeds: checkpoint 1, this run 2"):
        fig2.run(quick=True, seeds=2, duration_s=5.0, out=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="exists: continue that run with --resume"):
        fig2.run(quick=True, seeds=1, duration_s=5.0, out=tmp_path, progress=False)
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="not a .npz archive|is corrupt"):
        fig2.run(quick=True, seeds=1, duration_s=5.0, out=tmp_path, resume=True, progress=False)
    with pytest.raises(ValueError, match="needs a checkpoint"):
        fig2.run(quick=True, out=tmp_path / "empty", resume=True, progress=False)


def test_reproduce_command(tmp_path, capsys):
    assert main(["reproduce", "fig2", "--quick", "--seeds", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert (tmp_path / "fig2" / "fig2.png").stat().st_size > 10_000
    assert "runs_below_1_at_end" in capsys.readouterr().out


def test_moving_average():
    x = np.array([[1.0, 3.0, 5.0, 7.0]])
    np.testing.assert_allclose(moving_average(x, 2, axis=1), [[1.0, 2.0, 4.0, 6.0]])


def test_fig4_quick(tmp_path):
    from superspike_ref.experiments import fig4

    result = fig4.run(quick=True, out=tmp_path, progress=False)
    a = result.arrays
    for name in fig4.CONDITIONS:
        assert a[f"vr_{name}"].shape == (2, 40)
        # every run starts silent: five missing spikes in the first cycle
        assert np.all(a[f"vr_{name}"][:, 0] == pytest.approx(5.0, abs=0.01))
    # run i starts from the same weights in every 4-hidden condition; B is N(0, 1) for random only
    assert np.array_equal(a["init_attempts_random"], a["init_attempts_symmetric"])
    assert np.all(a["B_uniform"] == 1.0) and a["B_random"].shape == (2, 4) and a["B_random_8"].shape == (2, 8)
    assert list(a["h4_snap_cycles"]) == [0, 19, 39]
    assert a["h4_snap_U_tilde_1"].shape == (3, 6, 5000, 4)
    # hidden layers are silent in the first snapshot and active later
    assert not a["h4_snap_S_1"][0].any() and a["h4_snap_S_1"][-1].any()
    s = result.summary["random"]
    assert s["runs"] == 2 and 0 <= s["runs_all_feedback_negative"] <= 2
    assert fig4.figure(result) is not None


def test_fig5_quick():
    from superspike_ref.experiments import fig5

    result = fig5.run(quick=True, seeds=1, trials=200, progress=False)
    a = result.arrays
    for name in fig5.CONDITIONS:
        assert a[f"correct_{name}"].shape == a[f"late_{name}"].shape == (1, 200)
        assert not np.any(a[f"correct_{name}"] & a[f"late_{name}"])          # a late answer is a wrong trial
    assert a["last_random_S_1"].shape[::2] == (1, 4) and a["last_no_hidden_S_1"].shape[::2] == (1, 2)   # (runs, steps, n)
    np.testing.assert_array_equal(fig5.final_accuracy(a["correct_random"]), a["correct_random"][:, -100:].mean(axis=1))
    assert a["B_random"].shape == a["B_random_reg"].shape == (1, 2, 4) and "B_symmetric" not in a
    np.testing.assert_array_equal(a["B_random"], a["B_random_reg"])             # run i: the same draw
    B = np.array([[[1.0, 2, 3, 4], [1, -1, 1, -1]], [[1, -1, 1, -1], [-1, -2, -3, -4]], [[1, -1, 1, -1]] * 2])
    assert fig5.one_sign_feedback(B).tolist() == [True, True, False]
    task = make_xor_task(np.random.default_rng(0), 250)
    assert fig5.chunk_bounds(task, 100) == [0, task.onset_steps[100], task.onset_steps[200], task.n_steps]
    assert fig5.chunk_bounds(task, 100, task.n_steps + 7)[-1] == task.n_steps + 7
    acc = fig5.accuracy_curves(np.array([[True] * 150 + [False] * 50]), block=100)
    np.testing.assert_allclose(acc, [[1.0, 0.5]])
    assert set(result.summary) == set(fig5.CONDITIONS)
    assert fig5.figure(result) is not None
