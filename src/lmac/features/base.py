"""What every extractor is: one modality, one output dim, a batch of segments in, (B, D) out."""
from __future__ import annotations

from pathlib import Path

import numpy as np

# Segment contract shared by all extractors (see video.py): 25 fps, 32-frame segments, 16-kHz audio.
FPS = 25.0
CLIP_LEN = 32
SAMPLE_RATE = 16000


class Extractor:
    """Base class. `input` says what the driver feeds `__call__`:

    - "rgb":   uint8 (B, T, S, S, 3) frames of T = 32, centre-cropped to S (224);
    - "flow":  float32 (B, T, S, S, 2) optical flow in pixels per frame (x, y);
    - "audio": float32 (B, N) 16-kHz mono chunks in [-1, 1], N = 20480 (1.28 s).
    Output: float32 (B, dim)."""

    name = "?"
    modality = "?"
    input = "?"
    dim = 0

    def __init__(self):
        self.weights_path: Path | None = None
        self.weights_sha256: str | None = None
        self.weights_spec: str | None = None
        self.device = "cpu"

    def to(self, device):
        self.device = device
        return self

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def settings(self) -> dict:
        return {}

    def describe(self) -> dict:
        """Provenance for the output manifest."""
        return {
            "extractor": self.name,
            "modality": self.modality,
            "dim": self.dim,
            "weights": None
            if self.weights_path is None
            else {"spec": self.weights_spec, "file": str(self.weights_path), "sha256": self.weights_sha256},
            "settings": self.settings(),
        }
