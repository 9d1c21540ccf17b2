"""How long the ridge member's closed-form fit takes at a world's real dims, with each kind of fallback fit.

The ridge is fitted once, before the first epoch, on the training videos. `fallback_inputs="same"` (the thirtieth
worlds candidate) fits the member itself again on each proper subset of the streams, every input option included,
where the default's pooled fallback fits one small ridge per subset: this says what that costs a run. One world draw
that no screen reads (seed 100 by default) is generated into --data, its 160 training videos loaded as the trainer
loads them, and the member fitted with each `fallback_inputs` (best of --repeats, seconds, one thread unless
OMP_NUM_THREADS says otherwise). Nothing of the fit's choices or cross-validated figures is printed or written.

    PYTHONPATH=src:benchmarks python benchmarks/ridge_fit_time.py --data /tmp/fit_time --world amplitude \
        --out benchmarks/results/ridge_fit_time_epyc.json
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from lmac.config import TrainConfig
from lmac.data.tasks import get_task
from lmac.data.worlds import ensure_world, world_config, world_tasks
from lmac.models import create_model
from lmac.training.trainer import prepare_data
from lmac.utils import cpu_model


def fit_seconds(train, repeats: int, **options) -> float:
    """Best of `repeats` wall-clock seconds of a fresh member's `fit` on the training dataset."""
    best = float("inf")
    for _ in range(repeats):
        ridge = create_model("pooled_ridge", train.dims, **options)
        start = time.perf_counter()
        ridge.fit(train, seed=1)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="folder to generate the world draw into (reused)")
    p.add_argument("--world", default="amplitude")
    p.add_argument("--seed", type=int, default=100, help="a draw no screen reads")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--small", action="store_true", help="40 + 10 videos at 8 dims a stream (the script's test)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    small = dict(n_train=40, n_test=10, dims={"rgb": 8, "flow": 8, "audio": 8}) if args.small else {}
    folder = ensure_world(args.data / args.world / f"seed{args.seed}", world_config(args.world, seed=args.seed, **small))
    task = world_tasks(args.world)[0]
    cfg = TrainConfig(task=task, features=str(folder / "features"), labels=str(folder), seed=args.seed,
                      val_fraction=0.2, progress=False)
    train, _, _ = prepare_data(cfg, get_task(task))
    out = {"world": args.world, "task": task, "seed": args.seed, "train_videos": len(train), "dims": train.dims,
           "threads": torch.get_num_threads(), "cpu": cpu_model(), "python": platform.python_version(),
           "torch": torch.__version__, "seconds": {}}
    for kind in ("pooled", "same"):
        out["seconds"][kind] = s = fit_seconds(train, args.repeats, fallback_inputs=kind)
        print(f"{task}: fit with fallback_inputs={kind}: {s:.1f} s (best of {args.repeats})", flush=True)
    out["ratio"] = out["seconds"]["same"] / out["seconds"]["pooled"]
    print(f"same / pooled: {out['ratio']:.2f}x")
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
