"""What Figs 6, 7 and 8 share: their task, learning-rate schedule and final numbers.

The task: 100 frozen Poisson inputs at 5 Hz over a 3.5 s cycle → ``n_h``
hidden → 100 outputs. The target is the package's own picture
(:func:`~superspike_ref.tasks.fig6_target_image`, 100 × 70, 90 active rows) with one spike per
dark pixel at 50 ms per column, jittered by U[0, 16.7 ms) as the paper's Auryn-logo target
(:func:`~superspike_ref.tasks.picture_raster`). Initial weights N(0, 0.05/√n_pre), RMaxProp
r0 = 1e-3, two cycles of burn-in (weights frozen, RMaxProp's v warms up), the rate ×0.1 from
400 s and ×0.01 from 800 s (docs/paper.md §"Schedules, burn-in and run lengths"), 286 cycles ≈ 1001 s.
"""
from __future__ import annotations

import numpy as np

from ..params import Params
from ..tasks import CyclicTask, fig6_target_image, frozen_poisson, picture_raster

__all__ = ["make_task", "schedule", "final", "run_finals", "INPUT_RATE_HZ", "COLUMN_S", "JITTER_S", "FINAL_CYCLES"]

INPUT_RATE_HZ = 5.0
COLUMN_S = 0.05
"""Duration of one picture column (the paper's target: 70 columns in 3.5 s)."""
JITTER_S = COLUMN_S / 3
"""Jitter range of the target spikes, U[0, 16.7 ms) as in the paper's target file."""
FINAL_CYCLES = 14
"""Cycles at the end (49 s) over which final numbers are averaged: the last ~50 s (docs/paper.md
§"Hidden sizes and final numbers for Figs 6 to 8")."""


def make_task(size: dict, seed: int, params: Params) -> tuple[CyclicTask, np.ndarray]:
    """The Fig 6-8 task (frozen input, picture target) and its picture, all from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    image = fig6_target_image(size["n_rows"], size["n_cols"])
    cycle_s = size["n_cols"] * COLUMN_S
    task = CyclicTask(frozen_poisson(rng, size["n_in"], INPUT_RATE_HZ, cycle_s, params.dt_s),
                      picture_raster(image, COLUMN_S, params.dt_s, rng, JITTER_S))
    return task, image


def schedule(size: dict) -> tuple:
    """Learning-rate schedule: ×0.1 after the first drop time, ×0.01 after the second (non-cumulative factors)."""
    return tuple((t, 0.1 ** (j + 1)) for j, t in enumerate(size["drops_s"]))


def _last_cycles(arrays: dict, key: str, name: str) -> np.ndarray:
    """``<key>_<name>`` (runs × cycles) over its last :data:`FINAL_CYCLES` cycles."""
    x = arrays[f"{key}_{name}"]
    return x[:, -min(FINAL_CYCLES, x.shape[1]):]


def final(arrays: dict, key: str, name: str) -> float | None:
    """Mean of ``<key>_<name>`` over the last :data:`FINAL_CYCLES` cycles and all runs (None if NaN:
    the hidden rate of a network without hidden layer)."""
    value = float(_last_cycles(arrays, key, name).mean())
    return value if np.isfinite(value) else None


def run_finals(arrays: dict, key: str, name: str) -> np.ndarray:
    """Each run's final ``<key>_<name>``: its mean over the last :data:`FINAL_CYCLES` cycles."""
    return _last_cycles(arrays, key, name).mean(axis=1)
