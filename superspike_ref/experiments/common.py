"""What every experiment shares: engines over many networks, the result file, checkpoints.

A result is an ``.npz`` file holding the experiment's arrays (curves, spike times,
snapshots) and one JSON string ``_meta`` with the summary numbers and the configuration
(parameters, seeds, durations, engine, package version), so that a figure can be redrawn
and a number traced back to the run that produced it.

Long runs advance in chunks; after every chunk the whole state (engines included) is
written to ``checkpoint.npz`` in the output folder (arrays and JSON, never pickle; see
:mod:`superspike_ref.checkpoint`), and ``resume=True`` continues from it to the same final
numbers as an uninterrupted run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..checkpoint import atomic_write, load_checkpoint, save_checkpoint
from ..fast import BatchFastEngine, FastEngine
from ..files import load_npz
from ..network import LiteralEngine, concat_results
from ..params import whole_steps

__all__ = ["ExperimentResult", "save_result", "load_result", "batch_engine", "run_chunks", "moving_average",
           "draw_silent_networks", "Snapshots", "time_to_learn_s", "LEARNED_BELOW", "experiment_size", "experiment_config", "chunking",
           "find_result", "cycle_statistics", "run_cycle_jobs", "has_checkpoint", "CHECKPOINT_NAME",
           "PICKLE_CHECKPOINT_NAME"]

CHECKPOINT_NAME = "checkpoint.npz"
"""File name of an experiment's checkpoint in its output folder."""
PICKLE_CHECKPOINT_NAME = "checkpoint.pkl"
"""File name of the pickled checkpoints that earlier code wrote (format 1): never loaded (pickle can run code)."""

LEARNED_BELOW = 1.0
"""A run has learned when its 10 s moving average of ``vr_distance`` is below this (unmatched spikes per cycle)."""

ENGINES = ("fast", "literal")


class _SequentialEngines:
    """Literal engines, one per network, with the interface of :class:`BatchFastEngine`."""

    name = "literal"

    def __init__(self, networks, task) -> None:
        self.engines = [LiteralEngine(net, task) for net in networks]

    @property
    def weights(self) -> list:
        return [e.weights for e in self.engines]

    def run(self, n_steps: int, record=(), progress: bool = False) -> list:
        return [e.run(n_steps, record=record, progress=progress) for e in self.engines]

    def checkpoint_state(self) -> list:
        return self.engines

    def restore_checkpoint_state(self, engines: list) -> None:
        if len(engines) != len(self.engines):
            raise ValueError(f"checkpoint has {len(engines)} literal engines, this run {len(self.engines)}")


def batch_engine(networks, task, engine: str = "fast"):
    """An engine running ``networks`` on ``task``: the fast batch engine or literal engines in turn."""
    if engine == "fast":
        return BatchFastEngine(networks, task)
    if engine == "literal":
        return _SequentialEngines(networks, task)
    raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")


def chunking(size: dict, params) -> tuple:
    """``(n_chunks, chunk_steps)`` of a run of ``size["duration_s"]`` in chunks of ``size["chunk_s"]`` (whole numbers)."""
    return (whole_steps(size["duration_s"], size["chunk_s"], "duration_s"),
            whole_steps(size["chunk_s"], params.dt_s, "chunk_s"))


def experiment_size(full: dict, quick_size: dict, quick: bool, **overrides) -> dict:
    """The size of a run: ``full`` or ``quick_size``, with the overrides that are not None."""
    size = dict(quick_size if quick else full)
    size.update({k: type(size[k])(v) for k, v in overrides.items() if v is not None})
    return size


def experiment_config(figure: str, size: dict, seed: int, engine: str, params) -> dict:
    """What identifies a run (stored in its result; a checkpoint resumes only with the same one)."""
    return {"figure": figure, "seed": seed, "engine": engine, "params": params.to_dict(), **size}


def cycle_statistics(results, dt_s: float) -> dict:
    """Per-network numbers of one cycle run with ``record=("S",)``: ``vr`` (``vr_distance``), ``mse``
    (``auryn_mse``), ``output_rate`` and ``hidden_rate`` (mean rate of the last and first LIF layer in Hz;
    NaN without a hidden layer), each a list over the networks."""
    n_layers = max(int(k.rsplit("_", 1)[1]) for k in results[0].traces if k.startswith("S_"))
    return {
        "vr": [float(r.vr_distance[0]) for r in results],
        "mse": [float(r.auryn_mse[0]) for r in results],
        "hidden_rate": [r.traces["S_1"].mean() / dt_s if n_layers > 1 else np.nan for r in results],
        "output_rate": [r.traces[f"S_{n_layers}"].mean() / dt_s for r in results],
    }


