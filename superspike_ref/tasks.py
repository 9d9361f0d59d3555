"""Tasks: what the network sees and what it should produce (SPEC §6, paper §3.2).

A task is a pair of boolean rasters of one period, ``input`` ``(n_cycle, n_in)`` and
``target`` ``(n_cycle, n_out)``, replayed every cycle while the simulation runs on
without resets. The generators below build the paper's inputs and targets from a
caller's seeded :class:`numpy.random.Generator`; nothing is downloaded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import _finite_real, whole_steps

__all__ = [
    "CyclicTask",
    "check_raster",
    "PAPER_CYCLE_S",
    "frozen_poisson",
    "timed_target",
    "paper_target_times_s",
    "picture_raster",
    "draw_building",
    "draw_text",
    "fig6_target_image",
]


def check_raster(raster, name: str, n_neurons: int | None = None) -> np.ndarray:
    """Return ``raster`` if it is a boolean ``(n_steps, n_neurons)`` array, else raise.

    Nothing is coerced: an integer or float array of zeros and ones is rejected with
    a ``TypeError``, a wrong shape with a ``ValueError`` naming ``name``.
    """
    if not isinstance(raster, np.ndarray):
        raise TypeError(f"{name} must be a numpy bool array of shape (n_steps, n_neurons), got {type(raster).__name__}")
    if raster.dtype != np.bool_:
        raise TypeError(f"{name} must have dtype bool (one spike per neuron per step), got dtype {raster.dtype}")
    if raster.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_steps, n_neurons), got shape {raster.shape}")
    if raster.shape[0] == 0:
        raise ValueError(f"{name} must have at least one time step, got shape {raster.shape}")
    if n_neurons is not None and raster.shape[1] != n_neurons:
        raise ValueError(f"{name} must have {n_neurons} neurons (columns), got shape {raster.shape}")
    return raster


@dataclass(frozen=True)
class CyclicTask:
    """Frozen input and target rasters of one cycle, replayed for ever (SPEC §6).

    Parameters
    ----------
    input : bool array ``(n_cycle, n_in)``
        Input spikes of one cycle.
    target : bool array ``(n_cycle, n_out)``
        Target spikes Ŝ of the output layer, same period.
    """

    input: np.ndarray
    target: np.ndarray

    def __post_init__(self) -> None:
        check_raster(self.input, "input")
        check_raster(self.target, "target")
        if self.input.shape[0] != self.target.shape[0]:
            raise ValueError(
                f"input and target must have the same period (n_cycle steps), got "
                f"{self.input.shape[0]} and {self.target.shape[0]}"
            )

    @property
    def n_cycle(self) -> int:
        """Steps per cycle."""
        return self.input.shape[0]

    @property
    def n_in(self) -> int:
        return self.input.shape[1]

    @property
    def n_out(self) -> int:
        return self.target.shape[1]

    def input_block(self, n0: int, n1: int) -> np.ndarray:
        """Input spikes of steps ``n0 .. n1-1`` ``(n1 - n0, n_in)``, the cycle replayed."""
        return self.input[np.arange(n0, n1) % self.n_cycle]

    def initial_error_state(self):
        """The van Rossum error needs no state (see :meth:`error_impulses`)."""
        return None

    def error_impulses(self, n0: int, output: np.ndarray, state=None):
        """Error impulses ``Ŝ[n] - S[n]`` of steps ``n0 .. n0 + len(output) - 1`` (SPEC §3).

        Returns ``(impulses, state)``; ``impulses`` is float ``(len(output), n_out)``.
        """
        target = self.target[np.arange(n0, n0 + output.shape[0]) % self.n_cycle]
        return target.astype(float) - output, state


# ---------------------------------------------------------------------------
# validation helpers (shared with io.py)
# ---------------------------------------------------------------------------

def _check_count(value, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum``, else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _check_real(value, name: str, unit: str, positive: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number (> 0 if ``positive``, else >= 0)."""
    value = _finite_real(value, name, unit)
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0 {unit}, got {value!r} {unit}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0 {unit}, got {value!r} {unit}")
    return value


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def _check_image(image, name: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.bool_:
        kind = getattr(image, "dtype", type(image).__name__)
        raise TypeError(f"{name} must be a numpy bool array (True = dark pixel), got {kind}")
    if image.ndim != 2 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} must be 2-D (n_rows, n_cols) and non-empty, got shape {image.shape}")
    return image


# ---------------------------------------------------------------------------
# inputs and timed targets
# ---------------------------------------------------------------------------

