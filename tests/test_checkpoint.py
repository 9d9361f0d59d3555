"""Checkpoints: exact resume, clear errors on corruption."""
import numpy as np
import pytest

from superspike_ref import LiteralEngine, Network, Params
from superspike_ref.checkpoint import load_checkpoint, save_checkpoint
from superspike_ref.demo import fig2_task


def test_resumed_engine_continues_identically(tmp_path):
    rng = np.random.default_rng(5)
    params = Params(t_batch_s=0.01)
    task = fig2_task(rng, params, n_in=20, rate_Hz=20.0)
    net = Network.create((20, 3, 1), rng, params, feedback="random")
    straight = LiteralEngine(net, task)
    whole = straight.run(1500, record=["S", "W"])
    first = LiteralEngine(net, task)
    part1 = first.run(700, record=["S", "W"])
    save_checkpoint(tmp_path / "ck.pkl", first)
    resumed = load_checkpoint(tmp_path / "ck.pkl")
    part2 = resumed.run(800, record=["S", "W"])
    assert np.array_equal(np.concatenate([part1.traces["S_2"], part2.traces["S_2"]]), whole.traces["S_2"])
    assert np.array_equal(resumed.weights[0], straight.weights[0])


def test_corrupted_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "ck.pkl"
    save_checkpoint(path, {"x": np.arange(1000)})
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match="corrupted"):
        load_checkpoint(path)
    path.write_bytes(b"hello\n" + data)
    with pytest.raises(ValueError, match="not a superspike_ref checkpoint"):
        load_checkpoint(path)
    assert not (tmp_path / "ck.pkl.tmp").exists()
