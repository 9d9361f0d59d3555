r"""Gradient cases (issue P10): the surrogate gradient ``dL_dW_<k>`` of a window, computed by :mod:`superspike_ref.bptt`.

A SPEC §9 case whose ``case.json`` holds

.. code-block:: json

    "gradient": {"window_steps": 80, "variant": "free"}

asks, besides the traces it records, for ``dL_dW_<k>`` ``(n_post_k, n_pre_k)`` of every
connection: the exact surrogate gradient (:func:`superspike_ref.bptt.bptt_gradients`) of the van
Rossum loss of the case's first ``window_steps`` steps,

.. math::  L = \frac{\Delta t}{2}\sum_{n=0}^{T-1}\sum_i e_i[n]^2, \qquad e = K(\tau_{rise},\tau_{decay}) * (\hat S - S_L),

with the initial weights ``W0_k`` held constant through the window, from SPEC §2's initial state
(rest), the surrogate :math:`\partial S/\partial\tilde U := \sigma'(\tilde U)` at the potential
before the reset, and ``variant`` ``"free"`` (reset and refractoriness carry no gradient) or
``"detached_reset"`` (the reset's spike detached, ``∂U/∂Ũ = 1 - S``; the refractory gate constant).
The loss is in seconds and the gradient in s/V, in every convention. The loss has no regulariser
and no error gate: it is the same for every case. ``docs/validation.md`` ("Validating a PyTorch
(autograd) implementation") states the conventions in full.
"""
from __future__ import annotations

import numpy as np

from .bptt import VARIANTS, bptt_gradients, task_window

__all__ = ["GRADIENT_STAGE", "GRADIENT_VARIANTS", "is_gradient_field", "case_gradients"]

GRADIENT_STAGE = "dL_dW"
"""Trace name of the gradient keys ``dL_dW_<k>``."""

GRADIENT_VARIANTS = VARIANTS
"""What the gradient detaches: ``"free"`` or ``"detached_reset"`` (:mod:`superspike_ref.bptt`)."""


def is_gradient_field(value) -> bool:
    """True for a ``case.json`` ``gradient`` object: exactly ``window_steps`` (integer > 0) and ``variant``."""
    if not isinstance(value, dict) or set(value) != {"window_steps", "variant"}:
        return False
    steps = value["window_steps"]
    return (isinstance(steps, int) and not isinstance(steps, bool) and steps > 0
            and isinstance(value["variant"], str) and value["variant"] in GRADIENT_VARIANTS)


def case_gradients(case) -> dict:
    """``{"dL_dW_<k>": ∂L/∂W_k}`` of a case (module docstring); empty if it asks for no gradient.

    Parameters
    ----------
    case : :class:`~superspike_ref.cases.Case`
        Its ``gradient`` (``window_steps``, ``variant``), network (initial weights, parameters) and task.
    """
    if case.gradient is None:
        return {}
    inputs, target = task_window(case.task, 0, case.gradient["window_steps"])
    weights = tuple(np.asarray(w, dtype=np.float64) for w in case.network.weights)
    result = bptt_gradients(weights, inputs, target, case.network.params, variant=case.gradient["variant"])
    return {f"{GRADIENT_STAGE}_{k}": grad for k, grad in enumerate(result.grads)}
