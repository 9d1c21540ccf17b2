"""Run configuration: one small dataclass, YAML files that mirror it, explicit flags override.

Unknown keys and wrong types are errors naming the key and the file. Relative paths in a config
file are resolved against the file's folder.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml


@dataclass
class TrainConfig:
    task: str = "rg_ball"  # see lmac.data.tasks.TASKS
    features: str = ""  # feature folder (PAMFN package, GDLT folder or native layout)
    labels: str = ""  # folder holding the split files; "" = shipped (RG, Fis-V) or --features (FS1000, FineFS, LOGO)
    format: str = "auto"  # auto | pamfn | gdlt | native | fs1000 | finefs | logo
    model: str = "lmac_ensemble"  # DEFAULT_MODEL below
    model_args: dict = field(default_factory=dict)  # config fields of the model; empty = model defaults
    modalities: list | None = None  # None = every modality the features have
    epochs: int = 100
    batch_size: int = 32
    # None = the recipe: the model's where it has one (pamfn: its authors'), else the task's lr and the
    # defaults in RECIPE_DEFAULTS below; config.yaml holds the resolved values
    optimizer: str | None = None  # adamw | sgd (momentum 0.9)
    lr: float | None = None  # the task's: 9e-4 RG, 9e-5 Fis-V
    weight_decay: float | None = None
    grad_clip: float | None = None
    warmup_epochs: int | None = None
    dropout: float | None = None  # None = the task's recipe (0.1 RG, 0.2 Fis-V), if the model has dropout
    window: int | None = None  # None = the task's window (70 RG, 130 Fis-V)
    test_crop: int = 0  # validation/test on a centre crop of this many segments (FS1000 peers: 95); 0 = full length
    val_fraction: float = 0.2  # carved from train for honest epoch selection; 0 = train on all (peers)
    seed: int = 0
    device: str = "auto"
    eval_batch_size: int = 16
    precision: str = "fp32"  # fp32 | bf16 (fp32 weights, bfloat16 autocast) | fp64 (float64: slow, for exactness checks)
    progress: bool = True


# What `lmac train` builds without --model: the candidate that won on the validation splits of the development
# worlds (docs/worlds.md, benchmarks/results/worlds/README.md). `lmac` stays the paper's specification.
DEFAULT_MODEL = "lmac_ensemble"

# lmac's recipe where neither the model nor the task sets one. warmup_epochs: linear LR warm-up before
# the cosine decay [ours; the paper states none]. Without it, Adam's first full-size steps can drive
# LMAC-Net's sigmoid stage head into saturation, where it stays (seen: Ball, seed 2, train MSE frozen
# at 0.203 for 30 epochs; fine with 3 warm-up epochs). Weight decay and clipping at 2 are PAMFN's.
RECIPE_DEFAULTS = {"optimizer": "adamw", "weight_decay": 1e-4, "grad_clip": 2.0, "warmup_epochs": 3}
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
