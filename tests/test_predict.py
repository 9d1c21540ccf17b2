"""`lmac predict` and `lmac.load(...).predict(...)` end to end, on a real clip with a real soundtrack,
with a run trained on `offline`-preset features of a few generated videos (issue #5)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lmac
from lmac.cli.main import main
from lmac.data.features import NativeStore, write_native_manifest, write_native_video
from lmac.predict import (
    FeatureMismatchError,
    Prediction,
    attention_span,
    check_prediction,
    prediction_errors,
)

import media_clips
from small_models import narrow

CROP = {"crop": 64, "resize": 72}  # small frames keep extraction fast; the run records them and predict reuses them
RG_HEADER = "Video_Name Difficulty_Score Execution_Score Total_Score Penalty Video_length\n"


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory):
    """A tiny LMAC-Net run trained on offline-preset features of four generated videos (2 segments each)."""
    import torch

    from lmac.config import TrainConfig
    from lmac.features.extract import ExtractSettings, run_extraction
    from lmac.training.trainer import train

    d = tmp_path_factory.mktemp("offline_run")
    (d / "videos").mkdir()
    for i in range(4):
        media_clips.write_video(d / "videos" / f"Ball_{i + 1:03d}.mp4", 70, size=(64, 48), audio_tone_hz=220 + 110 * i, seed=i)
    with torch.no_grad():  # run_extraction turns autograd off globally; the context restores it for training
        summary = run_extraction([d / "videos"], d / "feats", preset="offline", device="cpu",
                                 settings=ExtractSettings(preset="offline", **CROP), progress=False, log=lambda m: None)
    assert summary.ok and len(summary.written) == 4
    rows = "".join(f"Ball_{i + 1:03d} 5.0 {4.0 + i:.1f} {9.0 + i:.2f} 0.00 3\n" for i in range(4))
    (d / "labels").mkdir()
    (d / "labels" / "train.txt").write_text(RG_HEADER + "".join(rows.splitlines(True)[:3]))
    (d / "labels" / "test.txt").write_text(RG_HEADER + rows.splitlines(True)[3])  # no video in both splits
    cfg = TrainConfig(task="rg_ball", model="lmac", model_args=narrow("lmac"),
                      features=str(d / "feats"), labels=str(d / "labels"), epochs=2, batch_size=4, window=8,
                      val_fraction=0.0, progress=False, device="cpu")
    with torch.enable_grad():  # robust to a test before this one leaving autograd off (run_extraction does)
        train(cfg, d / "run", log=lambda m: None)
    return d / "run"


@pytest.fixture(scope="module")
def music_clip(tmp_path_factory):
    """bikes.mp4's video (6 s, 25 fps: 4 segments, 11 frames trimmed at the start) with arcade's
    funkyrobot.mp3 as its soundtrack."""
    d = tmp_path_factory.mktemp("clip")
    return media_clips.mux_with_music(media_clips.bikes(), media_clips.music(), d / "bikes music.mp4", seconds=6.0)


@pytest.fixture(scope="module")
def scored(offline_run, music_clip, tmp_path_factory):
    """One `lmac predict` call; later tests reuse its output folder (and its feature cache)."""
    out = tmp_path_factory.mktemp("pred")
    argv = ["predict", str(music_clip), "--run", str(offline_run), "--out", str(out), "--device", "cpu",
            "--no-progress", "--csv", str(out / "scores.csv")]
    return out, argv


# ----------------------------------------------------------------------------- end to end
def test_predict_video_end_to_end(scored, offline_run, music_clip, capsys):
    out, argv = scored
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    d = json.loads((out / "bikes_music" / "prediction.json").read_text())
    check_prediction(d)  # keys, types and invariants
    assert d["model"] == "lmac" and d["task"] == "rg_ball" and d["preset"] == "offline" and d["checkpoint"] == "last"
    assert d["run"] == str(offline_run.resolve()) and d["video"] == str(music_clip)
    assert d["modalities"] == ["rgb", "flow", "audio"] and d["n_segments"] == 4
    assert d["duration_s"] == pytest.approx(6.0, abs=0.05)
    meta = NativeStore(next((out / "features").iterdir())).meta("bikes_music")
    assert d["offset_s"] == pytest.approx(meta["skip_start_frames"] / 25) and meta["skip_start_frames"] == 11  # (150 - 4 * 32) // 2
    assert d["segment_s"] == pytest.approx(1.28)
    stages = d["stages"]
    assert [s["index"] for s in stages] == [1, 2, 3, 4, 5]  # LMAC-Net's K = 5 queries
    for s in stages:
        for span in [s, *s["modalities"].values()]:
            assert 0.0 <= span["start_s"] <= span["center_s"] <= span["end_s"] <= d["duration_s"]
        assert s["center_gap_s"] >= 0
    assert sum(s["weight"] for s in stages) == pytest.approx(1.0, abs=1e-6)
    assert d["score"] == pytest.approx(sum(s["weight"] * s["score"] for s in stages), rel=1e-6)
    assert 0 < d["score"] < d["score_range"] == 25.0  # sigmoid stage scores, in points
    # the attention rows are distributions over the 4 segments
    for m in d["modalities"]:
        assert np.allclose(np.asarray(d["attention"][m]).sum(1), 1.0, atol=1e-4)

    # the report: self-contained page + PNG
    html = (out / "bikes_music" / "report.html").read_text()
    assert f'<span id="score">{d["score"]:.2f}</span>' in html and '<svg id="timeline"' in html
    assert 'src="data:image/png;base64,' in html and html.count("<tr class=\"stage\"") == 5
    for remote in ('src="http', "src='http", 'href="http', "url(http", "@import", "<link"):
        assert remote not in html, remote
    png = (out / "bikes_music" / "timeline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000

    # terminal summary and CSV
    assert f"{d['score']:.2f} / 25 points" in stdout and "stage" in stdout
    rows = list(csv.DictReader(open(out / "scores.csv")))
    assert len(rows) == 1 and rows[0]["status"] == "ok" and float(rows[0]["score"]) == pytest.approx(d["score"], abs=1e-4)
    assert float(rows[0]["stage5_weight"]) == pytest.approx(stages[4]["weight"], abs=1e-4)


def test_stage_times_follow_the_model_attention(scored, offline_run, music_clip):
    """centre_s = offset + (c - 0.5) * 1.28 with c the model's own attention centre."""
    import torch

    out, _ = scored
    d = json.loads((out / "bikes_music" / "prediction.json").read_text())
    store = NativeStore(next((out / "features").iterdir()))
    arrays = store.load("bikes_music")
    model = lmac.load(offline_run, device="cpu").model
    with torch.no_grad():
        o = model({m: torch.from_numpy(a)[None] for m, a in arrays.items()}, torch.ones(1, 4, dtype=torch.bool))
    for m in ("rgb", "flow", "audio"):
        c = o["centers"][m][0].numpy()
        for k, s in enumerate(d["stages"]):
            assert s["modalities"][m]["center_segment"] == pytest.approx(float(c[k]), abs=1e-4)
            assert s["modalities"][m]["center_s"] == pytest.approx(d["offset_s"] + (c[k] - 0.5) * 1.28, abs=1e-3)
    assert d["score"] == pytest.approx(float(o["score"][0]) * 25.0, rel=1e-5)
    fused = np.mean([[s["modalities"][m]["center_s"] for m in d["modalities"]] for s in d["stages"]], axis=1)
    assert [s["center_s"] for s in d["stages"]] == pytest.approx(list(fused), abs=1e-6)


