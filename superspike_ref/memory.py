"""How much memory the machine has, and refusing allocations that cannot fit.

Recording a long run, or reading a ``.ras`` file whose last spike is far away, allocates
arrays whose size follows from the input. :func:`check_memory` compares such a size with
what the machine has available (or a limit the caller gives, e.g. the CLI's
``--max-memory``) *before* allocating, so that a run that cannot fit stops at once with a
message saying why, instead of a ``MemoryError`` deep inside NumPy (or the machine swapping).
"""
from __future__ import annotations

import numbers
import os

__all__ = ["available_memory_bytes", "check_memory"]

_GiB = 2**30


def available_memory_bytes() -> int | None:
    """Bytes of memory available to a new allocation, or None if the machine does not say.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux: free memory plus reclaimable caches) where
    present, else the physical memory (``os.sysconf`` pages × page size), else None.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    value, unit = line.split()[1:3]
                    return int(value) * (1024 if unit == "kB" else 1)
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None


def _short_int(n: int) -> str:
    """``n`` in full below 1e15, else as ``d.dde+N`` (exact for any size: no float conversion)."""
    digits = str(abs(n))
    if len(digits) <= 15:
        return str(n)
    return f"{'-' if n < 0 else ''}{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"


def _format_gib(n_bytes: int) -> str:
    """``n_bytes`` in GiB with one decimal (three significant digits below 0.1 GiB or above 1e15 GiB)."""
    if n_bytes // _GiB >= 10**15:
        return _short_int(n_bytes // _GiB)
    gib = n_bytes / _GiB
    return f"{gib:.1f}" if gib >= 0.1 or gib == 0 else f"{gib:.3g}"


def _check_bytes(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of bytes, got {value!r} ({type(value).__name__})")
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{name} must be a finite number of bytes >= 0, got {value!r}")
    return int(value)


def check_memory(n_bytes, what: str, limit_bytes=None, advice: str = "record less or run fewer steps") -> None:
    """Raise ``ValueError`` if ``n_bytes`` exceed the memory available (or ``limit_bytes``).

    Parameters
    ----------
    n_bytes : int
        Size of the planned allocation.
    what : str
        What needs it, the start of the message (e.g. ``"recording ['S'] over 5000 steps"``).
    limit_bytes : int or None
        The limit; None means :func:`available_memory_bytes` (no check if the machine does not
        say).
    advice : str
        The end of the message: what the user can do about it.

    Raises
    ------
    ValueError
        ``"<what> needs N.N GiB, more than the X.X GiB available; <advice>"``.
    TypeError, ValueError
        For an ``n_bytes`` or ``limit_bytes`` that is not a finite number >= 0.
    """
    n_bytes = _check_bytes(n_bytes, "n_bytes")
    if limit_bytes is not None:
        limit_bytes = _check_bytes(limit_bytes, "limit_bytes")
    if n_bytes == 0:
        return
    limit = available_memory_bytes() if limit_bytes is None else limit_bytes
    if limit is not None and n_bytes > limit:
        raise ValueError(
            f"{what} needs {_format_gib(n_bytes)} GiB, more than the {_format_gib(limit)} GiB available; {advice}"
        )
