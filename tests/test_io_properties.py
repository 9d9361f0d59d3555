"""Property-based tests: any ``.ras`` input and any Params values give a result or a clear user error.

Random lines (random text, raw bytes, huge, negative and non-finite numbers, extra fields) must
make :func:`read_ras` and :func:`read_ras_events` return or raise ``ValueError`` / ``TypeError``,
never another exception, quickly and without allocating more than a small memory limit; a
written raster reads back unchanged; random :class:`Params` values give a valid object or
``ValueError`` / ``TypeError``, and every valid one gives finite optimiser steps on zero gradients.
"""
from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import superspike_ref.memory as memory
from superspike_ref.filters import kernel_energy_steps
from superspike_ref.io import read_ras, read_ras_events, write_ras
from superspike_ref.optimizers import OPTIMIZERS, optimizer_step
from superspike_ref.params import Params

SETTINGS = settings(max_examples=100, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
MEMORY_LIMIT = 2**24  # 16 MiB: a raster beyond it is refused, whatever the machine has

# --- .ras lines ----------------------------------------------------------------------------

numbers_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=0, max_value=0.05).map(lambda t: f"{t:.6f}"),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=12).map(str),
    st.integers(min_value=1, max_value=5000).map(lambda n: "9" * n),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "+3", "1_0", "0x1F", "", "#", "１", "٣", "1e-400"]),
)
spike_line = st.lists(numbers_text, min_size=0, max_size=4).map(" ".join)
any_line = st.one_of(spike_line, spike_line, st.text(max_size=40), st.just("# comment"))
line_bytes = st.one_of(
    any_line.map(lambda s: s.encode("utf-8", "surrogatepass")),  # lone surrogates: bytes that are not UTF-8
    st.binary(max_size=40),
)
ras_files = st.lists(line_bytes, max_size=12).flatmap(
    lambda lines: st.sampled_from([b"\n", b"\r\n", b"\r"]).map(lambda end: end.join(lines))
)
durations = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.01, 0.05, 1e300]),
                      st.integers(min_value=-5, max_value=10**400))


def _write(content: bytes) -> str:
    fd, path = tempfile.mkstemp(suffix=".ras")
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    return path


@SETTINGS
@given(content=ras_files, n_neurons=st.integers(min_value=1, max_value=20), duration_s=durations,
       dt_s=st.sampled_from([1e-4, 1e-3, 1e-10, 0.5]), id_base=st.sampled_from([0, 1]))
def test_any_ras_content_gives_a_raster_or_a_user_error(content, n_neurons, duration_s, dt_s, id_base):
    path = _write(content)
    try:
        with mock.patch.object(memory, "available_memory_bytes", lambda: MEMORY_LIMIT):
            for read in (lambda: read_ras(path, n_neurons, dt_s, duration_s=duration_s, id_base=id_base),
                         lambda: read_ras_events(path, id_base=id_base)):
                try:
                    result = read()
                except (ValueError, TypeError) as exc:
                    message = str(exc)
                    assert len(message) < len(path) + 400, message      # bounded: never a copy of the line
                    continue
                if isinstance(result, np.ndarray):
                    assert result.dtype == np.bool_ and result.shape[1] == n_neurons
                    assert result.nbytes <= MEMORY_LIMIT
                else:
                    times_s, ids = result
                    assert np.all(np.isfinite(times_s)) and np.all(times_s >= 0) and np.all(ids >= 0)
    finally:
        os.unlink(path)


@SETTINGS
@given(raster=arrays(np.bool_, st.tuples(st.integers(1, 300), st.integers(1, 12))),
       dt_s=st.one_of(st.sampled_from([1e-4, 5e-5, 1e-3]), st.floats(min_value=1e-6, max_value=1e-2)),
       id_base=st.sampled_from([0, 1]))
def test_write_then_read_gives_the_raster_back(raster, dt_s, id_base):
    fd, path = tempfile.mkstemp(suffix=".ras")
    os.close(fd)
    try:
        n_steps, n_neurons = raster.shape
        assert write_ras(path, raster, dt_s, id_base=id_base) == raster.sum()
        back = read_ras(path, n_neurons, dt_s, duration_s=n_steps * dt_s, id_base=id_base)
        assert np.array_equal(back, raster)
        times_s, ids = read_ras_events(path, id_base=id_base)
        steps, expected_ids = np.nonzero(raster)
        assert np.array_equal(ids, expected_ids) and np.array_equal(np.rint(times_s / dt_s), steps)
        if raster.any():  # without duration_s: up to the last spike
            assert np.array_equal(read_ras(path, n_neurons, dt_s, id_base=id_base), raster[: steps.max() + 1])
    finally:
        os.unlink(path)


# --- Params --------------------------------------------------------------------------------

FIELDS = {f.name: f.default for f in dataclasses.fields(Params)}


def _value_for(name: str):
    default = FIELDS[name]
    near = [st.floats(min_value=0.2, max_value=5.0).map(lambda x: default * x)] if default else []
    return st.one_of(
        *near,
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-1.0, max_value=1.0),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.sampled_from([0, 0.0, -0.0, 5e-324, 1e-300, 1e300, True, None, "1e-4", np.float64(1e-3), np.float32(1.0)]),
    )


params_changes = st.lists(st.sampled_from(sorted(FIELDS)), max_size=6, unique=True).flatmap(
    lambda names: st.fixed_dictionaries({name: _value_for(name) for name in names})
)


@SETTINGS
@given(changes=params_changes, w=st.floats(min_value=-1.0, max_value=1.0),
       v0=st.floats(min_value=0.0, max_value=1e300))
def test_params_are_valid_or_a_user_error_and_valid_ones_stay_finite(changes, w, v0):
    try:
        p = Params(**changes)
    except (ValueError, TypeError):
        return
    assert p.eps > 0
    assert isinstance(p.n_batch, int) and p.n_batch >= 1 and p.n_ref >= 0 and p.n_delay >= 0
    assert 0.0 <= p.gamma <= 1.0
    energy = kernel_energy_steps(p.tau_rise_s, p.tau_decay_s, p.dt_s)
    assert math.isfinite(energy) and energy > 0
    weights = np.clip(np.array([w, p.w_min_V, p.w_max_V]), p.w_min_V, p.w_max_V)
    for kind in OPTIMIZERS:
        for v in (np.zeros(3), np.full(3, v0)):
            w_new, v_new = optimizer_step(kind, weights, np.zeros(3), v, p.n_batch, p.r0, p)
            assert np.all(np.isfinite(w_new)) and np.all(np.isfinite(v_new))
            np.testing.assert_array_equal(w_new, weights)         # no gradient, no step