def test_second_call_reuses_cached_features(scored, monkeypatch, capsys):
    out, argv = scored
    before = json.loads((out / "bikes_music" / "prediction.json").read_text())["score"]
    cache = next((out / "features").iterdir())
    mtime = (cache / "bikes_music.safetensors").stat().st_mtime_ns

    def no_extraction(*a, **k):
        raise AssertionError("features should come from the cache")

    monkeypatch.setattr("lmac.features.extract.run_extraction", no_extraction)
    assert main(argv) == 0
    assert (cache / "bikes_music.safetensors").stat().st_mtime_ns == mtime
    assert json.loads((out / "bikes_music" / "prediction.json").read_text())["score"] == pytest.approx(before, abs=1e-9)
    capsys.readouterr()


def test_python_api(scored, offline_run, music_clip):
    out, _ = scored
    cache = next((out / "features").iterdir())
    model = lmac.load(offline_run, device="cpu")
    assert model.preset == "offline" and model.checkpoint == "last" and "offline" in repr(model)
    result = model.predict(music_clip, cache_dir=cache)
    assert isinstance(result, Prediction)
    d = json.loads((out / "bikes_music" / "prediction.json").read_text())
    assert result.score == pytest.approx(d["score"], abs=1e-9) and len(result.stages) == 5
    assert result.stages[0].modalities["audio"].center_s == pytest.approx(d["stages"][0]["modalities"]["audio"]["center_s"])
    assert sum(s.contribution for s in result.stages) == pytest.approx(result.score, rel=1e-6)
    # the same content as the JSON, and back
    again = Prediction.from_dict(result.to_dict())
    assert again.stages == result.stages and again.score == result.score
    by_file = model.predict_features(cache / "bikes_music.safetensors")
    assert by_file.score == pytest.approx(result.score, abs=1e-9) and by_file.offset_s == result.offset_s
    arrays = NativeStore(cache).load("bikes_music")
    by_arrays = model.predict_features(arrays, video_id="bikes_music", meta=NativeStore(cache).meta("bikes_music"))
    assert by_arrays.score == pytest.approx(result.score, abs=1e-9)
    assert by_arrays.stages[2].start_s == pytest.approx(result.stages[2].start_s)
    assert "bikes music.mp4" in result.summary() and "stage" in result.summary()


