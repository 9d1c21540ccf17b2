"""How `torchrun ... -m lmac extract` deals videos over ranks (the torchrun job itself: test_distributed.py)."""
from __future__ import annotations

from pathlib import Path

from lmac.features.sharding import deal_videos


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
