"""Checkpoints: exact resume, data only (never pickle), clear one-line errors."""
import json
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from superspike_ref import LiteralEngine, Network, Params, __version__
from superspike_ref.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from superspike_ref.demo import fig2_task
from superspike_ref.fast import BatchFastEngine

ABOUT = {"figure": "test", "config": {"seed": 1, "sizes": [20, 3, 1]}}


def _setup(seed=5):
    rng = np.random.default_rng(seed)
    params = Params(t_batch_s=0.01)
    task = fig2_task(rng, params, n_in=20, rate_Hz=20.0)
    return [Network.create((20, 3, 1), rng, params, feedback="random", w0_V=0.3) for _ in range(2)], task


@pytest.mark.parametrize("make", [lambda nets, task: LiteralEngine(nets[0], task), BatchFastEngine])
def test_resumed_engine_continues_identically(tmp_path, make):
    nets, task = _setup()
    straight = make(nets, task)
    whole = straight.run(1500, record=["S", "W"])
    first = make(nets, task)
    part1 = first.run(700, record=["S", "W"])
    save_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": first, "chunks_done": 3}, 3)
    fresh = make(nets, task)
    state = load_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": fresh, "chunks_done": 0})
    assert state["engine"] is fresh and state["chunks_done"] == 3
    part2 = fresh.run(800, record=["S", "W"])
    as_list = (lambda r: r) if isinstance(whole, list) else (lambda r: [r])
    for a, b, w in zip(as_list(part1), as_list(part2), as_list(whole)):
        assert a.traces["S_2"].any() and a.traces["S_1"].any()
        assert np.array_equal(np.concatenate([a.traces["S_2"], b.traces["S_2"]]), w.traces["S_2"])
        assert np.array_equal(b.traces["W_0"][-1], w.traces["W_0"][-1])


def test_tree_round_trip_keeps_types(tmp_path):
    tree = {"chunks_done": 2, "curves": [{"vr": [np.float64(0.5), 1.5]}], 7: (None, True, "x", float("nan")),
            "spikes": np.array([[True, False]]), "ids": np.arange(3, dtype=np.int32)}
    save_checkpoint(tmp_path / "ck.npz", ABOUT, tree, 2)
    back = load_checkpoint(tmp_path / "ck.npz", ABOUT, {})
    assert back["chunks_done"] == 2 and back[7][:3] == (None, True, "x") and np.isnan(back[7][3])
    assert type(back["curves"][0]["vr"][0]) is np.float64 and back["curves"][0]["vr"][1] == 1.5
    assert back["spikes"].dtype == bool and back["ids"].dtype == np.int32
    assert not list(tmp_path.glob(".*tmp"))                           # no temporary file left


def test_refuses_another_version_run_or_shape(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, ABOUT, {"w": np.zeros(3)}, 1)
    with pytest.raises(ValueError, match=r"another run \(config.seed: checkpoint 1, this run 2"):
        load_checkpoint(path, {"figure": "test", "config": {"seed": 2, "sizes": [20, 3, 1]}}, {})
    with pytest.raises(ValueError, match=r"float64 \(3,\), this run needs float64 \(4,\)"):
        load_checkpoint(path, ABOUT, {"w": np.zeros(4)})
    from superspike_ref import checkpoint

    monkeypatch.setattr(checkpoint, "__version__", "0.0.1")
    with pytest.raises(ValueError, match=f"written by superspike_ref {__version__}, this is 0.0.1"):
        load_checkpoint(path, ABOUT, {})


def test_corrupted_or_altered_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, ABOUT, {"x": np.arange(1000)}, 1)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match="not a .npz archive|is corrupt"):
        load_checkpoint(path, ABOUT, {})
    (tmp_path / "good.npz").write_bytes(data)
    with np.load(tmp_path / "good.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["a0"] = arrays["a0"] + 1                                     # altered data, header kept
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="corrupted"):
        load_checkpoint(path, ABOUT, {})
    path.unlink()
    path.mkdir()
    with pytest.raises(ValueError, match="is a folder"):
        load_checkpoint(path, ABOUT, {})


