"""Diagnostic after a run (it chooses nothing): is what the default's ridge member reads on a world the streams *in
step*? For each draw of WORLD's `lmac_ensemble` runs in BENCH, it refits the ridge member as the trainer fits it (on the
run's training videos) and scores the run's test split: as the data are, with flow and audio rolled out of step with RGB
(and with each other; benchmarks/worlds_val_ridge_blend.py's `desync`, applied to training and test videos alike), and
with the inputs of the default before the shared moments (`rgb,all,pairs`). Means, sums and each stream's own
structure are unchanged by the roll; only what happens together is not.

    python benchmarks/worlds_ridge_desync_test.py BENCH WORLD_TASK [--seeds 1,2,3] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lmac.config import load_config
from lmac.data.dataset import collate_sequences
from lmac.data.tasks import get_task
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.models import create_model
from lmac.training.trainer import prepare_data
from worlds_val_ridge_blend import desync


def ridge_test_rho(cfg, task, inputs: str | None, out_of_step: bool) -> tuple[float, dict]:
    train, _, test = prepare_data(cfg, task)
    if out_of_step:
        desync(train)
        desync(test)
    ridge = create_model("pooled_ridge", train.dims, **({"inputs": inputs} if inputs else {}))
    chose = ridge.fit(train, cfg.seed)
    batch = collate_sequences([test[i] for i in range(len(test))])
    with torch.no_grad():
        pred = task.to_score(ridge(batch["feats"], batch["mask"])["score"].double()).numpy()
    return spearman(pred, np.array([float(np.asarray(s.score).reshape(-1)[0]) for s in test.samples])), chose


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("task", help="e.g. world_tempo")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    rows = []
    for seed in map(int, args.seeds.split(",")):
        cfg = load_config(args.bench / "runs" / f"{args.task}-lmac_ensemble-s{seed}" / "config.yaml")
        task = get_task(cfg.task)
        row = {"seed": seed}
        for name, inputs, roll in (("default", None, False), ("out_of_step", None, True),
                                   ("without_shared_moments", "rgb,all,pairs", False)):
            rho, chose = ridge_test_rho(cfg, task, inputs, roll)
            row[name] = {"rho": round(rho, 3), "chose": chose}
        rows.append(row)
        print(json.dumps(row), flush=True)
    means = {k: round(fisher_z_mean([r[k]["rho"] for r in rows]), 3)
             for k in ("default", "out_of_step", "without_shared_moments")}
    print("ridge member's test rho, Fisher-z mean over draws:", means)
    if args.out:
        args.out.write_text(json.dumps({"bench": str(args.bench), "task": args.task, "rows": rows, "means": means},
                                       indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
