"""Shared fixtures for the unit tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a test suite that passes once passes again);
# `pytest --hypothesis-profile=explore` draws new ones to look for failures.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", max_examples=500)
settings.load_profile("repeatable")

from superspike_ref import CyclicTask, Network, Params

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """The project's shared folder (SPEC, docs, public conformance cases), or skip."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared folder {SHARED_DIR} is absent")
    return SHARED_DIR


@pytest.fixture
def conformance_dir(shared_dir) -> Path:
    path = shared_dir / "conformance"
    if not path.is_dir():
        pytest.skip(f"conformance folder {path} is absent")
    return path


@pytest.fixture
def params() -> Params:
    return Params()


@pytest.fixture
def small_hidden_setup():
    """A factory for a small random-feedback network and task: ``make(seed, **params)``.

    20 inputs at 40 Hz, 5 hidden, 2 outputs, batches of 10 ms (100 steps), a cycle of
    300 steps with three target spikes per output, weights large enough for spikes.
    """

    def make(seed: int, layers=(20, 5, 2), feedback: str = "random", w0_V: float = 0.3, n_cycle: int = 300, **changes):
        values = dict(t_batch_s=0.01, r0=2e-3)
        values.update(changes)
        p = Params(**values)
        rng = np.random.default_rng(seed)
        inp = rng.random((n_cycle, layers[0])) < 40.0 * p.dt_s
        tgt = np.zeros((n_cycle, layers[-1]), dtype=bool)
        tgt[[60, 150, 240], :] = True
        net = Network.create(layers, rng, p, feedback=feedback, w0_V=w0_V)
        return net, CyclicTask(input=inp, target=tgt)

    return make


@pytest.fixture
def interrupt_after_checkpoints(monkeypatch):
    """``arm(n)``: the n-th checkpoint written by an experiment raises KeyboardInterrupt right after
    it is saved, as if the run were killed there. ``monkeypatch.undo()`` disarms it."""
    from superspike_ref.experiments import common

    def arm(n: int) -> None:
        saves = {"n": 0}
        real_save = common.save_checkpoint

        def interrupted(path, about, state, chunk):
            real_save(path, about, state, chunk)
            saves["n"] += 1
            if saves["n"] == n:
                raise KeyboardInterrupt

        monkeypatch.setattr(common, "save_checkpoint", interrupted)

    return arm


@pytest.fixture
def one_line_error(capsys):
    """A check that the command line reported a user error in one line (P8's one error path) with these fragments."""
    def check(*fragments) -> str:
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        for fragment in fragments:
            assert fragment in lines[0], (fragment, lines[0])
        return lines[0]

    return check
