"""Rhythmic Gymnastics (Zeng et al., ACM MM 2020, the ACTION-NET release): 1000 routines of four
apparatus, 1.5-2.5 min. Labels: `Video_Name Difficulty_Score Execution_Score Total_Score Penalty
Video_length` with a header; shipped with lmac (lmac/resources/labels/rg). Splits: train.txt / test.txt
(200 / 50 per apparatus). Features: the PAMFN package (VST / I3D / AST) or any generic layout."""
from __future__ import annotations

from lmac.data.datasets._files import train_test_file
from lmac.data.datasets.base import DatasetSpec
from lmac.data.labels import read_rg_labels
from lmac.data.taskspec import TaskSpec

APPARATUS = ("Ball", "Clubs", "Hoop", "Ribbon")
RG_PARTS = (("difficulty", 1), ("execution", 1), ("penalty", -1))  # Total = D + E - P


def _read(root, split):
    return read_rg_labels(train_test_file(root, split, "rg"))


SPEC = DatasetSpec(
    name="rg", title="Rhythmic Gymnastics (ACTION-NET release): Ball, Clubs, Hoop, Ribbon; total = D + E - P",
    tasks=tuple(TaskSpec(f"rg_{a.lower()}", "rg", a, "total", 25.0, 70, 9e-4, 0.1, a) for a in APPARATUS)
    # the same totals, the model trained on the judges' D, E and P and scoring their signed sum
    + tuple(TaskSpec(f"rg_{a.lower()}_parts", "rg", a, "total", 25.0, 70, 9e-4, 0.1, a, parts=RG_PARTS) for a in APPARATUS),
    read_split=_read, labels_hint="a folder with train.txt and test.txt (or RG/)", shipped=True,
).register()
