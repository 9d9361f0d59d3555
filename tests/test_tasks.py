"""Tests for superspike_ref.tasks: inputs, timed targets and picture targets."""
import numpy as np
import pytest

from superspike_ref.tasks import (
    PAPER_CYCLE_S,
    CyclicTask,
    draw_building,
    draw_text,
    fig6_target_image,
    frozen_poisson,
    paper_target_times_s,
    picture_raster,
    timed_target,
)

DT = 1e-4


# --------------------------------------------------------------------- frozen_poisson

def test_poisson_shape_dtype_and_rate_within_bounds():
    rng = np.random.default_rng(1)
    raster = frozen_poisson(rng, n_neurons=200, rate_Hz=20.0, duration_s=1.0, dt_s=1e-3)
    assert raster.shape == (1000, 200) and raster.dtype == np.bool_
    n_draws, p = raster.size, 20.0 * 1e-3
    expected, sd = n_draws * p, np.sqrt(n_draws * p * (1 - p))
    assert abs(raster.sum() - expected) < 5 * sd
    # every neuron's count is binomial(1000, 0.02): mean 20, sd 4.4
    counts = raster.sum(axis=0)
    assert abs(counts.mean() - 20) < 5 * 4.43 / np.sqrt(200)
    assert 0.5 * 4.43**2 < counts.var() < 1.5 * 4.43**2


def test_poisson_seed_reproducible_and_distinct():
    a = frozen_poisson(np.random.default_rng(7), 100, 5.0, 0.5, DT)
    b = frozen_poisson(np.random.default_rng(7), 100, 5.0, 0.5, DT)
    c = frozen_poisson(np.random.default_rng(8), 100, 5.0, 0.5, DT)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_poisson_edge_rates():
    rng = np.random.default_rng(0)
    assert not frozen_poisson(rng, 3, 0.0, 0.01, DT).any()
    assert frozen_poisson(rng, 3, 1 / DT, 0.01, DT).all()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(rate_Hz=-1.0), ValueError, "rate_Hz"),
        (dict(rate_Hz=2e4), ValueError, "rate_Hz \\* dt_s"),
        (dict(duration_s=0.0), ValueError, "duration_s"),
        (dict(duration_s=0.00015), ValueError, "duration_s"),
        (dict(dt_s=-1e-4), ValueError, "dt_s"),
        (dict(n_neurons=0), ValueError, "n_neurons"),
        (dict(n_neurons=2.0), TypeError, "n_neurons"),
        (dict(n_neurons=True), TypeError, "n_neurons"),
        (dict(rate_Hz="5"), TypeError, "rate_Hz"),
        (dict(rate_Hz=float("nan")), ValueError, "rate_Hz"),
        (dict(duration_s=float("inf")), ValueError, "duration_s must be finite"),
        (dict(duration_s=10**400), ValueError, "duration_s must be finite"),   # an int beyond the float range
        (dict(dt_s=np.bool_(True)), TypeError, "dt_s"),
        (dict(duration_s=1e300, dt_s=1e-300), ValueError, "duration_s=1e\\+300 s is too many time steps"),
    ],
)
def test_poisson_rejects_bad_arguments(kwargs, error, match):
    args = dict(n_neurons=10, rate_Hz=5.0, duration_s=0.1, dt_s=DT) | kwargs
    with pytest.raises(error, match=match):
        frozen_poisson(np.random.default_rng(0), **args)


@pytest.mark.parametrize("rng", [0, np.random.RandomState(0), None])
def test_poisson_requires_generator(rng):
    with pytest.raises(TypeError, match="rng"):
        frozen_poisson(rng, 10, 5.0, 0.1, DT)


# --------------------------------------------------------------------- timed targets

def test_paper_target_steps_exact():
    target = timed_target(paper_target_times_s(), PAPER_CYCLE_S, DT)
    assert target.shape == (5000, 1) and target.dtype == np.bool_
    assert np.flatnonzero(target[:, 0]).tolist() == [830, 1660, 2490, 3320, 4150]
    assert PAPER_CYCLE_S == 0.5
    np.testing.assert_allclose(np.diff(paper_target_times_s()), 0.083)


def test_timed_target_shared_and_per_neuron_times():
    shared = timed_target([0.0, 0.00126], 0.01, DT, n_neurons=3)
    assert np.array_equal(np.flatnonzero(shared.any(axis=1)), [0, 13])  # round(12.6) = 13
    assert shared.sum() == 6
    per = timed_target([[0.001], [], [0.002, 0.0099]], 0.01, DT, n_neurons=3)
    assert np.argwhere(per).tolist() == [[10, 0], [20, 2], [99, 2]]
    assert not timed_target([], 0.01, DT, n_neurons=2).any()


def test_timed_target_usable_in_cyclic_task():
    rng = np.random.default_rng(3)
    task = CyclicTask(frozen_poisson(rng, 100, 5.0, PAPER_CYCLE_S, DT),
                      timed_target(paper_target_times_s(), PAPER_CYCLE_S, DT))
    assert (task.n_cycle, task.n_in, task.n_out) == (5000, 100, 1)


@pytest.mark.parametrize(
    "times, n_neurons, match",
    [
        ([-0.001], 1, "outside"),
        ([0.01], 1, "outside"),
        ([0.00996], 1, "beyond the last step"),
        ([0.001, 0.00104], 1, "2 spikes in step 10"),
        ([[0.001], [0.002, 0.00201]], 2, "neuron 1 has 2 spikes"),
        ([[0.001]], 2, "expected n_neurons=2"),
        ([float("nan")], 1, "outside"),
    ],
)
def test_timed_target_rejects_bad_times(times, n_neurons, match):
    with pytest.raises(ValueError, match=match):
        timed_target(times, 0.01, DT, n_neurons=n_neurons)


