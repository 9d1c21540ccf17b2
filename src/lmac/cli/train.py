"""`lmac train`: train one model on one task; writes a run folder."""
from __future__ import annotations

import dataclasses


# Set per job by lmac benchmark (--tasks, --models, --seeds), so not flags of its own.
_PER_JOB = {"task", "model", "seed"}


def flag_fields(for_benchmark: bool = False) -> list:
    """The TrainConfig fields that are command-line flags, in the dataclass's order."""
    from lmac.config import TrainConfig

    return [f for f in dataclasses.fields(TrainConfig) if f.metadata.get("flag", True)
            and not (for_benchmark and f.name in _PER_JOB)]


def add_train_options(p, for_benchmark: bool = False):
    """One flag per TrainConfig field (its metadata gives help and choices); --set for model options."""
    from lmac.models._builder import field_kind

    p.add_argument("--config", help="YAML file with TrainConfig values (flags given here override it)")
    for f in flag_fields(for_benchmark):
        name = "--" + f.name.replace("_", "-")
        kind, help_ = field_kind(f), f.metadata.get("help", "")
        if kind == "bool":  # on by default: the flag turns it off
            p.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false", default=None,
                           help=help_)
        elif kind == "list":
            p.add_argument(name, help=help_)
        else:
            typ = {"int": int, "float": float}.get(kind, str)
            choices = f.metadata.get("choices")
            p.add_argument(name, type=typ, choices=choices() if callable(choices) else choices, help=help_)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="model option, checked against the model's config (`lmac models NAME` lists them), "
                        "e.g. --set d_model=128 --set consistency_weight=0")


def config_from_args(args):
    from lmac.config import TrainConfig, config_from_dict, load_config

    cfg = load_config(args.config) if args.config else TrainConfig()
    values = {}
    for f in flag_fields():
        v = getattr(args, f.name, None)
        if v is not None:
            values[f.name] = v.split(",") if f.name == "modalities" else v
    if args.set:
        values["model_args"] = {**cfg.model_args, **parse_key_values(args.set)}
    return config_from_dict(values, "command line", base=cfg)


def parse_key_values(items, flag: str = "--set") -> dict:
    """["KEY=VALUE", ...] -> {KEY: VALUE}, each value read as YAML (numbers, true/false, {...}), else kept as text;
    its type is checked against the option later."""
    import yaml

    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag} expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = yaml.safe_load(v)
        except yaml.YAMLError:
            out[k.strip()] = v  # a plain string
    return out


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
RESUME_FLAGS = {"epochs", "device", "features", "labels", "format", "save_every"}


def resume_config(args):
    """The run's own config.yaml, with the few flags given that --resume may change."""
    from pathlib import Path

    from lmac.config import load_config

    run_dir = Path(args.out)
    if not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir}: nothing to resume (no config.yaml); start the run without --resume")
    given = {f.name for f in flag_fields() if getattr(args, f.name, None) is not None} - {"progress"}
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
    if args.progress is False:
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
