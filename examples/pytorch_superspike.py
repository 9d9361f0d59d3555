r"""SuperSpike in PyTorch, written from SPEC alone, and validated by the kit (docs/validation.md §12).

Two computations on one SPEC §9 case, in ``float32`` or ``float64``:

1. **The online rule** (SPEC §2-§4): LIF layers, the traces ``z``, ``z̃``, ``λ``, the error ``e``,
   the accumulator ``m`` and the weight updates, step by step; every trace the case records,
   under its SPEC §9 key.
2. **BPTT with the surrogate gradient** (for a gradient case, ``"gradient"`` in ``case.json``): the
   van Rossum loss of the first ``window_steps`` steps, ``L = (dt/2) Σ_n Σ_i e_i[n]²``, with the
   initial weights, differentiated by ``torch.autograd``. The spike is a Heaviside step whose
   backward pass is ``σ′(Ũ)`` (straight-through, at the potential *before* the reset). The case's
   ``variant`` says what carries no gradient: ``"free"``, the reset and the refractory clamp
   (``∂U/∂Ũ = 1``, ``∂Ũ/∂(U, I)`` as if never refractory), or ``"detached_reset"``, the spike in the
   reset (``∂U/∂Ũ = 1 - S``) with the refractory clamp constant (``∂Ũ/∂(U, I) = 0`` while
   refractory). The gradients are written as ``dL_dW_<k>`` (s/V).

Nothing here imports ``superspike_ref``: the model is independent of the reference, and only
the kit's command line judges it::

    python examples/pytorch_superspike.py tests/data/cases/gradient-free --dtype float64 --out t64.npz
    python -m superspike_ref validate t64.npz --against tests/data/cases/gradient-free
    python examples/pytorch_superspike.py tests/data/cases/gradient-free --dtype float32 --out t32.npz
    python -m superspike_ref validate t32.npz --against tests/data/cases/gradient-free --precision float32

Supported: every feedback (symmetric, random, uniform), optimiser (rmaxprop, rmsprop, fixed),
schedule, burn-in and the regulariser; not the XOR task nor the error gate (``e_gate``).
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch

DEFAULTS = dict(dt_s=1e-4, tau_mem_s=10e-3, tau_syn_s=5e-3, u_rest_V=-60e-3, theta_V=-50e-3, t_ref_s=5e-3,
                delay_s=0.8e-3, tau_rise_s=5e-3, tau_decay_s=10e-3, beta_per_V=1e3, u_cut_V=None, t_batch_s=0.5,
                r0=1e-3, tau_rms_s=30.0, eps=1e-12, w_min_V=-0.1, w_max_V=0.1, rho=0.0, a=4.0, tau_het_s=0.1,
                e_gate=0.0)
"""SPEC §1's parameters; a case's ``params`` override them."""

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def read_case(case_dir) -> tuple:
    """``(spec, P, arrays)``: ``case.json``, its parameters over the defaults, ``arrays.npz``."""
    spec = json.loads((Path(case_dir) / "case.json").read_text())
    P = {**DEFAULTS, **spec.get("params", {})}
    if spec.get("task", "cyclic") != "cyclic" or P["e_gate"] != 0:
        raise SystemExit("this example runs cyclic tasks without the error gate (e_gate = 0)")
    with np.load(Path(case_dir) / "arrays.npz") as f:
        arrays = {k: f[k] for k in f.files}
    steps = {name: int(round(P[f"{name}_s"] / P["dt_s"])) for name in ("t_ref", "delay", "t_batch")}
    P.update(n_ref=steps["t_ref"], n_d=steps["delay"], n_b=steps["t_batch"], **factors(P))
    return spec, P, arrays


def surrogate(U_tilde, P):
    """σ′(Ũ) = 1 / (1 + β|Ũ − ϑ|)², 0 where Ũ < u_cut (if set): the paper's convention, peak 1."""
    sigma = 1.0 / (1.0 + P["beta_per_V"] * torch.abs(U_tilde - P["theta_V"])) ** 2
    return sigma if P["u_cut_V"] is None else torch.where(U_tilde < P["u_cut_V"], 0.0, sigma)


