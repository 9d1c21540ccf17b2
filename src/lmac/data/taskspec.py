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
    # the judges' part scores the model is trained on, the score being their signed sum: ((column, +1 | -1), ...),
    # e.g. RG's D + E - P. The model predicts each part (in the score's range) and is evaluated on the sum.
    parts: tuple = ()

    def __post_init__(self):
        if self.parts and self.extra_scores:
            raise ValueError(f"task {self.name}: parts and extra_scores do not combine")
        if any(sign not in (1, -1) for _, sign in self.parts):
            raise ValueError(f"task {self.name}: each part's sign must be +1 or -1, got {self.parts}")

    @property
    def score_keys(self) -> tuple[str, ...]:
        return (self.score_key,) + tuple(k for k, _ in self.extra_scores)

    @property
    def n_scores(self) -> int:
        """Scores evaluated (and written to predictions.csv)."""
        return 1 + len(self.extra_scores)

    @property
    def n_outputs(self) -> int:
        """Numbers the model predicts: one per part where the task has parts, else one per score."""
        return len(self.parts) or self.n_scores

    @property
    def label_keys(self) -> tuple[str, ...]:
        """Every label column the task reads."""
        return self.score_keys + tuple(c for c, _ in self.parts)

    def part_target(self, scores: dict) -> list[float]:
        """A label row's parts as targets (each part / score_range)."""
        return [float(scores[c]) / self.score_range for c, _ in self.parts]

    def compose(self, out):
        """The model's outputs (..., n_outputs) -> targets of the score(s): the signed sum of the parts where the
        task has parts (..., ), else unchanged."""
        if not self.parts:
            return out
        signs = [float(sign) for _, sign in self.parts]
        signs = out.new_tensor(signs) if hasattr(out, "new_tensor") else np.asarray(signs)
        return (out * signs).sum(-1)

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
