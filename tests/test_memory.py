"""Tests of superspike_ref.memory and of the engines' refusal to record what cannot fit."""
from __future__ import annotations

import builtins

import numpy as np
import pytest

import superspike_ref.memory as memory
from superspike_ref import CyclicTask, LiteralEngine, Network, Params
from superspike_ref.fast import FAST_RECORDABLE, BatchFastEngine, FastEngine
from superspike_ref.memory import available_memory_bytes, check_memory
from superspike_ref.network import RECORDABLE, recording_bytes

GiB = 2**30


def test_available_memory_is_a_positive_number_of_bytes():
    n = available_memory_bytes()
    assert n is None or (isinstance(n, int) and n > 0)


def test_available_memory_fallbacks(monkeypatch):
    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path) == "/proc/meminfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    monkeypatch.setattr(memory.os, "sysconf", lambda name: {"SC_PHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}[name])
    assert available_memory_bytes() == 4096000

    def unsupported(name):
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(memory.os, "sysconf", unsupported)
    assert available_memory_bytes() is None
    monkeypatch.setattr(memory.os, "sysconf", lambda name: -1)   # "no limit / unknown"
    assert available_memory_bytes() is None


def test_meminfo_is_read(monkeypatch, tmp_path):
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal:       16000000 kB\nMemFree:          100000 kB\nMemAvailable:    2000000 kB\n")
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open",
                        lambda path, *a, **k: real_open(fake if str(path) == "/proc/meminfo" else path, *a, **k))
    assert available_memory_bytes() == 2000000 * 1024


def test_check_memory_message_and_limit(monkeypatch):
    check_memory(GiB, "x", limit_bytes=GiB)                    # exactly the limit fits
    with pytest.raises(ValueError) as info:
        check_memory(2 * GiB + 1, "recording ['S'] over 10 steps", limit_bytes=GiB)
    assert str(info.value) == ("recording ['S'] over 10 steps needs 2.0 GiB, more than the 1.0 GiB available; "
                               "record less or run fewer steps")
    with pytest.raises(ValueError, match=r"^y needs 0\.0113 GiB, more than the 0\.00931 GiB available; do less$"):
        check_memory(12_100_000, "y", limit_bytes=10_000_000, advice="do less")
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 3 * GiB)
    check_memory(3 * GiB, "z")
    with pytest.raises(ValueError, match="needs 3.0 GiB, more than the 3.0 GiB available"):
        check_memory(3 * GiB + 2**20, "z")
    check_memory(10 * GiB, "z", limit_bytes=20 * GiB)          # an explicit limit overrides the machine's
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: None)
    check_memory(10**30, "z")                                  # the machine does not say: no check


@pytest.mark.parametrize(
    "n_bytes, limit, error, match",
    [
        ("1", None, TypeError, "n_bytes"),
        (True, None, TypeError, "n_bytes"),
        (-1, None, ValueError, "n_bytes"),
        (float("nan"), None, ValueError, "n_bytes"),
        (float("inf"), None, ValueError, "n_bytes"),
        (1, -5, ValueError, "limit_bytes"),
        (1, "4G", TypeError, "limit_bytes"),
    ],
)
def test_check_memory_rejects_bad_arguments(n_bytes, limit, error, match):
    with pytest.raises(error, match=match):
        check_memory(n_bytes, "x", limit_bytes=limit)


# --- recording_bytes ---------------------------------------------------------------------

def _setup(layers=(6, 3, 2), n_cycle=50):
    p = Params(t_batch_s=0.01)                                   # 100 steps per update
    rng = np.random.default_rng(1)
    task = CyclicTask(input=rng.random((n_cycle, layers[0])) < 0.05, target=rng.random((n_cycle, layers[-1])) < 0.02)
    return Network.create(layers, rng, p), task


