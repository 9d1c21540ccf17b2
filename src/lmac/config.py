"""Run configuration: one small dataclass, YAML files that mirror it, explicit flags override.

Unknown keys and wrong types are errors naming the key and the file. Relative paths in a config
file are resolved against the file's folder.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml


def _formats() -> tuple:
    """auto, the generic layouts, and every registered dataset release's layout."""
    from lmac.data.features import DATASET_LAYOUTS, _dataset_layouts

    _dataset_layouts()
    return ("auto", "pamfn", "gdlt", "native", *DATASET_LAYOUTS)


def _opt(default=None, help: str = "", choices=None, flag: bool = True, **kw):
    """A TrainConfig field with what its command-line flag needs (lmac.cli.train builds the flags from
    these): a new option is one line here."""
    meta = {"help": help, "choices": choices, "flag": flag}
    if "default_factory" in kw:
        return field(default_factory=kw["default_factory"], metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    task: str = _opt("rg_ball", "a task (`lmac models --tasks` lists every dataset's), e.g. rg_ball, fisv_tes, "
                                "fs1000_all; or ball, tes, ...")
    features: str = _opt("", "feature folder: PAMFN package, GDLT folder, native layout, or an FS1000 / FineFS / "
                             "LOGO release")
    labels: str = _opt("", "folder with the split files (default: the real RG / Fis-V labels shipped with lmac; "
                           "for FS1000, FineFS and LOGO the --features folder, where their releases keep them)")
    format: str = _opt("auto", "feature layout (auto recognises it)", choices=lambda: _formats())
    model: str = _opt("lmac_ensemble", "model name from the registry (`lmac models` lists them); default "
                                       "lmac_ensemble (lmac is the paper's LMAC-Net)")  # DEFAULT_MODEL below
    model_args: dict = _opt(help="model options (--set KEY=VALUE)", flag=False, default_factory=dict)
    modalities: list | None = _opt(None, "comma-separated subset, e.g. rgb,audio (default: every modality of the "
                                         "features)")
    epochs: int = _opt(100, "training epochs")
    batch_size: int = _opt(32, "global batch size (split over the ranks under torchrun)")
    # None = the recipe: the model's where it has one (pamfn: its authors'), else the task's lr and the
    # defaults in RECIPE_DEFAULTS below; config.yaml holds the resolved values
    optimizer: str | None = _opt(None, "default: the model's recipe (adamw; pamfn's stage 1 sgd)",
                                 choices=("adamw", "sgd"))
    lr: float | None = _opt(None, "default: the task's (9e-4 RG, 9e-5 Fis-V) or the model's recipe")
    weight_decay: float | None = _opt(None, "default: the recipe's, 1e-4")
    grad_clip: float | None = _opt(None, "clip the gradient norm (0 = off); default: the recipe's, 2")
    warmup_epochs: int | None = _opt(None, "linear warm-up before the cosine decay; default: the recipe's (3; pamfn 0)")
    dropout: float | None = _opt(None, "default: the task's recipe (0.1 RG, 0.2 Fis-V), for models with dropout")
    input_dropout: float | None = _opt(None, "training only: each input feature value is zeroed with this probability "
                                             "(and the rest scaled by 1/(1-p)), a ridge-like regulariser for small "
                                             "training sets; default: the recipe's, 0 (off)")
    weight_average: float | None = _opt(None, "evaluate and save an average of the weights along training instead of "
                                              "the last step's: the running mean, then an exponential moving average "
                                              "whose time constant is this share of the run's steps (0 = off); "
                                              "default: the recipe's, 0")
    window: int | None = _opt(None, "training window in segments; default: the task's (70 RG, 130 Fis-V)")
    test_crop: int = _opt(0, "score validation/test videos on a centre crop of this many segments (the FS1000 "
                             "peers' 95); 0: the full length")
    val_fraction: float = _opt(0.2, "share of train held out for honest epoch selection (0 = none, as the peers)")
    seed: int = _opt(0, "random seed")
    device: str = _opt("auto", "auto picks CUDA when present", choices=("auto", "cpu", "cuda"))
    eval_batch_size: int = _opt(16, "batch size of validation and test scoring")
    precision: str = _opt("fp32", "fp32 (default), bf16 (mixed precision: fp32 weights, bfloat16 autocast; for "
                                  "GPUs) or fp64 (slow; for exactness checks)", choices=("fp32", "fp64", "bf16"))
    progress: bool = _opt(True, "progress bars (--no-progress turns them off)")
    save_every: float = _opt(60.0, "seconds between resume points (trainer state and checkpoints; the last epoch "
                                   "is always saved): a kill loses at most this much training. 0: every epoch")


# What `lmac train` builds without --model: the candidate that won on the validation splits of the development
# worlds (docs/worlds.md, benchmarks/results/worlds/README.md). `lmac` stays the paper's specification.
DEFAULT_MODEL = "lmac_ensemble"

# lmac's recipe where neither the model nor the task sets one. warmup_epochs: linear LR warm-up before
# the cosine decay [ours; the paper states none]. Without it, Adam's first full-size steps can drive
# LMAC-Net's sigmoid stage head into saturation, where it stays (seen: Ball, seed 2, train MSE frozen
# at 0.203 for 30 epochs; fine with 3 warm-up epochs). Weight decay and clipping at 2 are PAMFN's.
RECIPE_DEFAULTS = {"optimizer": "adamw", "weight_decay": 1e-4, "grad_clip": 2.0, "warmup_epochs": 3, "input_dropout": 0.0,
                   "weight_average": 0.0}
OPTIMIZERS = ("adamw", "sgd")


def _check_type(name, value, default_field, source):
    t = default_field.type if isinstance(default_field.type, str) else getattr(default_field.type, "__name__", "")
    if value is None:
        return value
    if "float" in t and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if t.startswith("int") and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"{source}: '{name}' must be an integer, got {value!r}")
    if t.startswith("str") and not isinstance(value, str):
        raise ValueError(f"{source}: '{name}' must be a string, got {value!r}")
    if t.startswith("bool") and not isinstance(value, bool):
        raise ValueError(f"{source}: '{name}' must be true/false, got {value!r}")
    if t.startswith("dict") and not isinstance(value, dict):
        raise ValueError(f"{source}: '{name}' must be a mapping, got {value!r}")
    if t.startswith("list"):
        if isinstance(value, str):  # "rgb,audio" (a bare string would otherwise become ['r', 'g', 'b'])
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{source}: '{name}' must be a list of names, e.g. [rgb, audio], got {value!r}")
        value = list(value)
    return value


def config_from_dict(values: dict, source: str = "<config>", base: TrainConfig | None = None) -> TrainConfig:
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{source}: unknown config key(s) {unknown}; valid keys: {sorted(fields)}")
    clean = {k: _check_type(k, v, fields[k], source) for k, v in values.items()}
    cfg = dataclasses.replace(base or TrainConfig(), **clean)
    if "model" in values or "model_args" in values:
        from lmac.models import MODELS
        from lmac.models._builder import check_model_args

        try:
            MODELS.get(cfg.model)
        except KeyError as e:
            raise ValueError(f"{source}: {e.args[0]}") from None
        cfg = dataclasses.replace(cfg, model_args=check_model_args(cfg.model, cfg.model_args, source))
    return cfg


def load_config(path) -> TrainConfig:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: config file not found")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: a config file must be a mapping of keys to values")
    for key in ("features", "labels"):
        if values.get(key) and not Path(values[key]).is_absolute():
            values[key] = str((path.parent / values[key]).resolve())
    return config_from_dict(values, str(path))


def dump_config(cfg: TrainConfig) -> str:
    return yaml.safe_dump(dataclasses.asdict(cfg), sort_keys=False)
