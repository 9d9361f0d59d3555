"""Checkpoints of long runs: save an experiment's whole state, resume it bit for bit.

A checkpoint file holds a header line (format, SHA-256 of the payload) and a pickled
payload (engines, results so far, the experiment's configuration). It is written to a
temporary file and renamed, so an interrupted write never leaves a half file under the
final name. A truncated or altered file raises a ``ValueError`` that says so, instead of
resuming from a wrong state. Only load checkpoints you wrote yourself (pickle).
"""
from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

__all__ = ["save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = b"superspike-checkpoint/1"


def save_checkpoint(path, state) -> None:
    """Write ``state`` (any picklable object) atomically to ``path``."""
    path = Path(path)
    payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    header = CHECKPOINT_FORMAT + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(header + payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`, verifying its checksum."""
    path = Path(path)
    data = path.read_bytes()
    header, sep, payload = data.partition(b"\n")
    parts = header.split(b" ")
    if not sep or len(parts) != 2 or parts[0] != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a superspike_ref checkpoint (bad header); delete it or run without --resume")
    if hashlib.sha256(payload).hexdigest().encode() != parts[1]:
        raise ValueError(f"{path} is corrupted (checksum mismatch, e.g. a truncated write); "
                         "delete it or run without --resume")
    return pickle.loads(payload)
