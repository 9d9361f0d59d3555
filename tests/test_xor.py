"""The spiking XOR task: inputs, window-of-opportunity error, outcomes."""
import numpy as np
import pytest

from superspike_ref.xor import make_xor_task, xor_late_responses, xor_trial_outcomes, xor_window_responses


@pytest.fixture
def task():
    return make_xor_task(np.random.default_rng(0), 30)


def test_sets_cover_inputs_and_patterns_follow_xor(task):
    assert np.array_equal(np.bincount(task.input_set), [34, 33, 33])
    assert np.all((task.offset_steps >= 0) & (task.offset_steps < 100))
    assert np.array_equal(task.labels, (task.patterns >> 1) ^ (task.patterns & 1))
    gaps = np.diff(task.onset_steps)
    assert gaps.min() >= 1000 and gaps.max() <= 2000


def test_stimulus_spikes_at_fixed_offsets(task):
    x = task.input_block(0, task.n_steps)
    for onset, pattern in zip(task.onset_steps, task.patterns):
        active = task._active(pattern)
        assert x[onset + task.offset_steps[active], np.nonzero(active)[0]].all()
    # reference set T fires in every trial, A only in patterns with a = 1
    assert task._active(0).sum() == 34 and task._active(3).sum() == 100


def test_background_rate_and_determinism(task):
    x = task.input_block(0, task.n_steps)
    stimulus_spikes = sum(task._active(p).sum() for p in task.patterns)
    rate = (x.sum() - stimulus_spikes) / (task.n_steps * task.dt_s * task.n_in)
    assert 3.5 < rate < 4.5
    chunks = np.concatenate([task.input_block(a, min(a + 777, task.n_steps)) for a in range(0, task.n_steps, 777)])
    assert np.array_equal(x, chunks)
    again = make_xor_task(np.random.default_rng(0), 30)
    assert np.array_equal(again.input_block(0, 5000), task.input_block(0, 5000))
    other = make_xor_task(np.random.default_rng(1), 30)
    assert not np.array_equal(other.input_block(0, 5000), task.input_block(0, 5000))


def test_background_can_be_silenced_during_the_stimulus(task):
    quiet = make_xor_task(np.random.default_rng(0), 30, background_in_stimulus=False)
    x, y = task.input_block(0, task.n_steps), quiet.input_block(0, task.n_steps)
    assert quiet.quiet_steps == 100
    in_stimulus = np.zeros(task.n_steps, dtype=bool)
    for onset in task.onset_steps:
        in_stimulus[onset: onset + 100] = True
    assert np.array_equal(x[~in_stimulus], y[~in_stimulus])          # same background elsewhere
    stimulus_spikes = sum(task._active(p).sum() for p in task.patterns)
    assert y[in_stimulus].sum() == stimulus_spikes < x[in_stimulus].sum()   # only the pattern inside
    chunks = np.concatenate([quiet.input_block(a, min(a + 777, task.n_steps)) for a in range(0, task.n_steps, 777)])
    assert np.array_equal(y, chunks)


def test_error_impulses_window_of_opportunity(task):
    out = np.zeros((task.n_steps, 2), dtype=bool)
    impulses, _ = task.error_impulses(0, out, task.initial_error_state())
    # silence: one +1 per trial, at the last step of its window, on the correct neuron
    ends = task.onset_steps + task.window_steps - 1
    assert np.array_equal(np.nonzero(impulses)[0], ends)
    assert np.array_equal(np.nonzero(impulses)[1], task.labels)
    assert np.all(impulses[ends, task.labels] == 1.0)
    # correct spikes in the window: no error; a wrong-class spike in the window and a spike
    # outside any window: -1 immediately
    out[task.onset_steps + 50, task.labels] = True
    out[task.onset_steps[:5] + 60, 1 - task.labels[:5]] = True
    out[task.onset_steps[:-1] + 400, 0] = True
    impulses, _ = task.error_impulses(0, out, False)
    assert impulses.max() == 0.0
    assert impulses.sum() == -(5 + len(task.onset_steps) - 1)
    assert np.all(impulses[task.onset_steps[:5] + 60, 1 - task.labels[:5]] == -1.0)


def test_error_impulses_chunked_equal_whole(task):
    rng = np.random.default_rng(3)
    out = rng.random((task.n_steps, 2)) < 0.002
    whole, _ = task.error_impulses(0, out, False)
    for chunk in (1, 37, 1000):
        state, parts = task.initial_error_state(), []
        for a in range(0, task.n_steps, chunk):
            imp, state = task.error_impulses(a, out[a:a + chunk], state)
            parts.append(imp)
        assert np.array_equal(np.concatenate(parts), whole)


def test_outcomes(task):
    out = np.zeros((task.n_steps, 2), dtype=bool)
    assert not xor_trial_outcomes(task, out).any()
    out[task.onset_steps + 50, task.labels] = True
    assert xor_trial_outcomes(task, out).all()
    out[task.onset_steps[0] + 60, 1 - task.labels[0]] = True
    outcome = xor_trial_outcomes(task, out)
    assert not outcome[0] and outcome[1:].all()
    fired = xor_window_responses(task, out)
    assert fired.shape == (len(task.onset_steps), 2) and fired[0].all()
    assert np.array_equal(fired[1:, 0], task.labels[1:] == 0) and np.array_equal(fired[1:, 1], task.labels[1:] == 1)
    assert xor_window_responses(task, out[:500]).shape == (0, 2)               # no window covered


def test_late_responses(task):
    out = np.zeros((task.n_steps, 2), dtype=bool)
    assert not xor_late_responses(task, out).any()
    end = task.onset_steps + task.window_steps
    out[end[:3] + 20, task.labels[:3]] = True                     # 2 ms late: a late answer
    out[end[3] + 200, task.labels[3]] = True                      # 20 ms late: not within 15 ms
    out[end[4] + 20, 1 - task.labels[4]] = True                   # the wrong neuron, late
    out[task.onset_steps[5] + 50, task.labels[5]] = True          # in time, and again late
    out[end[5] + 20, task.labels[5]] = True
    late = xor_late_responses(task, out)
    assert late.shape == xor_trial_outcomes(task, out).shape
    assert late[:3].all() and not late[3:].any()
    n0 = task.onset_steps[0] + 1                                   # the first trial is not covered
    assert np.array_equal(xor_late_responses(task, out[n0:], n0), late[1:])


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="set_sizes"):
        make_xor_task(rng, 5, set_sizes=(50, 50, 1))
    with pytest.raises(ValueError, match="n_trials"):
        make_xor_task(rng, 0)
    with pytest.raises(ValueError, match="iti_s"):
        make_xor_task(rng, 5, iti_s=(0.01, 0.02))