def test_predict_one_segment_video_temporary_and_cached(offline_run, tmp_path):
    """The shortest usable video (one 1.28-s segment): without a cache folder the features go to a
    temporary folder; with one, a changed video is extracted again."""
    clip = media_clips.write_video(tmp_path / "short clip.mp4", 36, size=(64, 48), audio_tone_hz=440)
    model = lmac.load(offline_run, device="cpu")
    res = model.predict(clip)
    assert res.n_segments == 1 and res.features == "" and len(res.stages) == 5
    check_prediction(res.to_dict())
    for s in res.stages:  # one segment: every stage is that segment
        assert s.modalities["rgb"].center_segment == pytest.approx(1.0)
        assert 0.0 <= s.start_s < s.center_s < s.end_s <= res.duration_s
    paths = res.save(tmp_path / "report")
    assert paths["png"].stat().st_size > 1000 and "<polyline" in paths["html"].read_text()

    cache = tmp_path / "cache"
    first = model.predict(clip, cache_dir=cache)
    assert first.score == pytest.approx(res.score, abs=1e-9)
    old_audio = NativeStore(cache).load("short_clip")["audio"]
    stamp = json.loads((cache / "sources.json").read_text())["short_clip"]
    media_clips.write_video(clip, 36, size=(64, 48), audio_tone_hz=1500, seed=5)  # the video changes
    os.utime(clip, ns=(stamp["mtime_ns"] + 10**9, stamp["mtime_ns"] + 10**9))
    model.predict(clip, cache_dir=cache)
    assert json.loads((cache / "sources.json").read_text())["short_clip"]["mtime_ns"] == stamp["mtime_ns"] + 10**9
    assert not np.allclose(NativeStore(cache).load("short_clip")["audio"], old_audio)  # extracted again


def test_features_flag_scores_extracted_features(scored, offline_run, tmp_path, capsys):
    out, _ = scored
    cache = next((out / "features").iterdir())
    ref = json.loads((out / "bikes_music" / "prediction.json").read_text())["score"]
    assert main(["predict", "--run", str(offline_run), "--features", str(cache), "--out", str(tmp_path), "--no-progress"]) == 0
    d = json.loads((tmp_path / "bikes_music" / "prediction.json").read_text())
    check_prediction(d)
    assert d["score"] == pytest.approx(ref, abs=1e-9) and d["preset"] == "offline"
    assert (tmp_path / "bikes_music" / "report.html").is_file()
    capsys.readouterr()


