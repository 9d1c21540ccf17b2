"""`lmac extract` end to end on real media, decoding rules, and every bad input of issue #4."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np

import pytest
import torch

from lmac.cli.main import main
from lmac.data.features import NativeStore
from lmac.features.backbones.musicnn import MUSICNN_MTT
from lmac.features.video import VideoDecodeError, audio_chunks, iter_segments, load_audio, probe_video

import media_clips

QUICK = ["--crop", "64", "--resize", "72", "--no-progress"]  # plumbing tests: small frames


@pytest.fixture(scope="module")
def music_clip(tmp_path_factory):
    """bikes.mp4's video (4 s, 25 fps) with a real soundtrack (arcade's funkyrobot.mp3), muxed with PyAV."""
    d = tmp_path_factory.mktemp("real")
    return media_clips.mux_with_music(media_clips.bikes(), media_clips.music(), d / "bikes music.mp4", seconds=4.0)


# ----------------------------------------------------------------------------- end to end
def test_offline_preset_end_to_end_on_real_clip(music_clip, tmp_path, capsys):
    out = tmp_path / "feats"
    rc = main(["extract", str(music_clip.parent), "--preset", "offline", "--out", str(out), *QUICK])
    assert rc == 0
    store = NativeStore(out)
    assert store.dims == {"rgb": 1024, "flow": 104, "audio": 200}  # audio: musicnn's penultimate embedding
    assert store.ids() == ["bikes_music"]  # sanitised stem
    arr = store.load("bikes_music")
    assert {m: a.shape for m, a in arr.items()} == {"rgb": (3, 1024), "flow": (3, 104), "audio": (3, 200)}
    meta = store.meta("bikes_music")
    assert meta["n_segments"] == 3 and meta["silent"] is False and meta["fps"] == 25 and meta["skip_start_frames"] == 2
    assert np.std(arr["audio"], axis=0).mean() > 0.05  # music changes between segments
    assert np.isfinite(arr["audio"]).all()
    assert np.abs(arr["flow"]).sum() > 0 and (arr["rgb"] >= 0).all()
    info = store.info
    assert info["preset"] == "offline"
    w = info["extractors"]["rgb"]["weights"]
    assert w["sha256"] == "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
    a = info["extractors"]["audio"]
    assert a["extractor"] == "musicnn" and a["weights"]["sha256"] == MUSICNN_MTT.sha256 and a["weights"]["spec"] == "musicnn.mtt"
    assert info["settings"]["crop"] == 64 and info["settings"]["flow"]["method"] == "dis"
    err = capsys.readouterr().err
    assert "bikes music.mp4: 3 segments" in err and "1 written" in err
    # the job ends with its speed: segments/s and the realtime factor
    import re

    m = re.search(r"lmac extract: 3 segments \(([\d.]+) s of video\) in ([\d.]+) s: ([\d.]+) segments/s, ([\d.]+)x realtime", err)
    assert m, err
    video_s, wall, seg_s, rt = map(float, m.groups())
    assert video_s == pytest.approx(meta["duration_s"], abs=0.05) and seg_s == pytest.approx(3 / wall, rel=0.05)
    assert rt == pytest.approx(video_s / wall, rel=0.05)

    # a second run resumes: nothing recomputed, file untouched
    target = out / "bikes_music.safetensors"
    mtime = target.stat().st_mtime_ns
    assert main(["extract", str(music_clip), "--preset", "offline", "--out", str(out), *QUICK]) == 0
    assert target.stat().st_mtime_ns == mtime
    assert "skipped" in capsys.readouterr().err
    # ... but refuses to mix features made with other settings into the same folder
    assert main(["extract", str(music_clip), "--preset", "offline", "--out", str(out), "--crop", "32", "--no-progress"]) == 1
    assert "made differently" in capsys.readouterr().err


def test_extracted_features_train_compatible(music_clip, tmp_path):
    """The store `lmac train` reads: every modality (T, D) float32 with one shared T."""
    from lmac.data.features import open_feature_store

    out = tmp_path / "f"
    assert main(["extract", str(music_clip), "--out", str(out), *QUICK]) == 0
    store = open_feature_store(out)
    assert store.layout == "native" and store.modalities == ("rgb", "flow", "audio")
    arrays = store.load(store.ids()[0])
    assert len({a.shape[0] for a in arrays.values()}) == 1 and all(a.dtype == np.float32 for a in arrays.values())


def _random_state_with_shapes(module_factory):
    """A random state dict of a big architecture without running its slow init (shapes via meta)."""
    with torch.device("meta"):
        net = module_factory()
    g = torch.Generator().manual_seed(0)
    return {k: (torch.randn(v.shape, generator=g) * 0.02 if v.dtype.is_floating_point else torch.zeros(v.shape, dtype=v.dtype))
            for k, v in net.state_dict().items()}


def test_pamfn_preset_with_user_checkpoints_in_real_layouts(tmp_path, capsys):
    """vst from an mmaction2-layout Swin-B file, i3d-flow from a pytorch-i3d .pth, ast from a HF folder."""
    from torchvision.models.video import swin3d_b
    from torchvision.models.video.swin_transformer import ShiftedWindowAttention3d
    from transformers import ASTConfig, ASTModel

    from lmac.features.backbones.i3d import InceptionI3d

    sd = _random_state_with_shapes(swin3d_b)
    index = ShiftedWindowAttention3d(8, [8, 7, 7], [0, 0, 0], 1).relative_position_index
    for k in sd:
        if k.endswith("relative_position_index"):
            sd[k] = index.clone()
        if k.endswith(("norm1.weight", "norm2.weight", "norm.weight")):
            sd[k] = torch.ones_like(sd[k])
    mm = {}
    for k, v in sd.items():
        m = re.match(r"features\.(\d+)\.(\d+)\.(.*)", k)
        if m:
            rest = m[3].replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2.")
            mm[f"backbone.layers.{int(m[1]) // 2}.blocks.{m[2]}.{rest}"] = v
        elif re.match(r"features\.(\d+)\.", k):
            i, rest = k.split(".", 2)[1:]
            mm[f"backbone.layers.{int(i) // 2}.downsample.{rest}"] = v
        elif k.startswith("head."):
            mm["cls_head.fc_cls." + k[5:]] = v
        else:
            mm["backbone." + k] = v
    swin = tmp_path / "swin_base_patch244_window877_kinetics600_22k.pth"
    torch.save({"meta": {}, "state_dict": mm}, swin)
    flow = tmp_path / "i3d_flow.pth"
    torch.manual_seed(0)
    torch.save(InceptionI3d(in_channels=2).state_dict(), flow)
    ast_dir = tmp_path / "ast-finetuned-audioset"
    ASTModel(ASTConfig(hidden_size=768, num_hidden_layers=1, num_attention_heads=12, intermediate_size=256,
                       max_length=128)).save_pretrained(ast_dir)

    (tmp_path / "videos").mkdir()
    clip = media_clips.write_video(tmp_path / "videos" / "Ball_001.mp4", n_frames=34, size=(48, 40), audio_tone_hz=440)
    out = tmp_path / "out"
    args = ["extract", str(clip), "--preset", "pamfn", "--out", str(out), "--crop", "32", "--resize", "40", "--no-progress"]
    assert main(args) == 1  # checkpoints not given
    assert "vst needs a checkpoint" in capsys.readouterr().err
    rc = main(args + ["--weights", f"vst={swin}", "--weights", f"i3d-flow={flow}", "--weights", f"ast={ast_dir}"])
    assert rc == 0, capsys.readouterr().err
    store = NativeStore(out)
    assert store.dims == {"rgb": 1024, "flow": 1024, "audio": 768}
    a = store.load("Ball_001")
    assert all(np.isfinite(v).all() and v.shape[0] == 1 for v in a.values())
    info = store.info
    assert info["preset"] == "pamfn" and info["settings"]["flow"]["method"] == "tvl1"
    assert info["extractors"]["rgb"]["settings"]["checkpoint_layout"] == "mmaction2-swin"
    for m in ("rgb", "flow", "audio"):
        assert re.fullmatch(r"[0-9a-f]{64}", info["extractors"][m]["weights"]["sha256"])
    assert main(args + ["--weights", f"vst={swin}", "--weights", "i3d-flowx=foo"]) == 1
    assert "Did you mean 'i3d-flow'" in capsys.readouterr().err


# ----------------------------------------------------------------------------- decoding rules
@pytest.mark.parametrize("fps,n_frames,expect_frames", [(30, 90, 75), (Fraction(30000, 1001), 80, 66), (12, 40, 83)])
def test_odd_frame_rates_are_resampled_to_25(tmp_path, fps, n_frames, expect_frames):
    clip = media_clips.write_video(tmp_path / "odd.mp4", n_frames=n_frames, fps=fps, size=(48, 32))
    probe = probe_video(clip)
    assert abs(probe.source_fps - float(fps)) < 0.05
    assert probe.n_frames == expect_frames  # floor(duration * 25)
    assert probe.n_segments == expect_frames // 32
    assert probe.skip_start == (expect_frames % 32) // 2
    segs = list(iter_segments(probe, resize=32, crop=32))
    assert len(segs) == probe.n_segments and segs[0].shape == (32, 32, 32, 3)
    # the square moves 2 px per *source* frame: at 25 fps it moves 2 * fps / 25 px per output frame
    xs = [np.argmax(f[12, :, 0] > 200) for f in segs[0][:8]]
    assert xs[-1] > xs[0]


def test_rotation_metadata_is_applied(tmp_path):
    clip = media_clips.write_video(tmp_path / "rot.mp4", n_frames=40, size=(64, 32), rotation=90)
    probe = probe_video(clip)
    assert probe.rotation == 90 and (probe.width, probe.height) == (32, 64)  # portrait as displayed
    # resize = crop = short side keeps the whole width; the red marker is stored top-left and a
    # 90-degree counter-clockwise display rotation puts it bottom-left
    seg = next(iter_segments(probe, resize=32, crop=32))  # (32, 32, 32, 3): centre of the 32x64 portrait
    assert seg.shape == (32, 32, 32, 3)
    from lmac.features.video import VideoProbe

    full = VideoProbe(**{**probe.__dict__})
    frames = next(iter_segments(full, resize=32, crop=32))
    assert frames.shape[1:3] == (32, 32)
    import av

    with av.open(str(clip)) as c:
        raw = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert raw.shape[:2] == (32, 64) and raw[:2, :2, 0].mean() > 150  # stored landscape, marker top-left
    shown = np.rot90(raw, 1)
    assert shown[-2:, :2, 0].mean() > 150
    # the decoder's output equals the displayed frame's centre crop (rows 16..48 of the 64-row portrait)
    np.testing.assert_allclose(frames[0].astype(int), shown[16:48].astype(int), atol=12)


def test_audio_chunks_follow_video_segments(tmp_path):
    clip = media_clips.write_video(tmp_path / "tone.mp4", n_frames=80, size=(32, 32), audio_tone_hz=1000)
    probe = probe_video(clip)
    wav, start = load_audio(clip)
    assert abs(len(wav) / 16000 - 3.2) < 0.15  # 16 kHz mono
    chunks = audio_chunks(wav, start, probe)
    assert chunks.shape == (2, 20480)
    spec = np.abs(np.fft.rfft(chunks[0]))
    assert abs(np.argmax(spec) * 16000 / 20480 - 1000) < 5  # the 1-kHz tone survives resampling
    # audio shorter than the video: zero-padded, never shifted
    short = audio_chunks(wav[:16000], start, probe)
    assert np.all(short[1] == 0) and np.abs(short[0]).max() > 0.1


def test_video_ids_are_sanitised_and_unique():
    from lmac.features.extract import video_id_for

    assert video_id_for("a/Ball 001 (final).mp4") == "Ball_001__final_"
    assert video_id_for("x/.hidden.mp4") == "v.hidden"
    assert video_id_for("é.mp4") == "v_"


# ----------------------------------------------------------------------------- bad inputs
@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    media_clips.write_video(d / "good.mp4", n_frames=40, size=(48, 40), audio_tone_hz=440)
    good = (d / "good.mp4").read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) // 3])
    (d / "notes.mp4").write_text("this is not a video\n")
    media_clips.write_audio_only(d / "audio_only.mp4")
    media_clips.write_video(d / "short.mp4", n_frames=20, size=(48, 40), audio_tone_hz=440)  # 0.8 s < 1.28 s
    media_clips.write_video(d / "silent.mp4", n_frames=40, size=(48, 40))
    (d / "empty.mp4").write_bytes(b"")
    return d


def test_bad_files_are_reported_and_the_run_continues(bad_dir, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["extract", str(bad_dir), "--out", str(out), "--crop", "32", "--resize", "40", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 1
    assert NativeStore(out).ids() == ["good"]
    failed = err.split("failed:\n", 1)[1].strip().splitlines()
    assert len(failed) == 6
    by_name = {Path(line.strip().split(":", 1)[0]).name: line for line in failed}
    assert set(by_name) == {"truncated.mp4", "notes.mp4", "audio_only.mp4", "short.mp4", "silent.mp4", "empty.mp4"}
    assert "damaged or truncated" in by_name["truncated.mp4"] or "cannot open" in by_name["truncated.mp4"]
    assert "cannot open as a video" in by_name["notes.mp4"]
    assert "no video stream" in by_name["audio_only.mp4"]
    assert "too short" in by_name["short.mp4"] and "1.28 s" in by_name["short.mp4"]
    assert "no audio stream" in by_name["silent.mp4"] and "--allow-silent" in by_name["silent.mp4"]
    assert "cannot open" in by_name["empty.mp4"]
    for line in failed:  # one line each, naming the file
        assert str(bad_dir) in line
    assert "1 written, 0 skipped (already done), 6 failed of 7" in err


def test_allow_silent_writes_zero_audio_marked_silent(bad_dir, tmp_path):
    out = tmp_path / "out"
    rc = main(["extract", str(bad_dir / "silent.mp4"), str(bad_dir / "good.mp4"), "--out", str(out),
               "--allow-silent", "--crop", "32", "--resize", "40", "--no-progress"])
    assert rc == 0
    store = NativeStore(out)
    assert store.meta("silent")["silent"] is True and store.meta("good")["silent"] is False
    assert np.all(store.load("silent")["audio"] == 0) and np.any(store.load("good")["audio"] != 0)
    assert np.any(store.load("silent")["rgb"] != 0)


def test_probe_errors_name_the_file(tmp_path):
    with pytest.raises(VideoDecodeError, match=re.escape(str(tmp_path / "nope.mp4")) + ": file not found"):
        probe_video(tmp_path / "nope.mp4")
    with pytest.raises(VideoDecodeError, match="is a folder"):
        probe_video(tmp_path)


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["extract", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert "no video files" in capsys.readouterr().err
    assert main(["extract", "x.mp4"]) == 1
    assert "--out DIR is required" in capsys.readouterr().err
    assert main(["extract", "x.mp4", "--out", "o", "--preset", "offlin"]) == 1
    assert "Did you mean 'offline'" in capsys.readouterr().err
    assert main(["extract", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "offline" in listing and "pamfn" in listing and "i3d-flow" in listing


def test_prefetch_keeps_order_raises_the_producers_error_and_stops_when_left_early():
    import threading

    from lmac.features.extract import prefetch

    assert list(prefetch(iter(range(7)), depth=2)) == list(range(7))

    def failing():
        yield 1
        raise ValueError("bad frame")

    got = []
    with pytest.raises(ValueError, match="bad frame"):
        for x in prefetch(failing()):
            got.append(x)
    assert got == [1]
    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    for x in prefetch(endless(), depth=2):
        if x == 3:
            break
    assert not any(t.name == "lmac-extract-prefetch" and t.is_alive() for t in threading.enumerate())
    assert len(produced) <= 3 + 1 + 2 + 1  # at most `depth` (and the one being put) beyond what was taken