class SpikeFn(torch.autograd.Function):
    """``S = gate · (Ũ > ϑ)`` forward; ``∂S/∂Ũ := σ′(Ũ)`` backward (not gated: SPEC §3's σ′ at every step)."""

    @staticmethod
    def forward(ctx, U_tilde, gate, P):
        ctx.save_for_backward(U_tilde)
        ctx.P = P
        return ((U_tilde > P["theta_V"]) & gate).to(U_tilde.dtype)

    @staticmethod
    def backward(ctx, grad_S):
        (U_tilde,) = ctx.saved_tensors
        return grad_S * surrogate(U_tilde, ctx.P), None, None


def detached(value, tangent):
    """``value`` forward, the derivative of ``tangent`` backward (``tangent - tangent.detach()`` is exactly 0)."""
    return value.detach() + (tangent - tangent.detach())


def lif_step(state, drive, P, variant=None):
    """One step of a LIF layer (SPEC §2 a-e): ``(new_state, Ũ, S)``; ``state = (I, U, r)``.

    ``variant`` ``None`` (the online rule, no graph), ``"free"`` or ``"detached_reset"`` (what the
    gradient leaves out, module docstring).
    """
    I, U, r = state
    I = P["d_syn"] * I + drive
    membrane = U + P["k_mem"] * (P["u_rest_V"] - U + I)
    gate = r == 0
    U_tilde = torch.where(gate, membrane, torch.full_like(membrane, P["u_rest_V"]))
    if variant == "free":
        U_tilde = detached(U_tilde, membrane)
    S = SpikeFn.apply(U_tilde, gate, P)
    spiked = S.detach() > 0
    U = torch.where(spiked, torch.full_like(U_tilde, P["u_rest_V"]), U_tilde)
    if variant == "free":
        U = detached(U, U_tilde)
    r = torch.where(spiked, P["n_ref"], torch.clamp(r - 1, min=0))
    return (I, U, r), U_tilde, S


def factors(P) -> dict:
    """The per-step factors: decays ``exp(−dt/τ)`` of the traces, rates ``dt/τ`` of the followers, γ."""
    exp = lambda tau: math.exp(-P["dt_s"] / tau)  # noqa: E731
    return {"d_syn": exp(P["tau_syn_s"]), "k_mem": P["dt_s"] / P["tau_mem_s"], "d_rise": exp(P["tau_rise_s"]),
            "k_decay": P["dt_s"] / P["tau_decay_s"], "d_het": exp(P["tau_het_s"]),
            "gamma": math.exp(-P["t_batch_s"] / P["tau_rms_s"])}


def network_forward(W, inputs, P, n_steps, dtype, variant=None, step_hook=None):
    """Run the LIF layers for ``n_steps`` steps; per step ``step_hook(n, A, I, U_tilde, S)`` (lists per layer).

    ``W`` may change inside the hook (the online rule's updates). Returns the output spikes per step.
    """
    sizes = [W[0].shape[1]] + [w.shape[0] for w in W]
    state = [(torch.zeros(n, dtype=dtype), torch.full((n,), P["u_rest_V"], dtype=dtype),
              torch.zeros(n, dtype=torch.long)) for n in sizes[1:]]
    emitted = [[] for _ in W]                                       # spikes of each connection's presynaptic layer
    outputs = []
    for n in range(n_steps):
        pre = torch.as_tensor(inputs[n % inputs.shape[0]], dtype=dtype)
        A_all, I_all, U_all, S_all = [], [], [], []
        for k, w in enumerate(W):
            emitted[k].append(pre)
            A = emitted[k][n - P["n_d"]] if n >= P["n_d"] else torch.zeros(sizes[k], dtype=dtype)
            state[k], U_tilde, pre = lif_step(state[k], w @ A, P, variant)
            A_all.append(A), I_all.append(state[k][0]), U_all.append(U_tilde), S_all.append(pre)
        outputs.append(pre)
        if step_hook is not None:
            step_hook(n, A_all, I_all, U_all, S_all)
    return outputs


