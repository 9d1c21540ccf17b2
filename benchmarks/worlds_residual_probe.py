"""A probe before a twenty-ninth worlds candidate (validation only; no test video is read): would the default's trained
members add more if they learned what the ridge member leaves, instead of the whole score?

Why: the ridge is two thirds of the default's score and reads what pooled streams show; the trained members learn the
whole score again, mostly what the ridge reads already (on held-out worlds they pull the blend below the ridge), and
no model reads the cross-modal terms that pooling loses. Boosting's answer is to fit the next learner to the first
one's residual. Here, for each finished `lmac_ensemble` run of a benchmark folder (draws of the development worlds):

1. the ridge member is fitted on the run's training videos as the trainer fits it (on the true scores), and its
   out-of-fold predictions on those videos come from five refits on four fifths of them (the whole member each time:
   its PCA, pairs, option and penalty);
2. the run is trained again, same config and seed, on residual scores: each training video's score minus its
   out-of-fold prediction plus the training mean (each validation video's minus the full fit's prediction plus the
   same mean, so that its validation rho means something); its per-modality pretraining is the original run's
   (copied: trained on the true scores), so only the main training differs;
3. on the validation split: today's default (the original run's members, gated, ridge at its weight), the ridge
   alone, and ridge + alpha x (the residual members' gated mean minus the training mean) for a few alphas.

    PYTHONPATH=src:benchmarks python benchmarks/worlds_residual_probe.py DEV27 OUT [--seeds 1,2,3] [--tasks T,...]
        [--alphas 0.25,0.5,1] [--json FILE]
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import torch

import lmac.training.trainer as trainer
from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.training.trainer import build_model, load_run_model, predict_dataset, prepare_data
from worlds_val_gate import by_world, ensemble_runs

FOLDS = 5


def subset(ds, idx):
    out = copy.copy(ds)
    out.samples = [ds.samples[i] for i in idx]
    return out


def with_scores(ds, scores):
    out = copy.copy(ds)
    out.samples = [dataclasses.replace(s, score=float(v)) for s, v in zip(ds.samples, scores)]
    return out


@torch.no_grad()
def ridge_scores(cfg, train, scored, seed: int) -> np.ndarray:
    """The default's ridge member fitted on `train` (the ensemble's own, so its options are the default's), its
    scores in points on `scored`."""
    model = build_model(cfg, train.dims)
    model.members["pooled_ridge"].fit(train, seed)
    task = train.task
    ridge = model.members["pooled_ridge"].eval()
    loader = torch.utils.data.DataLoader(scored, batch_size=32, shuffle=False, collate_fn=trainer.collate_sequences)
    out = []
    for b in loader:
        out.append(task.to_score(ridge(b["feats"], b["mask"])["score"]))
    return torch.cat(out).numpy().astype(np.float64)


def out_of_fold(cfg, train, seed: int) -> np.ndarray:
    n = len(train.samples)
    order = np.random.default_rng(seed).permutation(n)
    oof = np.zeros(n)
    for f in range(FOLDS):
        held = np.sort(order[f::FOLDS])
        rest = np.sort(np.setdiff1d(order, held))
        oof[held] = ridge_scores(cfg, subset(train, rest), subset(train, held), seed)
    return oof


@torch.no_grad()
def member_scores(model, ds, task) -> dict:
    """{member: its scores in points} on a dataset, each trained member alone (one forward pass: the ensemble
    returns every member's score beside the blend)."""
    model.eval()
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=False, collate_fn=trainer.collate_sequences)
    out: dict = {}
    for b in loader:
        for n, v in model(b["feats"], b["mask"])["member_scores"].items():
            if n != "pooled_ridge":
                out.setdefault(n, []).append(task.to_score(v.float()))
    return {n: torch.cat(v).numpy().astype(np.float64) for n, v in out.items()}


def probe_run(run: Path, out_root: Path, alphas) -> dict:
    cfg = load_config(run / "config.yaml")
    task = get_task(cfg.task)
    train, val, _ = prepare_data(cfg, task)
    y = np.array([s.score for s in train.samples], np.float64)
    yv = np.array([s.score for s in val.samples], np.float64)
    ridge_val = ridge_scores(cfg, train, val, cfg.seed)
    oof = out_of_fold(cfg, train, cfg.seed)
    offset = float(y.mean())
    res_train = with_scores(train, y - oof + offset)
    res_val = with_scores(val, yv - ridge_val + offset)

    # today's default, as the original run scores its validation split (ridge refitted once, gated weights)
    original, _ = load_run_model(run, "last")
    fitted = original.fit(train, cfg.seed)
    gates = fitted["member_weights"]
    default_val = np.asarray(predict_dataset(original, val, task, "cpu", batch_size=32)["pred"], np.float64)
    trained_val = member_scores(original, val, task)

    dest = out_root / "runs" / run.name
    if not (dest / "summary.json").is_file():
        if dest.exists() and not (dest / "config.yaml").is_file():
            shutil.rmtree(dest)
        if not dest.exists() and (run / "stage1").is_dir():  # the original pretraining, on the true scores
            shutil.copytree(run / "stage1", dest / "stage1")
        real = trainer.prepare_data
        trainer.prepare_data = lambda c, t, log=None: (res_train, res_val, res_val)
        try:
            trainer.train(dataclasses.replace(cfg, progress=False), dest, resume=(dest / "config.yaml").is_file(),
                          log=lambda m: None)
        finally:
            trainer.prepare_data = real
    residual_model, _ = load_run_model(dest, "last")
    res_members = member_scores(residual_model, val, task)
    g = {n: gates[n] for n in res_members}
    total = sum(g.values())
    mean_res = sum(g[n] * res_members[n] for n in res_members) / total if total > 0 else offset

    row = {"task": cfg.task, "seed": cfg.seed, "default": spearman(default_val, yv), "ridge": spearman(ridge_val, yv),
           "gates": gates, "oof_rho": spearman(oof, y), "residual_sd": float(np.std(y - oof)),
           "members_on_residual": {n: spearman(v, yv - ridge_val) for n, v in res_members.items()},
           "trained_members": {n: spearman(v, yv) for n, v in trained_val.items()}}
    for a in alphas:
        row[f"ridge+{a:g}res"] = spearman(ridge_val + a * (mean_res - offset), yv)
        for n, v in res_members.items():
            row[f"ridge+{a:g}{n}"] = spearman(ridge_val + a * (v - offset), yv)
    return row


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--tasks")
    p.add_argument("--alphas", default="0.25,0.5,1")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    alphas = [float(a) for a in args.alphas.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for run in ensemble_runs(args.bench, seeds, args.tasks):
        r = probe_run(run, args.out, alphas)
        rows.append(r)
        print(f"{r['task']} s{r['seed']}: default {r['default']:.3f} ridge {r['ridge']:.3f} | "
              + " ".join(f"{k} {v:.3f}" for k, v in r.items() if k.startswith("ridge+"))
              + f" | members on the residual {', '.join(f'{n} {v:.3f}' for n, v in r['members_on_residual'].items())}"
              + f" | oof rho {r['oof_rho']:.3f}", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"runs": rows}, indent=1) + "\n")
    keys = [k for k in rows[0] if k in ("default", "ridge") or k.startswith("ridge+")] if rows else []
    table = {w: {k: fisher_z_mean([r[k] for r in sel]) for k in keys} for w, sel in by_world(rows).items()}
    for w, t in table.items():
        print(f"{w}: " + " ".join(f"{k} {v:.3f}" for k, v in t.items()))
    if args.json:
        args.json.write_text(json.dumps({"runs": rows, "worlds": table}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