#: Period of the paper's Figs 2-4 task: the input and the target repeat every 0.5 s.
PAPER_CYCLE_S = 0.5


def frozen_poisson(
    rng: np.random.Generator, n_neurons: int, rate_Hz: float, duration_s: float, dt_s: float
) -> np.ndarray:
    """Draw one cycle of frozen Poisson (Bernoulli) input spikes (SPEC §6, paper §3.2).

    Every neuron spikes in every step independently with probability
    ``p = rate_Hz * dt_s``, so a neuron has at most one spike per step and the
    expected rate is exactly ``rate_Hz``. Replaying the result every cycle gives
    the paper's "frozen" noise.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of every random draw.
    n_neurons : int
        Number of trains, >= 1.
    rate_Hz : float
        Firing rate of every train, >= 0, with ``rate_Hz * dt_s <= 1``.
    duration_s : float
        Length of the cycle; a whole number of steps of ``dt_s``.
    dt_s : float
        Time step, > 0.

    Returns
    -------
    bool array ``(n_steps, n_neurons)`` with ``n_steps = duration_s / dt_s``.
    """
    _check_rng(rng)
    n_neurons = _check_count(n_neurons, "n_neurons")
    rate_Hz = _check_real(rate_Hz, "rate_Hz", "Hz")
    duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    p = rate_Hz * dt_s
    if p > 1:
        raise ValueError(
            f"rate_Hz * dt_s must be <= 1 (at most one spike per step), got "
            f"rate_Hz={rate_Hz!r} Hz * dt_s={dt_s!r} s = {p:.6g}"
        )
    n_steps = whole_steps(duration_s, dt_s, "duration_s")
    return rng.random((n_steps, n_neurons)) < p


def _as_time_lists(spike_times_s, n_neurons: int) -> list[np.ndarray]:
    """One float array of times per neuron, from a flat or a per-neuron sequence."""
    if isinstance(spike_times_s, (str, bytes)) or not hasattr(spike_times_s, "__len__"):
        raise TypeError(f"spike_times_s must be a sequence of times in s, got {type(spike_times_s).__name__}")
    dims = {np.ndim(t) for t in spike_times_s}
    if dims <= {0}:                                   # flat (or empty): the same times for every neuron
        times = np.asarray(spike_times_s, dtype=float).reshape(-1)
        return [times] * n_neurons
    if dims != {1}:
        raise TypeError("spike_times_s must be a sequence of times, or a list of such sequences, one per neuron")
    if len(spike_times_s) != n_neurons:
        raise ValueError(
            f"spike_times_s has {len(spike_times_s)} per-neuron sequences, expected n_neurons={n_neurons}"
        )
    return [np.asarray(t, dtype=float).reshape(-1) for t in spike_times_s]


def timed_target(spike_times_s, duration_s: float, dt_s: float, n_neurons: int = 1) -> np.ndarray:
    """Build a target raster from spike times (paper §4, Fig 2).

    A time ``t`` goes to step ``round(t / dt_s)`` (nearest step, ties to even).

    Parameters
    ----------
    spike_times_s : sequence of float, or list of ``n_neurons`` sequences of float
        Either one sequence of times given to every neuron, or one sequence per neuron.
        Every time must lie in ``[0, duration_s)`` and round to a step below ``n_steps``.
    duration_s : float
        Length of the cycle; a whole number of steps of ``dt_s``.
    dt_s : float
        Time step, > 0.
    n_neurons : int
        Number of target neurons, >= 1.

    Returns
    -------
    bool array ``(n_steps, n_neurons)``.

    Raises
    ------
    ValueError
        For a time outside ``[0, duration_s)`` or two spikes of one neuron in one step.
    """
    n_neurons = _check_count(n_neurons, "n_neurons")
    duration_s = _check_real(duration_s, "duration_s", "s", positive=True)
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    n_steps = whole_steps(duration_s, dt_s, "duration_s")
    raster = np.zeros((n_steps, n_neurons), dtype=bool)
    for neuron, times in enumerate(_as_time_lists(spike_times_s, n_neurons)):
        bad = ~np.isfinite(times) | (times < 0) | (times >= duration_s)
        if bad.any():
            raise ValueError(
                f"spike_times_s: neuron {neuron} has time {times[bad][0]!r} s outside [0, duration_s={duration_s!r})"
            )
        steps = np.rint(times / dt_s).astype(np.int64)
        if steps.size and steps.max() >= n_steps:
            raise ValueError(
                f"spike_times_s: neuron {neuron} has time {times[steps.argmax()]!r} s, which rounds to step "
                f"{steps.max()}, beyond the last step {n_steps - 1} of duration_s={duration_s!r}"
            )
        unique, counts = np.unique(steps, return_counts=True)
        if (counts > 1).any():
            step = unique[counts > 1][0]
            raise ValueError(
                f"spike_times_s: neuron {neuron} has {counts[counts > 1][0]} spikes in step {step} "
                f"(t = {step * dt_s:.6g} s, dt_s={dt_s!r}); at most one spike per step is allowed"
            )
        raster[steps, neuron] = True
    return raster


