"""The benchmark tasks as a table of specs, looked up by name (no if-chains on dataset names).

A task is one regression problem: which label format, which rows (class), which score column,
the score range that maps points to [0, 1] targets, the training window, and the paper's recipe.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSpec:
    name: str
    dataset: str  # "rg" or "fisv" (label format)
    cls: str  # class whose rows are used: apparatus for RG, "FISV" for Fis-V
    score_key: str  # column regressed
    score_range: float  # targets = score / score_range
    window: int  # training window T in segments
    lr: float
    dropout: float
    pamfn_prefix: str  # file prefix in a PAMFN package

    def to_target(self, score):
        return score / self.score_range

    def to_score(self, target):
        return target * self.score_range


def _rg(app):
    return TaskSpec(f"rg_{app.lower()}", "rg", app, "total", 25.0, 70, 9e-4, 0.1, app)


def _fisv(col):
    return TaskSpec(f"fisv_{col}", "fisv", "FISV", col, 45.0, 130, 9e-5, 0.2, "FISV")


TASKS: dict[str, TaskSpec] = {
    t.name: t for t in [_rg("Ball"), _rg("Clubs"), _rg("Hoop"), _rg("Ribbon"), _fisv("tes"), _fisv("pcs")]
}
SUITES = {
    "rg": ["rg_ball", "rg_clubs", "rg_hoop", "rg_ribbon"],
    "fisv": ["fisv_tes", "fisv_pcs"],
    # The synthetic benchmark is written in the RG format, so it runs the RG tasks.
    "synth": ["rg_ball", "rg_clubs", "rg_hoop", "rg_ribbon"],
}
ALIASES = {"ball": "rg_ball", "clubs": "rg_clubs", "hoop": "rg_hoop", "ribbon": "rg_ribbon", "tes": "fisv_tes", "pcs": "fisv_pcs"}


def get_task(name: str) -> TaskSpec:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in TASKS:
        raise KeyError(f"unknown task {name!r}; valid: {', '.join(TASKS)} (or {', '.join(ALIASES)})")
    return TASKS[key]
