r"""Stage-local diagnosis (``validate --local``): every key recomputed from the candidate's own upstream keys.

In the global check a candidate wrong at one stage is wrong at every stage downstream, and only
the first wrong stage says something. The local check is teacher forcing: each key is recomputed
step by step with its stage's derivation function from the candidate's **own** values (its inputs
at step ``n``, the key itself at ``n - 1``), so independent bugs fail exactly their stages. Every
right-hand side below is the candidate's key (``A_k[n] = S_k[n - n_d]`` of its spikes, of the case's
input for ``k = 0``; ``W`` its weights of step ``n``'s batch), except the rebuilt states (below):

.. code-block:: text

    z_k[n]          = decay_syn z_k[n-1] + A_k[n]                      core.delay_step, filters.exp_trace_step
    z_tilde_k[n]    = z_tilde_k[n-1] + rate_mem (z_k[n] - z_tilde_k[n-1])        filters.follow_step
    I_l[n]          = decay_syn I_l[n-1] + W_{l-1} A_{l-1}[n]                  neuron.current_step
    U_tilde_l[n]    = u_rest if r_l[n-1] > 0,
                      else U_l[n-1] + rate_mem (u_rest - U_l[n-1] + I_l[n])   neuron.potential_step
    S_l[n]          = (r_l[n-1] == 0) and (U_tilde_l[n] > theta)               neuron.spike_step
    sigma_prime_l   = 1 / (1 + beta |U_tilde_l - theta|)**2                    surrogate.surrogate_grad
    lambda_k[n]     = lambda_k[n-1] + rate_decay (elig_rise[n] - lambda_k[n-1]),
                      elig_rise = exp_trace(sigma_prime_{k+1} z_tilde_k; tau_rise)   eligibility.eligibility_step
    e_L[n]          = e_L[n-1] + rate_decay (err_rise[n] - e_L[n-1]),
                      err_rise = exp_trace(target - S_L; tau_rise)               error.error_step
    e_l[n], l < L   = W_l.T e_{l+1}[n] (symmetric), B_l.T e_L[n] (random, uniform)  feedback.hidden_errors
    m_k[n]          = m_k[n-1] + e_{k+1}[n] lambda_k[n] - rho W_k zh[n]**a,
                      0 after an update (second term: into a hidden layer)     eligibility.accumulate
    W_k[j], v_k[j-1] = optimiser step of W_k[j-1], v_k[j-2], m at step j n_b - 1  core.connection_update

``W_k[0]`` is compared with the case's initial weights ``W0_k``. The rebuilt states: ``U_l = u_rest``
where the candidate's ``S_l`` is set, else its ``U_tilde_l``, and ``r_l`` counting down ``n_ref``
steps from its spikes (``neuron.reset_step``, SPEC §2 (d), (e)); ``elig_rise``, ``err_rise`` and
``zh`` filter its own ``sigma_prime z_tilde``, ``S_L`` and ``S_l`` (linear filters of its values, so
they carry nothing from upstream); ``v`` runs on its accumulators if the case does not record it.
Only keys that the case records and that are not skipped are read: a key whose inputs the
candidate lacks (or gives in a wrong shape) is *not checkable locally*, which is not a failure
(the missing input itself fails as in the global check); :func:`local_inputs` lists them.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .cases import _as_comparable
from .core import connection_update, delay_step
from .eligibility import accumulate, eligibility_step
from .error import error_step
from .feedback import hidden_errors
from .filters import exp_trace_step, follow_step
from .neuron import current_step, lif_initial_state, potential_step, reset_step, spike_step
from .regulariser import het_trace_step
from .report import STAGES, KeyResult, Report, compare_key, key_stage
from .surrogate import surrogate_grad

__all__ = ["LocalKeyResult", "LocalReport", "local_inputs", "recompute", "local_results"]


@dataclass(frozen=True)
class LocalKeyResult(KeyResult):
    """A :class:`KeyResult` of the local check, with its ``verdict`` and what the key was recomputed from.

    ``verdict`` is ``"pass"``, ``"fail"`` or ``"not checkable"`` (then ``ok`` is True, the numbers are
    None and ``missing`` names the candidate keys it needs); ``inputs`` lists the candidate keys read
    besides the key itself.
    """

    verdict: str = "pass"
    inputs: tuple = ()
    missing: tuple = ()


class LocalReport(Report):
    """:class:`Report` of ``validate(..., local=True)``: one verdict per key, every failing stage named.

    ``first_failure`` is None: stages are judged independently, so there is no first wrong one.
    """

    @property
    def failing_stages(self) -> tuple:
        """The stages with a failing key, in the order of :data:`STAGES`."""
        return tuple(s for s in STAGES if any(r.stage == s and r.verdict == "fail" for r in self.results))

    @property
    def not_checkable(self) -> tuple:
        """The results of the keys that are not checkable locally."""
        return tuple(r for r in self.results if r.verdict == "not checkable")

    def to_dict(self) -> dict:
        return super().to_dict() | {"mode": "local", "failing_stages": list(self.failing_stages),
                                     "not_checkable": [r.key for r in self.not_checkable]}

    def _cells(self, r: LocalKeyResult) -> tuple:
        if r.verdict != "not checkable":
            return super()._cells(r)
        return super()._cells(replace(r, problem="-"))[:-1] + (f"not checkable (needs {', '.join(r.missing)})",)

    def _verdict_lines(self) -> list:
        n, skipped = len(self.results), [f"{r.key} (needs {', '.join(r.missing)})" for r in self.not_checkable]
        lines = ["local check: each key recomputed from the candidate's own upstream keys (teacher forcing)"]
        if self.ok:
            lines.append(f"PASS: all {n - len(skipped)} checkable keys agree with their recomputation.")
        else:
            failed = [r for r in self.results if r.verdict == "fail"]
            lines.append(f"FAIL: {len(failed)} of {n} keys out of tolerance; failing stages: "
                         f"{', '.join(self.failing_stages)}")
            lines += [f"  {self.describe_failure(r)}" for r in failed]
        if skipped:
            lines.append(f"not checkable locally: {'; '.join(skipped)}")
        return lines


def local_inputs(key: str, case) -> tuple:
    """The keys besides ``key`` whose candidate values the local recomputation of ``key`` reads.

    Parameters
    ----------
    key : str
        A SPEC §9 key, e.g. ``"U_tilde_1"`` (which reads ``("I_1", "S_1")``).
    case : Case
        Its layers, feedback, ``rho``, and whether an update happens (else ``W_k`` reads nothing).
    """
    stage, index = key_stage(key), int(key.rpartition("_")[2])
    network, updates = case.network, case.n_steps >= case.network.params.n_batch
    L = network.n_connections
    into_hidden = [f"W_{index}"] + [f"S_{index + 1}"] * (network.params.rho > 0) if index < L - 1 else []
    accumulator = [f"m_{index}", f"e_{index + 1}", f"lambda_{index}"] + into_hidden
    if stage == "e" and index < L:
        return (f"e_{index + 1}", f"W_{index}") if network.feedback == "symmetric" else (f"e_{L}",)
    needs = {
        "z": [f"S_{index}"] * (index > 0),
        "z_tilde": [f"z_{index}"],
        "I": [f"W_{index - 1}"] + [f"S_{index - 1}"] * (index > 1),
        "U_tilde": [f"I_{index}", f"S_{index}"],
        "S": [f"U_tilde_{index}"],
        "sigma_prime": [f"U_tilde_{index}"],
        "lambda": [f"sigma_prime_{index + 1}", f"z_tilde_{index}"],
        "e": [f"S_{L}"],
        "m": accumulator,
        "W": accumulator * updates,
        "v": [f"W_{index}"] + accumulator,
    }[stage]
    return tuple(dict.fromkeys(k for k in needs if k != key))


def _previous(x: np.ndarray) -> np.ndarray:
    """``x[n - 1]`` for every step ``n`` of a time-major array, 0 before step 0 (every initial trace is 0)."""
    return np.concatenate([np.zeros_like(x[:1]), x[:-1]])


def _batch_weights(case, own: dict, k: int, n: int) -> np.ndarray:
    """The candidate's ``W_k`` in effect during step ``n`` (after ``n // n_b`` updates)."""
    return own[f"W_{k}"][n // case.network.params.n_batch]


def _arriving(case, own: dict, k: int) -> np.ndarray:
    """``A_k[n] = S_k[n - n_d]`` (SPEC §2) of the candidate's spikes, or of the case's input for k = 0."""
    S_pre = case.task.input_block(0, case.n_steps) if k == 0 else own[f"S_{k}"]
    buffer = np.zeros((case.network.params.n_delay + 1, S_pre.shape[1]), dtype=bool)
    arriving = np.empty_like(S_pre, dtype=bool)
    for n in range(case.n_steps):
        buffer, arriving[n] = delay_step(buffer, S_pre[n], n)
    return arriving


def _before_step(case, own: dict, l: int) -> tuple:
    """``U_l[n-1]`` and ``r_l[n-1]`` for every step, rebuilt from the candidate's ``Ũ`` and ``S`` (eqs. (d), (e))."""
    state = lif_initial_state(own[f"S_{l}"].shape[1], case.network.params)
    U_V, r = state.U_V, state.r
    U_prev, r_prev = np.empty(own[f"S_{l}"].shape), np.empty(own[f"S_{l}"].shape, dtype=r.dtype)
    for n in range(case.n_steps):
        U_prev[n], r_prev[n] = U_V, r
        U_V, r = reset_step(own[f"U_tilde_{l}"][n], own[f"S_{l}"][n], r, case.network.params)
    return U_prev, r_prev


def _accumulated(case, own: dict, k: int, steps) -> np.ndarray:
    r"""``m_k`` after each step ``n`` of ``steps``, before a reset (SPEC §3, eq. 3.4).

    :math:`m[n-1] + e_i[n]\lambda_{ij}[n] - \rho w_{ij} zh_i[n]^a` with the candidate's
    ``m[n-1]``, ``e``, λ, ``w`` and spikes (of ``zh``).
    """
    p, hidden = case.network.params, k < case.network.n_connections - 1
    zh = np.zeros((case.n_steps + 1,) + own[f"e_{k + 1}"].shape[1:])   # zh[n + 1]: after step n
    if hidden and p.rho > 0:                           # zh of the candidate's own spikes (no delay)
        for n in range(case.n_steps):
            zh[n + 1] = het_trace_step(zh[n], own[f"S_{k + 1}"][n], p)
    m_prev = _previous(own[f"m_{k}"])
    return np.array([accumulate(m_prev[n], own[f"e_{k + 1}"][n], own[f"lambda_{k}"][n], p,
                                _batch_weights(case, own, k, n) if hidden else None, zh[n + 1]) for n in steps])


def _updates(case, own: dict, k: int) -> tuple:
    """``W_k`` (the case's initial weights first) and ``v_k`` after each update.

    Update ``j`` starts from the candidate's ``W_k[j-1]`` and ``v_k[j-2]`` (its own running ``v`` if
    the case does not record ``v``) with the accumulator of :func:`_accumulated`.
    """
    network, W_cand = case.network, own[f"W_{k}"]
    steps = case.network.params.n_batch * np.arange(1, len(W_cand)) - 1
    m = _accumulated(case, own, k, steps) if len(steps) else None   # no update: W_k[0] alone, nothing read
    W, v, v_prev = [network.weights[k]], [], np.zeros_like(network.weights[k])
    for j, n in enumerate(steps):
        w_j, v_j = connection_update(network, k, W_cand[j], m[j], v_prev, n)
        W.append(w_j)
        v.append(v_j)
        v_prev = own[f"v_{k}"][j] if f"v_{k}" in own else v_j
    return np.array(W), np.array(v).reshape((len(steps),) + W[0].shape)


def recompute(case, own: dict, key: str) -> np.ndarray:
    """Key ``key`` recomputed from the candidate's own keys, step by step (the equations of the module docstring).

    Parameters
    ----------
    case : Case
    own : dict of arrays
        The candidate's keys, paper convention, the case's shapes (spikes bool, the rest float64);
        it holds ``key`` and :func:`local_inputs` of it.
    key : str

    Returns
    -------
    array, the shape of ``own[key]``: what ``key`` should be, given the candidate's own upstream keys.
    """
    stage, index = key_stage(key), int(key.rpartition("_")[2])
    p, network, x = case.network.params, case.network, own[key]
    if stage == "z":
        return exp_trace_step(_previous(x), _arriving(case, own, index), p.decay(p.tau_syn_s))
    if stage == "z_tilde":
        return follow_step(_previous(x), own[f"z_{index}"], p.dt_s / p.tau_mem_s)
    if stage == "I":
        drive_V = [_batch_weights(case, own, index - 1, n) @ a for n, a in enumerate(_arriving(case, own, index - 1))]
        return current_step(_previous(x), np.array(drive_V).reshape(x.shape), p)
    if stage == "U_tilde":
        U_prev, r_prev = _before_step(case, own, index)
        return potential_step(U_prev, own[f"I_{index}"], r_prev, p)
    if stage == "S":
        return spike_step(own[f"U_tilde_{index}"], _before_step(case, own, index)[1], p)
    if stage == "sigma_prime":
        return surrogate_grad(own[f"U_tilde_{index}"], p.theta_V, p.beta_per_V, p.u_cut_V)
    return _recompute_learning(case, own, key)


def _recompute_learning(case, own: dict, key: str) -> np.ndarray:
    """:func:`recompute` for λ, e, m, W and v."""
    stage, index = key_stage(key), int(key.rpartition("_")[2])
    p, network, L = case.network.params, case.network, case.network.n_connections
    if stage == "lambda" or (stage == "e" and index == L):
        return _filtered(case, own, key)
    if stage == "e" and network.feedback == "symmetric":     # e_l = W_l.T e_{l+1}, from its own e_{l+1}
        return np.array([hidden_errors(own[f"e_{index + 1}"][n], (None, _batch_weights(case, own, index, n)),
                                       "symmetric", None)[0] for n in range(case.n_steps)])
    if stage == "e":
        return hidden_errors(own[f"e_{L}"], network.weights, network.feedback, network.feedback_matrices)[index - 1]
    if stage == "m":
        m = _accumulated(case, own, index, range(case.n_steps))
        m[p.n_batch - 1::p.n_batch] = 0.0                  # SPEC §9: m after the reset of an update step
        return m
    return _updates(case, own, index)[stage == "v"]


def _filtered(case, own: dict, key: str) -> np.ndarray:
    """λ_k or e_L: the second stage from the candidate's own step before, the first (rise) stage run on its inputs."""
    index, p = int(key.rpartition("_")[2]), case.network.params
    x_prev = _previous(own[key])
    out, rise = np.empty_like(x_prev), np.zeros(x_prev.shape[1:])
    if key_stage(key) == "lambda":
        for n in range(case.n_steps):
            rise, out[n] = eligibility_step(rise, x_prev[n], own[f"sigma_prime_{index + 1}"][n],
                                            own[f"z_tilde_{index}"][n], p)
    else:
        impulses = case.task.error_impulses(0, own[f"S_{index}"], case.task.initial_error_state())[0]
        for n in range(case.n_steps):
            rise, out[n] = error_step(rise, x_prev[n], impulses[n], p)
    return out


def local_results(case, candidate: dict, converted: dict, expected: dict, tolerances: dict, converters: dict) -> list:
    """Judge every key of ``tolerances`` against :func:`recompute`: pass, fail or not checkable.

    ``candidate`` holds the candidate's keys as given (a key missing or of a wrong shape fails, as
    in the global check), ``converted`` those that can be compared, in the paper convention;
    ``expected`` the reference's keys (for their shapes and dtypes only); ``tolerances`` and
    ``converters`` give per key ``(rtol, atol_scale)`` and the converter's accuracy, as for
    :func:`compare_key`. Only keys of ``tolerances`` (recorded, not skipped) are read as inputs.
    Returns a list of :class:`LocalKeyResult` in the order of ``tolerances``.
    """
    own = {k: _as_comparable(np.asarray(converted[k]), expected[k])[0] for k in tolerances if k in converted}
    n_batch, results = case.network.params.n_batch, []
    for key in tolerances:
        inputs = local_inputs(key, case)
        missing = tuple(k for k in inputs if k not in own)
        if key in own and missing:
            results.append(LocalKeyResult(key, key_stage(key), True, expected[key].shape, converter=converters[key],
                                          verdict="not checkable", inputs=inputs, missing=missing))
            continue
        reference = recompute(case, own, key) if key in own else expected[key]
        r = compare_key(key, converted.get(key, candidate.get(key)), reference, *tolerances[key], n_batch=n_batch,
                        converter=converters[key])
        results.append(LocalKeyResult(**vars(r), verdict="pass" if r.ok else "fail", inputs=inputs))
    return results
