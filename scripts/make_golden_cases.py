"""Generate the golden cases of the validation kit (docs/validation.md) into ``tests/data/cases``.

    python scripts/make_golden_cases.py            # (re)write tests/data/cases
    python scripts/make_golden_cases.py --out DIR  # somewhere else
    python scripts/make_golden_cases.py --check    # regenerate into a temporary folder, compare

Two kinds of directory are written, each small:

* **golden vectors** (``golden.json`` + ``arrays.npz`` inputs + ``expected.npz`` outputs): σ′ on a
  voltage grid in each convention, kernel impulse responses, van Rossum errors and distances of
  canonical spike-train pairs. Their expected values come from the library functions named in
  ``golden.json`` (:func:`compute_vector` recomputes them from the inputs).
* **SPEC §9 cases** (``case.json`` + ``arrays.npz`` + ``expected.npz``): a one-synapse eligibility
  trace, one weight update of a two-layer network for each feedback type, and a short training
  run. ``expected.npz`` holds the literal engine's traces.

Every directory also gets CSV mirrors of its arrays (``csv/arrays``, ``csv/expected``, one file per
array with an ``index.json``) and, for §9 cases, ``.ras`` spike files (``ras/id0``, ``ras/id1``). A
``MANIFEST.sha256`` lists the sha256 of every file. Everything is deterministic: the same code
writes the same bytes.
"""
from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from superspike_ref import conventions, filters
from superspike_ref.error import van_rossum_error, vr_distance
from superspike_ref.params import Params
from superspike_ref.surrogate import surrogate_grad, surrogate_grad_auryn
from superspike_ref.validation import (
    CASE_FORMAT,
    GOLDEN_FORMAT,
    export_case_ras,
    export_traces_ras,
    run_case,
    save_npz,
    write_csv_dir,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "data" / "cases"
SEED = 2018
ALL_TRACES = ["U_tilde", "S", "I", "z", "z_tilde", "sigma_prime", "e", "lambda", "m", "W", "v"]


# ----------------------------------------------------------------------------------------
# golden vectors
# ----------------------------------------------------------------------------------------

def _vector_specs() -> dict:
    """name -> (golden.json content, inputs)."""
    p = Params()
    specs = {}

    grid = np.round(np.linspace(-90e-3, -40e-3, 501), 12)
    specs["surrogate-grid"] = (
        {
            "description": "sigma' on a voltage grid (-90 mV .. -40 mV, 0.1 mV) in each convention (SPEC §3, §5)",
            "params": {"theta_V": p.theta_V, "beta_per_V": p.beta_per_V, "u_cut_V_auryn_genn": -80e-3},
            "computed_by": {
                "sigma_prime_paper": "surrogate.surrogate_grad(U_tilde_V, theta_V, beta_per_V)",
                "sigma_prime_paper_ucut": "surrogate.surrogate_grad(U_tilde_V, theta_V, beta_per_V, u_cut_V=-80e-3)",
                "sigma_prime_auryn": "surrogate.surrogate_grad_auryn(U_tilde_V, theta_V, beta_per_V) (beta*sigma', cut -80 mV)",
                "sigma_prime_genn": "GeNN: beta/(1 + |0.001*beta*(U_mV - theta_mV)|)**2, 0 below -80 mV (= beta*sigma')",
            },
        },
        {"U_tilde_V": grid, "U_tilde_mV": 1e3 * grid},
    )

    n = 800
    impulse = np.zeros(n)
    impulse[0] = 1.0
    specs["kernel-impulse-responses"] = (
        {
            "description": "impulse responses (unit impulse at step 0, 800 steps) of the filters of SPEC §3",
            "params": {k: getattr(p, k) for k in ("dt_s", "tau_syn_s", "tau_mem_s", "tau_rise_s", "tau_decay_s")},
            "computed_by": {
                "exp_trace_syn": "filters.exp_trace(impulse, tau_syn_s): y[n] = exp(-dt/tau) y[n-1] + x[n]",
                "follow_mem": "filters.follow(impulse, tau_mem_s): y[n] = y[n-1] + dt/tau (x[n] - y[n-1])",
                "psp_kernel": "filters.double_exp(impulse, tau_syn_s, tau_mem_s): z_tilde of one spike",
                "error_kernel": "filters.double_exp(impulse, tau_rise_s, tau_decay_s): K, e and lambda (paper)",
                "error_kernel_auryn": "conventions.error_to_auryn(error_kernel): the original code's error kernel",
                "error_kernel_genn": "error_kernel / max(error_kernel): unit peak (genn convention)",
            },
        },
        {"impulse": impulse},
    )

    n = 600
    pairs = [  # name, target steps, output steps
        ("identical", [200], [200]),
        ("missing", [200], []),
        ("extra", [], [200]),
        ("shift_1ms", [200], [210]),
        ("shift_5ms", [200], [250]),
        ("shift_20ms", [200], [400]),
        ("two_targets_one_output", [200, 300], [250]),
        ("empty", [], []),
        ("missing_near_end", [580], []),
        ("burst_one_extra", [100, 110, 120], [100, 110, 120, 130]),
    ]
    target = np.zeros((n, len(pairs)), dtype=bool)
    output = np.zeros((n, len(pairs)), dtype=bool)
    for j, (_, t_steps, o_steps) in enumerate(pairs):
        target[t_steps, j] = True
        output[o_steps, j] = True
    specs["van-rossum-pairs"] = (
        {
            "description": "van Rossum error e = K * (target - output) and vr_distance (SPEC §3, §7) of canonical "
                           "spike-train pairs, one pair per column (600 steps)",
            "params": {k: getattr(p, k) for k in ("dt_s", "tau_rise_s", "tau_decay_s")},
            "pairs": [{"column": j, "name": name, "target_steps": t, "output_steps": o}
                      for j, (name, t, o) in enumerate(pairs)],
            "computed_by": {
                "e": "error.van_rossum_error(target - output, params)",
                "vr_distance": "error.vr_distance(e, params, per_neuron=True): unmatched spikes per pair",
            },
        },
        {"target": target, "output": output},
    )
    return specs


def compute_vector(name: str, inputs: dict) -> dict:
    """Expected arrays of golden vector ``name`` from its inputs, with the library's functions."""
    p = Params()
    if name == "surrogate-grid":
        U = inputs["U_tilde_V"]
        return {
            "sigma_prime_paper": surrogate_grad(U, p.theta_V, p.beta_per_V),
            "sigma_prime_paper_ucut": surrogate_grad(U, p.theta_V, p.beta_per_V, u_cut_V=-80e-3),
            "sigma_prime_auryn": surrogate_grad_auryn(U, p.theta_V, p.beta_per_V),
            "sigma_prime_genn": conventions.sigma_prime_factor("genn", p)
            * surrogate_grad(U, p.theta_V, p.beta_per_V, u_cut_V=-80e-3),
        }
    if name == "kernel-impulse-responses":
        x = inputs["impulse"][:, None]
        error_kernel = filters.double_exp(x, p.tau_rise_s, p.tau_decay_s, p.dt_s)
        return {
            "exp_trace_syn": filters.exp_trace(x, p.tau_syn_s, p.dt_s)[:, 0],
            "follow_mem": filters.follow(x, p.tau_mem_s, p.dt_s)[:, 0],
            "psp_kernel": filters.double_exp(x, p.tau_syn_s, p.tau_mem_s, p.dt_s)[:, 0],
            "error_kernel": error_kernel[:, 0],
            "error_kernel_auryn": conventions.error_to_auryn(error_kernel, p)[:, 0],
            "error_kernel_genn": error_kernel[:, 0] * conventions.error_factor("genn", p),
        }
    if name == "van-rossum-pairs":
        e = van_rossum_error(inputs["target"].astype(float) - inputs["output"], p)
        return {"e": e, "vr_distance": vr_distance(e, p, per_neuron=True)}
    raise ValueError(f"unknown golden vector {name!r}")


# ----------------------------------------------------------------------------------------
# SPEC §9 cases
# ----------------------------------------------------------------------------------------

def _case(name, n_steps, layers, params, feedback, optimizer, record, arrays, schedule=((0.0, 1.0),), t_burn_s=0.0):
    p = Params.from_dict(params)
    arrays = {k: np.clip(v, p.w_min_V, p.w_max_V) if k.startswith("W0_") else v for k, v in arrays.items()}
    spec = {
        "format": CASE_FORMAT,
        "name": name,
        "n_steps": n_steps,
        "layers": list(layers),
        "params": params,
        "feedback": feedback,
        "optimizer": optimizer,
        "schedule": [list(e) for e in schedule],
        "t_burn_s": t_burn_s,
        "record": list(record),
    }
    return spec, arrays


def _case_specs() -> dict:
    """name -> (case.json content, arrays)."""
    rng = np.random.default_rng(SEED)
    cases = {}

    # one synapse: 1 input -> 1 LIF neuron, two updates; every trace recorded
    inp = np.zeros((600, 1), dtype=bool)
    inp[[20, 60, 140, 150, 300, 420, 430], 0] = True
    tgt = np.zeros((600, 1), dtype=bool)
    tgt[[100, 350], 0] = True
    cases["one-synapse-eligibility"] = _case(
        "one-synapse-eligibility", 600, (1, 1), {"t_batch_s": 0.03}, "symmetric", "rmaxprop", ALL_TRACES,
        {"input": inp, "target": tgt, "W0_0": np.array([[0.06]])},
    )

    # one update (n_steps = n_b) of a 5 -> 3 -> 2 network, for each feedback type
    layers, n_cycle = (5, 3, 2), 75
    variants = [
        ("symmetric", "rmaxprop", {"t_batch_s": 0.015}),
        ("random", "rmsprop", {"t_batch_s": 0.015, "tau_rms_s": 0.1, "rho": 0.2, "tau_het_s": 0.01}),
        ("uniform", "fixed", {"t_batch_s": 0.015, "r0": 0.5}),
    ]
    for feedback, optimizer, params in variants:
        arrays = {
            "input": rng.random((n_cycle, layers[0])) < 0.06,
            "target": np.zeros((n_cycle, layers[2]), dtype=bool),
            "W0_0": rng.normal(0.075, 0.015, (layers[1], layers[0])),
            "W0_1": rng.normal(0.075, 0.015, (layers[2], layers[1])),
        }
        arrays["target"][[35, 60], 0] = True
        arrays["target"][[50], 1] = True
        if feedback == "random":
            arrays["B_1"] = rng.standard_normal((layers[2], layers[1]))
        elif feedback == "uniform":
            arrays["B_1"] = np.ones((layers[2], layers[1]))
        record = [r for r in ALL_TRACES if not (r == "v" and optimizer == "fixed")]
        name = f"two-layer-dw-{feedback}"
        cases[name] = _case(name, 150, layers, params, feedback, optimizer, record, arrays)

    # a short training run: 20 updates, burn-in over the first two, a schedule step
    layers, n_cycle = (8, 4, 2), 250
    arrays = {
        "input": rng.random((n_cycle, layers[0])) < 0.03,
        "target": np.zeros((n_cycle, layers[2]), dtype=bool),
        "W0_0": rng.normal(0.1, 0.05, (layers[1], layers[0])),
        "W0_1": rng.normal(0.08, 0.05, (layers[2], layers[1])),
    }
    arrays["target"][[60, 180], 0] = True
    arrays["target"][[120], 1] = True
    cases["short-training-run"] = _case(
        "short-training-run", 1000, layers, {"t_batch_s": 0.005, "r0": 0.002}, "symmetric", "rmaxprop",
        ["U_tilde", "S", "e", "W", "v"], arrays, schedule=((0.0, 1.0), (0.05, 0.5)), t_burn_s=0.01,
    )
    return cases


# ----------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------

README = """# Golden cases of the validation kit

Generated by `scripts/make_golden_cases.py`; do not edit by hand. See `docs/validation.md`.

| directory | kind | what |
|---|---|---|
{rows}

* SPEC §9 cases: `case.json`, `arrays.npz` (input, target, W0_k, B_l), `expected.npz` (the
  reference traces). Validate with `python -m superspike_ref validate traces.npz --against DIR`.
* golden vectors: `golden.json` (what each array is and which function computes it),
  `arrays.npz` (inputs), `expected.npz` (outputs).
* `csv/arrays/`, `csv/expected/`: one CSV per array, same numbers (floats in shortest
  round-trip form). 1-D: `i0,<key>`; 2-D: `i0,<key>[0],<key>[1],...` (one row per step);
  3-D: `i0,i1,i2,<key>` (long format). `index.json` gives every array's shape and dtype.
* `ras/id0/`, `ras/id1/`: input, target (one cycle) and recorded spikes `S_<l>` in Auryn's
  `.ras` format (`time_s neuron_id`), with neuron ids starting at 0 and 1.
* `MANIFEST.sha256`: sha256 of every file (`sha256sum -c MANIFEST.sha256` checks them).
"""


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n")


def _write_csv_mirrors(directory: Path, groups: dict) -> None:
    for group, arrays in groups.items():
        write_csv_dir(directory / "csv" / group, arrays)


def generate(out_dir) -> list:
    """Write every golden case into ``out_dir`` (which is emptied first); return the case names."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    rows = []
    for name, (spec, inputs) in _vector_specs().items():
        d = out_dir / name
        d.mkdir()
        expected = compute_vector(name, inputs)
        _write_json(d / "golden.json", {"format": GOLDEN_FORMAT, "name": name, **spec})
        save_npz(d / "arrays.npz", inputs)
        save_npz(d / "expected.npz", expected)
        _write_csv_mirrors(d, {"arrays": inputs, "expected": expected})
        rows.append(f"| `{name}` | golden vector | {spec['description']} |")
    for name, (spec, arrays) in _case_specs().items():
        d = out_dir / name
        d.mkdir()
        _write_json(d / "case.json", spec)
        save_npz(d / "arrays.npz", arrays)
        expected = run_case(d)
        save_npz(d / "expected.npz", expected)
        _write_csv_mirrors(d, {"arrays": arrays, "expected": expected})
        dt_s = Params.from_dict(spec["params"]).dt_s
        for id_base in (0, 1):
            export_case_ras(d, d / "ras" / f"id{id_base}", id_base=id_base)
            export_traces_ras(expected, d / "ras" / f"id{id_base}", dt_s, id_base=id_base)
        what = (f"layers {spec['layers']}, {spec['feedback']} feedback, {spec['optimizer']}, "
                f"{spec['n_steps']} steps, records {', '.join(spec['record'])}")
        rows.append(f"| `{name}` | SPEC §9 case | {what} |")
    (out_dir / "README.md").write_text(README.format(rows="\n".join(rows)))
    write_manifest(out_dir)
    return [r.split("`")[1] for r in rows]


def manifest_lines(out_dir) -> list:
    """``"<sha256>  <relative path>"`` for every file under ``out_dir`` except the manifest, sorted."""
    out_dir = Path(out_dir)
    lines = []
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file() and p.name != "MANIFEST.sha256"):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{digest}  {path.relative_to(out_dir).as_posix()}")
    return lines


def write_manifest(out_dir) -> None:
    Path(out_dir, "MANIFEST.sha256").write_text("\n".join(manifest_lines(out_dir)) + "\n")


def _check(out_dir: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "cases"
        generate(fresh)
        differ = [line.split("  ", 1)[1] for line in manifest_lines(fresh)
                  if not (out_dir / line.split("  ", 1)[1]).is_file()
                  or not filecmp.cmp(fresh / line.split("  ", 1)[1], out_dir / line.split("  ", 1)[1], shallow=False)]
    if differ:
        print(f"{len(differ)} files differ from a fresh generation, e.g. {differ[:5]}")
        return 1
    print(f"{out_dir}: identical to a fresh generation")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true", help="compare --out with a fresh generation, write nothing")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    if args.check:
        return _check(out_dir)
    names = generate(out_dir)
    size = sum(p.stat().st_size for p in out_dir.rglob("*") if p.is_file())
    print(f"wrote {len(names)} golden cases to {out_dir} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
