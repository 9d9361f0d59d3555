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
array with an ``index.json``) and, for §9 cases, ``.ras`` spike files (``ras/id0``, ``ras/id1``).
``MANIFEST.sha256`` lists the sha256 of every file; ``PROVENANCE.json`` (not in the manifest)
records how and where the traces were generated: package, NumPy and Python versions, platform,
CPU, BLAS.

What is promised: on one machine, the same code writes the same bytes (also with any number of
BLAS threads). On another CPU, NumPy may pick another BLAS kernel, which sums in another order:
the floats of the traces may then differ in the last bits, within SPEC §9's tolerance. So
``--check`` compares the folder with a fresh generation within that tolerance (spikes exact,
floats ``rtol`` 1e-9 and ``atol_k = 1e-10 max|expected_k|``, text and ``.ras`` files
identical) and says which files are bitwise identical, within tolerance, or out of tolerance
(naming the keys); it exits 1 only for the last.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from superspike_ref import conventions, filters
from superspike_ref.error import van_rossum_error, vr_distance
from superspike_ref.make_case import case_arrays
from superspike_ref.params import Params
from superspike_ref.surrogate import surrogate_grad, surrogate_grad_auryn
from superspike_ref.validation import (
    CASE_FORMAT,
    GOLDEN_FORMAT,
    export_case_ras,
    export_traces_ras,
    load_candidate,
    out_of_tolerance,
    read_csv_dir,
    run_case,
    save_npz,
    write_csv_dir,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tests" / "data" / "cases"
SEED = 2018
NOT_DATA = ("MANIFEST.sha256", "PROVENANCE.json")
"""Files of the output folder that describe the data rather than being part of it."""
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "MKL_CBWR")
ALL_TRACES = ["U_tilde", "S", "I", "z", "z_tilde", "sigma_prime", "e", "lambda", "m", "W", "v"]
NPZ_ONLY = ("layers-200-256-200",)
"""Cases without CSV mirrors: their weights would make megabytes of text."""


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
    cases.update(_network_case_specs())
    cases.update(_gradient_case_specs())
    return cases


def _network_case_specs() -> dict:
    """name -> (case.json content, arrays) of the cases drawn by ``make-case`` (:func:`case_arrays`), issue P10.

    Two hidden layers; no axonal delay; XOR error impulses; the regulariser with the error gate; and a
    200-256-200 network over 50 steps (one update) recording only S, W and v, its initial weights
    rounded to multiples of 2^-6 V so that the compressed files stay small.
    """
    drawn = {  # name: layers, n_steps, feedback, params, record, seed, draw options
        "two-hidden-layers": ((6, 4, 3, 2), 100, "random", {"t_batch_s": 0.005},
                              [r for r in ALL_TRACES if r != "lambda"], 0, {"rate_Hz": 150.0, "target_rate_Hz": 30.0,
                                                                             "w0_V": 0.6}),
        "delay-zero": ((5, 3, 2), 100, "symmetric", {"t_batch_s": 0.005, "delay_s": 0.0},
                       ["U_tilde", "S", "I", "z", "z_tilde", "sigma_prime", "e", "W", "v"], 0,
                       {"rate_Hz": 150.0, "target_rate_Hz": 30.0, "w0_V": 0.5}),
        "xor-error-impulses": ((12, 6, 2), 600, "symmetric", {"t_batch_s": 0.02}, ["S", "e", "W", "v"], 2,
                               {"task": "xor", "rate_Hz": 30.0, "w0_V": 0.6}),
        "regulariser-gate": ((5, 3, 2), 100, "random", {"t_batch_s": 0.005, "rho": 0.2, "tau_het_s": 0.01,
                                                        "e_gate": 0.02},
                             ["U_tilde", "S", "e", "m", "W", "v"], 0,
                             {"rate_Hz": 150.0, "target_rate_Hz": 30.0, "w0_V": 0.5}),
        "layers-200-256-200": ((200, 256, 200), 50, "symmetric", {"t_batch_s": 0.005}, ["S", "W", "v"], 0,
                               {"rate_Hz": 30.0, "target_rate_Hz": 4.0, "w0_V": 0.4}),
    }
    cases = {}
    for name, (layers, n_steps, feedback, params, record, seed, draw) in drawn.items():
        fields, arrays = case_arrays(layers, n_steps, feedback, seed, params, **draw)
        if name in NPZ_ONLY:
            arrays.update({k: np.round(w * 2**6) / 2**6 for k, w in arrays.items() if k.startswith("W0_")})
        spec, arrays = _case(name, n_steps, layers, params, feedback, "rmaxprop", record, arrays)
        cases[name] = ({**spec, **fields}, arrays)
    return cases


