"""After round 14 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest: in `static`, with minus the long holds given what RGB shows (the elements' values less their
technical deductions); in `unison` PCS, with the unison given the skill term 6 sigmoid(1.2 skill).

    python benchmarks/worlds_round14_terms_read.py HELDOUT14 [--models lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np


def partial(pred: np.ndarray, term: np.ndarray, rest: np.ndarray) -> float:
    """Correlation of pred and term once a linear fit on `rest` is taken out of each."""
    res = [v - np.polyval(np.polyfit(rest, v, 1), rest) for v in (pred, term)]
    return float(np.corrcoef(*res)[0, 1])


def rgb_elements(tr: list) -> np.ndarray:
    """What RGB shows of an RG routine: the elements' values less their technical deductions."""
    return np.array([sum(e["value"] - 0.4 * (1 - e["q"]) for e in t["elements"]) for t in tr])


def skill_term(tr: list) -> np.ndarray:
    """The PCS of a skater's skill, 6 sigmoid(1.2 skill)."""
    return 6 / (1 + np.exp(-1.2 * np.array([t["skill"] for t in tr])))


# world: (task, term of the truth, the rest of the score it is read beside)
READERS = {
    "static": ("world_static", lambda tr: -np.array([t["holds"] for t in tr], float), rgb_elements),
    "unison": ("world_unison_pcs", lambda tr: np.array([t["unison"] for t in tr]), skill_term),
}


def terms(bench: Path, model: str, seed: int, readers: dict = READERS) -> dict:
    """{world: partial correlation} of a model's last-epoch test predictions; model `truth`: the judges' scores (as
    the default's run lists them), what a model that read everything would reach."""
    out = {}
    for world, (task, term, rest) in readers.items():
        truth = json.loads((bench / "data" / world / f"seed{seed}" / "truth.json").read_text())
        run = f"{task}-{'lmac_ensemble' if model == 'truth' else model}-s{seed}"
        rows = list(csv.DictReader(open(bench / "runs" / run / "predictions.csv")))
        pred = np.array([float(r["true_score" if model == "truth" else "pred_last"]) for r in rows])
        tr = [truth[r["video_id"]] for r in rows]
        out[world] = partial(pred, term(tr), rest(tr))
    return out


def main(argv=None, readers: dict = READERS, models: str = "lmac_ensemble,gdlt,concat,lmac", doc: str = __doc__) -> int:
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--models", default=models)
    args = p.parse_args(argv)
    for model in args.models.split(","):
        rows = [terms(args.bench, model, s, readers) for s in (1, 2, 3)]
        print(model, {w: [round(r[w], 3) for r in rows] for w in rows[0]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
