"""Reading untrusted array files, and writing reproducible ones.

Case, candidate, result and checkpoint files are data from anywhere. They are read without
unpickling: :func:`load_npz` checks every ``.npy`` header of an archive against the member's
size before allocating its data, and refuses object (pickled) arrays. Every malformed file
raises one ``ValueError`` naming the file and the field, key or line; messages never quote
text from a file (:func:`quoted_name` and :func:`describe_value` say what was found without
echoing it).
"""
from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["quoted_name", "describe_value", "read_json", "load_npz", "save_npz"]


def quoted_name(name) -> str:
    """A name read from a file (a field, a key), quoted if it is short printable ASCII, else described."""
    text = str(name)
    if len(text) <= 40 and text.isascii() and text.isprintable():
        return repr(text)
    return f"<a name of {len(text)} characters>"


def describe_value(value) -> str:
    """What a JSON value is, for a message: a number itself, otherwise only its type (text is never echoed)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        try:
            return f"{float(value):.6g}"
        except OverflowError:
            return "an integer too large for a float"
    if isinstance(value, list):
        return f"a list of length {len(value)}"
    return {str: "another string", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def read_json(path: Path):
    """Parse a JSON file; ``ValueError`` naming the file and where (never what) if it is not JSON."""
    data = path.read_bytes()
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:     # exc.msg says what was expected, not what was found
        raise ValueError(f"{path}: not valid JSON ({exc.msg}: line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except RecursionError:
        raise ValueError(f"{path}: not valid JSON (nested too deeply)") from None
    except ValueError:                      # an integer with more digits than Python converts
        raise ValueError(f"{path}: not valid JSON (a number with too many digits)") from None


_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def load_npz(path) -> dict:
    """Read a ``.npz`` of plain arrays; ``ValueError`` naming the file and the reason if it is not one.

    Nothing is unpickled. Every member's ``.npy`` header is checked against the member's size
    before its data is read, so a header that claims a huge shape is refused, not allocated.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file (expected a .npz archive of arrays)")
    try:
        archive = zipfile.ZipFile(path)
    except Exception:               # BadZipFile, OSError, EOFError, struct.error ...: no zip structure
        raise ValueError(f"{path}: not a .npz archive (not a zip file; a single .npy array is not one "
                         "either)") from None
    with archive:
        arrays = {}
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                raise ValueError(f"{path}: member {quoted_name(info.filename)} is not a .npy array")
            arrays[info.filename[:-4]] = _read_npy_member(path, archive, info)
    return arrays


def _read_npy_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member of a ``.npz``: header checked first, then read without pickles."""
    where = f"{path}: array {quoted_name(info.filename[:-4])}"
    problem = "cannot be opened (a corrupt, encrypted or unsupported zip entry)"
    try:
        with archive.open(info) as f:
            problem = "is not a .npy array (no .npy magic string, or an unsupported .npy version)"
            read_header = _NPY_HEADERS[np.lib.format.read_magic(f)]
            problem = "has a malformed .npy header"
            shape, _, dtype = read_header(f)
            n_data = info.file_size - f.tell()
    except zipfile.BadZipFile:      # a CRC or structure check of the zip entry failed
        raise ValueError(f"{where} is corrupt (a zip check failed)") from None
    except Exception:               # whatever the bytes are, say which stage failed, never what they hold
        raise ValueError(f"{where} {problem}") from None
    if dtype.hasobject:
        raise ValueError(f"{where} holds pickled (object) data, which is never loaded")
    if dtype.names is not None or dtype.subdtype is not None or dtype.itemsize == 0:
        raise ValueError(f"{where} has a structured or empty dtype (plain numbers expected)")
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes != n_data:
        raise ValueError(f"{where} has a header saying shape {shape} of {dtype} ({n_bytes} bytes), "
                         f"but {n_data} bytes of data")
    try:
        with archive.open(info) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    except Exception:               # a CRC error, truncated or corrupt compressed data
        raise ValueError(f"{where} is corrupt (its data cannot be read)") from None


def save_npz(path, arrays: dict, compress: bool = True) -> None:
    """Write ``arrays`` as a ``.npz`` that :func:`numpy.load` reads, byte for byte reproducible.

    Unlike :func:`numpy.savez`, the zip entries carry a fixed date, so the same arrays always
    give the same file (and the same sha256 in a manifest). Keys are written in sorted order.
    """
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            array = np.asarray(arrays[key])
            array = np.ascontiguousarray(array) if array.ndim else array     # 0-D stays 0-D
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue())
