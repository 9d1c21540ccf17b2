"""Data layer: label parsers, feature stores (PAMFN, GDLT, native), the windowed dataset, synthetic data."""
from lmac.data.labels import LabelRecord, LabelFormatError, read_labels, read_rg_labels, read_fisv_labels
from lmac.data.tasks import TaskSpec, TASKS, get_task
from lmac.data.features import (
    FeatureStore,
    FeatureDataError,
    NativeStore,
    PamfnStore,
    GdltStore,
    open_feature_store,
    write_native_video,
    write_native_manifest,
)
from lmac.data.dataset import FeatureSequenceDataset, collate_sequences

__all__ = [
    "LabelRecord", "LabelFormatError", "read_labels", "read_rg_labels", "read_fisv_labels",
    "TaskSpec", "TASKS", "get_task",
    "FeatureStore", "FeatureDataError", "NativeStore", "PamfnStore", "GdltStore", "open_feature_store",
    "write_native_video", "write_native_manifest",
    "FeatureSequenceDataset", "collate_sequences",
]
