"""The paper's Fig 2 task and network, shared by the demo and the Fig 2 and Fig 4 experiments (paper §4).

100 frozen Poisson inputs at 5 Hz over a 0.5 s cycle; the target is 5 spikes at 83, 166,
249, 332 and 415 ms (:func:`~superspike_ref.tasks.paper_target_times_s`). The network is one
output neuron with initial weights N(0, 0.05 V/√100)
(docs/paper.md §"Initial weights and bounds").
"""
from __future__ import annotations

import numpy as np

from .network import Network
from .params import Params
from .tasks import PAPER_CYCLE_S, CyclicTask, frozen_poisson, paper_target_times_s, timed_target

__all__ = ["fig2_task", "fig2_network", "DEMO_SEED"]

DEMO_SEED = 2018
"""Seed of the demo (its initial weights leave the output silent in the first cycle)."""


def fig2_task(rng: np.random.Generator, params: Params = Params(), n_in: int = 100, rate_Hz: float = 5.0) -> CyclicTask:
    """Frozen Poisson input ``(5000, n_in)`` and the paper's 5-spike target over a 0.5 s cycle."""
    inputs = frozen_poisson(rng, n_in, rate_Hz, PAPER_CYCLE_S, params.dt_s)
    target = timed_target(paper_target_times_s(), PAPER_CYCLE_S, params.dt_s, n_neurons=1)
    return CyclicTask(input=inputs, target=target)


def fig2_network(rng: np.random.Generator, params: Params = Params(), n_in: int = 100, **options) -> Network:
    """One output neuron fed by ``n_in`` inputs, weights N(0, 0.05/√n_in) V
    (docs/paper.md §"Initial weights and bounds")."""
    return Network.create((n_in, 1), rng, params, **options)
