"""TaskSpec: one regression problem of a dataset (its own module, so dataset modules can build tasks
without importing the task table that collects them)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSpec:
    name: str
    dataset: str  # its dataset's registry name (lmac.data.datasets): rg, fisv, fs1000, finefs, logo
    cls: str  # class whose rows are used: apparatus for RG, "FISV" for Fis-V
    score_key: str  # column regressed
    score_range: float  # targets = score / score_range
    window: int  # training window T in segments
    lr: float
    dropout: float
    pamfn_prefix: str  # file prefix in a PAMFN package ("" where the dataset has no PAMFN release)

    def to_target(self, score):
        return score / self.score_range

    def to_score(self, target):
        return target * self.score_range
