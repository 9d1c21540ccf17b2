"""Validation-only study of ensembles: each run's *validation* predictions (its last checkpoint on the
validation split its own config carves from train), and the validation rho of score averages of two or
more models. No test video is read.

    python benchmarks/worlds_val_blend.py BENCH_DIR --seeds 1 --models lmac_aligned_md,gdlt [--out FILE.json]
    ... --weighted lmac_aligned_md:0.5,gdlt:0.25,gdlt_sum:0.25   # adds one weighted average of named models
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr

from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.evaluation.metrics import fisher_z_mean
from lmac.training.trainer import load_run_model, predict_dataset, prepare_data


def val_predictions(run: Path) -> dict:
    cfg = load_config(run / "config.yaml")
    task = get_task(cfg.task)
    _, val, _ = prepare_data(cfg, task)
    model, _ = load_run_model(run, "last")
    res = predict_dataset(model, val, task, "cpu", batch_size=32)
    return {v: (p, t) for v, p, t in zip(res["video_id"], res["pred"], res["true"])}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--seeds", default="1")
    p.add_argument("--models", required=True)
    p.add_argument("--max-size", type=int, default=3, help="largest ensemble tried")
    p.add_argument("--weighted", help="MODEL:W,MODEL:W,...: also score this weighted average (the models must be in --models)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    torch.set_grad_enabled(False)
    models = args.models.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    preds = {}  # (task, seed) -> model -> {vid: (pred, true)}
    for run in sorted((args.bench / "runs").glob("*/")):
        if not (run / "summary.json").is_file():
            continue
        s = json.loads((run / "summary.json").read_text())
        if s["model"] in models and s["seed"] in seeds:
            preds.setdefault((s["task"], s["seed"]), {})[s["model"]] = val_predictions(run)
    combos = [(c, [1.0] * len(c)) for k in range(1, args.max_size + 1) for c in itertools.combinations(models, k)]
    if args.weighted:
        pairs = [x.split(":") for x in args.weighted.split(",")]
        combos.append((tuple(m for m, _ in pairs), [float(w) for _, w in pairs]))
    table = {}
    for combo, weights in combos:
        rhos = {}
        for (task, seed), by_model in sorted(preds.items()):
            if not all(m in by_model for m in combo):
                continue
            vids = sorted(by_model[combo[0]])
            pred = np.average([[by_model[m][v][0] for v in vids] for m in combo], 0, weights=weights)
            true = [by_model[combo[0]][v][1] for v in vids]
            rhos[f"{task}/s{seed}"] = float(spearmanr(pred, true)[0])
        if rhos:
            name = "+".join(combo) if len(set(weights)) == 1 else "+".join(f"{w:g}*{m}" for m, w in zip(combo, weights))
            table[name] = {**rhos, "avg": float(fisher_z_mean(list(rhos.values())))}
    cols = sorted({k for r in table.values() for k in r if k != "avg"})
    print(f"{'ensemble (score average)':44s} " + " ".join(f"{c.split('/')[0][6:][:13]:>13s}" for c in cols) + "      avg")
    for name, r in sorted(table.items(), key=lambda kv: -kv[1]["avg"]):
        print(f"{name:44s} " + " ".join(f"{r.get(c, float('nan')):13.3f}" for c in cols) + f" {r['avg']:8.3f}")
    worlds = sorted({c.split("/")[0].split("_")[1] for c in cols})  # world_amplitude_tes -> amplitude
    print(f"\nby world: Fisher-z mean over its tasks and the seeds read\n{'ensemble (score average)':44s} "
          + " ".join(f"{w:>13s}" for w in worlds) + "      avg")
    for name, r in sorted(table.items(), key=lambda kv: -kv[1]["avg"]):
        r["by_world"] = {w: float(fisher_z_mean([v for c, v in r.items() if c != "avg" and c.split("/")[0].split("_")[1] == w]))
                         for w in worlds}
        print(f"{name:44s} " + " ".join(f"{r['by_world'][w]:13.3f}" for w in worlds) + f" {r['avg']:8.3f}")
    if args.out:
        args.out.write_text(json.dumps(table, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
