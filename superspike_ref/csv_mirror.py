"""CSV mirrors of arrays, for implementations outside Python (the golden cases' ``csv/`` folders).

One array per ``<key>.csv`` file with a header; a folder of them carries an ``index.json`` with
each key's file, shape and dtype. Reading is as careful as :mod:`superspike_ref.files`: ASCII
only, the data must fill the declared shape exactly, and ``index.json`` may name only files
inside its folder.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from .files import describe_value, quoted_name, read_json
from .recording import key_stage

__all__ = ["CSV_DTYPES", "write_csv_array", "read_csv_array", "write_csv_dir", "read_csv_dir"]


CSV_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float16", "float32", "float64")
"""The dtypes a CSV mirror holds (the names ``index.json`` uses)."""

_CSV_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return repr(float(x))


def write_csv_array(path, key: str, array) -> None:
    """Write one array as CSV with a header (the mirror format of the golden cases).

    * 0-D: header ``<key>``, one row.
    * 1-D: header ``i0,<key>``, one row per element.
    * 2-D: header ``i0,<key>[0],<key>[1],...``, one row per ``i0`` (per step for traces).
    * 3-D and more, and 2-D without columns: long format, header ``i0,i1,i2,<key>``, one row per
      element, C order.

    Booleans are written 0/1, floats with Python's shortest round-trip ``repr`` (so reading them
    back gives the same float64), integers as integers. Other dtypes raise ``TypeError``.
    """
    a = np.asarray(array)
    if a.dtype.name not in CSV_DTYPES:
        raise TypeError(f"{key}: a CSV mirror holds {', '.join(CSV_DTYPES)}, not {a.dtype}")
    with open(path, "w", encoding="ascii", newline="") as f:
        if a.ndim == 0:
            f.write(f"{key}\n{_fmt(a[()])}\n")
        elif a.ndim == 1:
            f.write(f"i0,{key}\n")
            f.writelines(f"{i},{_fmt(x)}\n" for i, x in enumerate(a))
        elif a.ndim == 2 and a.shape[1] > 0:
            f.write("i0," + ",".join(f"{key}[{j}]" for j in range(a.shape[1])) + "\n")
            f.writelines(f"{i}," + ",".join(_fmt(x) for x in row) + "\n" for i, row in enumerate(a))
        else:
            f.write(",".join(f"i{d}" for d in range(a.ndim)) + f",{key}\n")
            for index in np.ndindex(*a.shape):
                f.write(",".join(str(i) for i in index) + "," + _fmt(a[index]) + "\n")


def _csv_lines(path: Path) -> list:
    """``(line number, fields)`` of every non-blank line; ``ValueError`` if empty or not ASCII."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file")
    data = path.read_bytes()
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(f"{path}: line {lineno}: not ASCII text (a CSV mirror is ASCII)") from None
    lines = [(n, line.rstrip("\r").split(",")) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    if not lines:
        raise ValueError(f"{path}: empty file (a CSV mirror starts with a header line)")
    return lines


def _csv_layout(path: Path, header: list) -> str:
    """``"scalar"``, ``"vector"``, ``"wide"`` (2-D) or ``"long"``, from the header line."""
    if len(header) == 1:
        return "scalar"
    if header[0] != "i0":
        raise ValueError(f"{path}: line 1: a header starts with i0 (or is a single key, for 0-D)")
    if len(header) == 2 and not header[1].endswith("]"):
        return "vector"
    if header[1] != "i1":
        if not all(name.endswith("]") for name in header[1:]):
            raise ValueError(f"{path}: line 1: a 2-D header is i0,<key>[0],<key>[1],...")
        return "wide"
    n_dims = len(header) - 1
    if header[:n_dims] != [f"i{d}" for d in range(n_dims)]:
        raise ValueError(f"{path}: line 1: a long-format header is i0,i1,...,<key>")
    return "long"


def _csv_values(path: Path, rows: list, columns: slice, dtype: np.dtype) -> np.ndarray:
    """The fields ``columns`` of every row as a flat array of ``dtype``; ``ValueError`` naming the line."""
    kind = dtype.kind
    conv = (lambda s: float(s) != 0.0) if kind == "b" else int if kind in "iu" else float
    values = []
    for lineno, fields_ in rows:
        for text in fields_[columns]:
            try:
                values.append(conv(text))
            except (ValueError, OverflowError):      # the message would quote the text: not passed on
                what = "an integer" if kind in "iu" else "a number"
                raise ValueError(f"{path}: line {lineno}: a field is not {what}") from None
    if kind in "iu" and values:
        info = np.iinfo(dtype)
        if not (info.min <= min(values) and max(values) <= info.max):
            raise ValueError(f"{path}: a value is out of range for {dtype}")
    return np.array(values, dtype=dtype)


def _csv_long(path: Path, rows: list, n_dims: int, dtype: np.dtype, shape) -> np.ndarray:
    """A long-format array: every element listed once, with its index, in any order."""
    index = _csv_values(path, rows, slice(0, n_dims), np.dtype(np.int64)).reshape(-1, n_dims)
    values = _csv_values(path, rows, slice(n_dims, None), dtype)
    if shape is None:
        shape = tuple(int(m) + 1 for m in index.max(axis=0)) if len(rows) else (0,) * n_dims
    if len(shape) != n_dims or math.prod(shape) != len(rows):
        raise ValueError(f"{path}: {len(rows)} rows of {n_dims} indices do not fill shape {tuple(shape)} "
                         "(the long format lists every element once)")
    if len(rows) and np.any((index < 0) | (index >= np.array(shape))):
        raise ValueError(f"{path}: an index is out of range for shape {tuple(shape)}")
    flat = np.ravel_multi_index(tuple(index.T), shape) if len(rows) else np.zeros(0, np.int64)
    if np.unique(flat).size != flat.size:
        raise ValueError(f"{path}: an element is listed twice")
    out = np.zeros(shape, dtype=dtype)
    out.flat[flat] = values
    return out


def read_csv_array(path, dtype=None, shape=None) -> np.ndarray:
    """Read an array written by :func:`write_csv_array`.

    ``dtype`` (``"bool"``, ``"int8"`` ... ``"int64"``, ``"uint8"`` ... ``"uint64"``, ``"float16"``,
    ``"float32"``, ``"float64"``) and ``shape`` come from the mirror's ``index.json``; without
    them the dtype is float64 (bool if the key names spikes, ``S_<l>``, or an input/target
    raster) and the shape is inferred. The file must hold exactly the elements of ``shape``.
    Raises ``ValueError`` naming the file and line for a malformed file; no message quotes the
    file's contents.
    """
    path = Path(path)
    lines = _csv_lines(path)
    header, rows = lines[0][1], lines[1:]
    for lineno, fields_ in rows:
        if len(fields_) != len(header):
            raise ValueError(f"{path}: line {lineno}: expected {len(header)} fields, got {len(fields_)}")
    if dtype is None:
        key = header[-1].split("[")[0]
        dtype = "bool" if key_stage(key) == "S" or key in ("input", "target") else "float64"
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    if name not in CSV_DTYPES:
        raise ValueError(f"{path}: dtype must be one of {CSV_DTYPES}")
    dtype = np.dtype(name)
    layout = _csv_layout(path, header)
    if layout == "long":
        return _csv_long(path, rows, len(header) - 1, dtype, shape)
    if layout != "scalar" and not np.array_equal(
            _csv_values(path, rows, slice(0, 1), np.dtype(np.int64)), np.arange(len(rows))):
        raise ValueError(f"{path}: column i0 must count the rows 0, 1, 2, ...")
    natural = {"scalar": (), "vector": (len(rows),), "wide": (len(rows), len(header) - 1)}[layout]
    if (layout == "scalar" and len(rows) != 1) or (shape is not None and tuple(shape) != natural):
        want = "one value" if shape is None else f"shape {tuple(shape)}"
        raise ValueError(f"{path}: holds {len(rows)} rows of {len(header) - (layout != 'scalar')} values, "
                         f"expected {want}")
    return _csv_values(path, rows, slice(0 if layout == "scalar" else 1, None), dtype).reshape(natural)


def write_csv_dir(directory, arrays: dict) -> None:
    """Write every array as ``<key>.csv`` plus an ``index.json`` with its shape and dtype.

    Keys must be usable as file names (letters, digits, ``_ . + -``); ``ValueError`` otherwise.
    """
    directory = Path(directory)
    for key in arrays:
        if not isinstance(key, str) or not _CSV_KEY.fullmatch(key):
            raise ValueError(f"key {key!r} cannot name a CSV file (letters, digits, _ . + - only)")
    directory.mkdir(parents=True, exist_ok=True)
    index = {}
    for key in sorted(arrays):
        a = np.asarray(arrays[key])
        write_csv_array(directory / f"{key}.csv", key, a)
        index[key] = {"file": f"{key}.csv", "shape": list(a.shape), "dtype": str(a.dtype)}
    (directory / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n")


def _inside(directory: Path, name, where: str) -> Path:
    """``directory / name`` if it stays inside ``directory``: no absolute path, ``..`` or symlink out."""
    if not isinstance(name, str) or not name or "\x00" in name or Path(name).is_absolute():
        raise ValueError(f"{where} must be a relative file name inside {directory}")
    path = directory / name
    try:
        inside = path.resolve().is_relative_to(directory.resolve())
    except (OSError, RuntimeError):             # a symlink loop
        inside = False
    if not inside:
        raise ValueError(f"{where} must name a file inside {directory} (no '..' or symlink leading out)")
    if not path.is_file():
        raise FileNotFoundError(f"{where} names no file in {directory} (missing, or not a regular file)")
    return path


def _index_entry(directory: Path, index_path: Path, key, item) -> np.ndarray:
    """Read the array ``item`` (``{"file", "shape", "dtype"}``) of an ``index.json``."""
    where = f"{index_path}: key {quoted_name(key)}"
    if not isinstance(item, dict):
        raise ValueError(f"{where}: must be an object with fields 'file', 'shape' and 'dtype'")
    for field in ("file", "shape", "dtype"):
        if field not in item:
            raise ValueError(f"{where}: field {field!r} is missing")
    path = _inside(directory, item["file"], f"{where}: field 'file'")
    shape = item["shape"]
    if not isinstance(shape, list) or len(shape) > 32 or not all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**63 for n in shape):
        raise ValueError(f"{where}: field 'shape' must be a list of non-negative integers, got {describe_value(shape)}")
    if not isinstance(item["dtype"], str) or item["dtype"] not in CSV_DTYPES:
        raise ValueError(f"{where}: field 'dtype' must be one of {CSV_DTYPES}")
    return read_csv_array(path, item["dtype"], tuple(shape))


def read_csv_dir(directory) -> dict:
    """Read a directory written by :func:`write_csv_dir` (or plain ``<key>.csv`` files).

    Every file read must lie inside ``directory``: an ``index.json`` entry whose ``"file"`` is an
    absolute path, climbs out with ``..`` or is a symlink leading out raises ``ValueError``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} is not a directory")
    index_path = directory / "index.json"
    if index_path.is_file():
        index = read_json(index_path)
        if not isinstance(index, dict):
            raise ValueError(f"{index_path}: must hold a JSON object mapping each key to its file, shape and dtype")
        return {key: _index_entry(directory, index_path, key, item) for key, item in index.items()}
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise ValueError(f"{directory}: no .csv files (expected one <key>.csv per trace)")
    return {f.stem: read_csv_array(_inside(directory, f.name, f"{directory}: file")) for f in files}