def _gradient_case_specs() -> dict:
    """name -> (case.json content, arrays) of the gradient cases (issue P10 item 4): ``dL_dW_k`` by BPTT.

    One 6 -> 4 -> 2 network for both variants, 200 steps (one update, at step 149), and the surrogate
    gradient of the first 120 steps' van Rossum loss: free, with Ũ, S, σ′, e, W and v, or with the reset
    detached, with Ũ, S, e, W and v (``m`` and λ would make the files large).
    In the window every hidden and output neuron spikes (hidden ones twice, within the refractory
    time of the first spike's reset), so that the two variants differ in every row.
    """
    layers, params = (6, 4, 2), {"t_batch_s": 0.015}
    fields, arrays = case_arrays(layers, 200, "symmetric", 4, params, rate_Hz=500.0, target_rate_Hz=60.0, w0_V=0.15)
    cases = {}
    records = {"free": ["U_tilde", "S", "sigma_prime", "e", "W", "v"], "detached_reset": ["U_tilde", "S", "e", "W", "v"]}
    for variant, record in records.items():
        name = f"gradient-{variant.replace('_', '-')}"
        spec, arrays = _case(name, 200, layers, params, "symmetric", "rmaxprop", record, arrays)
        cases[name] = ({**spec, **fields, "gradient": {"window_steps": 120, "variant": variant}}, arrays)
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
  An XOR case (`"task": "xor"`, `xor_window_steps` in `case.json`) adds the trials' onsets and
  labels `xor_onset_steps`, `xor_labels` to `arrays.npz`; its error is the window-of-opportunity
  rule (SPEC §6), its target all False.
* golden vectors: `golden.json` (what each array is and which function computes it),
  `arrays.npz` (inputs), `expected.npz` (outputs).
* `csv/arrays/`, `csv/expected/`: one CSV per array, same numbers (floats in shortest
  round-trip form). 1-D: `i0,<key>`; 2-D: `i0,<key>[0],<key>[1],...` (one row per step);
  3-D: `i0,i1,i2,<key>` (long format). `index.json` gives every array's shape and dtype.
  {npz_only} have none: their weights would make megabytes of text.
* `ras/id0/`, `ras/id1/`: input, target (one cycle) and recorded spikes `S_<l>` in Auryn's
  `.ras` format (`time_s neuron_id`), with neuron ids starting at 0 and 1.
* `MANIFEST.sha256`: sha256 of every file but itself and `PROVENANCE.json`
  (`sha256sum -c MANIFEST.sha256` checks them).
* `PROVENANCE.json`: how and where the traces were generated (package, NumPy and Python
  versions, platform, CPU, BLAS). The same machine writes the same bytes; another CPU may pick
  another BLAS kernel, and floats may then differ in the last bits, within SPEC §9's tolerance
  (`python scripts/make_golden_cases.py --check` tells which).
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
        if name not in NPZ_ONLY:
            _write_csv_mirrors(d, {"arrays": arrays, "expected": expected})
        dt_s = Params.from_dict(spec["params"]).dt_s
        for id_base in (0, 1):
            export_case_ras(d, d / "ras" / f"id{id_base}", id_base=id_base)
            export_traces_ras(expected, d / "ras" / f"id{id_base}", dt_s, id_base=id_base)
        what = (f"layers {spec['layers']}, {spec['feedback']} feedback, {spec['optimizer']}, "
                f"{spec['n_steps']} steps, records {', '.join(spec['record'])}"
                f"{', XOR task' if spec.get('task') == 'xor' else ''}{', npz only' if name in NPZ_ONLY else ''}"
                f"{_gradient_note(spec)}")
        rows.append(f"| `{name}` | SPEC §9 case | {what} |")
    npz_only = ", ".join(f"`{name}`" for name in NPZ_ONLY)
    (out_dir / "README.md").write_text(README.format(rows="\n".join(rows), npz_only=npz_only))
    write_manifest(out_dir)
    _write_json(out_dir / "PROVENANCE.json", provenance(out_dir))
    return [r.split("`")[1] for r in rows]


def _gradient_note(spec: dict) -> str:
    """The README's words on a gradient case: the window and the variant of ``dL_dW_k``."""
    gradient = spec.get("gradient")
    return "" if gradient is None else (f"; dL_dW_k of the first {gradient['window_steps']} steps "
                                        f"({gradient['variant']})")


def data_files(out_dir) -> list:
    """Relative paths of the generated files under ``out_dir``: all but :data:`NOT_DATA`, sorted."""
    out_dir = Path(out_dir)
    paths = (p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())
    return sorted(p for p in paths if p not in NOT_DATA)


def manifest_lines(out_dir) -> list:
    """``"<sha256>  <relative path>"`` for every file of :func:`data_files`."""
    out_dir = Path(out_dir)
    return [f"{hashlib.sha256((out_dir / rel).read_bytes()).hexdigest()}  {rel}" for rel in data_files(out_dir)]


