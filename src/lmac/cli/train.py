"""`lmac train`: train one model on one task; writes a run folder."""
from __future__ import annotations

import dataclasses


def add_train_options(p, for_benchmark: bool = False):
    p.add_argument("--config", help="YAML file with TrainConfig values (flags given here override it)")
    if not for_benchmark:
        p.add_argument("--task", help="rg_ball .. rg_ribbon, fisv_tes, fisv_pcs, ... (or ball, tes, ...): "
                       "`lmac models --tasks` lists every dataset's tasks")
        p.add_argument("--model", help="model name from the registry (`lmac models` lists them); default "
                       "lmac_ensemble (lmac is the paper's LMAC-Net)")
        p.add_argument("--seed", type=int)
    p.add_argument("--features", help="feature folder: PAMFN package, GDLT folder or native layout")
    p.add_argument("--labels", help="folder with the split files (default: the real RG / Fis-V labels shipped with lmac; "
                   "for FS1000, FineFS and LOGO the --features folder, where their releases keep them)")
    from lmac.data.features import DATASET_LAYOUTS, _dataset_layouts

    _dataset_layouts()  # the dataset modules register their releases' layouts
    p.add_argument("--format", choices=["auto", "pamfn", "gdlt", "native", *DATASET_LAYOUTS])
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--optimizer", choices=["adamw", "sgd"], help="default: the model's recipe (adamw; pamfn's stage 1 sgd)")
    p.add_argument("--grad-clip", type=float, help="clip the gradient norm (0 = off); default: the recipe's, 2")
    p.add_argument("--warmup-epochs", type=int, help="linear warm-up before the cosine decay; default: the recipe's "
                   "(3; pamfn 0)")
    p.add_argument("--eval-batch-size", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--window", type=int)
    p.add_argument("--test-crop", type=int, help="score validation/test videos on a centre crop of this many segments "
                   "(the FS1000 peers' 95); default: the full length")
    p.add_argument("--val-fraction", type=float, help="share of train held out for honest epoch selection (0 = none)")
    p.add_argument("--modalities", help="comma-separated subset, e.g. rgb,audio")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="model option, checked against the model's config (`lmac models NAME` lists them), "
                        "e.g. --set d_model=128 --set consistency_weight=0")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="auto picks CUDA when present")
    p.add_argument("--precision", choices=["fp32", "fp64", "bf16"],
                   help="fp32 (default), bf16 (mixed precision: fp32 weights, bfloat16 autocast; for GPUs) or fp64 "
                        "(slow; for exactness checks)")
    p.add_argument("--no-progress", action="store_true")


# Flags that map one to one onto a TrainConfig field of the same name.
SCALAR_FLAGS = ("task", "model", "seed", "features", "labels", "format", "epochs", "batch_size", "lr",
                "weight_decay", "optimizer", "grad_clip", "warmup_epochs", "eval_batch_size", "dropout", "window",
                "test_crop", "val_fraction", "device", "precision")


def config_from_args(args):
    import yaml

    from lmac.config import TrainConfig, config_from_dict, load_config

    cfg = load_config(args.config) if args.config else TrainConfig()
    values = {}
    for key in SCALAR_FLAGS:
        v = getattr(args, key, None)
        if v is not None:
            values[key] = v
    if args.modalities:
        values["modalities"] = args.modalities.split(",")
    if args.set:
        model_args = dict(cfg.model_args)
        for item in args.set:
            if "=" not in item:
                raise ValueError(f"--set expects KEY=VALUE, got {item!r}")
            k, v = item.split("=", 1)
            try:
                model_args[k.strip()] = yaml.safe_load(v)
            except yaml.YAMLError:
                model_args[k.strip()] = v  # a plain string; its type is checked against the option below
        values["model_args"] = model_args
    if args.no_progress:
        values["progress"] = False
    return config_from_dict(values, "command line", base=cfg)


def register(sub):
    p = sub.add_parser("train", help="train a model on one task; writes a run folder",
                       description="Train one model (lmac_ensemble, our LMAC-Net variant with an RGB-only GDLT, by default) on one task. Under torchrun "
                       "(torchrun --nproc-per-node N -m lmac train ...) the ranks train it together with "
                       "DistributedDataParallel; --batch-size is the global batch. See docs/scaling.md.")
    add_train_options(p)
    p.add_argument("--out", help="run folder to create (or to continue with --resume); required unless --print-config")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.set_defaults(func=run)


# What --resume may change: how long, where and how it runs, and where its inputs now are. Anything
# else would make the continued run a different experiment than the one its folder records.
RESUME_FLAGS = {"epochs", "device", "features", "labels", "format"}


def resume_config(args):
    """The run's own config.yaml, with the few flags given that --resume may change."""
    from pathlib import Path

    from lmac.config import load_config

    run_dir = Path(args.out)
    if not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir}: nothing to resume (no config.yaml); start the run without --resume")
    given = {k for k in SCALAR_FLAGS if getattr(args, k, None) is not None}
    given |= {"modalities"} if args.modalities else set()
    given |= {"set"} if args.set else set()
    given |= {"config"} if args.config else set()
    refused = sorted(given - RESUME_FLAGS)
    if refused:
        raise ValueError(f"--resume continues {run_dir} as its config.yaml records it; it cannot change "
                         f"{', '.join('--' + k.replace('_', '-') for k in refused)} (only "
                         f"{', '.join('--' + k for k in sorted(RESUME_FLAGS))}); start a new --out to change them")
    saved = load_config(run_dir / "config.yaml")
    values = {k: str(Path(getattr(args, k)).resolve()) if k in ("features", "labels") else getattr(args, k)
              for k in given}
    if args.no_progress:
        values["progress"] = False
    return dataclasses.replace(saved, **values)


def run(args) -> int:
    from lmac.config import dump_config
    from lmac.distributed import process_group
    from lmac.training.trainer import train

    if args.resume and not args.print_config:
        if not args.out:
            raise ValueError("--resume needs --out: the run folder to continue")
        cfg = resume_config(args)
    else:
        cfg = config_from_args(args)
    if args.print_config:
        from lmac.training.trainer import resolve_config

        print(dump_config(resolve_config(cfg)), end="")
        return 0
    if not args.out:
        raise ValueError("--out is required: the run folder to create (or to continue with --resume)")
    if not cfg.features and not args.resume:
        raise ValueError("--features is required (a PAMFN package, GDLT folder or native folder)")
    # Under torchrun (WORLD_SIZE > 1) every rank joins the job and trains one model with DDP.
    with process_group(device=cfg.device) as dist_info:
        s = train(cfg, args.out, resume=args.resume)
    if not dist_info.is_main:
        return 0
    val = f"{s['test_srcc_val']:.3f}" if s["test_srcc_val"] is not None else "n/a"
    print(f"{s['task']} {s['model']}: test rho last {s['test_srcc_last']:.3f} | val-selected {val} | "
          f"best-on-test {s['test_srcc_best']:.3f} (epoch {s['best_epoch_test']}) | MSE {s['test_mse']:.2f} | run {args.out}")
    return 0