class _Payload:
    """Unpickling this runs code: it would create the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickles_and_object_arrays_are_never_loaded(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "ck.npz"
    path.write_bytes(pickle.dumps({"x": _Payload(marker)}))
    with pytest.raises(ValueError, match="not a .npz archive"):
        load_checkpoint(path, ABOUT, {})
    header = {"format": CHECKPOINT_FORMAT, "version": __version__, "about": ABOUT, "chunk": 1, "state": {"array": "a0"}}
    np.savez(path, _header=np.array(json.dumps(header)), a0=np.array([_Payload(marker)], dtype=object))
    with pytest.raises(ValueError, match=r"pickled \(object\) data, which is never loaded"):
        load_checkpoint(path, ABOUT, {})
    assert not marker.exists()


# --- properties ---------------------------------------------------------------------------
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**62, 2**62), st.floats(allow_nan=False), st.text(max_size=5),
                    st.builds(lambda n, k: (np.arange(n) % 3).astype(k), st.integers(0, 5), st.sampled_from([np.int64, np.float64, bool])))
_trees = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 9)), inner, max_size=3)),
    max_leaves=10)


def _equal(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=_trees)
def test_any_tree_round_trips(tmp_path, tree):
    save_checkpoint(tmp_path / "ck.npz", ABOUT, tree, 0)
    assert _equal(tree, load_checkpoint(tmp_path / "ck.npz", ABOUT, None))


@settings(max_examples=80, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_file_is_a_value_error(tmp_path, data):
    path = tmp_path / "ck.npz"
    save_checkpoint(path, ABOUT, {"w": np.arange(50.0), "n": 3}, 1)
    raw = bytearray(path.read_bytes())
    start = data.draw(st.integers(0, len(raw) - 1))
    patch = data.draw(st.binary(min_size=1, max_size=8))
    damaged = bytes(raw[:start] + patch + raw[start + len(patch):]) if data.draw(st.booleans()) else bytes(raw[:start])
    path.write_bytes(damaged)
    try:
        back = load_checkpoint(path, ABOUT, {"w": np.zeros(50), "n": 0})
    except ValueError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
    else:                                   # a patch equal to the bytes it replaced, or in an unused zip field
        assert np.array_equal(back["w"], np.arange(50.0)) and back["n"] == 3


def test_state_of_another_shape_is_refused(tmp_path):
    nets, task = _setup()
    engine = BatchFastEngine(nets, task)
    save_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": {"w": np.zeros(3)}, "n": 1}, 1)
    with pytest.raises(ValueError, match=r"state\['engine'\]: the checkpoint holds kind 'dict', this run needs 'object'"):
        load_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": engine, "n": 0})
    save_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": LiteralEngine(nets[0], task), "n": 1}, 1)
    with pytest.raises(ValueError, match="holds a 'LiteralEngine', this run has a BatchFastEngine"):
        load_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": engine, "n": 0})
    save_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": BatchFastEngine(nets[:1], task), "n": 1}, 1)
    with pytest.raises(ValueError, match=r"_W'\]\[0\] is float64 \(1, 3, 20\), this run needs float64 \(2, 3, 20\)"):
        load_checkpoint(tmp_path / "ck.npz", ABOUT, {"engine": engine, "n": 0})


def test_deeply_nested_state_is_a_value_error(tmp_path):
    path = tmp_path / "ck.npz"
    depth = 100_000
    state = '{"list": [' * depth + "null" + "]}" * depth
    head = {"format": CHECKPOINT_FORMAT, "version": __version__, "about": ABOUT, "chunk": 1}
    np.savez(path, _header=np.array(json.dumps(head)[:-1] + ', "state": ' + state + "}"))
    with pytest.raises(ValueError, match="not a superspike-checkpoint/2 checkpoint"):
        load_checkpoint(path, ABOUT)
