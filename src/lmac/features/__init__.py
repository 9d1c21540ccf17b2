"""Feature extraction from raw videos: PyAV decoding, per-modality extractors, presets.

Importing the package fills `EXTRACTORS` (one entry per extractor: modality, output dim, fps, clip
length, audio sample rate, weights specs) and `PRESETS`.
"""
from lmac.registry import Registry

EXTRACTORS = Registry("extractor")

from lmac.features.backbones import i3d as _i3d  # noqa: E402,F401  (registers i3d-rgb, i3d-flow)
