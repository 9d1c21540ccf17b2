import numpy as np
import pytest
import torch

from lmac.data.dataset import FeatureSequenceDataset, collate_sequences
from lmac.data.features import FeatureDataError, NativeStore, write_native_manifest, write_native_video
from lmac.data.labels import LabelRecord
from lmac.data.tasks import get_task


def _store(tmp_path, lengths, dims=(6, 5, 4)):
    d = dict(zip(("rgb", "flow", "audio"), dims))
    write_native_manifest(tmp_path, d)
    for i, T in enumerate(lengths):
        # every segment carries its own index, so windows can be checked exactly
        arrays = {m: np.tile(np.arange(T, dtype=np.float32)[:, None], (1, n)) + 1000 * j
                  for j, (m, n) in enumerate(d.items())}
        write_native_video(tmp_path, f"Ball_{i:03d}", arrays)
    return NativeStore(tmp_path)


def _labels(n):
    return [LabelRecord(f"Ball_{i:03d}", "Ball", {"total": 10.0 + i}) for i in range(n)]


def test_train_window_same_start_for_all_modalities_and_padding(tmp_path):
    store = _store(tmp_path, [90, 40])
    ds = FeatureSequenceDataset(store, _labels(2), get_task("rg_ball"), train=True, window=70, seed=1)
    long, short = ds[0], ds[1]
    starts = {m: int(x[0, 0]) - 1000 * j for j, (m, x) in enumerate(long["feats"].items())}
    assert len(set(starts.values())) == 1 and 0 <= starts["rgb"] <= 20
    assert all(x.shape[0] == 70 for x in long["feats"].values())
    batch = collate_sequences([long, short])
    assert batch["feats"]["rgb"].shape == (2, 70, 6)
    assert batch["mask"][0].all() and batch["mask"][1].sum() == 40
    assert torch.all(batch["feats"]["flow"][1, 40:] == 0)
    assert batch["target"][1] == pytest.approx(11.0 / 25)
    assert batch["score"][1] == pytest.approx(11.0)


def test_window_start_depends_on_epoch_and_is_repeatable(tmp_path):
    store = _store(tmp_path, [200])
    ds = FeatureSequenceDataset(store, _labels(1), get_task("rg_ball"), train=True, window=70, seed=0)
    starts = []
    for epoch in range(6):
        ds.set_epoch(epoch)
        starts.append(int(ds[0]["feats"]["rgb"][0, 0]))
    assert len(set(starts)) > 1
    ds.set_epoch(3)
    assert int(ds[0]["feats"]["rgb"][0, 0]) == starts[3]


def test_test_split_returns_full_sequences(tmp_path):
    store = _store(tmp_path, [90, 40])
    ds = FeatureSequenceDataset(store, _labels(2), get_task("rg_ball"), train=False)
    batch = collate_sequences([ds[0], ds[1]])
    assert batch["feats"]["audio"].shape == (2, 90, 4)
    assert batch["mask"].sum(1).tolist() == [90, 40]


def test_missing_label_ids_are_listed(tmp_path):
    store = _store(tmp_path, [30])
    labels = _labels(1) + [LabelRecord("Ball_777", "Ball", {"total": 1.0}), LabelRecord("Ball_778", "Ball", {"total": 1.0})]
    with pytest.raises(FeatureDataError, match=r"2 labelled video\(s\) have no features.*Ball_777, Ball_778"):
        FeatureSequenceDataset(store, labels, get_task("rg_ball"), train=True)


def test_modality_subset_and_unknown_modality(tmp_path):
    store = _store(tmp_path, [30])
    ds = FeatureSequenceDataset(store, _labels(1), get_task("rg_ball"), train=False, modalities=("audio",))
    assert list(ds[0]["feats"]) == ["audio"] and ds.dims == {"audio": 4}
    with pytest.raises(FeatureDataError, match="depth"):
        FeatureSequenceDataset(store, _labels(1), get_task("rg_ball"), train=False, modalities=("depth",))
