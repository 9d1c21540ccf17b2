"""Fis-V (Xu et al., TCSVT 2019, the MS-LSTM release): 500 ladies' short programmes, about 2.9 min.
Labels: `id TES PCS falls`, no header; shipped with lmac (lmac/resources/labels/fisv). Splits:
train.txt / test.txt (400 / 100)."""
from __future__ import annotations

from lmac.data.datasets._files import train_test_file
from lmac.data.datasets.base import DatasetSpec
from lmac.data.labels import read_fisv_labels
from lmac.data.taskspec import TaskSpec


def _read(root, split):
    return read_fisv_labels(train_test_file(root, split, "fisv"))


SPEC = DatasetSpec(
    name="fisv", title="Fis-V (MS-LSTM release): figure skating short programmes; TES and PCS",
    tasks=tuple(TaskSpec(f"fisv_{c}", "fisv", "FISV", c, 45.0, 130, 9e-5, 0.2, "FISV") for c in ("tes", "pcs"))
    # one model for both scores (lmac benchmark --suite fisv compares it with one model per score)
    + (TaskSpec("fisv_tes_pcs", "fisv", "FISV", "tes", 45.0, 130, 9e-5, 0.2, "FISV", extra_scores=(("pcs", 45.0),)),),
    read_split=_read, labels_hint="a folder with train.txt and test.txt (or FISV/)", shipped=True,
).register()
