"""What the ridge member's own cross-validation (training videos only) gives for a subset of the streams, with and
without the shared moments of the pairs in it, beside the main read on every stream.

Why: the default's fallback fits (`fallback`, the twenty-eighth worlds candidate) read each subset's pooled features
alone, not the shared moments, and on `rg` none keeps 0.9 of the main read, while a Bayes reader of the ground truth
(benchmarks/worlds_rg_missing_oracle.py) says RGB and audio still hold nearly all of it. This probe says how much of
that gap the shared moments of the subset's own pairs would close. It chooses nothing and reads no test video.

    python benchmarks/worlds_fallback_cv_probe.py DEV/data/rg world_rg --subset rgb,audio [--seeds 1,2,3] [--out FILE.json]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from lmac.config import TrainConfig
from lmac.data.tasks import get_task
from lmac.models import create_model
from lmac.training.trainer import prepare_data


def cv_reads(folder: Path, task_name: str, modalities: list, seed: int, inputs: str | None) -> dict:
    """The ridge's cross-validated rho by read, fitted as the trainer fits it (the run's 160 training videos)."""
    cfg = TrainConfig(task=task_name, features=str(folder / "features"), labels=str(folder), model="lmac_ensemble",
                      modalities=list(modalities), seed=seed, val_fraction=0.2)
    train, _, _ = prepare_data(cfg, get_task(task_name))
    ridge = create_model("pooled_ridge", train.dims, fallback=False, **({"inputs": inputs} if inputs else {}))
    return ridge.fit(train, seed)["cv_by_reads"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, help="DEV/data/WORLD (holding seed{s}/)")
    p.add_argument("task", help="e.g. world_rg")
    p.add_argument("--subset", default="rgb,audio")
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    sub = [m for m in ("rgb", "flow", "audio") if m in args.subset.split(",")]  # the order the trainer reads them in
    key = "+".join(sub)
    out = {}
    for s in map(int, args.seeds.split(",")):
        folder = args.data / f"seed{s}"
        main_read = max(cv_reads(folder, args.task, ["rgb", "flow", "audio"], s, None).values())
        pooled = cv_reads(folder, args.task, sub, s, "rgb,all")  # the fallback's read today
        shared = cv_reads(folder, args.task, sub, s, None)  # the same with the default's input options
        out[f"seed{s}"] = r = {"main": main_read, "pooled_best": max(pooled.values()), "pooled": pooled,
                               "with_shared_moments": shared[key],
                               "shared": shared}
        print(f"draw {s}: main read {main_read:.3f}; {key}: best pooled fallback {r['pooled_best']:.3f} "
              f"({r['pooled_best'] / main_read:.2f} of the main), with its shared moments "
              f"{r['with_shared_moments']:.3f} ({r['with_shared_moments'] / main_read:.2f})", flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