def paper_target_times_s() -> np.ndarray:
    """The paper's Fig 2-4 target: 5 equidistant spikes in a 0.5 s cycle (``PAPER_CYCLE_S``).

    Returns
    -------
    float array ``(5,)``: 0.083, 0.166, 0.249, 0.332 and 0.415 s.
    """
    return np.array([0.083, 0.166, 0.249, 0.332, 0.415])


# ---------------------------------------------------------------------------
# picture targets (paper Fig 6, Oxford example)
# ---------------------------------------------------------------------------

def picture_raster(
    image: np.ndarray,
    column_s: float,
    dt_s: float,
    rng: np.random.Generator,
    jitter_s: float | None = None,
) -> np.ndarray:
    """Turn a black-and-white image into a spike raster: one spike per dark pixel.

    Image row ``i`` is neuron ``i``; column ``c`` is the time window
    ``[c * column_s, (c + 1) * column_s)``. Each dark pixel spikes once, at
    ``c * column_s + u`` with ``u ~ U[0, jitter_s)``, in the step that contains that
    time (``floor(t / dt_s)``), so the spike never leaves its column's window. This
    is the original code's ``mktarget.py`` with 0-based ids and no lost rows.

    Parameters
    ----------
    image : bool array ``(n_rows, n_cols)``
        True = dark pixel = spike.
    column_s : float
        Duration of one image column; a whole number of steps of ``dt_s``.
    dt_s : float
        Time step, > 0.
    rng : numpy.random.Generator
        Source of the jitter, one uniform draw per dark pixel in row-major order.
    jitter_s : float, optional
        Jitter range, ``0 <= jitter_s <= column_s``; default ``column_s``
        (the Oxford target). The Auryn-logo target used ``column_s / 3``.

    Returns
    -------
    bool array ``(n_cols * column_s / dt_s, n_rows)``.
    """
    _check_image(image)
    _check_rng(rng)
    column_s = _check_real(column_s, "column_s", "s", positive=True)
    dt_s = _check_real(dt_s, "dt_s", "s", positive=True)
    jitter_s = column_s if jitter_s is None else _check_real(jitter_s, "jitter_s", "s")
    if jitter_s > column_s:
        raise ValueError(f"jitter_s must be <= column_s={column_s!r} s, got {jitter_s!r} s")
    steps_per_column = whole_steps(column_s, dt_s, "column_s")
    n_rows, n_cols = image.shape
    rows, cols = np.nonzero(image)
    jitter_steps = min(jitter_s / dt_s, steps_per_column)
    offsets = np.floor(rng.random(rows.size) * jitter_steps).astype(np.int64)
    offsets = np.minimum(offsets, steps_per_column - 1)
    raster = np.zeros((n_cols * steps_per_column, n_rows), dtype=bool)
    raster[cols * steps_per_column + offsets, rows] = True
    return raster


