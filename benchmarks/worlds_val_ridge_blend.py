"""Validation-only screen of a ridge member beside a two-member default (the fourteenth and fifteenth candidates).

For every finished run of MODEL (`lmac_ensemble` with two members, `lmac_aligned_md,gdlt`) in the benchmark folders
given, it scores the run's last checkpoint on its own validation split (as benchmarks/worlds_val_blend.py does),
fits the `pooled_ridge` member (src/lmac/models/ridge.py, with `--inputs` and `--pair-ranks` as its options) on the
same run's training videos, as the trainer's hook fits it, and reports per world the validation rho of the run
alone, of the ridge alone and of the three-member average, (2 x run + W x ridge) / (2 + W): what `lmac_ensemble`
with the ridge as a third member of weight W (`--ridge-weight`, 1 = equal weights; the sixteenth candidate asks 2)
scores, because its trained members train exactly as without it. No test video is read.

    python benchmarks/worlds_val_ridge_blend.py REF --model lmac_ensemble --seeds 1,2,3 [--inputs rgb,all,pairs] [--ridge-weight 1] [--combine stack] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.evaluation.benchmark import world_of
from lmac.data.dataset import collate_sequences
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.models import create_model
from lmac.training.trainer import prepare_data
from worlds_val_blend import val_predictions


def desync(dataset) -> None:
    """Put the streams out of step, in place: each video's flow rolled by a third of its length and its audio by two
    thirds, RGB left as it is. Means and sums over a video are unchanged; what happens *together* is not."""
    for s in dataset.samples:
        for m, frac in (("flow", 1 / 3), ("audio", 2 / 3)):
            if m in s.feats:
                x = s.feats[m]
                s.feats[m] = torch.roll(x, int(round(frac * len(x))), dims=0)


def blend_run(run: Path, inputs: str = "rgb,all", pair_ranks: str = "2,4,8", out_of_step: bool = False,
              ridge_weight: float = 1.0, combine: str = "best") -> dict:
    cfg = load_config(run / "config.yaml")
    task = get_task(cfg.task)
    model = val_predictions(run)  # {video: (pred, true)}, on the data as they are
    train, val, _ = prepare_data(cfg, task)
    if out_of_step:  # the ridge's data only
        desync(train)
        desync(val)
    ridge_member = create_model("pooled_ridge", train.dims, inputs=inputs, pair_ranks=pair_ranks, combine=combine)
    chose = ridge_member.fit(train, cfg.seed)
    batch = collate_sequences([val[i] for i in range(len(val))])  # in val.samples' order
    r = task.to_score(ridge_member(batch["feats"], batch["mask"])["score"].double()).numpy()
    ids = [s.video_id for s in val.samples]
    true = np.array([model[v][1] for v in ids])
    m = np.array([model[v][0] for v in ids])
    return {"task": cfg.task, "seed": cfg.seed, "ridge_inputs": chose["inputs"], "ridge_pairs": chose["pairs"],
            "ridge_shared": chose.get("shared", False), "ridge_keys": chose.get("keys", False),
            "ridge_changes": chose.get("changes", False),
            "ridge_penalty": chose["penalty"], "ridge_stack": chose.get("stack"),
            "run": spearman(m, true), "ridge": spearman(r, true),
            "blend": spearman((2 * m + ridge_weight * r) / (2 + ridge_weight), true)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("benches", nargs="+", type=Path)
    p.add_argument("--model", default="lmac_ensemble")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--inputs", default="rgb,all", help="the ridge member's `inputs` option")
    p.add_argument("--pair-ranks", default="2,4,8", help="the ridge member's `pair_ranks` option")
    p.add_argument("--combine", default="best", choices=("best", "stack"),
                   help="the ridge member's `combine` option (stack: the twentieth candidate)")
    p.add_argument("--ridge-weight", type=float, default=1.0,
                   help="the ridge's weight beside the two trained members' 1 each (the ensemble's `weights`)")
    p.add_argument("--desync", action="store_true",
                   help="the alignment control: fit and score the ridge with flow and audio out of step with RGB")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    seeds = {int(s) for s in args.seeds.split(",")}
    rows = []
    for bench in args.benches:
        for run in sorted((bench / "runs").glob("*/")):
            if not (run / "summary.json").is_file():
                continue
            s = json.loads((run / "summary.json").read_text())
            if s["model"] == args.model and s["seed"] in seeds:
                with torch.no_grad():
                    rows.append(blend_run(run, args.inputs, args.pair_ranks, args.desync, args.ridge_weight,
                                          args.combine))
                r = rows[-1]
                stack = (" stack " + ", ".join(f"{o} {v['weight']:.2f}" for o, v in r["ridge_stack"].items())
                         if r["ridge_stack"] else "")
                print(f"{r['task']} draw {r['seed']}: run {r['run']:.3f}, ridge {r['ridge']:.3f}{stack} "
                      f"({'+'.join(r['ridge_inputs'])}, pairs k={r['ridge_pairs']}, shared {int(r['ridge_shared'])}, "
                      f"keys {int(r['ridge_keys'])}, changes {int(r['ridge_changes'])}, penalty {r['ridge_penalty']:g}), "
                      f"blend {r['blend']:.3f}")
    worlds = sorted({world_of(r["task"]) for r in rows})
    table = {w: {k: fisher_z_mean([r[k] for r in rows if world_of(r["task"]) == w]) for k in ("run", "ridge", "blend")}
             for w in worlds}
    table["avg"] = {k: fisher_z_mean([r[k] for r in rows]) for k in ("run", "ridge", "blend")}
    print(f"\nvalidation rho, last epoch, Fisher-z mean over draws ({len(rows)} task-draws)")
    print(f"{'world':12s} {'run':>7s} {'ridge':>7s} {'blend':>7s}")
    for w, v in table.items():
        print(f"{w:12s} {v['run']:7.3f} {v['ridge']:7.3f} {v['blend']:7.3f}")
    if args.out:
        args.out.write_text(json.dumps({"model": args.model, "inputs": args.inputs, "pair_ranks": args.pair_ranks,
                                        "desync": args.desync, "ridge_weight": args.ridge_weight,
                                        "combine": args.combine,
                                        "seeds": sorted(seeds), "rows": rows, "table": table},
                                       indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
