"""The feature cache of `lmac predict`: one folder of native features per run recipe
(`<preset>-<hash of the run's feature provenance>`), and `sources.json` recording which video file (path,
size, modification time) each cached file was made from, so an edited or replaced video is extracted again."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lmac.utils import atomic_write_json

INDEX = "sources.json"


def cache_key(preset: str | None, feature_info: dict) -> str:
    """Folder name for cached features: the preset plus a hash of the run's whole recipe."""
    blob = json.dumps(feature_info, sort_keys=True, default=str).encode()
    return f"{preset or 'features'}-{hashlib.sha256(blob).hexdigest()[:10]}"


class FeatureCache:
    """`<video_id>.safetensors` files in `root`, each valid while its video is unchanged."""

    def __init__(self, root):
        self.root = Path(root)
        self.index_path = self.root / INDEX

    def _index(self) -> dict:
        if not self.index_path.is_file():
            return {}
        try:
            return json.loads(self.index_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {}  # a damaged index only costs a re-extraction

    @staticmethod
    def stamp(video: Path) -> dict:
        st = video.stat()
        return {"path": str(video.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def lookup(self, video: Path, video_id: str) -> Path | None:
        """The cached features of `video`, or None (then any stale file of that id is removed)."""
        target = self.root / f"{video_id}.safetensors"
        if target.exists() and self._index().get(video_id) == self.stamp(video):
            return target
        if target.exists():
            target.unlink()  # another file of that name, or the video changed: extract again
        return None

    def record(self, video: Path, video_id: str) -> None:
        """Note that `<video_id>.safetensors` was just made from `video`."""
        index = self._index()
        index[video_id] = self.stamp(video)
        atomic_write_json(self.index_path, index)
