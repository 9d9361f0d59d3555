r"""Learning signals of hidden units: symmetric, random and uniform feedback (SPEC §3; paper §3.3.4, §4.1).

A hidden unit ``j`` has no target of its own. SuperSpike gives it the output errors
``e_i = α * (Ŝ_i - S_i)`` through a feedback matrix ``B`` of shape ``(n_out, n_hidden)``:

.. math::  e_j^{hid} = \sum_i B_{ij}\,e_i \qquad (e^{hid} = B^T e^{out})

* ``"symmetric"``: ``B = W_out``, the current forward weights (like backprop, without the
  downstream σ′ and PSP filter: a straight-through estimator). With several hidden layers the
  error goes back layer by layer, ``e_l = W_{l+1}^T e_{l+1}``.
* ``"random"``: ``B ~ N(0, 1)``, drawn once from the caller's ``rng`` and fixed (feedback
  alignment). With several hidden layers, each gets its own ``B`` from the output layer.
* ``"uniform"``: ``B = 1`` everywhere, a single global third factor. Also projects the output
  error directly to every hidden layer.
"""
from __future__ import annotations

import numpy as np

__all__ = ["FEEDBACK_KINDS", "make_feedback_matrices", "hidden_errors"]

FEEDBACK_KINDS = ("symmetric", "random", "uniform")


def make_feedback_matrices(kind: str, layers, rng: np.random.Generator | None = None):
    """Fixed feedback matrices ``B_l`` ``(n_out, n_l)`` for the hidden layers ``l = 1 .. L-1``.

    Returns ``None`` for ``"symmetric"`` (the forward weights are used). ``layers`` lists the
    layer sizes, input first, output last. ``"random"`` needs ``rng``.
    """
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"feedback must be one of {FEEDBACK_KINDS}, got {kind!r}")
    layers = tuple(layers)
    n_out, hidden = layers[-1], layers[1:-1]
    if kind == "symmetric":
        return None
    if kind == "uniform":
        return tuple(np.ones((n_out, n)) for n in hidden)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"random feedback needs rng, a numpy.random.Generator, got {type(rng).__name__}")
    return tuple(rng.standard_normal((n_out, n)) for n in hidden)


def hidden_errors(e_out, weights, kind: str, feedback_matrices) -> list:
    """Learning signals of all hidden layers for one output error ``e_out``.

    Parameters
    ----------
    e_out : array ``(..., n_out)``
        Output-layer error (any leading axes, e.g. time).
    weights : sequence of arrays
        Forward weights ``W_k`` ``(n_post, n_pre)``, connection 0 first.
    kind : str
        ``"symmetric"``, ``"random"`` or ``"uniform"``.
    feedback_matrices : sequence of arrays or None
        ``B_l`` per hidden layer (ignored for symmetric).

    Returns
    -------
    list of arrays, one per hidden layer (first hidden layer first), shapes ``(..., n_l)``.
    """
    n_hidden_layers = len(weights) - 1
    if kind == "symmetric":
        errors = [e_out]
        for k in range(n_hidden_layers, 0, -1):
            errors.insert(0, errors[0] @ weights[k])
        return errors[:-1]
    return [e_out @ B for B in feedback_matrices]
