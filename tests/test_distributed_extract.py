"""`torchrun ... -m lmac extract`: every video exactly once, on one rank; a rerun finishes only what is missing."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from lmac.data.features import NativeStore
from lmac.features.sharding import deal_videos

import media_clips
from test_distributed import torchrun

QUICK = ["--crop", "32", "--resize", "40", "--no-progress"]


def test_deal_videos_each_once_same_ids_together_pending_first(tmp_path):
    from lmac.features.extract import video_id_for

    vids = [Path(f"/v/clip{i}.mp4") for i in range(7)] + [Path("/w/clip 9.mp4"), Path("/w/clip_9.mkv")]
    for i in (0, 1, 2):  # already extracted
        (tmp_path / f"clip{i}.safetensors").write_bytes(b"")
    shares = deal_videos(vids, tmp_path, 3)
    assert sorted(map(str, (v for s in shares for v in s))) == sorted(map(str, vids))  # each video exactly once
    owner = {str(v): r for r, s in enumerate(shares) for v in s}
    assert owner["/w/clip 9.mp4"] == owner["/w/clip_9.mkv"]  # both would write clip_9.safetensors
    # the five pending ids (clip3 .. clip6, clip_9) are dealt round-robin, then the finished ones
    pending = [{video_id_for(v) for v in s} - {"clip0", "clip1", "clip2"} for s in shares]
    assert sorted(len(p) for p in pending) == [1, 2, 2]
    assert sorted(len({video_id_for(v) for v in s} & {"clip0", "clip1", "clip2"}) for s in shares) == [1, 1, 1]
    for s in shares:  # input order kept within a rank
        assert s == sorted(s, key=vids.index)
    assert deal_videos(vids, tmp_path, 1) == [vids]


def test_torchrun_extract_shards_videos_and_resumes(tmp_path):
    src = tmp_path / "videos"
    src.mkdir()
    for i in range(5):
        media_clips.write_video(src / f"clip{i}.mp4", n_frames=40, size=(48, 40), audio_tone_hz=440, seed=i)
    out = tmp_path / "feats"
    res = torchrun(["extract", str(src), "--out", str(out), *QUICK])
    writes = re.findall(r"\[rank (\d)\] \[\d+/\d+\] (clip\d)\.mp4: \d+ segments -> ", res.stderr)
    assert sorted(v for _, v in writes) == [f"clip{i}" for i in range(5)]  # each written once
    assert {r for r, _ in writes} == {"0", "1"}  # by both ranks
    assert "5 written, 0 skipped (already done), 0 failed of 5" in res.stderr
    store = NativeStore(out)
    assert store.ids() == [f"clip{i}" for i in range(5)]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left

    # the same features as one process
    single = tmp_path / "single"
    from lmac.cli.main import main

    assert main(["extract", str(src / "clip2.mp4"), str(src / "clip3.mp4"), "--out", str(single), *QUICK]) == 0
    for vid in ("clip2", "clip3"):
        a, b = NativeStore(single).load(vid), store.load(vid)
        for m in a:
            np.testing.assert_allclose(b[m], a[m], rtol=1e-5, atol=1e-6)
    assert NativeStore(single).info == store.info

    # a crash left two videos unwritten (and a temp file): the rerun does those two, one per rank
    for vid in ("clip1", "clip4"):
        (out / f"{vid}.safetensors").unlink()
    (out / ".clip1.safetensors.x1y2.tmp").write_bytes(b"partial")  # a killed atomic write
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("clip*.safetensors")}
    res = torchrun(["extract", str(src), "--out", str(out), *QUICK])
    writes = re.findall(r"\[rank (\d)\] \[\d+/\d+\] (clip\d)\.mp4: \d+ segments -> ", res.stderr)
    assert sorted(v for _, v in writes) == ["clip1", "clip4"]
    assert sorted(r for r, _ in writes) == ["0", "1"]  # missing work dealt evenly
    assert "2 written, 3 skipped (already done), 0 failed of 5" in res.stderr
    assert {n: (out / n).stat().st_mtime_ns for n in kept} == kept  # finished files untouched
    assert NativeStore(out).ids() == [f"clip{i}" for i in range(5)]
