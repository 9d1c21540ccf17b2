"""TaskSpec: one regression problem of a dataset (its own module, so dataset modules can build tasks
without importing the task table that collects them)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    # further scores one model predicts with the first (a multi-score task): ((column, range), ...)
    extra_scores: tuple = ()

    @property
    def score_keys(self) -> tuple[str, ...]:
        return (self.score_key,) + tuple(k for k, _ in self.extra_scores)

    @property
    def n_scores(self) -> int:
        return 1 + len(self.extra_scores)

    def _ranges(self, x):
        """The score range: a number for one score; per score (last axis) for several."""
        if not self.extra_scores:
            return self.score_range
        r = [self.score_range] + [float(v) for _, v in self.extra_scores]
        if hasattr(x, "new_tensor"):  # a torch tensor
            return x.new_tensor(r)
        return np.asarray(r, dtype=np.float64)

    def to_target(self, score):
        return score / self._ranges(score)

    def to_score(self, target):
        return target * self._ranges(target)
