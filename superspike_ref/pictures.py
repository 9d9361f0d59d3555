"""Picture targets: images drawn in code and turned into spike rasters (SPEC §6, paper §4.2).

A picture is a boolean image ``(n_rows, n_cols)``, True = dark pixel, row 0 = top. Row
``i`` becomes output neuron ``i`` and column ``c`` a time window of the cycle
(:func:`picture_raster`). The pictures are drawn here, deterministically, from unit
coordinates: a domed building (:func:`draw_building`, :func:`fig6_target_image`) and text
in a 5 x 7 bitmap font (:func:`draw_text`); nothing is downloaded.
"""
from __future__ import annotations

import numpy as np

from .params import _check_count, _check_real, _check_rng, whole_steps

__all__ = ["picture_raster", "draw_building", "draw_text", "fig6_target_image"]


def _check_image(image, name: str = "image") -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.bool_:
        kind = getattr(image, "dtype", type(image).__name__)
        raise TypeError(f"{name} must be a numpy bool array (True = dark pixel), got {kind}")
    if image.ndim != 2 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} must be 2-D (n_rows, n_cols) and non-empty, got shape {image.shape}")
    return image


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


class _Canvas:
    """Pixel-centre coordinates of an ``(n_rows, n_cols)`` image in unit coordinates and masks of shapes on it.

    ``y`` runs from 0 (top) to 1 (bottom), ``x`` from 0 (left) to 1 (right); strokes are
    ``sy`` high and ``sx`` wide, ``max(1 %, 1 pixel)``.
    """

    def __init__(self, n_rows: int, n_cols: int) -> None:
        self.y = (np.arange(n_rows)[:, None] + 0.5) / n_rows
        self.x = (np.arange(n_cols)[None, :] + 0.5) / n_cols
        self.sy, self.sx = max(0.01, 1 / n_rows), max(0.01, 1 / n_cols)

    def box(self, top, bottom, left, right):
        return (self.y >= top) & (self.y < bottom) & (self.x >= left) & (self.x < right)

    def hline(self, yc, left, right, k=1.0):
        return self.box(yc - k * self.sy / 2, yc + k * self.sy / 2, left, right)

    def vline(self, xc, top, bottom, k=1.0):
        return self.box(top, bottom, xc - k * self.sx / 2, xc + k * self.sx / 2)

    def frame(self, top, bottom, left, right):
        return self.box(top, bottom, left, right) & ~self.box(top + self.sy, bottom - self.sy, left + self.sx,
                                                              right - self.sx)


def _on_cylinder(angle_deg, radius):
    """Horizontal position of a point at ``angle_deg`` on a cylinder of ``radius`` seen from the side."""
    return 0.5 + radius * np.sin(np.radians(angle_deg))


def _building_base(c: _Canvas) -> np.ndarray:
    """Ground, plinth and the rusticated base storey with its arched openings."""
    x, y, sx = c.x, c.y, c.sx
    img = c.box(0.935, 0.965, 0.03, 0.97) | c.hline(0.925, 0.09, 0.91)     # ground, plinth
    img |= c.frame(0.72, 0.925, 0.11, 0.89)                                 # base storey
    for y_course in np.arange(0.755, 0.915, 0.035):                         # rustication
        img |= c.hline(y_course, 0.11, 0.89)
    for angle in (-60, -30, 0, 30, 60):                                     # arched openings
        xc, half = _on_cylinder(angle, 0.37), 0.035 * np.cos(np.radians(angle))
        arch = ((x - xc) / max(half, sx)) ** 2 + ((y - 0.77) / 0.03) ** 2 < 1
        img |= c.box(0.77, 0.925, xc - half, xc + half) | (arch & (y < 0.77))
    return img


def _building_drum(c: _Canvas) -> np.ndarray:
    """The drum (paired columns, windows), cornice with balustrade, and the attic with buttresses."""
    sy, sx = c.sy, c.sx
    img = c.hline(0.475, 0.15, 0.85, 2) | c.hline(0.72 - sy, 0.14, 0.86, 2)  # drum: entablature, sill
    for angle in (-75, -45, -15, 15, 45, 75):                               # paired columns
        img |= c.vline(_on_cylinder(angle - 4.5, 0.33), 0.475, 0.72)
        img |= c.vline(_on_cylinder(angle + 4.5, 0.33), 0.475, 0.72)
    for angle in (-60, -30, 0, 30, 60):                                     # windows
        xc, half = _on_cylinder(angle, 0.33), 0.028 * np.cos(np.radians(angle))
        img |= c.frame(0.54, 0.66, xc - half, xc + half)
        if half > 2 * sx:
            img |= c.box(0.56, 0.64, xc - half / 2, xc + half / 2)
    img |= c.box(0.445, 0.465, 0.12, 0.88) | c.hline(0.425, 0.13, 0.87)    # cornice, balustrade
    for x_baluster in np.arange(0.14, 0.87, 0.03):
        img |= c.vline(x_baluster, 0.425, 0.445)
    img |= c.frame(0.37, 0.425, 0.24, 0.76)                                 # attic
    for angle in (-70, -40, -13, 13, 40, 70):                               # buttresses
        img |= c.vline(_on_cylinder(angle, 0.26), 0.345, 0.425, 2)
    return img


def _building_dome(c: _Canvas) -> np.ndarray:
    """The ribbed dome, shaded on its right, and the lantern with its finial."""
    x, y, sy, sx = c.x, c.y, c.sy, c.sx
    a, b, cy = 0.255, 0.215, 0.37                                           # dome half-axes, base
    r2 = ((x - 0.5) / a) ** 2 + ((y - cy) / b) ** 2
    dome = (r2 < 1) & (y < cy)
    half_width = a * np.sqrt(np.clip(1 - ((y - cy) / b) ** 2, 0, 1))
    u = (x - 0.5) / np.maximum(half_width, 1e-9)                            # sin(longitude)
    img = dome & ((r2 > 1 - 2.5 * sy / b) | (u > 0.75))                     # outline, shade
    for angle in (-67.5, -45, -22.5, 0, 22.5, 45, 67.5):                    # ribs
        img |= dome & (np.abs(u - np.sin(np.radians(angle))) * half_width < sx / 2)
    img |= c.box(0.1, 0.155, 0.47, 0.53) & ~c.vline(0.5, 0.115, 0.145)      # lantern
    img |= c.hline(0.155, 0.455, 0.545)
    img |= (((x - 0.5) / 0.04) ** 2 + ((y - 0.1) / 0.035) ** 2 < 1) & (y < 0.1)
    img |= c.vline(0.5, 0.03, 0.07) | (((x - 0.5) / 0.012) ** 2 + ((y - 0.03) / 0.012) ** 2 < 1)
    return img


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
    canvas = _Canvas(n_rows, n_cols)
    return _building_base(canvas) | _building_drum(canvas) | _building_dome(canvas)


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