def error_filter(target, outputs, P, dtype) -> list:
    """``e = K * (Ŝ − S_L)``: an exponential trace (τ_rise), then an Euler follower (τ_decay)."""
    rise = e = torch.zeros(outputs[0].shape[0], dtype=dtype)
    errors = []
    for n, S in enumerate(outputs):
        rise = P["d_rise"] * rise + (torch.as_tensor(target[n % target.shape[0]], dtype=dtype) - S)
        e = e + P["k_decay"] * (rise - e)
        errors.append(e)
    return errors


def bptt_gradients(spec, P, arrays, dtype) -> dict:
    """``dL_dW_<k>``: autograd through the window's loss ``(dt/2) Σ e²`` with the case's variant."""
    window, variant = spec["gradient"]["window_steps"], spec["gradient"]["variant"]
    W = [torch.tensor(arrays[f"W0_{k}"], dtype=dtype, requires_grad=True) for k in range(len(spec["layers"]) - 1)]
    outputs = network_forward(W, arrays["input"], P, window, dtype, variant)
    errors = error_filter(arrays["target"], outputs, P, dtype)
    loss = 0.5 * P["dt_s"] * torch.stack(errors).pow(2).sum()
    loss.backward()
    return {f"dL_dW_{k}": w.grad.numpy() for k, w in enumerate(W)}