def draw_building(n_rows: int, n_cols: int) -> np.ndarray:
    """Draw a domed round building, after Oxford's Radcliffe Camera (target of paper §7.9 example).

    From the ground up: a ground line, a rusticated base with arched openings, a drum
    with paired columns and windows, a cornice with balustrade, an attic with
    buttresses, a ribbed dome shaded on its right, and a lantern with a finial. Columns,
    windows and arches sit at ``sin(angle)`` positions, as on a cylinder seen from
    the side. Everything is drawn in unit coordinates, so the picture scales with the
    size; strokes are ``max(1 %, 1 pixel)`` wide. Deterministic, no randomness.

    At 200 x 189 (the original Oxford target size) about 27 % of pixels are dark
    (≈ 27 Hz per neuron at 10 ms per column); at 100 x 70 about 29 %.

    Parameters
    ----------
    n_rows, n_cols : int
        Image size, each >= 20.

    Returns
    -------
    bool array ``(n_rows, n_cols)``, True = dark pixel, row 0 = top.
    """
    n_rows = _check_count(n_rows, "n_rows", 20)
    n_cols = _check_count(n_cols, "n_cols", 20)
    y = (np.arange(n_rows)[:, None] + 0.5) / n_rows   # 0 = top, 1 = bottom
    x = (np.arange(n_cols)[None, :] + 0.5) / n_cols   # 0 = left, 1 = right
    sy, sx = max(0.01, 1 / n_rows), max(0.01, 1 / n_cols)  # stroke height and width

    def box(top, bottom, left, right):
        return (y >= top) & (y < bottom) & (x >= left) & (x < right)

    def hline(yc, left, right, k=1.0):
        return box(yc - k * sy / 2, yc + k * sy / 2, left, right)

    def vline(xc, top, bottom, k=1.0):
        return box(top, bottom, xc - k * sx / 2, xc + k * sx / 2)

    def frame(top, bottom, left, right):
        return box(top, bottom, left, right) & ~box(top + sy, bottom - sy, left + sx, right - sx)

    def on_cylinder(angle_deg, radius):
        return 0.5 + radius * np.sin(np.radians(angle_deg))

    img = box(0.935, 0.965, 0.03, 0.97) | hline(0.925, 0.09, 0.91)         # ground, plinth
    img |= frame(0.72, 0.925, 0.11, 0.89)                                   # base storey
    for y_course in np.arange(0.755, 0.915, 0.035):                         # rustication
        img |= hline(y_course, 0.11, 0.89)
    for angle in (-60, -30, 0, 30, 60):                                     # arched openings
        xc, half = on_cylinder(angle, 0.37), 0.035 * np.cos(np.radians(angle))
        arch = ((x - xc) / max(half, sx)) ** 2 + ((y - 0.77) / 0.03) ** 2 < 1
        img |= box(0.77, 0.925, xc - half, xc + half) | (arch & (y < 0.77))
    img |= hline(0.475, 0.15, 0.85, 2) | hline(0.72 - sy, 0.14, 0.86, 2)    # drum: entablature, sill
    for angle in (-75, -45, -15, 15, 45, 75):                               # paired columns
        img |= vline(on_cylinder(angle - 4.5, 0.33), 0.475, 0.72)
        img |= vline(on_cylinder(angle + 4.5, 0.33), 0.475, 0.72)
    for angle in (-60, -30, 0, 30, 60):                                     # windows
        xc, half = on_cylinder(angle, 0.33), 0.028 * np.cos(np.radians(angle))
        img |= frame(0.54, 0.66, xc - half, xc + half)
        if half > 2 * sx:
            img |= box(0.56, 0.64, xc - half / 2, xc + half / 2)
    img |= box(0.445, 0.465, 0.12, 0.88) | hline(0.425, 0.13, 0.87)        # cornice, balustrade
    for x_baluster in np.arange(0.14, 0.87, 0.03):
        img |= vline(x_baluster, 0.425, 0.445)
    img |= frame(0.37, 0.425, 0.24, 0.76)                                   # attic
    for angle in (-70, -40, -13, 13, 40, 70):                               # buttresses
        img |= vline(on_cylinder(angle, 0.26), 0.345, 0.425, 2)
    a, b, cy = 0.255, 0.215, 0.37                                           # dome half-axes, base
    r2 = ((x - 0.5) / a) ** 2 + ((y - cy) / b) ** 2
    dome = (r2 < 1) & (y < cy)
    half_width = a * np.sqrt(np.clip(1 - ((y - cy) / b) ** 2, 0, 1))
    u = (x - 0.5) / np.maximum(half_width, 1e-9)                            # sin(longitude)
    img |= dome & ((r2 > 1 - 2.5 * sy / b) | (u > 0.75))                    # outline, shade
    for angle in (-67.5, -45, -22.5, 0, 22.5, 45, 67.5):                    # ribs
        img |= dome & (np.abs(u - np.sin(np.radians(angle))) * half_width < sx / 2)
    img |= box(0.1, 0.155, 0.47, 0.53) & ~vline(0.5, 0.115, 0.145)          # lantern
    img |= hline(0.155, 0.455, 0.545)
    img |= (((x - 0.5) / 0.04) ** 2 + ((y - 0.1) / 0.035) ** 2 < 1) & (y < 0.1)
    img |= vline(0.5, 0.03, 0.07) | (((x - 0.5) / 0.012) ** 2 + ((y - 0.03) / 0.012) ** 2 < 1)
    return img


