"""Validation-only screen of the twenty-second candidate: today's default with its trained members' weights gated by
the ridge member's cross-validation (`lmac_ensemble --set gate=cv`), against today's default (fixed weights 1, 1, 2).

For every finished run of `lmac_ensemble` with the two trained members (`lmac_aligned_md,gdlt`, as `REF31`) in the
benchmark folder, it builds today's three-member default around the run's last-epoch members (they train exactly as
in the default: the ridge is created after them and has no parameters), fits the ridge member on the run's training
videos as the trainer's hook does (once), and scores it on the run's own validation split with `gate=cv`'s weights and
with the fixed ones. The trained members are shared, so the two differ only in the weights. No test video is read,
unless `--split test` asks for the test split (a diagnostic after a round was run once, never a choice).

`--trained-too` (the twenty-third candidate's screen, runs trained with `--weight-average`): the last checkpoint holds
the members' averaged weights and the trainer state the last step's trained ones, which are exactly what the same runs
would have given without averaging (the average never feeds back into training). Both are scored around the same ridge
fit: `gated`/`fixed` with the averaged members, `gated_trained`/`fixed_trained` with the trained ones.

`--weights 1,1,4` (the twenty-sixth candidate's screen): the members' weights before the gate, as the ensemble's own
`weights` option (default: the ensemble's, 1,1,4 since the twenty-sixth candidate); `fixed` is then those weights
and `gated` those times the gate.

`--ridge-args key_pool=true` (the twenty-seventh candidate's screen): options of the ridge member, as `lmac train --set
member_args=...` gives them. Only the ridge is refitted, so the screen is exact where the trained members would have
trained the same: the gated pretraining trains the LMAC-Net member on the modalities of the ridge's best cross-validated
read, so each row reports that read (`pretrain_read`) beside the modalities the run did pretrain (`pretrained`, its
stage1 folders); where the two differ, the run would have trained differently and the screen is not exact.

`--withhold audio,flow,rgb` (the twenty-eighth candidate's screen, `--ridge-args fallback=true`): also each of these
modalities withheld in turn from every scored video, as the trainer's missing-modality figures withhold it
(`gated_without_audio`, ...; the gated weights).

    PYTHONPATH=src:benchmarks python benchmarks/worlds_val_gate.py REF31 --seeds 1,2,3 [--tasks T,...] [--split test] [--trained-too] [--weights W] [--ridge-args K=V,...] [--withhold M,...] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from lmac.cli.train import parse_key_values
from lmac.config import load_config
from lmac.data.tasks import get_task
from lmac.evaluation.benchmark import world_of
from lmac.evaluation.metrics import fisher_z_mean, spearman
from lmac.models.ensemble import best_read, cv_by_reads
from lmac.training.checkpoints import apply_model_state
from lmac.training.run import RunFolder
from lmac.training.trainer import build_model, load_run_model, predict_dataset, prepare_data

DEFAULT_MEMBERS = "lmac_aligned_md,gdlt,pooled_ridge"


def parse_ridge_args(text: str) -> dict:
    """`key_pool=true,key_rank=16` -> {"key_pool": True, "key_rank": 16}, as `lmac train --set` reads its values."""
    try:
        return parse_key_values(filter(None, (t.strip() for t in text.split(","))), "--ridge-args")
    except ValueError as e:
        raise SystemExit(str(e)) from None


@torch.no_grad()
def gate_run(run: Path, split: str = "val", trained_too: bool = False, weights: str = "",
             ridge_args: dict | None = None, withhold: tuple = ()) -> dict:
    cfg = load_config(run / "config.yaml")
    task = get_task(cfg.task)
    train, val, test = prepare_data(cfg, task)
    val = test if split == "test" else val
    trained, _ = load_run_model(run, "last")
    args = dict(cfg.model_args, members=DEFAULT_MEMBERS, gate="cv", weights=weights)
    if ridge_args:
        member_args = dict(args.get("member_args") or {})
        member_args["pooled_ridge"] = {**member_args.get("pooled_ridge", {}), **ridge_args}
        args["member_args"] = member_args
    model = build_model(dataclasses.replace(cfg, model_args=args), train.dims)

    def take_members():  # the run's trained members into the three-member default
        for n in ("lmac_aligned_md", "gdlt"):
            model.members[n].load_state_dict(trained.members[n].state_dict())

    def score(w, drop: tuple = ()) -> float:
        model.w.copy_(w)
        res = predict_dataset(model, val, task, "cpu", batch_size=32, drop=drop)
        return spearman(np.asarray(res["pred"]), np.asarray(res["true"]))

    take_members()
    fitted = model.fit(train, cfg.seed)  # the ridge once; the gated weights
    read = best_read(cv_by_reads(fitted))
    stage1 = run / "stage1" / "lmac_aligned_md"
    out = {"task": cfg.task, "seed": cfg.seed, "cv_by_reads": fitted["pooled_ridge"].get("cv_by_reads"),
           "ridge_inputs": fitted["pooled_ridge"]["inputs"], "pretrain_read": sorted(read) if read else None,
           "pretrained": sorted(d.name for d in stage1.iterdir() if d.is_dir()) if stage1.is_dir() else None}
    model.eval()
    weights = {"gated": model.w.clone(), "fixed": model.fixed_weights()}
    for name, w in weights.items():
        out[name] = score(w)
        out[f"{name}_weights"] = {n: float(x) for n, x in zip(model.members, w / w.sum())}
    for m in withhold:
        out[f"gated_without_{m}"] = score(weights["gated"], (m,))
    if trained_too:
        folder = RunFolder(run)
        state = folder.read_state()
        if state.get("average") is None:
            raise SystemExit(f"{run}: trained without --weight-average; --trained-too needs runs that kept an average")
        apply_model_state(state["model"], trained, folder.state_path)
        take_members()
        for name, w in weights.items():
            out[f"{name}_trained"] = score(w)
    return out


def by_world(rows: list[dict]) -> dict[str, list[dict]]:
    """{world: its task-draws} in world order, then "all worlds": every task-draw (the screens' Fisher-z averages are
    taken over these)."""
    out = {w: [r for r in rows if world_of(r["task"]) == w] for w in sorted({world_of(r["task"]) for r in rows})}
    return {**out, "all worlds": list(rows)}


def ensemble_runs(bench: Path, seeds, tasks: str | None = None):
    """The benchmark folder's finished `lmac_ensemble` runs of these seeds (and tasks, comma-separated), in name order."""
    for run in sorted((bench / "runs").glob("*/")):
        if not (run / "summary.json").is_file():
            continue
        s = json.loads((run / "summary.json").read_text())
        if s["model"] == "lmac_ensemble" and s["seed"] in seeds and (not tasks or s["task"] in tasks.split(",")):
            yield run


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("bench", type=Path)
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--tasks", help="only these tasks (comma-separated)")
    p.add_argument("--split", choices=("val", "test"), default="val")
    p.add_argument("--trained-too", action="store_true",
                   help="also score the members' last trained weights (the trainer state), for runs with --weight-average")
    p.add_argument("--weights", default="", help="the members' weights before the gate (default: the ensemble's)")
    p.add_argument("--ridge-args", default="", help="the ridge member's options, KEY=VALUE,... (e.g. key_pool=true)")
    p.add_argument("--withhold", default="", help="also withhold each of these modalities in turn (comma-separated)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    withhold = tuple(m.strip() for m in args.withhold.split(",") if m.strip())
    ridge_args = parse_ridge_args(args.ridge_args)
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for run in ensemble_runs(args.bench, seeds, args.tasks):
        r = gate_run(run, args.split, args.trained_too, args.weights, ridge_args, withhold)
        rows.append(r)
        w = r["gated_weights"]
        print(f"{r['task']} s{r['seed']}: fixed {r['fixed']:.3f} gated {r['gated']:.3f} | gated weights "
              + ", ".join(f"{n} {v:.2f}" for n, v in w.items()) + f" | ridge cv {r['cv_by_reads']}"
              + (f" | trained weights: fixed {r['fixed_trained']:.3f} gated {r['gated_trained']:.3f}"
                 if args.trained_too else "")
              + ("" if r["pretrain_read"] == r["pretrained"] else
                 f" | NOT EXACT: pretrains {r['pretrain_read']}, the run pretrained {r['pretrained']}")
              + "".join(f" | without {m} {r[f'gated_without_{m}']:.3f}" for m in withhold), flush=True)
    table = {}
    for wname, sel in by_world(rows).items():
        keys = ("fixed", "gated") + (("fixed_trained", "gated_trained") if args.trained_too else ()) \
            + tuple(f"gated_without_{m}" for m in withhold)
        table[wname] = {k: fisher_z_mean([r[k] for r in sel]) for k in keys}
        print(f"{wname}: fixed {table[wname]['fixed']:.3f} gated {table[wname]['gated']:.3f} "
              f"({table[wname]['gated'] - table[wname]['fixed']:+.3f}, {len(sel)} task-draws)"
              + (f" | trained weights: fixed {table[wname]['fixed_trained']:.3f} gated "
                 f"{table[wname]['gated_trained']:.3f}" if args.trained_too else "")
              + "".join(f" | without {m} {table[wname][f'gated_without_{m}']:.3f}" for m in withhold))
    if args.out:
        args.out.write_text(json.dumps({"runs": rows, "worlds": table}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
