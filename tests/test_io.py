"""Tests for superspike_ref.io: Auryn .ras read and write."""
import re
from pathlib import Path

import numpy as np
import pytest

from superspike_ref.io import read_ras, read_ras_events, write_ras
from superspike_ref.tasks import draw_building, frozen_poisson, picture_raster

DT = 1e-4
REFERENCE_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "reference-data"


@pytest.mark.parametrize("id_base", [0, 1])
def test_round_trip(tmp_path, id_base):
    raster = frozen_poisson(np.random.default_rng(4), 30, 20.0, 0.2, DT)
    path = tmp_path / "spikes.ras"
    assert write_ras(path, raster, DT, id_base=id_base) == raster.sum()
    back = read_ras(path, 30, DT, duration_s=0.2, id_base=id_base)
    assert back.dtype == np.bool_ and np.array_equal(back, raster)
    times, ids = read_ras_events(path, id_base=id_base)
    steps, expected_ids = np.nonzero(raster)
    assert np.array_equal(ids, expected_ids)
    np.testing.assert_allclose(times, steps * DT, atol=1e-7)
    first = path.read_text().splitlines()[0].split()
    assert int(first[1]) == expected_ids[0] + id_base


def test_write_format_sorted_by_time_then_id(tmp_path):
    raster = np.zeros((10, 3), dtype=bool)
    raster[[7, 2, 2, 0], [0, 2, 1, 2]] = True
    path = tmp_path / "a.ras"
    write_ras(path, raster, DT, id_base=1, t_offset_s=0.5)
    assert path.read_text() == "0.500000 3\n0.500200 2\n0.500200 3\n0.500700 1\n"


def test_id_base_is_honoured(tmp_path):
    path = tmp_path / "b.ras"
    path.write_text("0.0001 1\n0.0002 2\n")
    zero = read_ras(path, 3, DT, duration_s=0.001, id_base=0)
    one = read_ras(path, 3, DT, duration_s=0.001, id_base=1)
    assert np.argwhere(zero).tolist() == [[1, 1], [2, 2]]
    assert np.argwhere(one).tolist() == [[1, 0], [2, 1]]
    with pytest.raises(ValueError, match="id_base"):
        read_ras(path, 3, DT, id_base=2)
    with pytest.raises(TypeError, match="id_base"):
        read_ras_events(path, id_base=True)


def test_comments_blank_lines_unsorted_and_default_duration(tmp_path):
    path = tmp_path / "c.ras"
    path.write_text("# header\n\n0.003000 1\n   \n0.001049\t0\n# tail\n")
    raster = read_ras(path, 2, DT)
    assert raster.shape == (31, 2)                      # last spike step + 1
    assert np.argwhere(raster).tolist() == [[10, 0], [30, 1]]
    times, ids = read_ras_events(path)
    assert times.tolist() == [0.003, 0.001049] and ids.tolist() == [1, 0]


def test_picture_target_round_trip_off_grid_times(tmp_path):
    raster = picture_raster(draw_building(30, 20), 0.01, DT, np.random.default_rng(0))
    path = tmp_path / "target.ras"
    write_ras(path, raster, DT, id_base=1)
    assert np.array_equal(read_ras(path, 30, DT, duration_s=0.2, id_base=1), raster)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("0.1", r"expected 2 fields \(time_s neuron_id\), got 1"),
        ("0.1 2 3", "expected 2 fields .*got 3"),
        ("abc 2", r"field 1 \(time\) is not a number"),
        ("0.1 two", r"field 2 \(neuron id\) is not an integer"),
        ("0.1 2.5", r"field 2 \(neuron id\) is not an integer"),
        ("0.1 0x2", r"field 2 \(neuron id\) is not an integer"),
        ("-0.1 2", r"field 1 \(time\) must be a finite number >= 0"),
        ("nan 2", r"field 1 \(time\) must be a finite number >= 0"),
        ("inf 2", r"field 1 \(time\) must be a finite number >= 0"),
        ("1e400 2", r"field 1 \(time\) must be a finite number >= 0"),
        ("0.1 -1", r"field 2 \(neuron id\) -1 is below id_base=0"),
        ("0.1 9223372036854775808", r"field 2 \(neuron id\) is outside the 64-bit integer range"),
        ("0.1 " + "9" * 5000, r"field 2 \(neuron id\) is outside the 64-bit integer range"),
        ("0.1 -" + "9" * 25, r"field 2 \(neuron id\) is outside the 64-bit integer range"),
        ("0.1 5", r"field 2 \(neuron id\) 5 is out of range for n_neurons=5"),
        ("0.5 2", r"field 1 \(time\) falls in step 5000, beyond duration_s=0.5"),
        ("0.49996 2", "beyond duration_s=0.5"),
        ("1e300 2", r"falls in step 1e\+304, beyond duration_s=0.5"),
        ("0.01004 0", "second spike of neuron 0 in step 100 \\(first on line 2\\)"),
    ],
)
def test_malformed_line_names_file_line_and_field(tmp_path, line, reason):
    path = tmp_path / "bad.ras"
    path.write_text(f"# comment\n0.010000 0\n\n{line}\n0.2 1\n")
    with pytest.raises(ValueError) as info:
        read_ras(path, 5, DT, duration_s=0.5)
    message = str(info.value)
    assert message.startswith(f"{path}: line 4: "), message
    assert re.search(reason, message), message
    assert line not in message and len(message) < 300          # the line's text is never quoted