def test_annotated_elements_are_drawn_under_the_stages_and_measured(scored, offline_run, tmp_path, capsys):
    """--elements with a FineFS annotation: the elements go into prediction.json with how the stages found
    them, the report draws them in a 'judged' lane and states the figures; old versions still read."""
    out, _ = scored
    cache = next((out / "features").iterdir())
    ann = {"total_element_score": 30.0, "executed_element": {
        "element1": {"element": "3Lz", "time": "0-1,0-3"}, "element2": {"element": "CCoSp4", "time": "0-4,0-5"}}}
    (tmp_path / "ann.json").write_text(json.dumps(ann))
    assert main(["predict", "--run", str(offline_run), "--features", str(cache), "--out", str(tmp_path / "o"),
                 "--elements", str(tmp_path / "ann.json"), "--no-progress"]) == 0
    d = json.loads((tmp_path / "o" / "bikes_music" / "prediction.json").read_text())
    check_prediction(d)
    assert d["version"] == 4 and d["parts"] == {} and d["elements"] == [{"name": "3Lz", "start_s": 1.0, "end_s": 3.0},
                                                  {"name": "CCoSp4", "start_s": 4.0, "end_s": 5.0}]
    lo = d["localisation"]
    assert lo["elements"] == 2 and 0 <= lo["hit_rate"] <= 1 and 0 <= lo["tiou"] <= 1
    centres = [s["center_s"] for s in d["stages"]]
    hits = sum(any(a <= c < b for c in centres) for a, b in ((1, 3), (4, 5)))
    assert lo["hit_rate"] == pytest.approx(hits / 2)
    page = (tmp_path / "o" / "bikes_music" / "report.html").read_text()
    assert ">judged<" in page and 'id="localisation"' in page and "3Lz" in page
    assert "annotated elements: 2" in capsys.readouterr().out
    old = {k: v for k, v in d.items() if k not in ("elements", "localisation", "parts")}
    assert prediction_errors({**old, "version": 2}) == []  # a version-2 file (no elements) still reads
    (tmp_path / "bad.json").write_text(json.dumps([{"name": "x", "start_s": 5}]))
    assert main(["predict", "--run", str(offline_run), "--features", str(cache), "--out", str(tmp_path / "o2"),
                 "--elements", str(tmp_path / "bad.json"), "--no-progress"]) == 1
    assert "element 0 needs start_s and end_s" in capsys.readouterr().err


# ----------------------------------------------------------------------------- refusals
def _fake_features(root: Path, info: dict, dims: dict, T: int = 3) -> Path:
    rng = np.random.default_rng(0)
    write_native_manifest(root, dims, info)
    write_native_video(root, "Ball_900", {m: rng.random((T, d), dtype=np.float32) for m, d in dims.items()})
    return root


