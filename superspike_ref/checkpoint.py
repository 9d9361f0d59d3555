"""Checkpoints of long runs: data only, never code.

A checkpoint is an ``.npz`` archive, read with :func:`~superspike_ref.files.load_npz` (no
pickles, headers checked before anything is allocated): numeric arrays ``a0``,
``a1``, ... and one JSON header ``_header`` with the format, the package version, the run's
description (figure, configuration, chunk index), the layout of the saved state and a SHA-256
of everything. Nothing in it is unpickled or executed: the state is rebuilt by the code that
resumes the run, and the checkpoint only refills its arrays and numbers.

The state is a tree of dicts (string or integer keys), lists, tuples, numbers, strings, None,
numeric NumPy arrays and objects that offer ``checkpoint_state()`` (a tree) and
``restore_checkpoint_state(tree)`` (the engines, :class:`~superspike_ref.experiments.common.Snapshots`).
On loading, every object must sit where the freshly built state has one of the same class,
and every array must have the dtype and shape of the fresh one where the fresh state has an
array.

Files are written atomically: a temporary file in the same folder, flushed and fsynced, renamed
over the old one, then the folder fsynced, so that an interrupted write (Ctrl-C, SIGKILL, power
loss) leaves the previous checkpoint intact.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from . import __version__
from .files import load_npz

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT", "atomic_write"]

CHECKPOINT_FORMAT = "superspike-checkpoint/2"
_NUMERIC_KINDS = "biuf"


def atomic_write(path, write) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(x, arrays: dict):
    """The JSON layout of ``x``; its arrays go into ``arrays`` under ``a<i>``."""
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"checkpoints hold numeric arrays only, got dtype {x.dtype}")
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(x)
        return {"scalar" if isinstance(x, np.generic) else "array": key}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (list, tuple)):
        return {"list" if isinstance(x, list) else "tuple": [_encode(v, arrays) for v in x]}
    if isinstance(x, dict):
        if not all(isinstance(k, str) or (isinstance(k, int) and not isinstance(k, bool)) for k in x):
            raise TypeError("checkpoint dict keys must be str or int")
        return {"dict": [[k, _encode(v, arrays)] for k, v in x.items()]}
    if hasattr(x, "checkpoint_state"):
        return {"object": type(x).__name__, "state": _encode(x.checkpoint_state(), arrays)}
    raise TypeError(f"cannot checkpoint a {type(x).__name__}")


_NONE = object()
"""Template of a value the fresh state does not have (a list grown or a key added during the run)."""


def _kind(x) -> str:
    if isinstance(x, np.ndarray):
        return "array"
    if isinstance(x, (list, tuple)):
        return "list"
    if isinstance(x, dict):
        return "dict"
    return "object" if hasattr(x, "restore_checkpoint_state") else "scalar"


def _decode(layout, arrays, template, where: str):
    """Rebuild the value described by ``layout``, filling ``template`` (the fresh state) in place.

    Where the fresh state has a value, the saved one must be of the same kind (array, list,
    dict, object or scalar); arrays must also have its dtype and shape.
    """
    if layout is None or isinstance(layout, (bool, int, float, str)):
        value, tag = layout, "plain"
    elif isinstance(layout, dict) and len(layout) in (1, 2):
        tag = next(iter(layout))
        value = layout[tag]
    else:
        raise ValueError(f"malformed state at {where}")
    kind = {"plain": "scalar", "scalar": "scalar", "array": "array", "list": "list", "tuple": "list",
            "dict": "dict", "object": "object"}.get(tag)
    if kind is None:
        raise ValueError(f"malformed state at {where} ({tag!r})")
    if template is not _NONE and kind != _kind(template):
        raise ValueError(f"{where}: the checkpoint holds kind {kind!r}, this run needs {_kind(template)!r}")
    if tag == "plain":
        return value
    if tag in ("array", "scalar"):
        if not isinstance(value, str) or value not in arrays:
            raise ValueError(f"array {value!r} of {where} is missing")
        x = arrays[value]
        if isinstance(template, np.ndarray) and (x.dtype != template.dtype or x.shape != template.shape):
            raise ValueError(f"{where} is {x.dtype} {x.shape}, this run needs {template.dtype} {template.shape}")
        return x[()] if tag == "scalar" else x
    if tag in ("list", "tuple") and isinstance(value, list):
        fresh = template if isinstance(template, (list, tuple)) else ()
        items = [_decode(v, arrays, fresh[i] if i < len(fresh) else _NONE, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(value, list):
        fresh = template if isinstance(template, dict) else {}
        out = {}
        for item in value:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                raise ValueError(f"malformed dict entry at {where}")
            out[item[0]] = _decode(item[1], arrays, fresh.get(item[0], _NONE), f"{where}[{item[0]!r}]")
        return out
    if tag == "object" and "state" in layout:
        if type(template).__name__ != value:
            raise ValueError(f"{where} holds a {value!r}, this run has a {type(template).__name__}")
        template.restore_checkpoint_state(_decode(layout["state"], arrays, template.checkpoint_state(), where))
        return template
    raise ValueError(f"malformed state at {where} ({tag!r})")


def _digest(header: dict, arrays: dict) -> str:
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        h.update(f"{key} {a.dtype.str} {a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_checkpoint(path, about: dict, state, chunk: int) -> None:
    """Write ``state`` atomically to ``path``, with the run description ``about`` (JSON-ready)
    and the number of chunks done, ``chunk``, in its header."""
    arrays = {}
    header = {"format": CHECKPOINT_FORMAT, "version": __version__, "about": about, "chunk": int(chunk),
              "state": _encode(state, arrays)}
    header["sha256"] = _digest(header, arrays)
    atomic_write(path, lambda f: np.savez(f, _header=np.array(json.dumps(header)), **arrays))


def _read(path: Path) -> tuple:
    """The header and arrays of a checkpoint file, with every way of being unreadable a ValueError."""
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a checkpoint file; delete it or run without --resume")
    arrays = load_npz(path)
    text = arrays.pop("_header", None)
    if text is None or text.dtype.kind != "U" or text.shape != ():
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint (no _header); delete it or run without --resume")
    try:
        header = json.loads(str(text))
    except (json.JSONDecodeError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a {CHECKPOINT_FORMAT} checkpoint; delete it or run without --resume")
    if any(a.dtype.kind not in _NUMERIC_KINDS for a in arrays.values()):
        raise ValueError(f"{path}: holds non-numeric arrays; delete it or run without --resume")
    return header, arrays


def load_checkpoint(path, about: dict, template=None):
    """Read a checkpoint written by :func:`save_checkpoint` into ``template``, the fresh state
    (None: any layout is accepted, and the checkpoint may hold no object).

    Raises ``ValueError`` with one line saying why if the file is unreadable or altered, was
    written by another package version, or describes another run (``about`` differs: the
    first differing field is named). Returns the restored state.
    """
    path = Path(path)
    header, arrays = _read(path)
    digest = header.pop("sha256", None)
    if digest != _digest(header, arrays):
        raise ValueError(f"{path}: corrupted (checksum mismatch); delete it or run without --resume")
    if header.get("version") != __version__:
        raise ValueError(f"{path}: written by superspike_ref {header.get('version')}, this is {__version__}; "
                         "rerun without --resume")
    saved, expected = header.get("about"), json.loads(json.dumps(about))
    if saved != expected:
        field = _first_difference(saved, expected)
        raise ValueError(f"{path}: written by another run ({field} differs); use another --out or run without --resume")
    try:
        return _decode(header.get("state"), arrays, _NONE if template is None else template, "state")
    except RecursionError:
        raise ValueError(f"{path}: its state is nested too deeply to be a checkpoint of this package") from None


def _first_difference(saved, expected, where: str = "") -> str:
    if isinstance(saved, dict) and isinstance(expected, dict):
        for key in sorted(set(saved) | set(expected), key=str):
            if saved.get(key) != expected.get(key):
                return _first_difference(saved.get(key), expected.get(key), f"{where}.{key}" if where else str(key))
    return f"{where or 'description'}: checkpoint {saved!r}, this run {expected!r}"
