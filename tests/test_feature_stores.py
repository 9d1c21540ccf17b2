"""Feature stores over tiny generated packages: PAMFN, GDLT, native; detection; errors; conversion."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
from feature_packages import DIMS, assert_same_features, make_gdlt, make_pamfn, save_pamfn_file

from lmac.data.features import (
    MANIFEST,
    FeatureDataError,
    GdltStore,
    NativeStore,
    PamfnStore,
    check_video_arrays,
    convert_to_native,
    detect_layout,
    open_feature_store,
    read_native_meta,
    write_native_manifest,
    write_native_video,
)
from lmac.data.safe_pickle import UnsafePickleError


def one_line(err) -> str:
    msg = str(err.value)
    assert "\n" not in msg, msg
    return msg


def make_native(root, n=3, seed=2, dims=DIMS):
    rng = np.random.default_rng(seed)
    expected = {}
    for i in range(n):
        t = int(rng.integers(4, 8))
        arrays = {m: rng.standard_normal((t, d)).astype(np.float32) for m, d in dims.items()}
        write_native_video(root, f"Hoop_{i + 1:03d}", arrays, meta={"fps": 25, "index": i})
        expected[f"Hoop_{i + 1:03d}"] = arrays
    write_native_manifest(root, dims, {"extractor": "test"})
    return expected


# ----------------------------------------------------------------------------- PAMFN
@pytest.mark.parametrize("subdir", ["features", ""])
def test_pamfn_store_reads_every_video(tmp_path, subdir):
    expected = make_pamfn(tmp_path, subdir=subdir)
    assert detect_layout(tmp_path) == "pamfn"
    store = open_feature_store(tmp_path)
    assert isinstance(store, PamfnStore) and store.layout == "pamfn"
    assert store.modalities == ("rgb", "flow", "audio")
    assert store.dims == DIMS  # from the data: rgb (T, 3, 12) averaged to 12
    assert store.prefixes == ["Ball", "Clubs", "Hoop"]
    assert store.ids() == sorted(expected) and len(expected) == 9
    for vid, want in expected.items():
        assert vid in store
        got = store.load(vid)
        assert_same_features(got, want)
        assert len({a.shape[0] for a in got.values()}) == 1
    assert "Ball_999" not in store


def test_pamfn_fisv_numeric_keys(tmp_path):
    expected = make_pamfn(tmp_path, classes=("FISV",), per_class=4)
    store = open_feature_store(tmp_path / "features")
    assert store.ids() == ["1", "2", "3", "4"]
    for vid, want in expected.items():
        assert_same_features(store.load(vid), want)


def test_pamfn_class_selection(tmp_path):
    expected = make_pamfn(tmp_path)
    store = PamfnStore(tmp_path, prefixes=["Clubs"])
    assert store.ids() == sorted(v for v in expected if v.startswith("Clubs_"))
    # A string is a comma-separated list, never a substring test ("Ball" must not match "all").
    assert PamfnStore(tmp_path, prefixes="Ball,Hoop").prefixes == ["Ball", "Hoop"]
    with pytest.raises(FeatureDataError) as err:
        PamfnStore(tmp_path, prefixes=["Ball", "Ribbon"])
    assert "['Ribbon']" in one_line(err) and "['Ball', 'Clubs', 'Hoop']" in str(err.value)


def test_pamfn_several_files_for_one_modality(tmp_path):
    expected = make_pamfn(tmp_path, classes=("Ball",))
    other = {vid: np.ones((f["rgb"].shape[0], 5), np.float32) for vid, f in expected.items()}
    save_pamfn_file(tmp_path / "features", "Ball", "rgb", other, name="I3D")
    with pytest.raises(FeatureDataError) as err:
        PamfnStore(tmp_path)
    msg = one_line(err)
    assert "Ball_rgb_I3D.npy" in msg and "Ball_rgb_VST.npy" in msg and "--names rgb=NAME" in msg
    store = PamfnStore(tmp_path, names={"rgb": "I3D"})
    assert store.dims == {"rgb": 5, "flow": 10, "audio": 6}
    assert PamfnStore(tmp_path, names={"rgb": "VST", "flow": "I3D"}).dims == DIMS
    with pytest.raises(FeatureDataError) as err:
        PamfnStore(tmp_path, names={"rgb": "CLIP"})
    assert "'CLIP'" in one_line(err) and "['I3D', 'VST']" in str(err.value)


def test_pamfn_modalities_with_different_lengths(tmp_path):
    def edit(prefix, tables):
        tables["audio"]["Ball_002"] = tables["audio"]["Ball_002"][:-1]

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    store = PamfnStore(tmp_path)
    store.load("Ball_001")
    with pytest.raises(FeatureDataError) as err:
        store.load("Ball_002")
    msg = one_line(err)
    assert "Ball_002" in msg and "different lengths" in msg and "audio" in msg


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_pamfn_non_finite_values(tmp_path, bad):
    def edit(prefix, tables):
        tables["flow"]["Ball_003"][2, 1] = bad

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    store = PamfnStore(tmp_path)
    with pytest.raises(FeatureDataError) as err:
        store.load("Ball_003")
    msg = one_line(err)
    assert "Ball_003" in msg and "flow" in msg and "NaN/Inf in 1 of" in msg


def test_pamfn_wrong_dims(tmp_path):
    def edit(prefix, tables):
        tables["audio"]["Ball_003"] = np.zeros((len(tables["flow"]["Ball_003"]), 7), np.float32)

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    store = PamfnStore(tmp_path)
    assert store.dims == DIMS
    with pytest.raises(FeatureDataError) as err:
        store.load("Ball_003")
    assert "audio features have dim 7, expected 6" in one_line(err) and "Ball_003" in str(err.value)


def test_pamfn_wrong_rank_and_dtype(tmp_path):
    def edit(prefix, tables):
        tables["flow"]["Ball_002"] = np.zeros((2, 2, 2, 10), np.float32)
        tables["flow"]["Ball_003"] = np.array(["a", "b"])

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    store = PamfnStore(tmp_path)
    with pytest.raises(FeatureDataError, match=r"\(T, D\) or \(T, k, D\)"):
        store.load("Ball_002")
    with pytest.raises(FeatureDataError, match="non-numeric dtype"):
        store.load("Ball_003")


def test_pamfn_missing_video_and_incomplete_video(tmp_path):
    def edit(prefix, tables):
        del tables["audio"]["Ball_002"]

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    store = PamfnStore(tmp_path)
    assert store.ids() == ["Ball_001", "Ball_003"]
    assert store.incomplete == {"Ball_002": ["audio"]}
    with pytest.raises(FeatureDataError) as err:
        store.load("Ball_002")
    assert "'Ball_002' has no audio features" in one_line(err)
    with pytest.raises(FeatureDataError) as err:
        store.load("Ball_404")
    assert "no features for video 'Ball_404'" in one_line(err)


def test_pamfn_duplicate_id_across_classes(tmp_path):
    make_pamfn(tmp_path, classes=("Ball",))
    clash = {"Ball_001": np.zeros((4, 12), np.float32)}
    save_pamfn_file(tmp_path / "features", "Hoop", "rgb", clash)
    save_pamfn_file(tmp_path / "features", "Hoop", "flow", {"Ball_001": np.zeros((4, 10), np.float32)})
    save_pamfn_file(tmp_path / "features", "Hoop", "audio", {"Ball_001": np.zeros((4, 6), np.float32)})
    with pytest.raises(FeatureDataError, match="'Ball_001' appears in both Ball and Hoop"):
        PamfnStore(tmp_path)


def test_pamfn_class_without_a_modality(tmp_path):
    make_pamfn(tmp_path, classes=("Ball", "Clubs"))
    (tmp_path / "features" / "Clubs_audio_AST.npy").unlink()
    with pytest.raises(FeatureDataError, match="class Clubs has modalities"):
        PamfnStore(tmp_path)


def test_pamfn_file_that_is_not_a_dict(tmp_path):
    make_pamfn(tmp_path, classes=("Ball",))
    path = tmp_path / "features" / "Ball_flow_I3D.npy"
    np.save(path, [np.zeros((3, 10))] * 2, allow_pickle=True)  # an object array, not a dict
    with pytest.raises(FeatureDataError, match=re.escape(f"{path}: expected a pickled dict")):
        PamfnStore(tmp_path)


def test_pamfn_malicious_file_is_refused_through_the_store(tmp_path):
    marker = tmp_path / "MARKER"

    class RunsCommand:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    def edit(prefix, tables):
        tables["audio"]["Ball_002"] = RunsCommand()

    make_pamfn(tmp_path, classes=("Ball",), edit=edit)
    for opener in (lambda: open_feature_store(tmp_path), lambda: PamfnStore(tmp_path)):
        with pytest.raises(UnsafePickleError) as err:
            opener()
        assert "Ball_audio_AST.npy: refusing" in one_line(err)
    assert not marker.exists()


# ----------------------------------------------------------------------------- GDLT
@pytest.mark.parametrize("subdir", ["swintx_avg_fps25_clip32", ""])
def test_gdlt_store(tmp_path, subdir):
    expected = make_gdlt(tmp_path, subdir=subdir, dim=12)
    (tmp_path / "train.txt").write_text("Video_Name Total_Score\n")  # labels sit beside the features
    assert detect_layout(tmp_path) == "gdlt"
    store = open_feature_store(tmp_path)
    assert isinstance(store, GdltStore)
    assert store.modalities == ("rgb",) and store.dims == {"rgb": 12}
    assert store.ids() == sorted(expected)
    for vid, want in expected.items():
        assert_same_features(store.load(vid), want, exact=True)
    with pytest.raises(FeatureDataError, match="no file Ball_404.npy"):
        store.load("Ball_404")


def test_gdlt_errors(tmp_path):
    make_gdlt(tmp_path, ids=("Ball_001", "Ball_002", "Ball_003", "Ball_004", "Ball_005"), dim=12)
    folder = tmp_path / "swintx_avg_fps25_clip32"
    np.save(folder / "Ball_002.npy", np.zeros((5, 11), np.float32))
    bad = np.ones((5, 12), np.float32)
    bad[1, 1] = np.nan
    np.save(folder / "Ball_003.npy", bad)
    marker = tmp_path / "MARKER"

    class RunsCommand:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    np.save(folder / "Ball_004.npy", np.array([RunsCommand()], dtype=object), allow_pickle=True)
    (folder / "Ball_005.npy").write_bytes((folder / "Ball_001.npy").read_bytes()[:140])
    store = GdltStore(tmp_path)
    assert store.dims == {"rgb": 12}
    for vid, words in [("Ball_002", "dim 11, expected 12"), ("Ball_003", "NaN/Inf"),
                       ("Ball_004", "not a readable plain numeric .npy"), ("Ball_005", "Ball_005.npy")]:
        with pytest.raises(FeatureDataError) as err:
            store.load(vid)
        assert words in one_line(err) and str(folder / vid) in str(err.value)
    assert not marker.exists()  # GDLT files are never unpickled


# ----------------------------------------------------------------------------- native
def test_native_store_round_trip(tmp_path):
    expected = make_native(tmp_path)
    assert detect_layout(tmp_path) == "native"
    store = open_feature_store(tmp_path)
    assert isinstance(store, NativeStore)
    assert store.dims == DIMS and store.modalities == ("rgb", "flow", "audio")
    assert store.info == {"extractor": "test"}
    assert store.ids() == sorted(expected)
    for vid, want in expected.items():
        assert_same_features(store.load(vid), want, exact=True)
    assert store.meta("Hoop_002") == {"fps": 25, "index": 1}
    assert read_native_meta(tmp_path / "Hoop_001.safetensors") == {"fps": 25, "index": 0}
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["format"] == "lmac-native" and manifest["version"] == 1 and manifest["modalities"] == DIMS
    with pytest.raises(FeatureDataError, match="no features for video 'Hoop_404'"):
        store.load("Hoop_404")
    with pytest.raises(FeatureDataError, match="no features for video 'Hoop_404'"):
        store.meta("Hoop_404")


def test_native_store_without_manifest_takes_dims_from_the_data(tmp_path):
    expected = make_native(tmp_path, dims={"rgb": 9, "audio": 5})
    (tmp_path / MANIFEST).unlink()
    store = NativeStore(tmp_path)
    assert store.dims == {"rgb": 9, "audio": 5} and store.modalities == ("rgb", "audio")
    for vid, want in expected.items():
        assert_same_features(store.load(vid), want, exact=True)


def test_native_unreadable_and_inconsistent_files(tmp_path):
    make_native(tmp_path)
    (tmp_path / "Hoop_001.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    write_native_video(tmp_path, "Hoop_002", {"rgb": np.zeros((4, 12)), "flow": np.zeros((4, 10))})  # no audio
    write_native_video(tmp_path, "Hoop_003", {"rgb": np.zeros((4, 12)), "flow": np.zeros((4, 10)),
                                              "audio": np.zeros((4, 8))})  # audio dim 8 != manifest's 6
    store = NativeStore(tmp_path)
    cases = [("Hoop_001", "unreadable safetensors file"), ("Hoop_002", "missing modalities ['audio']"),
             ("Hoop_003", "audio features have dim 8, expected 6")]
    for vid, words in cases:
        with pytest.raises(FeatureDataError) as err:
            store.load(vid)
        msg = one_line(err)
        assert msg.startswith(str(tmp_path / f"{vid}.safetensors")) and words in msg, msg


@pytest.mark.parametrize(
    "manifest,words",
    [("{not json", "not valid JSON"), ('{"format": "other"}', "expected 'lmac-native'"),
     ('{"format": "lmac-native", "version": 1}', "'modalities' must map"),
     ('{"format": "lmac-native", "modalities": {"rgb": 0}}', "positive dim"), ("[1, 2]", "format is None")],
)
def test_native_bad_manifest(tmp_path, manifest, words):
    (tmp_path / MANIFEST).write_text(manifest)
    with pytest.raises(FeatureDataError) as err:
        NativeStore(tmp_path)
    assert one_line(err).startswith(str(tmp_path / MANIFEST)) and words in str(err.value)


def test_write_native_video_validates(tmp_path):
    t10 = np.zeros((10, 12), np.float32)
    with pytest.raises(FeatureDataError, match="different lengths"):
        write_native_video(tmp_path, "Ball_001", {"rgb": t10, "flow": np.zeros((9, 10))})
    bad = t10.copy()
    bad[3] = np.inf
    with pytest.raises(FeatureDataError, match="NaN/Inf in 1 of 10 segments"):
        write_native_video(tmp_path, "Ball_001", {"rgb": bad})
    with pytest.raises(FeatureDataError, match="NaN/Inf"):  # beyond float32's range
        write_native_video(tmp_path, "Ball_001", {"rgb": np.full((2, 3), 1e300)})
    with pytest.raises(FeatureDataError, match="empty"):
        write_native_video(tmp_path, "Ball_001", {"rgb": np.zeros((0, 12))})
    for vid in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(FeatureDataError, match="cannot be a file name"):
            write_native_video(tmp_path, vid, {"rgb": t10})
    assert list(tmp_path.iterdir()) == []  # nothing written by any failed call
    # (T, k, D) is averaged like the PAMFN loaders do; integers become float32.
    write_native_video(tmp_path, "Ball_001", {"rgb": np.arange(24).reshape(2, 3, 4)})
    got = NativeStore(tmp_path).load("Ball_001")["rgb"]
    np.testing.assert_array_equal(got, np.arange(24).reshape(2, 3, 4).mean(axis=1).astype(np.float32))


def test_native_writes_are_atomic_and_leave_no_temp_files(tmp_path):
    first = {"rgb": np.zeros((4, 12), np.float32), "audio": np.zeros((4, 6), np.float32)}
    second = {"rgb": np.ones((7, 12), np.float32), "audio": np.ones((7, 6), np.float32)}
    path = write_native_video(tmp_path, "Ribbon_001", first)
    inode_before = path.stat().st_ino
    write_native_video(tmp_path, "Ribbon_001", second)  # overwrite
    write_native_manifest(tmp_path, {"rgb": 12, "audio": 6})
    write_native_manifest(tmp_path, {"rgb": 12, "audio": 6})  # overwrite
    assert {p.name for p in tmp_path.iterdir()} == {MANIFEST, "Ribbon_001.safetensors"}
    assert path.stat().st_ino != inode_before  # replaced by rename, not rewritten in place
    assert_same_features(NativeStore(tmp_path).load("Ribbon_001"), second, exact=True)


def test_native_store_ignores_temp_files_of_writers_in_progress(tmp_path):
    make_native(tmp_path, n=2)
    # What an interrupted atomic writer leaves: hidden temp names, never a video.
    (tmp_path / ".Hoop_009.safetensors.abc123.tmp").write_bytes(b"partial")
    (tmp_path / ".Hoop_009.safetensors.abc123.safetensors").write_bytes(b"partial")
    assert NativeStore(tmp_path).ids() == ["Hoop_001", "Hoop_002"]


# ----------------------------------------------------------------------------- detection
def test_detect_layout_errors(tmp_path):
    with pytest.raises(FeatureDataError, match="feature path not found"):
        detect_layout(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(FeatureDataError) as err:
        detect_layout(tmp_path)
    assert "cannot tell the feature layout" in one_line(err) and "--format" in str(err.value)
    with pytest.raises(FeatureDataError, match="no PAMFN files"):
        open_feature_store(tmp_path, "pamfn")
    with pytest.raises(FeatureDataError, match="native feature folder not found"):
        open_feature_store(tmp_path / "missing", "native")
    with pytest.raises(ValueError, match="unknown feature format 'hdf5'"):
        open_feature_store(tmp_path, "hdf5")


def test_explicit_format_overrides_detection(tmp_path):
    make_gdlt(tmp_path, subdir="")
    write_native_video(tmp_path / "nat", "Ball_001", {"rgb": np.zeros((3, 4))})
    assert detect_layout(tmp_path) == "gdlt"
    assert isinstance(open_feature_store(tmp_path, "gdlt"), GdltStore)
    assert detect_layout(tmp_path / "nat") == "native"


def test_check_video_arrays_needs_a_modality():
    with pytest.raises(FeatureDataError, match="SRC: no modalities"):
        check_video_arrays({}, "SRC")
    with pytest.raises(FeatureDataError, match="non-numeric dtype bool"):
        check_video_arrays({"rgb": np.ones((2, 3), bool)}, "SRC")


# ----------------------------------------------------------------------------- conversion
def test_convert_pamfn_to_native_round_trip(tmp_path):
    expected = make_pamfn(tmp_path / "pamfn", classes=("Ball", "Clubs", "FISV"))
    src = open_feature_store(tmp_path / "pamfn")
    n = convert_to_native(src, tmp_path / "native", info={"note": "t"}, progress=False)
    assert n == len(expected) == 9
    out = open_feature_store(tmp_path / "native")
    assert isinstance(out, NativeStore)
    assert out.dims == src.dims == DIMS
    assert sorted(out.ids()) == src.ids() == sorted(expected)
    assert out.info == {"converted_from": "pamfn", "note": "t"}
    for vid in src.ids():
        assert_same_features(out.load(vid), src.load(vid), exact=True)
        assert_same_features(out.load(vid), expected[vid])
        assert out.meta(vid) == {"converted_from": "pamfn"}


def test_convert_gdlt_to_native_round_trip(tmp_path):
    expected = make_gdlt(tmp_path / "gdlt", dim=12)
    n = convert_to_native(open_feature_store(tmp_path / "gdlt"), tmp_path / "native", progress=False)
    assert n == 4
    out = NativeStore(tmp_path / "native")
    assert out.dims == {"rgb": 12} and sorted(out.ids()) == sorted(expected)
    for vid, want in expected.items():
        assert_same_features(out.load(vid), want, exact=True)


def test_convert_adds_to_a_compatible_folder_and_refuses_mixed_dims(tmp_path):
    make_pamfn(tmp_path / "a", classes=("Ball",))
    make_pamfn(tmp_path / "b", classes=("Clubs",), seed=5)
    convert_to_native(PamfnStore(tmp_path / "a"), tmp_path / "out", progress=False)
    convert_to_native(PamfnStore(tmp_path / "b"), tmp_path / "out", progress=False)
    assert len(NativeStore(tmp_path / "out").ids()) == 6
    make_gdlt(tmp_path / "g", dim=12)
    with pytest.raises(FeatureDataError) as err:
        convert_to_native(GdltStore(tmp_path / "g"), tmp_path / "out", progress=False)
    assert "convert into an empty folder" in one_line(err)
    assert len(NativeStore(tmp_path / "out").ids()) == 6


def test_interrupted_conversion_leaves_no_manifest(tmp_path):
    def edit(prefix, tables):
        tables["rgb"]["Ball_003"][0, 0, 0] = np.nan

    make_pamfn(tmp_path / "pamfn", classes=("Ball",), edit=edit)
    with pytest.raises(FeatureDataError, match="Ball_003"):
        convert_to_native(PamfnStore(tmp_path / "pamfn"), tmp_path / "out", progress=False)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["Ball_001.safetensors", "Ball_002.safetensors"]  # no manifest, no temp files


def test_convert_refuses_to_write_into_its_source(tmp_path):
    make_gdlt(tmp_path, subdir="")
    with pytest.raises(FeatureDataError, match="output folder is the source folder"):
        convert_to_native(GdltStore(tmp_path), tmp_path, progress=False)