def write_manifest(out_dir) -> None:
    Path(out_dir, "MANIFEST.sha256").write_text("\n".join(manifest_lines(out_dir)) + "\n")


def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), or ``""``."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def provenance(out_dir) -> dict:
    """How and where the traces in ``out_dir`` were generated (written as ``PROVENANCE.json``)."""
    import superspike_ref

    try:
        config = np.show_config(mode="dicts")
        blas = {k: v for k, v in config["Build Dependencies"]["blas"].items()
                if k in ("name", "version", "openblas configuration")}
        simd = {k: v for k, v in config["SIMD Extensions"].items() if k in ("baseline", "found")}
    except (TypeError, KeyError):                  # NumPy < 1.26 has no mode="dicts"
        blas = simd = None
    return {
        "generated_by": "python scripts/make_golden_cases.py",
        "superspike_ref": superspike_ref.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_model": _cpu_model(),
        "blas": blas,
        "numpy_simd": simd,
        "environment": {k: os.environ[k] for k in BLAS_ENV if k in os.environ},
        "manifest_sha256": hashlib.sha256(Path(out_dir, "MANIFEST.sha256").read_bytes()).hexdigest(),
        "reproducibility": "the same bytes on the same machine (any number of BLAS threads); on another "
                           "CPU floats may differ in the last bits, within SPEC §9's tolerance",
    }


def _arrays(path: Path) -> dict | None:
    """The arrays of a generated file (``.npz``, or a CSV mirror read through its index); None for text."""
    if path.suffix == ".npz":
        return load_candidate(path)
    if path.suffix == ".csv":
        return {path.stem: read_csv_dir(path.parent)[path.stem]}
    return None


def out_of_tolerance_keys(committed: dict, fresh: dict) -> list:
    """Keys whose fresh arrays leave SPEC §9's tolerance (spikes exact), or differ in dtype or shape."""
    if set(committed) != set(fresh):
        return sorted(set(committed) ^ set(fresh))
    return [k for k in sorted(committed)
            if committed[k].dtype != fresh[k].dtype or committed[k].shape != fresh[k].shape
            or out_of_tolerance(fresh[k], committed[k]).any()]


def compare_dirs(committed, fresh) -> dict:
    """Compare a golden-case folder with a fresh generation, file by file (:data:`NOT_DATA` aside).

    Returns ``{"identical": [...], "within": [...], "out": {path: [keys or reason]}}``: files with
    the same bytes; array files (``.npz``, CSV mirrors) whose numbers differ only within SPEC §9's
    tolerance (spikes exact, floats ``rtol`` 1e-9, ``atol_k = 1e-10 max|expected_k|``); and the
    rest (text, ``.json`` and ``.ras`` files must be identical), with the keys out of tolerance.
    """
    committed, fresh = Path(committed), Path(fresh)
    result = {"identical": [], "within": [], "out": {}}
    for rel in sorted(set(data_files(committed)) | set(data_files(fresh))):
        a, b = committed / rel, fresh / rel
        if not (a.is_file() and b.is_file()):
            result["out"][rel] = ["not generated any more" if a.is_file() else f"missing from {committed}"]
        elif a.read_bytes() == b.read_bytes():
            result["identical"].append(rel)
        else:
            try:
                arrays = _arrays(a), _arrays(b)
            except ValueError as exc:
                result["out"][rel] = [f"unreadable: {exc}"]
                continue
            bad = ["text differs"] if arrays[0] is None else out_of_tolerance_keys(*arrays)
            if bad:
                result["out"][rel] = bad
            else:
                result["within"].append(rel)
    return result


def _check(out_dir: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "cases"
        generate(fresh)
        result = compare_dirs(out_dir, fresh)
    manifest = out_dir / "MANIFEST.sha256"
    manifest_ok = manifest.is_file() and manifest.read_text().splitlines() == manifest_lines(out_dir)
    print(f"{out_dir} against a fresh generation: {len(result['identical'])} files bitwise identical, "
          f"{len(result['within'])} within SPEC §9 tolerance, {len(result['out'])} out of tolerance")
    if result["within"]:
        print("within tolerance, not bitwise (another CPU or BLAS kernel?): " + ", ".join(result["within"]))
    for rel, keys in result["out"].items():
        print(f"OUT OF TOLERANCE: {rel}: {', '.join(keys)}")
    print(f"MANIFEST.sha256 {'matches' if manifest_ok else 'does NOT match'} the files in {out_dir}")
    return 0 if manifest_ok and not result["out"] else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true",
                        help="compare --out with a fresh generation within SPEC §9 tolerance, write nothing")
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