@pytest.mark.parametrize("case", ["preset", "dims", "settings"])
def test_mismatched_features_are_refused(case, offline_run, tmp_path, capsys):
    model = lmac.load(offline_run, device="cpu")
    info = json.loads(json.dumps(model.feature_info))
    dims = dict(model.dims)
    if case == "preset":
        info, dims = {"preset": "pamfn"}, {"rgb": 1024, "flow": 1024, "audio": 768}
        expect = "preset 'pamfn' (run: 'offline')"
    elif case == "dims":
        dims["flow"] = 50
        expect = "dims flow 50-d (run: 104-d)"
    else:
        info["settings"]["crop"] = 224
        expect = "extraction settings crop 224 (run: 64)"
    feats = _fake_features(tmp_path / "feats", info, dims)
    rc = main(["predict", "--run", str(offline_run), "--features", str(feats), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 1 and len(err) == 1, err
    assert err[0].startswith("lmac predict: error: ") and expect in err[0] and "cannot score" in err[0]
    assert not (tmp_path / "o" / "Ball_900").exists()
    with pytest.raises(FeatureMismatchError, match="cannot score"):
        model.predict_features(feats / "Ball_900.safetensors")


def test_bad_videos_are_reported_and_skipped(scored, offline_run, music_clip, tmp_path, capsys):
    out, _ = scored
    folder = tmp_path / "videos"
    folder.mkdir()
    os.symlink(music_clip, folder / "bikes music.mp4")  # same file: its features come from the cache
    (folder / "broken.mp4").write_bytes(b"this is not a video" * 50)
    media_clips.write_video(folder / "tiny.mp4", 10, size=(64, 48), audio_tone_hz=300)  # shorter than one segment
    rc = main(["predict", str(folder), "--run", str(offline_run), "--out", str(out), "--device", "cpu",
               "--csv", str(tmp_path / "batch.csv"), "--no-progress"])
    cap = capsys.readouterr()
    assert rc == 1  # non-zero at the end because some failed ...
    assert (out / "bikes_music" / "prediction.json").is_file()  # ... but the good one was scored
    assert not (out / "broken").exists() and not (out / "tiny").exists()
    assert "broken.mp4" in cap.err and "tiny.mp4" in cap.err and "too short" in cap.err
    assert "1 scored, 2 failed of 3" in cap.err
    assert "FAILED" in cap.out and "bikes_music" in cap.out
    rows = {r["video_id"]: r for r in csv.DictReader(open(tmp_path / "batch.csv"))}
    assert rows["bikes_music"]["status"] == "ok" and rows["broken"]["status"] == "failed" and rows["broken"]["error"]
    assert rows["tiny"]["status"] == "failed" and rows["tiny"]["score"] == ""


def test_run_without_extraction_recipe(tiny_synth, tmp_path, capsys):
    """A run trained on features of unknown provenance (synthetic) cannot score a video, but scores
    features of the right dims; a model without stages gives a score and an empty stage list."""
    import torch

    from lmac.config import TrainConfig
    from lmac.training.trainer import train

    cfg = TrainConfig(task="rg_hoop", model="concat", features=str(tiny_synth / "features"), labels=str(tiny_synth),
                      epochs=1, batch_size=8, window=16, progress=False, device="cpu")
    with torch.enable_grad():  # see offline_run
        train(cfg, tmp_path / "run", log=lambda m: None)
    rc = main(["predict", str(tmp_path / "x.mp4"), "--run", str(tmp_path / "run"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and "not made by `lmac extract`" in err and "--features" in err
    store = NativeStore(tiny_synth / "features")
    vid = sorted(i for i in store.ids() if i.startswith("Hoop"))[0]
    res = lmac.load(tmp_path / "run", device="cpu").predict_features(tiny_synth / "features", video_id=vid)
    assert res.stages == [] and res.attention == {} and 0 < res.score < 25
    check_prediction(res.to_dict())
    paths = res.save(tmp_path / "concat")
    html = paths["html"].read_text()
    assert "gives an overall score only" in html and "png" not in paths


# ----------------------------------------------------------------------------- pieces
def test_attention_span_golden_values():
    one_hot = attention_span([0, 0, 1, 0], segment_s=1.28, offset_s=0.0, duration_s=5.12)
    sd = 1.28 * (1 / 12) ** 0.5  # a segment's own uniform spread
    assert (one_hot.center_segment, one_hot.center_s) == (3.0, pytest.approx(3.2))
    assert (one_hot.start_s, one_hot.end_s) == (pytest.approx(3.2 - sd), pytest.approx(3.2 + sd))
    uniform = attention_span([0.25] * 4, segment_s=1.28, offset_s=0.1, duration_s=5.3)
    assert uniform.center_segment == pytest.approx(2.5) and uniform.center_s == pytest.approx(0.1 + 2.0 * 1.28)
    assert uniform.end_s - uniform.center_s == pytest.approx(1.28 * (1.25 + 1 / 12) ** 0.5)
    edge = attention_span([1.0, 0, 0, 0], segment_s=1.28, offset_s=0.0, duration_s=5.12)
    assert edge.start_s >= 0.0  # clipped to the video


def test_schema_check_catches_broken_predictions(tiny_synth):
    from lmac.predict import build_stages

    attn = {"rgb": np.full((2, 4), 0.25), "audio": np.eye(4)[[0, 3]]}
    stages = build_stages(np.array([10.0, 20.0]), np.array([0.25, 0.75]), attn, 1.28, 0.0, 5.12)
    assert stages[1].center_gap_s == pytest.approx(abs(4 - 2.5) * 1.28)
    good = Prediction(video="v.mp4", video_id="v", score=17.5, score_range=25.0, task="rg_ball", model="lmac",
                      run="r", checkpoint="last", preset="offline", n_segments=4, segment_s=1.28, offset_s=0.0,
                      duration_s=5.12, modalities=["rgb", "audio"], stages=stages,
                      attention={m: a.tolist() for m, a in attn.items()}).to_dict()
    assert prediction_errors(good) == []
    bad = json.loads(json.dumps(good))
    bad["score"] = 12.0
    assert any("weighted stage scores" in e for e in prediction_errors(bad))
    bad = json.loads(json.dumps(good))
    bad["stages"][0]["weight"] = 0.5
    assert any("weights sum" in e for e in prediction_errors(bad))
    bad = json.loads(json.dumps(good))
    bad["stages"][1]["modalities"]["audio"]["end_s"] = 9.0
    assert any("not within" in e for e in prediction_errors(bad))
    bad = json.loads(json.dumps(good))
    del bad["preset"]
    bad["stages"][0]["score"] = "high"
    errs = prediction_errors(bad)
    assert any("missing 'preset'" in e for e in errs) and any("score: wrong type" in e for e in errs)
    with pytest.raises(ValueError, match="invalid prediction"):
        check_prediction(bad)


def test_import_lmac_stays_light():
    code = "import sys, lmac; assert callable(lmac.load); print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_silent_audio_and_the_runs_quality_are_said(offline_run, tmp_path, capsys):
    """--allow-silent: the prediction, summary and report say the audio was zeros (no audio centre shown);
    every prediction carries the run's own test rho, and warns when it is low (this toy run: 1 test video)."""
    clip = media_clips.write_video(tmp_path / "quiet.mp4", 70, size=(64, 48), seed=5)  # no audio track
    out = tmp_path / "out"
    assert main(["predict", str(clip), "--run", str(offline_run), "--allow-silent", "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0
    text = capsys.readouterr().out
    d = json.loads((out / "quiet" / "prediction.json").read_text())
    check_prediction(d)
    assert d["silent"] == ["audio"] and any("audio: the video has none" in w for w in d["warnings"])
    summary = json.loads((offline_run / "summary.json").read_text())
    assert d["run_quality"]["test_srcc"] == summary["test_srcc_last"] and d["run_quality"]["test_videos"] == 1
    assert any("ranks its own test videos poorly" in w for w in d["warnings"])
    assert "warning: audio: the video has none" in text and "silent" in text
    page = (out / "quiet" / "report.html").read_text()
    assert "Warning: audio: the video has none" in page and 'id="quality"' in page and ">silent<" in page


def test_a_model_trained_with_modality_dropout_scores_a_silent_video_without_audio(offline_run, tmp_path, capsys):
    """With modality dropout the model sets the (zero) audio aside and its placeholder stands in; the
    prediction says so and shows no audio attention."""
    import torch

    from lmac.config import TrainConfig
    from lmac.training.trainer import train

    d = offline_run.parent
    cfg = TrainConfig(task="rg_ball", model="lmac_aligned_md", model_args=narrow("lmac"), features=str(d / "feats"),
                      labels=str(d / "labels"), epochs=2, batch_size=4, window=8, val_fraction=0.0, progress=False,
                      device="cpu")
    with torch.enable_grad():
        train(cfg, tmp_path / "run", log=lambda m: None)
    clip = media_clips.write_video(tmp_path / "quiet.mp4", 70, size=(64, 48), seed=5)  # no audio track
    out = tmp_path / "out"
    assert main(["predict", str(clip), "--run", str(tmp_path / "run"), "--allow-silent", "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0
    d = json.loads((out / "quiet" / "prediction.json").read_text())
    check_prediction(d)
    assert d["silent"] == ["audio"] and "audio" not in d["attention"] and d["modalities"] == ["rgb", "flow"]
    assert any("the model scores without it" in w for w in d["warnings"])
    assert set(d["run_quality"]["missing_modality"]) == {"rgb", "flow", "audio"}

    # features with no flow at all: scored without it; a run without modality dropout refuses them
    from lmac.data.features import NativeStore

    store = NativeStore(d_feats := offline_run.parent / "feats")
    no_flow = tmp_path / "no_flow"
    vid = store.ids()[0]
    write_native_manifest(no_flow, {m: k for m, k in store.dims.items() if m != "flow"}, store.info)
    write_native_video(no_flow, vid, {m: a for m, a in store.load(vid).items() if m != "flow"}, store.meta(vid))
    assert main(["predict", "--run", str(tmp_path / "run"), "--features", str(no_flow), "--out", str(tmp_path / "o2"),
                 "--no-progress", "--device", "cpu"]) == 0
    p = json.loads((tmp_path / "o2" / vid / "prediction.json").read_text())
    assert "flow" not in p["attention"] and any(w.startswith("flow: the video has none") for w in p["warnings"])
    assert main(["predict", "--run", str(offline_run), "--features", str(no_flow), "--out", str(tmp_path / "o3"),
                 "--no-progress", "--device", "cpu"]) == 1
    assert "no flow features" in capsys.readouterr().err and d_feats.is_dir()
