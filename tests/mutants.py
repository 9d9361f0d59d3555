"""The mutation suite's implementation (issue P10 item 8): SPEC §2-§4 in float64, with planted misreadings.

:func:`simulate` is a compact NumPy implementation of SPEC §2-§4 written from SPEC alone. It takes
only the case's inputs from the package (:func:`superspike_ref.cases.load_case`: layers,
parameters, weights, feedback matrices, input and target rasters) and never calls an engine or a
derivation function of the package, so the kit is tested against code it did not write. Its
``mutation`` argument plants one realistic misreading of SPEC (:data:`MUTATIONS`); without one
it passes the kit.

:data:`MUTATIONS` also declares, per mutation, the stage where the bug lives: the stage that
``validate(..., local=True)`` must name among its failing stages. ``tests/test_mutations.py``
checks every row; ``scripts/mutation_table.py`` prints the table of ``docs/validation.md`` §16.

The suite runs on one case, :func:`write_suite_case`: the arrays of the golden case
``two-layer-dw-symmetric`` (layers 5-3-2, 150 steps, symmetric feedback, RMaxProp) with an update
every 50 steps: three updates, so that the optimiser's memory and the feedback's following of the
weights matter. One initial weight (``W0_0[0, 4]``) sits at ``w_max``, so clipping matters too.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from superspike_ref.cases import load_case

CASES = Path(__file__).parent / "data" / "cases"
BASE_CASE = "two-layer-dw-symmetric"
SUITE_CASE = "mutation-suite"
SUITE_PARAMS = {"t_batch_s": 0.005}
"""How the suite case differs from ``two-layer-dw-symmetric``: an update every n_b = 50 steps (not 150)."""


@dataclass(frozen=True)
class Mutation:
    """One misreading of SPEC: what it gets wrong, the SPEC clause, the stage where it lives."""

    misreads: str
    spec: str
    stage: str


MUTATIONS = {
    "no-delay": Mutation("axonal delay left out (`A[n] = S[n]`)", "§2", "z"),
    "delay-one-late": Mutation("delay one step too long (`n_d + 1`)", "§2", "z"),
    "current-tau-mem": Mutation("synaptic current decays with τ_mem instead of τ_syn", "§2 (a)", "I"),
    "reset-to-zero": Mutation("reset and refractory clamp at 0 V instead of u_rest", "§2 (b), (d)", "U_tilde"),
    "refractory-short": Mutation("refractory period one step short (`n_ref - 1`)", "§2 (e)", "U_tilde"),
    "psp-single-exp": Mutation("PSP trace z̃ without its second stage (z̃ = z)", "§3", "z_tilde"),
    "surrogate-after-reset": Mutation("σ′ evaluated at U after the reset, not at Ũ", "§3", "sigma_prime"),
    "surrogate-no-square": Mutation("σ′ = 1/(1 + β·abs(Ũ - θ)), square missing", "§3", "sigma_prime"),
    "eligibility-swapped": Mutation("λ's kernel with τ_rise and τ_decay swapped", "§3", "lambda"),
    "error-sign": Mutation("output error of S - Ŝ (sign flipped)", "§3", "e"),
    "feedback-frozen": Mutation("symmetric feedback stays at the initial weights", "§3, §4", "e"),
    "accumulator-lag": Mutation("accumulator pairs e[n] with λ[n-1]", "§3", "m"),
    "gradient-not-averaged": Mutation("g = m, not m / n_b", "§4", "v"),
    "rmaxprop-sum": Mutation("RMaxProp with max replaced by sum (`v = γv + g²`)", "§4", "v"),
    "no-clip": Mutation("weights not clipped to [w_min, w_max]", "§4", "W"),
}
"""Every mutation of :func:`simulate`: name -> :class:`Mutation`."""


def write_suite_case(dest) -> Path:
    """Write the suite's SPEC §9 case into ``dest/mutation-suite`` and return its directory.

    Parameters
    ----------
    dest : path
        An existing folder (a temporary one: the case is not a golden case).

    Returns
    -------
    Path
        The case directory: ``case.json`` (that of ``two-layer-dw-symmetric`` with
        :data:`SUITE_PARAMS`) and a copy of its ``arrays.npz``.
    """
    out = Path(dest) / SUITE_CASE
    out.mkdir(parents=True, exist_ok=True)
    spec = json.loads((CASES / BASE_CASE / "case.json").read_text())
    spec.update(name=SUITE_CASE, params={**spec["params"], **SUITE_PARAMS})
    (out / "case.json").write_text(json.dumps(spec, indent=2))
    (out / "arrays.npz").write_bytes((CASES / BASE_CASE / "arrays.npz").read_bytes())
    return out


def _constants(p, mutation) -> dict:
    """Step counts and per-step factors of SPEC §1-§3 (with the mutation's changes)."""
    steps = lambda t_s: int(round(t_s / p.dt_s))
    n_d = {"no-delay": 0, "delay-one-late": steps(p.delay_s) + 1}.get(mutation, steps(p.delay_s))
    rise, decay = (p.tau_decay_s, p.tau_rise_s) if mutation == "eligibility-swapped" else (p.tau_rise_s, p.tau_decay_s)
    return {
        "n_d": n_d, "n_ref": steps(p.t_ref_s) - (mutation == "refractory-short"), "n_b": steps(p.t_batch_s),
        "d_syn": math.exp(-p.dt_s / p.tau_syn_s), "k_mem": p.dt_s / p.tau_mem_s,
        "d_I": math.exp(-p.dt_s / (p.tau_mem_s if mutation == "current-tau-mem" else p.tau_syn_s)),
        "reset": 0.0 if mutation == "reset-to-zero" else p.u_rest_V,
        "d_err": math.exp(-p.dt_s / p.tau_rise_s), "k_err": p.dt_s / p.tau_decay_s,
        "d_lam": math.exp(-p.dt_s / rise), "k_lam": p.dt_s / decay,
        "d_het": math.exp(-p.dt_s / p.tau_het_s), "gamma": math.exp(-p.t_batch_s / p.tau_rms_s),
    }


def _surrogate(U_V, p, mutation) -> np.ndarray:
    """σ′ (SPEC §3) of the potential ``U_V`` (Ũ, or U after the reset for that mutation)."""
    x = 1.0 + p.beta_per_V * np.abs(U_V - p.theta_V)
    sp = 1.0 / x if mutation == "surrogate-no-square" else 1.0 / x**2
    return sp if p.u_cut_V is None else np.where(U_V < p.u_cut_V, 0.0, sp)


def _layer_step(s: dict, k: int, A, w, p, c, mutation) -> dict:
    """SPEC §2 (a)-(e), the PSP traces, σ′ and λ of connection ``k`` and its LIF layer; returns its row."""
    s["z"][k] = c["d_syn"] * s["z"][k] + A
    follow = s["zt"][k] + c["k_mem"] * (s["z"][k] - s["zt"][k])
    s["zt"][k] = s["z"][k].copy() if mutation == "psp-single-exp" else follow
    s["I"][k] = c["d_I"] * s["I"][k] + w @ A
    r, U = s["r"][k], s["U"][k]
    U_tilde = np.where(r > 0, c["reset"], U + c["k_mem"] * (p.u_rest_V - U + s["I"][k]))
    S = (r == 0) & (U_tilde > p.theta_V)
    s["U"][k] = np.where(S, c["reset"], U_tilde)
    s["r"][k] = np.where(S, c["n_ref"], np.maximum(r - 1, 0))
    sp = _surrogate(s["U"][k] if mutation == "surrogate-after-reset" else U_tilde, p, mutation)
    s["lam_prev"][k] = s["lam"][k].copy()
    s["rise"][k] = c["d_lam"] * s["rise"][k] + np.outer(sp, s["zt"][k])
    s["lam"][k] = s["lam"][k] + c["k_lam"] * (s["rise"][k] - s["lam"][k])
    return {"S": S, "I": s["I"][k].copy(), "U_tilde": U_tilde, "sigma_prime": sp, "z": s["z"][k].copy(),
            "z_tilde": s["zt"][k].copy(), "lambda": s["lam"][k].copy()}


def _errors(s: dict, S_out, target, net, c, mutation) -> list:
    """Output error (SPEC §3) and the hidden errors of every layer, first layer first."""
    impulses = S_out.astype(float) - target if mutation == "error-sign" else target - S_out.astype(float)
    s["e_rise"] = c["d_err"] * s["e_rise"] + impulses
    s["e"] = s["e"] + c["k_err"] * (s["e_rise"] - s["e"])
    errors = [s["e"].copy()]
    for l in range(len(s["W"]) - 1, 0, -1):                # e_l of hidden layer l, fed back from above
        if net.feedback == "symmetric":
            W = net.weights[l] if mutation == "feedback-frozen" else s["W"][l]
            errors.insert(0, W.T @ errors[0])
        else:
            errors.insert(0, net.feedback_matrices[l - 1].T @ s["e"])
    return errors


def _accumulate(s: dict, errors: list, hidden_spikes: list, p, mutation) -> None:
    """``m += e λ`` (SPEC §3), minus the heterosynaptic term of hidden weights if ``rho > 0``."""
    for k, e in enumerate(errors):
        lam = s["lam_prev"][k] if mutation == "accumulator-lag" else s["lam"][k]
        s["m"][k] = s["m"][k] + e[:, None] * lam
        if k < len(errors) - 1 and p.rho > 0:
            s["zh"][k] = s["c"]["d_het"] * s["zh"][k] + hidden_spikes[k]
            s["m"][k] = s["m"][k] - p.rho * s["W"][k] * (s["zh"][k] ** p.a)[:, None]


def _update(s: dict, n: int, net, c, mutation) -> None:
    """SPEC §4 at the end of step ``n``: optimiser, schedule, burn-in, clipping, ``m = 0``."""
    p, t_s = net.params, n * net.params.dt_s
    rate = p.r0 * ([1.0] + [f for time_s, f in net.schedule if time_s <= t_s])[-1]
    for k, m in enumerate(s["m"]):
        g = m if mutation == "gradient-not-averaged" else m / c["n_b"]
        if net.optimizer == "rmaxprop":
            kept = c["gamma"] * s["v"][k]
            s["v"][k] = kept + g**2 if mutation == "rmaxprop-sum" else np.maximum(kept, g**2)
        elif net.optimizer == "rmsprop":
            s["v"][k] = c["gamma"] * s["v"][k] + (1 - c["gamma"]) * g**2
        step = rate * g if net.optimizer == "fixed" else rate * g / (np.sqrt(s["v"][k]) + p.eps)
        if t_s >= net.t_burn_s:
            w = s["W"][k] + step
            s["W"][k] = w if mutation == "no-clip" else np.clip(w, p.w_min_V, p.w_max_V)
        s["m"][k] = np.zeros_like(m)


def _initial_state(net, c) -> dict:
    """Every state of SPEC §2-§4 at the start: ``I = 0``, ``U = u_rest``, ``r = 0``, traces 0."""
    sizes, W = net.layers, [w.copy() for w in net.weights]
    zeros = lambda shapes: [np.zeros(shape) for shape in shapes]
    return {"c": c, "W": W, "I": zeros(sizes[1:]), "U": [np.full(n, net.params.u_rest_V) for n in sizes[1:]],
            "r": [np.zeros(n, int) for n in sizes[1:]], "z": zeros(sizes[:-1]), "zt": zeros(sizes[:-1]),
            "rise": zeros([w.shape for w in W]), "lam": zeros([w.shape for w in W]),
            "lam_prev": zeros([w.shape for w in W]), "m": zeros([w.shape for w in W]),
            "v": zeros([w.shape for w in W]), "e_rise": np.zeros(sizes[-1]), "e": np.zeros(sizes[-1]),
            "zh": zeros(sizes[1:-1])}


def simulate(case_dir, mutation: str | None = None) -> dict:
    """Run a SPEC §9 case (cyclic task) and return the SPEC §9 traces it records.

    Parameters
    ----------
    case_dir : path
        A SPEC §9 case; only its inputs are read (:func:`~superspike_ref.cases.load_case`).
    mutation : str or None
        One key of :data:`MUTATIONS` (the misreading to plant), or None for SPEC as written.

    Returns
    -------
    dict
        ``<name>_<l or k>`` -> array for every name ``case.json`` records (SPEC §9 shapes; ``W``
        with the initial weights first, ``v`` after each update).
    """
    if mutation is not None and mutation not in MUTATIONS:
        raise ValueError(f"unknown mutation {mutation!r}; known: {sorted(MUTATIONS)}")
    case = load_case(case_dir)
    net, task = case.network, case.task
    c = _constants(net.params, mutation)
    s, L, sizes = _initial_state(net, c), len(net.layers) - 1, net.layers
    spikes = [np.zeros((case.n_steps, n), bool) for n in sizes]       # every layer's spikes, input first
    rows = {name: [[] for _ in range(L)] for name in ("S", "I", "U_tilde", "sigma_prime", "z", "z_tilde",
                                                       "lambda", "e", "m")}
    W_rec, v_rec = [[w.copy()] for w in s["W"]], [[] for _ in range(L)]
    for n in range(case.n_steps):
        spikes[0][n] = task.input[n % len(task.input)]
        for k in range(L):
            A = spikes[k][n - c["n_d"]].astype(float) if n >= c["n_d"] else np.zeros(sizes[k])
            row = _layer_step(s, k, A, s["W"][k], net.params, c, mutation)
            spikes[k + 1][n] = row["S"]
            for name, x in row.items():
                rows[name][k].append(x)
        errors = _errors(s, spikes[L][n], task.target[n % len(task.target)], net, c, mutation)
        _accumulate(s, errors, [spikes[l][n].astype(float) for l in range(1, L)], net.params, mutation)
        if (n + 1) % c["n_b"] == 0:
            _update(s, n, net, c, mutation)
            for k in range(L):
                W_rec[k].append(s["W"][k].copy())
                v_rec[k].append(s["v"][k].copy())
        for k in range(L):
            rows["e"][k].append(errors[k])
            rows["m"][k].append(s["m"][k].copy())
    return _traces(case, rows, W_rec, v_rec)


def _traces(case, rows: dict, W_rec: list, v_rec: list) -> dict:
    """The recorded rows as SPEC §9 keys (layers from 1, connections from 0), only those the case records."""
    per_layer = ("S", "I", "U_tilde", "sigma_prime", "e")
    out = {f"{name}_{k + (name in per_layer)}": np.array(per_step) for name, lists in rows.items()
           for k, per_step in enumerate(lists)}
    for k, (W, v) in enumerate(zip(W_rec, v_rec)):
        out[f"W_{k}"] = np.array(W)
        out[f"v_{k}"] = np.array(v).reshape((len(v),) + W[0].shape)
    return {key: x for key, x in out.items() if key.rpartition("_")[0] in case.record}


# --------------------------------------------------------------------------------------
# the kit run on every mutant: the table of docs/validation.md §16
# --------------------------------------------------------------------------------------

TABLE_HEADER = ("| mutation | what it misreads | SPEC | first failing key (global) | first failing stage (global) "
                "| stages named by `--local` | caught |\n|---|---|---|---|---|---|---|")


def kit_verdicts(case_dir, mutation: str | None) -> dict:
    """Run the kit (global and ``--local``) on :func:`simulate`'s traces with ``mutation``.

    Returns
    -------
    dict
        ``global_ok``, ``first_key``, ``first_step``, ``first_stage`` (None if the global check
        passes), ``local_ok`` and ``local_stages`` (the local report's failing stages).
    """
    from superspike_ref.validation import validate

    traces = simulate(case_dir, mutation)
    whole, local = validate(traces, case_dir), validate(traces, case_dir, local=True)
    first = whole.first_failure
    return {"global_ok": whole.ok, "first_key": None if first is None else first.key,
            "first_step": None if first is None else first.first_step,
            "first_stage": None if first is None else first.stage,
            "local_ok": local.ok, "local_stages": local.failing_stages}


def _row(name: str, m: Mutation | None, verdict: dict) -> str:
    """One Markdown row of :func:`mutation_table`."""
    if m is None:
        status = "passes both (as it must)" if verdict["global_ok"] and verdict["local_ok"] else "**FAILS**"
        return f"| none | SPEC as written | - | - | - | - | {status} |"
    caught = not verdict["global_ok"] and m.stage in verdict["local_stages"]
    first = f"`{verdict['first_key']}` at step {verdict['first_step']}" if verdict["first_key"] else "- (passes)"
    local = ", ".join(f"`{s}`" for s in verdict["local_stages"]) or "- (passes)"
    return (f"| `{name}` | {m.misreads} | {m.spec} | {first} | `{verdict['first_stage']}` | {local} | "
            f"{'yes' if caught else '**NO**'} |")


def mutation_table(case_dir) -> str:
    """The Markdown table of every mutation (and none) on ``case_dir``, from actually running the kit.

    A mutant is caught if the global check fails and ``--local`` names the stage :data:`MUTATIONS`
    declares for it. ``W`` and ``v`` failures are reported at the step that ends the update.
    """
    rows = [_row("none", None, kit_verdicts(case_dir, None))]
    rows += [_row(name, m, kit_verdicts(case_dir, name)) for name, m in MUTATIONS.items()]
    return "\n".join([TABLE_HEADER, *rows])
