"""Figs 6-8 (the 100 → n_h → 100 picture task) at quick size: task, conditions, results, resume, figures."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.experiments import EXPERIMENTS, fig6, fig7, fig8
from superspike_ref.experiments.common import load_result
from superspike_ref.fast import FastEngine
from superspike_ref.params import Params
from superspike_ref.surrogate import surrogate_grad
from superspike_ref.tasks import fig6_target_image


@pytest.fixture(scope="module")
def fig7_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig7")
    return fig7.run(quick=True, out=out, progress=False), out


def test_registered():
    assert (EXPERIMENTS["fig6"], EXPERIMENTS["fig7"], EXPERIMENTS["fig8"]) == (fig6, fig7, fig8)


def test_task_target_is_the_picture_with_jitter_inside_a_third_of_each_column():
    p = Params()
    task, image = fig6.make_task(fig6.FULL, 3, p)
    assert task.n_cycle == 35000 and task.n_in == 100 and task.n_out == 100
    assert np.array_equal(image, fig6_target_image())
    steps, rows = np.nonzero(task.target)
    assert task.target.sum() == image.sum() == 1954
    column_steps = round(fig6.COLUMN_S / p.dt_s)
    assert np.all(image[rows, steps // column_steps])
    offset_s = (steps % column_steps) * p.dt_s
    assert offset_s.max() < fig6.JITTER_S and offset_s.max() > 0.8 * fig6.JITTER_S
    assert 4.0 < task.input.mean() / p.dt_s < 6.0                       # 5 Hz frozen Poisson
    again, _ = fig6.make_task(fig6.FULL, 3, p)
    assert np.array_equal(again.input, task.input) and np.array_equal(again.target, task.target)


def test_schedule_drops_the_rate_tenfold_twice():
    assert np.allclose(fig6.schedule(fig6.FULL), ((400.0, 0.1), (800.0, 0.01)), rtol=1e-12, atol=0)


def test_hidden_statistics_by_hand():
    dt = 1e-3
    raster = np.zeros((1000, 3), dtype=bool)
    raster[[100, 300, 400], 0] = True                                    # ISIs 0.2, 0.1 s
    raster[500, 1] = True                                                # one spike: no CV
    stats = fig6.hidden_statistics(raster, dt)
    np.testing.assert_allclose(stats["rates_Hz"], [3.0, 1.0, 0.0])
    np.testing.assert_allclose(np.sort(stats["isi_s"]), [0.1, 0.2])
    assert stats["cv_isi"][0] == pytest.approx(0.05 / 0.15) and np.isnan(stats["cv_isi"][1:]).all()


def test_fig6_quick_learning_then_replay(tmp_path):
    result = fig6.run(quick=True, out=tmp_path, progress=False)
    a, q = result.arrays, fig6.QUICK
    n_total = q["cycles"] + q["replay_cycles"]
    assert a["vr"].shape == (1, n_total)
    assert float(a["t_off_s"]) == pytest.approx(q["cycles"] * q["n_cols"] * fig6.COLUMN_S)
    assert a["raster_S_1"].shape == (1 + q["replay_cycles"], 10000, q["n_hidden"])
    # learning off: the fixed network replays exactly the same spikes in every replay cycle
    replay = a["raster_S_2"][1:]
    assert replay.sum() == pytest.approx(result.summary["output_spikes_per_replay_cycle"] * q["replay_cycles"])
    assert result.summary["hidden_rate_mean_Hz"] == pytest.approx(a["hidden_rates_Hz"].mean())
    stored = load_result(tmp_path / "fig6.npz")
    assert stored.summary == result.summary
    assert fig6.figure(result) is not None


def test_fig7_quick_conditions_and_summary(fig7_quick):
    result, out = fig7_quick
    a, q = result.arrays, fig7.QUICK
    names = [fig7.job_name(c, n) for n in q["hidden_sizes"] for c in fig7.SWEEP]
    names += [fig7.job_name(c, 16) for c in fig7.CONDITIONS if c not in fig7.SWEEP]
    assert "no_hidden" in names and "fixed_hidden_h16" in names
    for name in names:
        for key in ("vr", "mse", "output_rate"):
            assert a[f"{key}_{name}"].shape == (1, q["cycles"]) and np.all(np.isfinite(a[f"{key}_{name}"]))
        output = "S_1" if name == "no_hidden" else "S_2"                 # run 0's last cycle, per LIF layer
        assert a[f"last_{output}_{name}"].shape == (10000, q["n_rows"])
    assert np.all(np.isnan(a["hidden_rate_no_hidden"]))
    # the same initial weights for every condition of a size: identical first (burn-in) cycles
    for n in q["hidden_sizes"]:
        first = [a[f"vr_{fig7.job_name(c, n)}"][0, 0] for c in ("symmetric", "random", "random_reg", "uniform")]
        assert first == [first[0]] * 4
    assert np.all(a["B_uniform_h8"] == 1.0) and a["B_random_h16"].shape == (1, q["n_rows"], 16)
    s = result.summary
    assert s["symmetric_h16"]["final_vr_distance"] == pytest.approx(a["vr_symmetric_h16"].mean())
    assert set(s["random_vs_n_hidden"]) == {"8", "16"}
    assert load_result(out / "fig7.npz").summary == s
    assert fig7.figure(result) is not None


def test_fig7_condition_networks():
    p = Params()
    task, _ = fig6.make_task(fig7.QUICK, 1, p)
    nets = {c: fig7.make_networks(c, 8, 1, task, fig7.QUICK, 1, p)[0] for c in fig7.CONDITIONS}
    assert nets["random_reg"].params.rho == fig7.RHO_REGULARISER and nets["random"].params.rho == 0
    assert nets["no_hidden"].layers == (40, 30)
    assert nets["fixed_hidden"].plastic == (False, True)
    # symmetric linear: σ′ ≡ 1 everywhere
    assert nets["symm_linear"].params.beta_per_V == 0
    assert np.all(surrogate_grad(np.linspace(-0.1, 0.0, 7), -0.05, nets["symm_linear"].params.beta_per_V) == 1.0)
    # fixed hidden weights do not move while the output weights learn
    engine = FastEngine(nets["fixed_hidden"], task)
    engine.run(3 * task.n_cycle)
    assert np.array_equal(engine.weights[0], nets["fixed_hidden"].weights[0])
    assert not np.array_equal(engine.weights[1], nets["fixed_hidden"].weights[1])


def test_fig7_resume_gives_identical_results(tmp_path, monkeypatch, fig7_quick, interrupt_after_checkpoints):
    interrupt_after_checkpoints(1)
    with pytest.raises(KeyboardInterrupt):
        fig7.run(quick=True, out=tmp_path, progress=False)
    monkeypatch.undo()
    resumed = fig7.run(quick=True, out=tmp_path, resume=True, progress=False)
    for key, value in fig7_quick[0].arrays.items():
        assert np.array_equal(resumed.arrays[key], value, equal_nan=value.dtype.kind == "f"), key


def test_fig8_quick_grid_and_command(tmp_path, capsys):
    assert main(["reproduce", "fig8", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    result = load_result(tmp_path / "fig8" / "fig8.npz")
    a, q = result.arrays, fig8.QUICK
    assert (tmp_path / "fig8" / "fig8.png").stat().st_size > 10_000
    cost = fig8.grid(a, "vr")
    assert cost.shape == (len(q["exponents"]), len(q["rho_code"])) and np.all(np.isfinite(cost))
    assert result.config["params"]["rho"] == 0.0                         # each job sets its own ρ and a
    s = result.summary["a=4"]
    assert s["vr_rho10"] == pytest.approx(a["vr_a4_rho10"].mean()) and s["best_rho_code"] in q["rho_code"]
    assert "best_rho_code" in capsys.readouterr().out
    low, high = fig8.run_range(a, "vr")                                  # one run: the range is that run
    assert np.array_equal(low, cost) and np.array_equal(high, cost)
    # ρ is converted from the original code's units (ρ_code = 1 ⇔ 0.05)
    from superspike_ref.conventions import rho_from

    assert rho_from("auryn", 1.0, Params()) == pytest.approx(0.05)


def test_fig8_run_range_spans_the_runs_of_a_cell():
    cycles = np.arange(30.0)
    arrays = {"rho_code": np.array([1.0]), "exponents": np.array([4.0]),
              "vr_a4_rho1": np.stack([cycles, cycles + 2.0, cycles - 1.0])}   # 3 runs, last 14 cycles: 16 ... 29
    low, high = fig8.run_range(arrays, "vr")
    assert low.shape == high.shape == (1, 1)
    assert (low[0, 0], high[0, 0]) == (21.5, 24.5)
    assert low[0, 0] < fig8.grid(arrays, "vr")[0, 0] < high[0, 0]