def test_recording_bytes_equals_what_the_literal_engine_records():
    net, task = _setup()
    n_steps = 300                                                # 3 updates
    traces = LiteralEngine(net, task).run(n_steps, record=RECORDABLE).traces
    per_step = sum(x.nbytes for key, x in traces.items() if key[0] not in "Wv")
    copies = sum(x.nbytes for key, x in traces.items() if key[0] in "Wv")
    assert recording_bytes(net.layers, n_steps, RECORDABLE, n_batch=net.params.n_batch) == per_step + 2 * copies
    # a partial batch: an upper bound; n_batch=1 (the default): a bound for any schedule
    traces = LiteralEngine(net, task).run(350, record=RECORDABLE).traces
    actual = sum(x.nbytes for x in traces.values())
    assert actual < recording_bytes(net.layers, 350, RECORDABLE, n_batch=100) < recording_bytes(net.layers, 350, RECORDABLE)


def test_recording_bytes_by_hand_and_for_batches():
    layers = (100, 4, 1)
    assert recording_bytes(layers, 5000, ()) == 0
    assert recording_bytes(layers, 5000, ("S",)) == 5000 * (4 + 1)
    assert recording_bytes(layers, 5000, "U_tilde") == 5000 * 8 * 5
    assert recording_bytes(layers, 5000, ("lambda",)) == 5000 * 8 * (400 + 4)
    assert recording_bytes(layers, 10**12, ("z",)) == 10**12 * 8 * 104   # no overflow
    assert recording_bytes(layers, 10_000, ("W",), n_batch=5000) == 2 * 3 * 8 * 404
    assert recording_bytes(layers, 10_000, ("W", "v", "S"), n_networks=7, n_batch=5000) == 7 * (
        10_000 * 5 + 2 * (3 + 2) * 8 * 404)


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        (((4,), 10, ()), {}, ValueError, "layers"),
        (((4, 0), 10, ()), {}, ValueError, "layers"),
        (((4, 2), -1, ()), {}, ValueError, "n_steps"),
        (((4, 2), 1.5, ()), {}, TypeError, "n_steps"),
        (((4, 2), 10, ("spikes",)), {}, ValueError, "spikes"),
        (((4, 2), 10, ()), {"n_networks": 0}, ValueError, "n_networks"),
        (((4, 2), 10, ()), {"n_batch": 2.0}, TypeError, "n_batch"),
    ],
)
def test_recording_bytes_rejects_bad_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        recording_bytes(*args, **kwargs)


@pytest.mark.parametrize("engine", [LiteralEngine, FastEngine])
def test_engines_refuse_a_recording_that_cannot_fit(engine, monkeypatch):
    net, task = _setup()
    eng = engine(net, task)
    with pytest.raises(ValueError, match=r"recording \['U_tilde'\] over 1000000000000 steps needs 37252\.9 GiB, "
                                         r"more than the .* GiB available; record less or run fewer steps"):
        eng.run(10**12, record=("U_tilde",))
    assert eng.step_index == 0
    need = recording_bytes(net.layers, 200, ("S", "W"), n_batch=100)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: need - 1)
    with pytest.raises(ValueError, match=r"recording \['S', 'W'\] over 200 steps needs"):
        eng.run(200, record=("S", "W"))
    assert eng.run(200, record=("S",)).traces["S_1"].shape == (200, 3)   # what fits still runs
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: need)
    assert eng.run(200, record=("S", "W")).traces["W_0"].shape == (3, 3, 6)


def test_batch_engine_counts_every_network(monkeypatch):
    net, task = _setup()
    eng = BatchFastEngine([net] * 3, task)
    need = recording_bytes(net.layers, 100, FAST_RECORDABLE, n_networks=3, n_batch=100)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: need - 1)
    with pytest.raises(ValueError, match=r"over 100 steps of 3 networks needs"):
        eng.run(100, record=FAST_RECORDABLE)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: need)
    assert len(eng.run(100, record=FAST_RECORDABLE)) == 3
