"""Label parsers on the shipped real RG / Fis-V files, and their errors on malformed files."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from lmac.data.labels import LabelFormatError, read_fisv_labels, read_labels, read_rg_labels, shipped_labels

# sha256 of the public files (ACTION-NET a60149c, MS_LSTM 54a88c8): the shipped copies must stay byte-identical.
SHIPPED_SHA256 = {
    ("rg", "train"): "1f54d40d6a3caaaaa86ea085d7f5d53498b86cda3222a8f3dc6887ee5bef17e7",
    ("rg", "test"): "f56a103c365a1ab2f5f5d7f19e1cf1ffbf2f220f01b27c46ef39ed9dbb0d0bbb",
    ("fisv", "train"): "b95cbe65f7118556cc3e6b49b6dadd088d5ac6f4bd524dabbd0c963e431ee543",
    ("fisv", "test"): "7df4fa1501bb22a5d1c3f56a01131c8af84caea2053995843430fe46d220435b",
}
APPARATUS = ("Ball", "Clubs", "Hoop", "Ribbon")
RG_HEADER = "Video_Name\tDifficulty_Score\tExecution_Score\tTotal_Score\tPenalty\tVideo_length\n"


def _data_lines(path):
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


# ----------------------------------------------------------------------------- shipped files
@pytest.mark.parametrize("dataset,split", sorted(SHIPPED_SHA256))
def test_shipped_files_are_the_published_bytes(dataset, split):
    path = shipped_labels(dataset, split)
    assert path.is_file()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHIPPED_SHA256[(dataset, split)]
    sources = (path.parent.parent / "SOURCES.md").read_text()
    assert "a60149c" in sources and "54a88c8" in sources


def test_shipped_labels_rejects_unknown_names():
    with pytest.raises(ValueError, match="rg, fisv"):
        shipped_labels("mtl", "train")
    with pytest.raises(ValueError, match="train, test"):
        shipped_labels("rg", "val")


@pytest.mark.parametrize("split,total,per_class", [("train", 800, 200), ("test", 200, 50)])
def test_rg_real_files(split, total, per_class):
    path = shipped_labels("rg", split)
    records = read_rg_labels(path)
    assert len(records) == total
    assert len(_data_lines(path)) == total + 1  # header + one record per data line: no row lost
    assert Counter(r.cls for r in records) == {a: per_class for a in APPARATUS}
    assert len({r.video_id for r in records}) == total
    for r in records:
        assert r.video_id.startswith(r.cls + "_")
        s = r.scores
        assert set(s) == {"difficulty", "execution", "total", "penalty", "length"}
        # Total = D + E - Penalty; the published scores are rounded to 0.01.
        assert abs(s["difficulty"] + s["execution"] - s["penalty"] - s["total"]) <= 0.01 + 1e-9, r
        assert 87 <= s["length"] <= 99, r
        assert 0 < s["total"] <= 25 and s["penalty"] >= 0
    assert read_labels(path) == records  # auto-detects the RG header


def test_rg_first_row_values():
    first = read_rg_labels(shipped_labels("rg", "train"))[0]
    assert first.video_id == "Ball_001" and first.cls == "Ball"
    assert first.scores == {"difficulty": 10.5, "execution": 8.3, "total": 18.8, "penalty": 0.0, "length": 92.0}


@pytest.mark.parametrize("split,total,first_id", [("train", 400, "1"), ("test", 100, "2")])
def test_fisv_real_files(split, total, first_id):
    path = shipped_labels("fisv", split)
    records = read_fisv_labels(path)
    lines = _data_lines(path)
    assert len(records) == total == len(lines)
    # The first line is a video, not a header (several peers drop it).
    assert records[0].video_id == first_id == lines[0].split()[0]
    assert [r.video_id for r in records] == [line.split()[0] for line in lines]
    assert len({r.video_id for r in records}) == total
    tes = [r.scores["tes"] for r in records]
    pcs = [r.scores["pcs"] for r in records]
    assert 5 < min(tes) < 10 and 40 < max(tes) < 45
    assert 9 < min(pcs) < 13 and 35 < max(pcs) < 40
    assert all(r.cls == "FISV" and r.scores["falls"] >= 0 for r in records)
    assert read_labels(path) == records  # auto-detection does not take the first video for a header


def test_fisv_train_and_test_are_disjoint():
    train = {r.video_id for r in read_fisv_labels(shipped_labels("fisv", "train"))}
    test = {r.video_id for r in read_fisv_labels(shipped_labels("fisv", "test"))}
    assert not train & test and len(train | test) == 500


# ----------------------------------------------------------------------------- malformed files
RG_OK = "Ball_001\t10.50\t8.30\t18.80\t0.00\t92\n"
MALFORMED = [
    # name, format, content, line of the error, words in the message
    ("rg_wrong_columns", "rg", RG_HEADER + RG_OK + "Ball_002\t7.20\t4.20\t10.80\t0.60\n", 3, "expected 6 columns"),
    ("rg_not_a_number", "rg", RG_HEADER + RG_OK + "Ball_002\t7.20\tabc\t10.80\t0.60\t93\n", 3, "not a number"),
    ("rg_nan", "rg", RG_HEADER + RG_OK + "Ball_002\t7.20\t4.20\tnan\t0.60\t93\n", 3, "not finite"),
    ("rg_inf", "rg", RG_HEADER + RG_OK + "Ball_002\tinf\t4.20\t10.80\t0.60\t93\n", 3, "not finite"),
    ("rg_duplicate", "rg", RG_HEADER + RG_OK + "Hoop_001\t1\t1\t2\t0\t90\n" + RG_OK, 4, "already appears on line 2"),
    ("rg_missing_header", "rg", RG_OK + "Ball_002\t7.20\t4.20\t10.80\t0.60\t93\n", 1, "header"),
    ("rg_header_only", "rg", RG_HEADER, 1, "no data rows"),
    ("rg_no_apparatus", "rg", RG_HEADER + "001\t10.50\t8.30\t18.80\t0.00\t92\n", 2, "apparatus"),
    ("rg_empty_apparatus", "rg", RG_HEADER + RG_OK + "_002\t10.50\t8.30\t18.80\t0.00\t92\n", 3, "apparatus"),
    ("rg_empty", "rg", "", 1, "empty"),
    ("rg_blank_only", "rg", "\n \n\t\n", 1, "empty"),
    ("fisv_wrong_columns", "fisv", "1 28.71 29.36 1\n3 28.79 27.89\n", 2, "4 columns"),
    ("fisv_header_line", "fisv", "id TES PCS falls\n1 28.71 29.36 1\n", 1, "not a number"),
    ("fisv_not_a_number", "fisv", "1 28.71 29.36 1\n3 x 27.89 1\n", 2, "not a number"),
    ("fisv_nan", "fisv", "1 28.71 29.36 1\n3 28.79 NaN 1\n", 2, "not finite"),
    ("fisv_duplicate", "fisv", "1 28.71 29.36 1\n3 28.79 27.89 1\n1 20 20 0\n", 3, "already appears on line 1"),
    ("fisv_empty", "fisv", "", 1, "empty"),
]


# Through read_labels(fmt="auto") too, except RG files without a header (auto-detection reads those as Fis-V).
CASES = [(*m, False) for m in MALFORMED] + [(*m, True) for m in MALFORMED if m[1] == "fisv" or "Video_Name" in m[2]]


@pytest.mark.parametrize(
    "name,fmt,content,line,words,via_auto", CASES, ids=[c[0] + ("-auto" if c[-1] else "") for c in CASES]
)
def test_malformed_line_names_file_and_line(tmp_path, name, fmt, content, line, words, via_auto):
    path = tmp_path / f"{name}.txt"
    path.write_text(content, encoding="utf-8")
    reader = (lambda p: read_labels(p)) if via_auto else {"rg": read_rg_labels, "fisv": read_fisv_labels}[fmt]
    with pytest.raises(LabelFormatError) as err:
        reader(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}:"), msg
    assert words in msg
    assert "\n" not in msg
    assert isinstance(err.value, ValueError)


def test_line_numbers_count_blank_lines_and_crlf(tmp_path):
    # Blank lines are skipped but still counted, CRLF endings are fine, and a form feed inside a line
    # does not start a new line (str.splitlines would shift every later line number).
    path = tmp_path / "train.txt"
    path.write_bytes(b"1 28.71 29.36 1\r\n\r\n3 28.79\x0c 27.89 1\r\n\r\n5 32.2 28.9\r\n")
    with pytest.raises(LabelFormatError, match="^" + re.escape(f"{path}:5: ")):
        read_fisv_labels(path)
    path.write_bytes(b"1 28.71 29.36 1\r\n\r\n3 28.79 27.89 1\r\n")
    assert [r.video_id for r in read_fisv_labels(path)] == ["1", "3"]


def test_rg_columns_found_by_name_in_any_order(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(
        "Total_Score Video_Name Penalty Execution_Score Difficulty_Score Video_length\n"
        "18.80   Hoop_007 0.00 8.30  10.50 92\n"
    )
    (rec,) = read_rg_labels(path)
    assert rec.video_id == "Hoop_007" and rec.cls == "Hoop"
    assert rec.scores["total"] == 18.8 and rec.scores["difficulty"] == 10.5 and rec.scores["length"] == 92


def test_missing_file_and_binary_file(tmp_path):
    with pytest.raises(LabelFormatError, match="not found"):
        read_labels(tmp_path / "nope.txt")
    bad = tmp_path / "bin.txt"
    bad.write_bytes(b"\xff\xfe\x00\x81 binary")
    with pytest.raises(LabelFormatError, match=re.escape(str(bad))):
        read_labels(bad)


def test_unknown_format_name(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("1 1 1 1\n")
    with pytest.raises(ValueError, match="rg, fisv or auto"):
        read_labels(path, fmt="mtl")
