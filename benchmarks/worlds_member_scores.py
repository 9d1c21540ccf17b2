"""Each member's own test rho inside the default's runs (last checkpoint), beside the ensemble's: which member
carries a result. Read after the runs are final; it chooses nothing.

`--weights 1,1,2` adds the test rho of the same members averaged with other weights (one per member, in the
ensemble's order; a member that cannot score a video drops out of its average as in the ensemble): because each
member trains on its own loss, that is exactly what the run with those weights scores at its last epoch (the
validation-selected epoch could differ).

    python benchmarks/worlds_member_scores.py BENCH [--model lmac_ensemble] [--weights 1,1,2]
"""
from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import torch

from lmac.config import load_config
from lmac.data.dataset import collate_sequences
from lmac.data.tasks import get_task
from lmac.evaluation.benchmark import world_of
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.training.trainer import load_run_model, prepare_data


@torch.no_grad()
def member_rhos(run: Path, batch: int = 25, weights: str | None = None) -> dict:
    """{member: test rho, ..., "ensemble": test rho[, "reweighted": test rho]} of one run's last checkpoint;
    `weights` as the ensemble's own option ("1,1,2")."""
    cfg = load_config(run / "config.yaml")
    _, _, test = prepare_data(cfg, get_task(cfg.task))
    model, _ = load_run_model(run, "last")
    model.eval()
    other = None
    if weights is not None:  # the ensemble's own validation of the option, and its own split over copies
        try:
            other = torch.tensor([w for _, _, w in replace(model.config, weights=weights).slots()])
        except ValueError as e:
            raise SystemExit(f"--weights: {e}")
    scores, true = {}, []
    for i in range(0, len(test), batch):
        b = collate_sequences([test[j] for j in range(i, min(i + batch, len(test)))])
        out = model(b["feats"], b["mask"])
        extra = {} if other is None else {"reweighted": model.mix(out["member_scores"], other)[0]}
        for k, v in {**out["member_scores"], "ensemble": out["score"], **extra}.items():
            scores.setdefault(k, []).append(v)
        true.append(b["score"])
    t = torch.cat(true).numpy()
    return {k: spearman(torch.cat(v).numpy(), t) for k, v in scores.items()}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--model", default="lmac_ensemble")
    p.add_argument("--weights", help="members' weights for an extra 'reweighted' average, e.g. 1,1,2")
    args = p.parse_args(argv)
    rows = {}
    for run in sorted((args.bench / "runs").glob(f"*-{args.model}-s*/")):
        if (run / "summary.json").is_file():
            rows[run.name] = member_rhos(run, weights=args.weights)
            print(run.name, {k: round(v, 3) for k, v in rows[run.name].items()})
    table = {}
    for w in sorted({world_of(name.split(f"-{args.model}-")[0]) for name in rows}):
        sel = [v for name, v in rows.items() if world_of(name.split(f"-{args.model}-")[0]) == w]
        table[w] = {m: fisher_z_mean([v[m] for v in sel]) for m in sel[0]}
        print(w, {m: round(x, 3) for m, x in table[w].items()})
    return {"runs": rows, "worlds": table}


if __name__ == "__main__":
    main()