class OnlineRule:
    """SuperSpike's online rule (SPEC §3-§4) as a ``step_hook`` of :func:`network_forward`; records SPEC §9 traces."""

    def __init__(self, spec, P, arrays, dtype):
        L = len(spec["layers"]) - 1
        self.spec, self.P, self.L, self.dtype = spec, P, L, dtype
        self.W = [torch.tensor(arrays[f"W0_{k}"], dtype=dtype) for k in range(L)]
        self.B = [torch.tensor(arrays[f"B_{l}"], dtype=dtype) if f"B_{l}" in arrays else None for l in range(1, L)]
        zeros = lambda shape: torch.zeros(shape, dtype=dtype)  # noqa: E731
        self.z, self.zt = [zeros(w.shape[1]) for w in self.W], [zeros(w.shape[1]) for w in self.W]
        self.lam_rise, self.lam = [zeros(w.shape) for w in self.W], [zeros(w.shape) for w in self.W]
        self.m, self.v = [zeros(w.shape) for w in self.W], [zeros(w.shape) for w in self.W]
        self.zh = [zeros(w.shape[0]) for w in self.W]
        self.e_rise, self.e = zeros(self.W[-1].shape[0]), zeros(self.W[-1].shape[0])
        self.target = arrays["target"]
        self.rows = {}
        self.updates = {"W": [[w.clone()] for w in self.W], "v": [[] for _ in self.W]}

    def record(self, name, index, value):
        self.rows.setdefault(f"{name}_{index}", []).append(value.clone())

    def __call__(self, n, A, I, U_tilde, S):
        P = self.P
        for k in range(self.L):
            self.z[k] = P["d_syn"] * self.z[k] + A[k]
            self.zt[k] = self.zt[k] + P["k_mem"] * (self.z[k] - self.zt[k])
            sigma = surrogate(U_tilde[k], P)
            self.lam_rise[k] = P["d_rise"] * self.lam_rise[k] + torch.outer(sigma, self.zt[k])
            self.lam[k] = self.lam[k] + P["k_decay"] * (self.lam_rise[k] - self.lam[k])
            for name, value in (("z", self.z[k]), ("z_tilde", self.zt[k]), ("lambda", self.lam[k])):
                self.record(name, k, value)
            for name, value in (("I", I[k]), ("U_tilde", U_tilde[k]), ("S", S[k]), ("sigma_prime", sigma)):
                self.record(name, k + 1, value)
        errors = self.learning_signals(S[-1], n)
        for k in range(self.L):
            self.record("e", k + 1, errors[k])
            self.m[k] += errors[k][:, None] * self.lam[k]
            if k < self.L - 1 and P["rho"] > 0:             # heterosynaptic regulariser (SPEC §3)
                self.zh[k] = P["d_het"] * self.zh[k] + S[k]
                self.m[k] -= P["rho"] * self.W[k] * (self.zh[k] ** P["a"])[:, None]
        if (n + 1) % P["n_b"] == 0:
            self.update(n * P["dt_s"])
        for k in range(self.L):
            self.record("m", k, self.m[k])

    def learning_signals(self, output, n) -> list:
        """``e_L = K * (Ŝ − S_L)``; hidden ``e_l = e_{l+1} W_{l}`` (symmetric) or ``e_L B_l`` (random, uniform)."""
        P, target = self.P, torch.as_tensor(self.target[n % self.target.shape[0]], dtype=self.dtype)
        self.e_rise = P["d_rise"] * self.e_rise + (target - output)
        self.e = self.e + P["k_decay"] * (self.e_rise - self.e)
        errors = [None] * self.L
        errors[-1] = self.e
        for l in range(self.L - 2, -1, -1):
            errors[l] = errors[l + 1] @ self.W[l + 1] if self.spec["feedback"] == "symmetric" else self.e @ self.B[l]
        return errors

    def update(self, t_s):
        """SPEC §4 at the end of a batch: ``g = m/n_b``, the optimiser, clipping (not in burn-in), ``m ← 0``."""
        P, kind = self.P, self.spec["optimizer"]
        rate = P["r0"] * next((f for t0, f in reversed(self.spec.get("schedule", [])) if t0 <= t_s), 1.0)
        for k in range(self.L):
            g = self.m[k] / P["n_b"]
            if kind == "rmaxprop":
                self.v[k] = torch.maximum(P["gamma"] * self.v[k], g**2)
            elif kind == "rmsprop":
                self.v[k] = P["gamma"] * self.v[k] + (1 - P["gamma"]) * g**2
            step = rate * g if kind == "fixed" else rate * g / (torch.sqrt(self.v[k]) + P["eps"])
            if t_s >= self.spec.get("t_burn_s", 0.0):
                self.W[k].copy_(torch.clamp(self.W[k] + step, P["w_min_V"], P["w_max_V"]))
            self.m[k] = torch.zeros_like(self.m[k])
            self.updates["W"][k].append(self.W[k].clone())
            self.updates["v"][k].append(self.v[k].clone())

    def traces(self) -> dict:
        """The recorded traces as NumPy arrays (spikes bool), SPEC §9 keys."""
        out = {key: torch.stack(rows).numpy() for key, rows in self.rows.items()}
        out.update({key: out[key].astype(bool) for key in out if key.startswith("S_")})
        for name, per_k in self.updates.items():
            for k, values in enumerate(per_k):
                shape = (len(values),) + tuple(self.W[k].shape)
                out[f"{name}_{k}"] = torch.stack(values).numpy() if values else np.zeros(shape, np.float32)
        return out


def online_traces(spec, P, arrays, dtype) -> dict:
    """Run the online rule over the case's ``n_steps``; the traces the case records."""
    rule = OnlineRule(spec, P, arrays, dtype)
    with torch.no_grad():
        network_forward(rule.W, arrays["input"], P, spec["n_steps"], dtype, step_hook=rule)
    traces = rule.traces()
    return {key: value for key, value in traces.items() if key.rpartition("_")[0] in spec["record"]}


def main(argv=None) -> None:
    """``python examples/pytorch_superspike.py CASE_DIR --dtype float32 --out traces.npz``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("case_dir")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float64")
    parser.add_argument("--out", required=True, help="the candidate's traces (.npz)")
    args = parser.parse_args(argv)
    spec, P, arrays = read_case(args.case_dir)
    dtype = DTYPES[args.dtype]
    traces = online_traces(spec, P, arrays, dtype)
    if "gradient" in spec:
        traces.update(bptt_gradients(spec, P, arrays, dtype))
    np.savez(args.out, **traces)
    print(f"wrote {len(traces)} traces ({args.dtype}) to {args.out}")


if __name__ == "__main__":
    main()