# 5 x 7 bitmap font: one glyph per line, rows separated by "|", "#" = dark.
_FONT_5X7 = {
    " ": ".....|.....|.....|.....|.....|.....|.....",
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
    "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": ".###.|..#..|..#..|..#..|..#..|..#..|.###.",
    "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
    "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
    "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
    "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
}


def _glyph(char: str) -> np.ndarray:
    """Bool ``(7, 5)`` bitmap of one character."""
    return np.array([[c == "#" for c in row] for row in _FONT_5X7[char].split("|")])


def _text_bitmap(text: str) -> np.ndarray:
    """Unscaled bitmap of ``text``: lines of 5 x 7 glyphs, 1 pixel apart, each line centred."""
    lines = text.split("\n")
    width = max(6 * len(line) - 1 for line in lines)
    bitmap = np.zeros((8 * len(lines) - 1, max(width, 1)), dtype=bool)
    for i, line in enumerate(lines):
        left = (width - (6 * len(line) - 1)) // 2
        for j, char in enumerate(line):
            bitmap[8 * i:8 * i + 7, left + 6 * j:left + 6 * j + 5] = _glyph(char)
    return bitmap


def draw_text(text: str, n_rows: int, n_cols: int, keep_aspect: bool = True) -> np.ndarray:
    """Render ``text`` with a built-in 5 x 7 bitmap font, scaled to fit and centred.

    Parameters
    ----------
    text : str
        Uppercase letters A-Z, digits, spaces and ``"\\n"`` for line breaks.
    n_rows, n_cols : int
        Image size. The text must fit at scale >= 1: a line of ``k`` characters needs
        ``6 k - 1`` columns, and ``m`` lines need ``8 m - 1`` rows.
    keep_aspect : bool
        True (default): one nearest-neighbour scale factor for both axes, the largest
        that fits. False: stretch each axis independently to fill the whole image.

    Returns
    -------
    bool array ``(n_rows, n_cols)``, True = dark pixel, row 0 = top.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    unknown = sorted(set(text) - set(_FONT_5X7) - {"\n"})
    if unknown:
        raise ValueError(f"text contains characters without a glyph: {unknown}; use A-Z, 0-9, space and newline")
    n_rows = _check_count(n_rows, "n_rows")
    n_cols = _check_count(n_cols, "n_cols")
    bitmap = _text_bitmap(text)
    height, width = bitmap.shape
    scale_y, scale_x = n_rows / height, n_cols / width
    if min(scale_y, scale_x) < 1:
        raise ValueError(
            f"text {text!r} needs at least {height} rows x {width} columns, got n_rows={n_rows}, n_cols={n_cols}"
        )
    if keep_aspect:
        scale_y = scale_x = min(scale_y, scale_x)
    out_rows, out_cols = int(height * scale_y + 1e-9), int(width * scale_x + 1e-9)
    src_rows = np.minimum(((np.arange(out_rows) + 0.5) / scale_y).astype(int), height - 1)
    src_cols = np.minimum(((np.arange(out_cols) + 0.5) / scale_x).astype(int), width - 1)
    image = np.zeros((n_rows, n_cols), dtype=bool)
    top, left = (n_rows - out_rows) // 2, (n_cols - out_cols) // 2
    image[top:top + out_rows, left:left + out_cols] = bitmap[np.ix_(src_rows, src_cols)]
    return image


def fig6_target_image(n_rows: int = 100, n_cols: int = 70) -> np.ndarray:
    """Target picture for the paper's Fig 6 task: the building on 96 % of the rows, centred.

    The paper's target (the Auryn logo, 100 x 70 pixels at 50 ms per column, 3.5 s)
    has 90 active rows and a mean rate of ≈ 5 Hz. This picture, at the default size,
    has 90 active rows and 1954 dark pixels: with :func:`picture_raster` at
    ``column_s = 0.05`` that is 1954 spikes in 3.5 s, a mean rate of 5.58 Hz over all
    100 neurons. The top and bottom 2 % of neurons stay silent, as in the paper.

    Parameters
    ----------
    n_rows, n_cols : int
        Image size (neurons, time columns), each >= 21.

    Returns
    -------
    bool array ``(n_rows, n_cols)``, True = dark pixel.
    """
    n_rows = _check_count(n_rows, "n_rows", 21)
    n_cols = _check_count(n_cols, "n_cols", 20)
    height = max(20, round(0.96 * n_rows))
    image = np.zeros((n_rows, n_cols), dtype=bool)
    top = (n_rows - height) // 2
    image[top:top + height] = draw_building(height, n_cols)
    return image
