"""After round 15 ran (a diagnostic; nothing is chosen on it): does any model read the round's new terms, beyond what
the rest of the score shows? For each model's last-epoch test predictions, the partial correlation with the new term
given the rest (as `worlds_round14_terms_read.py` for round 14): in `seams`, with minus the elements across a seam
given what RGB shows (the elements' values less their technical deductions); in `placement` PCS, with the rank
correlation of the jumps' values and the music under them given the skill term 6 sigmoid(1.2 skill). The row `truth`
is the judges' own score in place of a prediction: what a model that read everything would reach (the judges' noise
keeps it below 1).

    python benchmarks/worlds_round15_terms_read.py HELDOUT15 [--models lmac_ensemble,gdlt,concat,lmac]
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from worlds_round14_terms_read import partial


def terms(bench: Path, model: str, seed: int) -> dict:
    out = {}
    for world, task in (("seams", "world_seams"), ("placement", "world_placement_pcs")):
        truth = json.loads((bench / "data" / world / f"seed{seed}" / "truth.json").read_text())
        rows = list(csv.DictReader(open(bench / "runs" / f"{task}-lmac_ensemble-s{seed}" / "predictions.csv")
                                   if model == "truth" else
                                   open(bench / "runs" / f"{task}-{model}-s{seed}" / "predictions.csv")))
        pred = np.array([float(r["true_score" if model == "truth" else "pred_last"]) for r in rows])
        tr = [truth[r["video_id"]] for r in rows]
        if world == "seams":
            rgb = np.array([sum(e["value"] - 0.4 * (1 - e["q"]) for e in t["elements"]) for t in tr])
            out[world] = partial(pred, -np.array([t["seams"] for t in tr], float), rgb)
        else:
            skill = 6 / (1 + np.exp(-1.2 * np.array([t["skill"] for t in tr])))
            out[world] = partial(pred, np.array([t["match"] for t in tr]), skill)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--models", default="truth,lmac_ensemble,gdlt,concat,lmac")
    args = p.parse_args(argv)
    for model in args.models.split(","):
        rows = [terms(args.bench, model, s) for s in (1, 2, 3)]
        print(model, {w: [round(r[w], 3) for r in rows] for w in rows[0]})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
