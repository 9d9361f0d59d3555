"""The main demo and the command line, at a small size."""
import numpy as np
import pytest

from superspike_ref.__main__ import main
from superspike_ref.demo import DEMO_SEED, fig2_network, fig2_task, run_demo
from superspike_ref import LiteralEngine


def test_demo_initial_condition_is_silent():
    """The paper requires no output spike in the first cycle (docs/paper.md §"Initial weights and a silent start")."""
    rng = np.random.default_rng(DEMO_SEED)
    task = fig2_task(rng)
    result = LiteralEngine(fig2_network(rng), task).run(task.n_cycle, record=["S"])
    assert not result.traces["S_1"].any()
    assert task.target.sum() == 5
    assert result.vr_distance[0] == pytest.approx(5.0, abs=0.01)


def test_short_demo_writes_figure_and_curve(tmp_path, capsys):
    out = tmp_path / "demo.png"
    result = run_demo(duration_s=2.0, progress=False, print_every_s=1.0, out=out)
    assert out.stat().st_size > 10_000
    assert len(result.vr_distance) == 4
    assert np.allclose(result.cycle_end_s, [0.5, 1.0, 1.5, 2.0])
    text = capsys.readouterr().out
    assert "vr_distance" in text and str(out.resolve()) in text


def test_demo_rejects_too_short_runs():
    with pytest.raises(ValueError, match="duration_s"):
        run_demo(duration_s=0.5, progress=False, out=None)
    with pytest.raises(ValueError, match="engine"):
        run_demo(duration_s=1.0, engine="gpu", progress=False, out=None)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(duration_s=float("inf")), ValueError, "duration_s must be finite, got inf"),
        (dict(duration_s=float("nan")), ValueError, "duration_s must be finite, got nan"),
        (dict(duration_s=10**400), ValueError, "duration_s must be finite"),
        (dict(duration_s=-1.0), ValueError, "duration_s must be > 0"),
        (dict(duration_s=0.0), ValueError, "duration_s must be > 0"),
        (dict(duration_s=1.25), ValueError, "duration_s=1.25 s is not a whole number"),
        (dict(duration_s="400"), TypeError, "duration_s must be a real number"),
        (dict(duration_s=1.0, print_every_s=float("inf")), ValueError, "print_every_s must be finite"),
        (dict(duration_s=1.0, print_every_s=-0.5), ValueError, "print_every_s must be > 0"),
    ],
)
def test_demo_rejects_non_finite_or_non_positive_times(kwargs, error, match, capsys):
    with pytest.raises(error, match=match):
        run_demo(progress=False, out=None, **kwargs)
    assert capsys.readouterr().out == ""                # refused before anything ran


def test_cli_demo_infinite_duration_is_a_user_error(capsys):
    assert main(["demo", "--duration", "inf", "--no-progress"]) == 2
    assert "duration_s must be finite" in capsys.readouterr().err


def test_cli_run_case_roundtrip(tmp_path, conformance_dir):
    case = conformance_dir / "public-single-rmsprop-ucut"
    out = tmp_path / "traces.npz"
    assert main(["run-case", str(case), "--out", str(out), "--no-progress"]) == 0
    got, expected = np.load(out), np.load(case / "expected.npz")
    assert set(expected.files) <= set(got.files)
    assert np.array_equal(got["S_1"], expected["S_1"])


def test_cli_reports_bad_case_clearly(tmp_path, capsys):
    (tmp_path / "case.json").write_text('{"format": "superspike-case/9"}')
    np.savez(tmp_path / "arrays.npz", input=np.zeros((3, 2), bool))
    assert main(["run-case", str(tmp_path), "--out", str(tmp_path / "t.npz"), "--no-progress"]) == 2
    assert "case.json" in capsys.readouterr().err


def test_cli_demo_writes_its_figure_to_a_git_ignored_folder_and_says_where(tmp_path, monkeypatch, capsys):
    import subprocess
    from pathlib import Path

    from superspike_ref.demo import DEMO_OUT

    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--duration", "1", "--no-progress"]) == 0
    figure = tmp_path / DEMO_OUT
    assert figure.is_file() and list(tmp_path.iterdir()) == [tmp_path / Path(DEMO_OUT).parts[0]]
    assert f"figure written to {figure.resolve()}" in capsys.readouterr().out
    root = Path(__file__).resolve().parents[1]
    try:
        ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", DEMO_OUT], cwd=root).returncode
    except FileNotFoundError:
        pytest.skip("git is not installed")
    assert ignored == 0, f"{DEMO_OUT} is not ignored by the repository's .gitignore"


def test_demo_figure_has_a_legend_for_the_target_dots_and_a_linear_cost_axis():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from superspike_ref.plotting import demo_figure

    result = run_demo(duration_s=1.0, progress=False, print_every_s=None, out=None)
    fig = demo_figure(result.before.traces, result.after.traces, result.task, result.params, result.cycle_end_s,
                      result.vr_distance, t_after_s=result.after.t_start_s)
    from matplotlib.legend import Legend

    legends = {leg.get_title().get_text(): [t.get_text() for t in leg.get_texts()] for leg in fig.findobj(Legend)}
    assert {"target spike", "threshold"} <= set(legends["membrane panels"])
    assert "one unmatched spike" in legends[""]
    curve = next(ax for ax in fig.axes if ax.get_title() == "learning curve")
    assert curve.get_yscale() == "linear" and curve.get_ylim()[0] == 0.0
    assert "unmatched spikes" in curve.get_ylabel()
    plt.close(fig)