def test_messages_never_echo_file_contents(tmp_path):
    path = tmp_path / "spikes.ras"
    for text in ["0.1 secret-token", "secret-token 1", "0.1 1 secret-token", "0.1 1\nsecret-token"]:
        path.write_text(text + "\n")
        with pytest.raises(ValueError) as info:
            read_ras(path, 5, DT, duration_s=0.5)
        assert "secret" not in str(info.value) and str(path) in str(info.value)


def test_malformed_line_in_read_ras_events(tmp_path):
    path = tmp_path / "bad.ras"
    path.write_text("0.1 0\n0.1 x\n")
    with pytest.raises(ValueError, match=r"bad\.ras: line 2: field 2 \(neuron id\) is not an integer$"):
        read_ras_events(path)


def test_binary_content_names_file_and_line(tmp_path):
    path = tmp_path / "binary.ras"
    path.write_bytes(b"0.1 0\n0.2 1\n\x89PNG\xff\xfe 1\n")
    for read in (lambda: read_ras(path, 5, DT), lambda: read_ras_events(path)):
        with pytest.raises(ValueError, match=r"binary\.ras: line 3: byte 1 is not UTF-8 text"):
            read()


def test_line_endings_and_line_numbers(tmp_path):
    path = tmp_path / "endings.ras"
    path.write_bytes(b"0.0001 0\r\n0.0002 1\r0.0003 0\n")      # CRLF, CR and LF, as Python's text files
    assert np.argwhere(read_ras(path, 2, DT)).tolist() == [[1, 0], [2, 1], [3, 0]]
    path.write_bytes(b"0.0001 0\r0.0002 x\n")
    with pytest.raises(ValueError, match="line 2: field 2"):
        read_ras_events(path)


def test_raster_that_cannot_fit_is_refused_before_allocating(tmp_path, monkeypatch):
    path = tmp_path / "far.ras"
    path.write_text("0.1 0\n1e9 1\n")                           # 1e13 steps x 5 neurons: 45 TiB
    with pytest.raises(ValueError, match=r"far\.ras: a raster up to the time on line 2 \(10000000000001 steps x 5 "
                                         r"neurons\) needs 46566\.1 GiB, more than the .* GiB available; check"):
        read_ras(path, 5, DT)
    with pytest.raises(ValueError, match=r"a raster of duration_s=1000000001.0 s .* needs .* GiB.*shorter duration_s"):
        read_ras(path, 5, DT, duration_s=1e9 + 1)
    path.write_text("1e300 0\n")
    with pytest.raises(ValueError, match="line 1: field 1 \\(time\\) is too many steps of dt_s=1e-10 s to count"):
        read_ras(path, 5, 1e-10)
    import superspike_ref.memory as memory
    path.write_text("0.0999 0\n")                               # 1000 steps x 5 neurons = 5000 bytes
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 4999)
    with pytest.raises(ValueError, match="needs 4.66e-06 GiB, more than the 4.66e-06 GiB available"):
        read_ras(path, 5, DT)
    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 5000)
    assert read_ras(path, 5, DT).shape == (1000, 5)


def test_id_base_one_rejects_zero_id(tmp_path):
    path = tmp_path / "one.ras"
    path.write_text("0.1 1\n0.2 0\n")
    with pytest.raises(ValueError, match=r"line 2: field 2 \(neuron id\) 0 is below id_base=1"):
        read_ras(path, 5, DT, id_base=1)
    path.write_text("0.1 5\n")
    assert read_ras(path, 5, DT, id_base=1)[-1, 4]
    with pytest.raises(ValueError, match=r"line 1: field 2 \(neuron id\) 5 is out of range"):
        read_ras(path, 5, DT, id_base=0)


def test_bad_arguments_rejected(tmp_path):
    path = tmp_path / "d.ras"
    with pytest.raises(TypeError, match="raster"):
        write_ras(path, np.zeros((5, 2), dtype=int), DT)
    with pytest.raises(TypeError, match="raster"):
        write_ras(path, [[True]], DT)
    with pytest.raises(ValueError, match="dt_s"):
        write_ras(path, np.zeros((5, 2), dtype=bool), 0.0)
    with pytest.raises(ValueError, match="t_offset_s"):
        write_ras(path, np.zeros((5, 2), dtype=bool), DT, t_offset_s=-1.0)
    path.write_text("")
    with pytest.raises(ValueError, match="no spikes, so duration_s must be given"):
        read_ras(path, 2, DT)
    assert read_ras(path, 2, DT, duration_s=0.001).shape == (10, 2)
    with pytest.raises(TypeError, match="n_neurons"):
        read_ras(path, 2.0, DT, duration_s=0.001)
    with pytest.raises(ValueError, match="duration_s"):
        read_ras(path, 2, DT, duration_s=0.00105)


def test_reference_poisson_input():
    path = REFERENCE_DATA / "ssbm-poisson-input.ras"
    if not path.is_file():
        pytest.skip(f"reference data not present at {REFERENCE_DATA}")
    raster = read_ras(path, n_neurons=100, dt_s=DT, duration_s=0.5, id_base=0)
    assert raster.shape == (5000, 100)
    assert raster.sum() == 232
    assert raster.any(axis=0).sum() == 87