def run_cycle_jobs(jobs: dict, task, n_cycles: int, cycles_per_chunk: int, config: dict, engine: str = "fast",
                   out=None, resume: bool = False, progress: bool = True, desc: str = "experiment",
                   on_chunk=None) -> dict:
    """Train groups of networks on ``task`` cycle by cycle, in checkpointed chunks.

    ``jobs`` maps a name to a list of networks (one batch engine each; a batch must share
    parameters and layer sizes). Returns, per job name, the :func:`cycle_statistics` curves as
    ``(n_runs, n_cycles)`` arrays and ``last_S_<l>``, the spikes of run 0 in the last cycle.
    ``on_chunk`` is passed to :func:`run_chunks`.
    """
    state = {"config": config, "chunks_done": 0,
             "jobs": {name: {"engine": batch_engine(nets, task, engine), "curves": [], "last": {}}
                      for name, nets in jobs.items()}}

    def advance(state: dict) -> None:
        c0 = state["chunks_done"] * cycles_per_chunk
        for c in range(c0, min(c0 + cycles_per_chunk, n_cycles)):
            for job in state["jobs"].values():
                results = job["engine"].run(task.n_cycle, record=("S",))
                job["curves"].append(cycle_statistics(results, config["params"]["dt_s"]))
                if c == n_cycles - 1:
                    job["last"] = {f"last_{k}": v for k, v in results[0].traces.items()}

    state = run_chunks(state, advance, -(-n_cycles // cycles_per_chunk), out_dir=out, resume=resume,
                       progress=progress, desc=desc, on_chunk=on_chunk)
    return {name: {**{k: np.array([c[k] for c in job["curves"]]).T for k in job["curves"][0]}, **job["last"]}
            for name, job in state["jobs"].items()}


def draw_silent_networks(make_network, task, seed: int, n: int, max_attempts: int = 1000):
    """``n`` networks whose LIF layers all stay silent during the first cycle of ``task``.

    The paper starts Figs 2 and 4 from weights that give no hidden or output spike. Network
    ``i`` is ``make_network(default_rng([seed, i, attempt]))`` for the first ``attempt`` that is
    silent. Returns the networks and the attempt numbers.
    """
    networks, attempts = [], []
    for i in range(n):
        for attempt in range(max_attempts):
            net = make_network(np.random.default_rng([seed, i, attempt]))
            traces = FastEngine(net, task).run(task.n_cycle, record=["S"]).traces
            if not any(traces[f"S_{l}"].any() for l in range(1, len(net.layers))):
                break
        else:
            raise RuntimeError(f"no silent initial network for run {i} in {max_attempts} attempts")
        networks.append(net)
        attempts.append(attempt)
    return networks, np.array(attempts)


class Snapshots:
    """Whole cycles of chosen runs, recorded while an experiment runs in chunks.

    Parameters
    ----------
    cycles : sequence of int
        Cycle indices to keep (cycle ``c`` covers steps ``c n_cycle .. (c+1) n_cycle - 1``).
    runs : sequence of int
        Which networks of the batch to keep.
    keys : sequence of str
        Recorded variables (``"U_tilde"``, ``"S"``, ``"e"`` ...), kept for every LIF layer.
    n_cycle : int
    """

    def __init__(self, cycles, runs, keys, n_cycle: int) -> None:
        self.cycles, self.runs, self.keys, self.n_cycle = sorted(set(cycles)), list(runs), tuple(keys), n_cycle
        self.taken = {}

    def checkpoint_state(self) -> dict:
        return self.taken

    def restore_checkpoint_state(self, taken: dict) -> None:
        self.taken = taken

    def run(self, engine, n0: int, n_steps: int, record=()) -> list:
        """Run ``engine`` (at step ``n0``) for ``n_steps``, recording ``record`` throughout and the
        snapshot keys only during kept cycles (so that long chunks stay small in memory).

        Returns one joined :class:`~superspike_ref.network.RunResult` per network.
        """
        n1 = n0 + n_steps
        cuts = {n0, n1}
        for c in self.cycles:
            a, b = c * self.n_cycle, (c + 1) * self.n_cycle
            if n0 <= a and b <= n1:
                cuts.update((a, b))
        bounds = sorted(cuts)
        pieces = []
        for a, b in zip(bounds[:-1], bounds[1:]):
            kept = (a // self.n_cycle) in self.cycles and b - a == self.n_cycle and a % self.n_cycle == 0
            results = engine.run(b - a, record=tuple(record) + (self.keys if kept else ()))
            if kept:
                self.taken[a // self.n_cycle] = {
                    name: np.stack([results[r].traces[name] for r in self.runs])
                    for name in results[0].traces if name.rsplit("_", 1)[0] in self.keys
                }
            pieces.append(results)
        return [concat_results([piece[b] for piece in pieces]) for b in range(len(pieces[0]))]

    def arrays(self) -> dict:
        """``snap_cycles`` and ``snap_<key>_<layer>`` ``(n_cycles, n_runs, n_cycle, n_l)`` (floats as float32)."""
        out = {"snap_cycles": np.array(self.cycles), "snap_runs": np.array(self.runs)}
        for name in self.taken[self.cycles[0]]:
            x = np.stack([self.taken[c][name] for c in self.cycles])
            out[f"snap_{name}"] = x if x.dtype == bool else x.astype(np.float32)
        return out


@dataclass
class ExperimentResult:
    """Arrays, summary numbers and configuration of one experiment run."""

    name: str
    arrays: dict
    summary: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)


def save_result(result: ExperimentResult, path) -> Path:
    """Write ``result`` to ``path`` (``.npz``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"name": result.name, "summary": result.summary, "config": result.config,
                       "version": __version__}, sort_keys=True)
    atomic_write(path, lambda f: np.savez_compressed(f, _meta=np.array(meta), **result.arrays))
    return path


def find_result(figure: str, start=None) -> Path:
    """Path of the stored ``results/<figure>/<figure>.npz``: in ``start`` (default: the working
    folder) or a parent of it (notebooks run in ``notebooks/``), or beside the package."""
    relative = Path("results") / figure / f"{figure}.npz"
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[2]):
        if (folder / relative).is_file():
            return folder / relative
    raise FileNotFoundError(f"{relative} not found above {here}; regenerate it from the repository root with "
                            f"`python -m superspike_ref reproduce {figure} --out results`")


def load_result(path) -> ExperimentResult:
    """Read a result written by :func:`save_result`."""
    arrays = load_npz(path)
    try:
        meta = json.loads(str(arrays.pop("_meta")))
        return ExperimentResult(name=meta["name"], arrays=arrays, summary=meta["summary"], config=meta["config"])
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ValueError(f"{path}: not an experiment result (no valid _meta entry)") from None


def run_chunks(state: dict, advance, n_chunks: int, out_dir=None, resume: bool = False, progress: bool = True,
               desc: str = "experiment", on_chunk=None) -> dict:
    """Call ``advance(state)`` until ``state["chunks_done"] == n_chunks``, checkpointing after each.

    ``state`` is a dict with an integer ``"chunks_done"``, the experiment's ``"config"`` and
    whatever :mod:`superspike_ref.checkpoint` can store (engines, arrays, numbers, lists).
    After every chunk it is written to ``checkpoint.npz`` in ``out_dir``. With ``resume`` the
    run continues from that checkpoint, which must come from this package version and a run
    with the same configuration; without it an existing checkpoint is never overwritten.
    ``on_chunk()``, if given, is called after every chunk (and its checkpoint).
    """
    path = None if out_dir is None else Path(out_dir) / CHECKPOINT_NAME
    about = {"figure": state["config"]["figure"], "config": state["config"], "n_chunks": n_chunks}
    if resume:
        if path is None or not path.exists():
            old = None if out_dir is None else Path(out_dir) / PICKLE_CHECKPOINT_NAME
            hint = (f" ({old.name} is an older pickle checkpoint, which is never loaded: pickle can run code)"
                    if old is not None and old.exists() else "")
            raise ValueError(f"--resume needs a checkpoint, none at {path}{hint}")
        state = load_checkpoint(path, about, state)
    elif path is not None and path.exists():
        raise ValueError(f"{path} exists: continue that run with --resume, or start afresh with --force")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    from tqdm.auto import tqdm

    with tqdm(total=n_chunks, initial=state["chunks_done"], desc=desc, unit="chunk", disable=not progress) as bar:
        while state["chunks_done"] < n_chunks:
            advance(state)
            state["chunks_done"] += 1
            if path is not None:
                save_checkpoint(path, about, state, state["chunks_done"])
            bar.update(1)
            if on_chunk is not None:
                on_chunk()
    return state


def has_checkpoint(out_dir) -> bool:
    """Whether ``out_dir`` (a path or None) holds a checkpoint to resume from."""
    return out_dir is not None and (Path(out_dir) / CHECKPOINT_NAME).is_file()


def moving_average(x: np.ndarray, window: int, axis: int = -1) -> np.ndarray:
    """Causal moving average over ``window`` samples (shorter at the start)."""
    x = np.moveaxis(np.asarray(x, dtype=float), axis, -1)
    c = np.cumsum(x, axis=-1)
    c[..., window:] = c[..., window:] - c[..., :-window]
    n = np.minimum(np.arange(1, x.shape[-1] + 1), window)
    return np.moveaxis(c / n, -1, axis)


def time_to_learn_s(cycle_end_s: np.ndarray, vr: np.ndarray, window: int) -> np.ndarray:
    """Per run: first time its ``window``-cycle moving average falls below :data:`LEARNED_BELOW` (NaN if never)."""
    below = moving_average(vr, window, axis=1) < LEARNED_BELOW
    first = np.argmax(below, axis=1)
    return np.where(below.any(axis=1), cycle_end_s[first], np.nan)
