"""Each member's own test rho inside the default's runs (last checkpoint), beside the ensemble's: which member
carries a result. Reads the test split only after the runs are final; chooses nothing.

    python benchmarks/worlds_member_scores.py BENCH
"""
import json, glob, sys, numpy as np, torch
from pathlib import Path
from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.data.dataset import collate_sequences
from lmac.training.trainer import prepare_data, load_run_model
from lmac.evaluation.metrics import spearman, fisher_z_mean
torch.set_num_threads(1)
rows = {}
for run in sorted(glob.glob(sys.argv[1] + "/runs/*-lmac_ensemble-s*/")):
    run = Path(run); cfg = load_config(run / "config.yaml"); task = get_task(cfg.task)
    _, _, test = prepare_data(cfg, task)
    model, _ = load_run_model(run, "last"); model.eval()
    scores = {}; true = []
    with torch.no_grad():
        for i in range(0, len(test), 25):
            b = collate_sequences([test[j] for j in range(i, min(i + 25, len(test)))])
            out = model(b["feats"], b["mask"])
            for k, v in out["member_scores"].items(): scores.setdefault(k, []).append(v)
            scores.setdefault("ensemble", []).append(out["score"]); true.append(b["score"])
    t = torch.cat(true).numpy()
    r = {k: spearman(torch.cat(v).numpy(), t) for k, v in scores.items()}
    print(run.name, {k: round(v, 3) for k, v in r.items()}, flush=True)
    rows[run.name] = r
for w in ("combos", "pauses"):
    sel = [v for k, v in rows.items() if w in k]
    print(w, {m: round(fisher_z_mean([v[m] for v in sel]), 3) for m in sel[0]})
