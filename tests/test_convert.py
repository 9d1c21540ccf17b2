"""`lmac convert`: PAMFN / GDLT packages -> native layout, through the real command line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from feature_packages import DIMS, assert_same_features, make_gdlt, make_pamfn, save_pamfn_file

from lmac.cli.main import main
from lmac.data.features import NativeStore


def lmac(capsys, *argv):
    rc = main(["convert", *map(str, argv), "--no-progress"])
    out, err = capsys.readouterr()
    return rc, out, err


def test_convert_pamfn(tmp_path, capsys):
    expected = make_pamfn(tmp_path / "pamfn", classes=("Ball", "Clubs", "Hoop"))
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "native")
    assert rc == 0, err
    assert out.startswith("wrote 9 videos (rgb=12, flow=10, audio=6) from the pamfn package")
    store = NativeStore(tmp_path / "native")
    assert store.dims == DIMS and sorted(store.ids()) == sorted(expected)
    assert store.info["converted_from"] == "pamfn"
    for vid, want in expected.items():
        assert_same_features(store.load(vid), want)


def test_convert_pamfn_classes_and_names(tmp_path, capsys):
    expected = make_pamfn(tmp_path / "pamfn", classes=("Ball", "Clubs", "Hoop"))
    extra = {vid: np.ones((f["rgb"].shape[0], 5), np.float32) for vid, f in expected.items() if vid.startswith("Ball")}
    save_pamfn_file(tmp_path / "pamfn" / "features", "Ball", "rgb", extra, name="CLIP")
    # Two rgb feature sets for Ball: refused until --names picks one.
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "a", "--classes", "Ball")
    assert rc == 1 and out == ""
    assert err.startswith("lmac convert: error: ") and "Ball_rgb_CLIP.npy" in err and err.count("\n") == 1
    assert not (tmp_path / "a").exists()
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "a", "--format", "pamfn",
                        "--classes", "Ball,Clubs", "--names", "rgb=VST,flow=I3D,audio=AST")
    assert rc == 0, err
    assert out.startswith("wrote 6 videos (rgb=12, flow=10, audio=6)")
    assert sorted(NativeStore(tmp_path / "a").ids()) == sorted(v for v in expected if not v.startswith("Hoop"))
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "b", "--classes", "Ball", "--names", "rgb=CLIP")
    assert rc == 0, err
    assert NativeStore(tmp_path / "b").dims == {"rgb": 5, "flow": 10, "audio": 6}


def test_convert_gdlt(tmp_path, capsys):
    expected = make_gdlt(tmp_path / "gdlt", dim=12)
    rc, out, err = lmac(capsys, tmp_path / "gdlt", "--out", tmp_path / "native", "--classes", "Clubs")
    assert rc == 0, err
    assert out.startswith("wrote 2 videos (rgb=12) from the gdlt package")
    store = NativeStore(tmp_path / "native")
    assert sorted(store.ids()) == ["Clubs_001", "Clubs_002"]
    for vid in store.ids():
        assert_same_features(store.load(vid), expected[vid], exact=True)


def test_convert_warns_about_videos_missing_a_modality(tmp_path, capsys):
    def edit(prefix, tables):
        del tables["flow"]["Ball_002"]

    make_pamfn(tmp_path / "pamfn", classes=("Ball",), edit=edit)
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "native")
    assert rc == 0
    assert "warning: skipping 1 videos missing a modality: Ball_002 (no flow)" in err
    assert out.startswith("wrote 2 videos")


@pytest.mark.parametrize(
    "extra,words",
    [
        (["--names", "rgb"], "--names takes MODALITY=NAME"),
        (["--names", "depth=X"], "--names takes MODALITY=NAME"),
        (["--names", "rgb=A,rgb=B"], "gives rgb twice"),
        (["--classes", "Ribbon"], "no PAMFN files for classes ['Ribbon']"),
        (["--format", "gdlt"], "no per-video .npy files"),
    ],
)
def test_convert_usage_errors(tmp_path, capsys, extra, words):
    make_pamfn(tmp_path / "pamfn", classes=("Ball",))
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "native", *extra)
    assert rc == 1 and words in err and err.count("\n") == 1, err


def test_convert_refuses_native_source_and_names_for_gdlt(tmp_path, capsys):
    make_gdlt(tmp_path / "gdlt")
    rc, _, err = lmac(capsys, tmp_path / "gdlt", "--out", tmp_path / "native", "--names", "rgb=VST")
    assert rc == 1 and "--names applies to PAMFN packages only" in err
    assert lmac(capsys, tmp_path / "gdlt", "--out", tmp_path / "native")[0] == 0
    rc, _, err = lmac(capsys, tmp_path / "native", "--out", tmp_path / "again")
    assert rc == 1 and "already in the native layout" in err
    rc, _, err = lmac(capsys, tmp_path / "nowhere", "--out", tmp_path / "x")
    assert rc == 1 and "feature path not found" in err


def test_convert_refuses_a_malicious_package(tmp_path, capsys):
    marker = tmp_path / "MARKER"

    class RunsCommand:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    def edit(prefix, tables):
        tables["rgb"]["Ball_001"] = RunsCommand()

    make_pamfn(tmp_path / "pamfn", classes=("Ball",), edit=edit)
    rc, out, err = lmac(capsys, tmp_path / "pamfn", "--out", tmp_path / "native")
    assert rc == 1 and "Ball_rgb_VST.npy: refusing to unpickle" in err and err.count("\n") == 1
    assert not marker.exists() and not (tmp_path / "native").exists()


def test_convert_console_script(tmp_path):
    make_pamfn(tmp_path / "pamfn", classes=("FISV",), per_class=4)
    exe = Path(sys.executable).with_name("lmac")
    if not exe.exists():
        pytest.skip(f"console script not installed next to {sys.executable}")
    proc = subprocess.run([str(exe), "convert", str(tmp_path / "pamfn"), "--out", str(tmp_path / "native")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 4 videos (rgb=12, flow=10, audio=6)" in proc.stdout
    assert sorted(NativeStore(tmp_path / "native").ids()) == ["1", "2", "3", "4"]
