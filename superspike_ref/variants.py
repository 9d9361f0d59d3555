r"""SPEC variants: documented alternatives to SPEC's discretisation that a candidate can declare (issue P10).

SPEC §2-§3 fixes one discretisation of the model. Other simulators make other, equally
defensible choices; a candidate built on one of them differs from the reference for a reason
that is not a bug. A *variant* names one such choice; ``validate --variant NAME`` (repeatable)
runs the reference (the literal engine) with it, and a report that fails without variants says
which single variant would make the candidate pass (:func:`superspike_ref.validation.validate`).

==========================  =====================================================================
name                        what changes (step ``n``; everything else is SPEC)
==========================  =====================================================================
``exact-integration``       SPEC §2 (b): :math:`\tilde U[n] = u_{rest} + (U[n-1] - u_{rest})\,d
                            + I[n]\,(1 - d)`, :math:`d = e^{-\Delta t/\tau_{mem}}`, the exact
                            solution of :math:`\tau_{mem}\dot U = u_{rest} - U + I` over one step
                            with the current held at ``I[n]`` (after this step's jump)
``threshold-ge``            SPEC §2 (c): a spike where :math:`\tilde U[n] \ge \vartheta` (SPEC: ``>``)
``no-delay``                SPEC §2: ``delay_s = 0``, so :math:`A[n] = S_{pre}[n]`
``auryn-error-kernel``      SPEC §3: the error's first stage is the original code's Euler
                            follower, in the paper's scale:
                            :math:`r[n] = (1 - \Delta t/\tau_{rise})\,r[n-1] + (\hat S - S)[n]`
                            (SPEC: :math:`e^{-\Delta t/\tau_{rise}}`); the code's
                            :math:`e_A = (\Delta t/\tau_{rise})\,e` then holds exactly
==========================  =====================================================================

A variant changes either the parameters (``no-delay``) or the :class:`Discretisation` the literal
engine passes to :func:`~superspike_ref.neuron.lif_step` and
:func:`~superspike_ref.error.error_step`. The fast engine implements SPEC only: variants run on
the literal engine (:func:`~superspike_ref.cases.run_case` refuses ``engine="fast"`` with variants).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["Discretisation", "SPEC_DISCRETISATION", "Variant", "VARIANTS", "check_variants", "apply_variants"]


@dataclass(frozen=True)
class Discretisation:
    """How the literal engine discretises SPEC §2-§3: SPEC's choices (all False) or declared variants.

    Attributes
    ----------
    exact_membrane : bool
        Membrane step of the ``exact-integration`` variant
        (:func:`~superspike_ref.neuron.membrane_update_exact`) instead of forward Euler.
    threshold_ge : bool
        Spike where ``Ũ >= θ`` (``threshold-ge``) instead of ``Ũ > θ``.
    euler_error_rise : bool
        First stage of the output error with ``keep_rise = 1 - dt/τ_rise`` (``auryn-error-kernel``)
        instead of ``decay_rise = exp(-dt/τ_rise)``.
    """

    exact_membrane: bool = False
    threshold_ge: bool = False
    euler_error_rise: bool = False


SPEC_DISCRETISATION = Discretisation()
"""SPEC §2-§3 exactly: what every engine does when no variant is declared."""


@dataclass(frozen=True)
class Variant:
    """One SPEC variant: its name, what it changes, who needs it, and how the reference applies it.

    ``params`` are :class:`~superspike_ref.params.Params` fields the variant sets; ``switch`` the
    :class:`Discretisation` field it turns on (or None).
    """

    name: str
    changes: str
    who: str
    params: tuple = ()
    switch: str | None = None


VARIANTS = {v.name: v for v in (
    Variant("exact-integration",
            "membrane step U~ = u_rest + (U - u_rest) exp(-dt/tau_mem) + I (1 - exp(-dt/tau_mem)) instead of Euler",
            "exact (exponential) integrators: Brian2 method='exact', NEST, GeNN's LIF",
            switch="exact_membrane"),
    Variant("threshold-ge", "spike where U~ >= theta instead of U~ > theta",
            "simulators that test U >= V_th (NEST, GeNN, many hand-written codes)", switch="threshold_ge"),
    Variant("no-delay", "no axonal delay: delay_s = 0",
            "implementations without a synaptic delay (most PyTorch and GPU codes)", params=(("delay_s", 0.0),)),
    Variant("auryn-error-kernel",
            "error's first stage r = (1 - dt/tau_rise) r + (S^ - S) (the original code's Euler follower, "
            "paper scale) instead of exp(-dt/tau_rise)",
            "ports of the original Auryn code that learn with its error", switch="euler_error_rise"),
)}
"""Every variant by name, in the order of the derivation."""


def check_variants(names) -> tuple:
    """``names`` as a tuple of distinct known variant names; ``ValueError`` naming an unknown one.

    A single string is one name. Raises ``TypeError`` for names that are not strings.
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"variant names must be strings, got {name!r} ({type(name).__name__})")
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r}; known: {sorted(VARIANTS)}")
    return tuple(dict.fromkeys(names))


def apply_variants(names, network) -> tuple:
    """The network and :class:`Discretisation` of a reference run with the variants ``names``.

    Parameters
    ----------
    names : iterable of str
        Variant names (:data:`VARIANTS`).
    network : Network

    Returns
    -------
    network : Network
        ``network`` with the variants' parameters (the same object if there are none).
    discretisation : Discretisation
    """
    changes, switches = {}, {}
    for name in check_variants(names):
        changes.update(VARIANTS[name].params)
        if VARIANTS[name].switch is not None:
            switches[VARIANTS[name].switch] = True
    if changes:
        network = replace(network, params=network.params.replace(**changes))
    return network, Discretisation(**switches)
