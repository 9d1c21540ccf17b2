"""LOGO (artistic swimming, RGB only) from a small package generated in its release's layout: read
safely (tuple keys through the restricted unpickler), trained on, benchmarked as a suite."""
import os
import pickle

import numpy as np
import pytest

from lmac.config import TrainConfig
from lmac.data.datasets import dataset_names, get_dataset
from lmac.data.features import detect_layout
from lmac.data.labels import LabelFormatError
from lmac.data.safe_pickle import UnsafePickleError
from lmac.data.tasks import SUITES, get_task
from lmac.training.trainer import train
from small_models import narrow


def _logo(root, n_train=8, n_test=4):
    rng = np.random.default_rng(2)
    (root / "logo_feats").mkdir(parents=True)
    keys = [("WorldChampionship2019_free_final", i) for i in range(n_train + n_test)]
    anno = {}
    for k in keys:
        T = 20 + k[1]
        anno[k] = ["free", float(rng.uniform(60, 95)), None, [T * 8], np.zeros(T * 8, np.int64)]
        np.save(root / "logo_feats" / f"{k[0]}_{k[1]}.npy", rng.standard_normal((T, 12)).astype(np.float32))
    with open(root / "anno_dict.pkl", "wb") as f:
        pickle.dump(anno, f)
    with open(root / "train_split3.pkl", "wb") as f:
        pickle.dump(keys[:n_train], f)
    with open(root / "test_split3.pkl", "wb") as f:
        pickle.dump(keys[n_train:], f)
    return root, anno


def test_logo_reads_tuple_keys_safely_and_trains(tmp_path):
    root, anno = _logo(tmp_path / "LOGO")
    rows = get_dataset("logo").records(root, "test")
    assert [r.video_id for r in rows] == [f"WorldChampionship2019_free_final_{i}" for i in range(8, 12)]
    assert rows[0].scores["score"] == anno[("WorldChampionship2019_free_final", 8)][1]
    assert get_task("logo").to_target(80.0) == pytest.approx(0.8)
    assert detect_layout(root) == "logo"
    cfg = TrainConfig(task="logo", model="lmac", model_args=narrow("lmac"), features=str(root), epochs=1, batch_size=4,
                      val_fraction=0.0, progress=False, device="cpu", window=12)
    summary = train(cfg, tmp_path / "run", log=lambda m: None)
    assert summary["train_videos"] == 8 and summary["test_videos"] == 4


def test_logo_malicious_annotation_is_refused_and_unknown_keys_named(tmp_path):
    root, _ = _logo(tmp_path / "LOGO")
    with open(root / "test_split3.pkl", "wb") as f:
        pickle.dump([("nope", 3)], f)
    with pytest.raises(LabelFormatError, match=r"test_split3.pkl: key \('nope', 3\) \(entry 0\) is not in anno_dict.pkl"):
        get_dataset("logo").records(root, "test")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    with open(root / "anno_dict.pkl", "wb") as f:
        pickle.dump({("a", 1): Evil()}, f)
    with pytest.raises(UnsafePickleError, match="anno_dict.pkl: refusing"):
        get_dataset("logo").records(root, "train")
    assert not (tmp_path / "pwned").exists()


def test_lmac_benchmark_runs_a_new_dataset_suite_from_its_release_folder(tmp_path):
    from lmac.cli.main import main

    root, _ = _logo(tmp_path / "LOGO")
    out = tmp_path / "bench"
    assert main(["benchmark", "--suite", "logo", "--models", "gdlt", "--seeds", "0", "--epochs", "1", "--features",
                 str(root), "--window", "12", "--no-progress", "--out", str(out)]) == 0
    md = (out / "results.md").read_text()
    assert "| gdlt |" in md and "logo" in md


def test_logo_is_registered_with_its_suite_and_layout():
    assert "logo" in dataset_names() and SUITES["logo"] == ["logo"]
    from lmac.data.features import DATASET_LAYOUTS

    assert "logo" in DATASET_LAYOUTS