def test_timed_target_rejects_bad_types():
    with pytest.raises(TypeError, match="spike_times_s"):
        timed_target("0.1", 0.5, DT)
    with pytest.raises(TypeError, match="spike_times_s"):
        timed_target(0.1, 0.5, DT)
    with pytest.raises(ValueError, match="duration_s"):
        timed_target([0.1], 0.50005001, DT)


# --------------------------------------------------------------------- picture_raster

def test_picture_raster_one_spike_per_dark_pixel_in_its_column():
    image = draw_building(40, 30)
    column_s, steps_per_column = 0.01, 100
    raster = picture_raster(image, column_s, DT, np.random.default_rng(5))
    assert raster.shape == (30 * steps_per_column, 40) and raster.dtype == np.bool_
    assert raster.sum() == image.sum()
    per_column = raster.reshape(30, steps_per_column, 40).sum(axis=1)   # (n_cols, n_rows)
    assert np.array_equal(per_column, image.T.astype(int))
    # with the default jitter the offsets fill the whole column window
    offsets = np.argwhere(raster)[:, 0] % steps_per_column
    assert offsets.min() < 10 and offsets.max() > 90


def test_picture_raster_jitter_window_and_seed():
    image = np.zeros((4, 3), dtype=bool)
    image[[0, 1, 3, 3], [0, 2, 0, 1]] = True
    rng = np.random.default_rng(11)
    raster = picture_raster(image, 0.05, DT, rng, jitter_s=0.05 / 3)
    steps, rows = np.nonzero(raster)
    assert sorted(zip(rows.tolist(), (steps // 500).tolist())) == [(0, 0), (1, 2), (3, 0), (3, 1)]
    assert (steps % 500 < 167).all()
    no_jitter = picture_raster(image, 0.05, DT, rng, jitter_s=0.0)
    assert sorted(np.nonzero(no_jitter)[0].tolist()) == [0, 0, 500, 1000]
    again = [picture_raster(image, 0.05, DT, np.random.default_rng(2)) for _ in range(2)]
    assert np.array_equal(*again)


def test_picture_raster_rejects_bad_inputs():
    rng = np.random.default_rng(0)
    image = np.ones((3, 2), dtype=bool)
    with pytest.raises(TypeError, match="image"):
        picture_raster(image.astype(int), 0.01, DT, rng)
    with pytest.raises(ValueError, match="image"):
        picture_raster(np.ones(3, dtype=bool), 0.01, DT, rng)
    with pytest.raises(ValueError, match="jitter_s"):
        picture_raster(image, 0.01, DT, rng, jitter_s=0.02)
    with pytest.raises(ValueError, match="column_s"):
        picture_raster(image, 0.01005, DT, rng)
    with pytest.raises(TypeError, match="rng"):
        picture_raster(image, 0.01, DT, 42)


# --------------------------------------------------------------------- images

@pytest.mark.parametrize("shape", [(300, 250), (200, 189), (100, 70), (60, 50)])
def test_building_is_deterministic_and_nontrivial(shape):
    image = draw_building(*shape)
    assert image.shape == shape and image.dtype == np.bool_
    assert np.array_equal(image, draw_building(*shape))
    assert 0.2 < image.mean() < 0.4
    assert image.any(axis=1).mean() > 0.85              # most rows (neurons) are used
    # roughly left-right symmetric, widest at the bottom, narrow lantern at the top
    assert (image == image[:, ::-1]).mean() > 0.9
    first_row = np.flatnonzero(image.any(axis=1))[0]
    assert image[first_row].sum() < 0.1 * shape[1]
    assert image[int(0.95 * shape[0])].sum() > 0.8 * shape[1]


def test_building_at_oxford_size_matches_original_rate():
    rate_Hz = draw_building(200, 189).sum() / (200 * 189 * 0.01)
    assert 20 < rate_Hz < 35                            # original Oxford target: 27.4 Hz


def test_fig6_target_image_rows_and_rate():
    image = fig6_target_image()
    assert image.shape == (100, 70)
    assert image.any(axis=1).sum() == 90
    assert image.sum() == 1954                          # 5.58 Hz at 50 ms per column
    assert 4 < image.sum() / (100 * 70 * 0.05) < 7


def test_draw_text_glyphs_and_centering():
    image = draw_text("HI", 7, 11)                      # scale 1: glyphs verbatim
    assert image[:, 0].all() and image[3, :5].all() and image[:, 5:6].sum() == 0
    assert image[:, 8].all() and image[0, 6:11].sum() == 3
    big = draw_text("HI", 21, 40)                       # scale 3 → 21 x 33, centred
    cols = np.flatnonzero(big.any(axis=0))
    assert (cols[0], cols[-1]) == (3, 32)             # "I" has a blank last column
    assert np.array_equal(big[::3, 3:36:3], image)
    assert np.array_equal(draw_text("A1 Z\nB", 40, 60), draw_text("A1 Z\nB", 40, 60))
    stretched = draw_text("SUPER\nSPIKE", 90, 70, keep_aspect=False)
    assert stretched.any(axis=1).sum() > 80 and 0.2 < stretched.mean() < 0.5
    assert not draw_text(" ", 10, 10).any()


def test_draw_text_rejects_bad_inputs():
    with pytest.raises(ValueError, match="without a glyph"):
        draw_text("abc", 10, 30)
    with pytest.raises(ValueError, match="needs at least 7 rows x 17 columns"):
        draw_text("ABC", 10, 16)
    with pytest.raises(TypeError, match="text"):
        draw_text(42, 10, 30)
    with pytest.raises(TypeError, match="n_rows"):
        draw_building(100.0, 70)
    with pytest.raises(ValueError, match="n_cols"):
        draw_building(100, 5)
