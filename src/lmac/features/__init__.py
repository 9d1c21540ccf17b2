"""Feature extraction from raw videos: PyAV decoding, per-modality extractors, presets.

Importing the package fills `EXTRACTORS` (one entry per extractor: modality, output dim, fps, clip
length, audio sample rate, weights specs) and `PRESETS`.
"""
from lmac.registry import Registry

EXTRACTORS = Registry("extractor")

from lmac.features.backbones import i3d as _i3d  # noqa: E402,F401  (registers i3d-rgb, i3d-flow)
from lmac.features.backbones import descriptors as _descriptors  # noqa: E402,F401  (flow-hof, audio-stats)
from lmac.features.presets import PRESETS, get_preset  # noqa: E402,F401
from lmac.features.backbones import swin as _swin  # noqa: E402,F401  (vst)
from lmac.features.backbones import ast as _ast  # noqa: E402,F401  (ast; transformers imported lazily)
from lmac.features.backbones import musicnn as _musicnn  # noqa: E402,F401  (musicnn; its TF checkpoint read without TensorFlow)
