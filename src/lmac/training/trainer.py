"""The training loop and the run folder.

A run folder holds: `config.yaml` (resolved, never overwritten), `env.json`, `metrics.csv` (a row
per epoch: every loss term, validation and test metrics), `predictions.csv`, `checkpoints/`
(`last`, `best_test`, `best_val` as safetensors; trainer state apart), `learning_curve.png`,
`summary.json` and `train.log`.

Honest evaluation: RG and Fis-V have no validation split and peers pick the epoch with the best
*test* rho. We report that number (`test_srcc_best`), the last epoch (`test_srcc_last`), and the
test rho of the epoch chosen on a validation split carved from train (`test_srcc_val`).

Under `torchrun` (WORLD_SIZE > 1, process group joined by the CLI) `train` runs one model with
DistributedDataParallel: each global batch of `batch_size` videos is the one a single process
would draw, cut into contiguous per-rank shards whose losses are weighted by their share, so the
gradient is the 1-process gradient. Evaluation is sharded and gathered; only rank 0 writes the run
folder. See lmac.distributed and docs/scaling.md.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from lmac import distributed as ddist
from lmac.config import OPTIMIZERS, RECIPE_DEFAULTS, TrainConfig
from lmac.data.dataset import FeatureSequenceDataset, collate_sequences
from lmac.data.features import FeatureDataError, open_feature_store
from lmac.data.datasets import get_dataset
from lmac.data.tasks import TaskSpec, get_task
from lmac.evaluation.localisation import localisation, stage_spans, truth_elements
from lmac.evaluation.metrics import fisher_z_mean, mse_points, relative_l2, spearman
from lmac.models import MODELS, create_model, count_parameters
from lmac.models._builder import center_gap_per_video
from lmac.models.dropout import dropout_mask
from lmac.training.averaging import WeightAverage
from lmac.training.run import RunFolder
from lmac.training.checkpoints import (
    apply_model_state,
)
from lmac.utils import cpu_model, resolve_device

_STORE_CACHE: dict = {}
PRECISIONS = {"fp32": torch.float32, "fp64": torch.float64, "bf16": torch.float32}  # the weights' dtype
AUTOCAST = {"bf16": torch.bfloat16}  # mixed precision: fp32 weights, forward and loss under autocast


def _autocast(device, precision: str):
    """torch.autocast for mixed-precision modes, a no-op context otherwise."""
    if precision not in AUTOCAST:
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=AUTOCAST[precision])


# ----------------------------------------------------------------------------- data
def labels_root(cfg: TrainConfig, task: TaskSpec):
    """Where the task's labels are: --labels; else the features folder for a release that keeps them
    there (FS1000, FineFS, LOGO); else None, the labels shipped with lmac (RG, Fis-V)."""
    spec = get_dataset(task.dataset)
    if cfg.labels:
        return Path(cfg.labels)
    if spec.labels_in_features and cfg.features:
        return Path(cfg.features)
    return None


def task_elements(cfg: TrainConfig, task: TaskSpec) -> dict:
    """The test videos' element times in feature steps, where known: a synthetic folder's truth.json, or the
    dataset's annotations (FineFS). {} otherwise, and under --test-crop (the crop moves the steps)."""
    root = labels_root(cfg, task)
    if cfg.test_crop:
        return {}
    return get_dataset(task.dataset).test_elements(root) or truth_elements(root)


MIN_VAL_VIDEOS = 10  # below this prepare_data warns that validation rho is noise


def carve_validation(rows: list, seed: int, fraction: float) -> tuple[list, list]:
    """(training rows, validation rows): a seeded `fraction` of the training rows (at least 2) held out for
    validation, both in their original order; ([rows], []) when `fraction` is 0."""
    if fraction <= 0:
        return list(rows), []
    order = np.random.default_rng([seed, 7919]).permutation(len(rows))
    n_val = max(2, int(round(len(rows) * fraction)))
    return [rows[i] for i in sorted(order[n_val:])], [rows[i] for i in sorted(order[:n_val])]


def prepare_data(cfg: TrainConfig, task: TaskSpec, log=None):
    """Returns (train, val or None, test) datasets."""
    key = (str(Path(cfg.features).resolve()), cfg.format, task.pamfn_prefix)
    if key not in _STORE_CACHE:
        _STORE_CACHE.clear()  # keep at most one store in memory
        _STORE_CACHE[key] = open_feature_store(cfg.features, cfg.format, prefixes=[task.pamfn_prefix])
    store = _STORE_CACHE[key]
    spec, root = get_dataset(task.dataset), labels_root(cfg, task)
    train_all, test_all = spec.records(root, "train"), spec.records(root, "test")
    leak = sorted({r.video_id for r in train_all} & {r.video_id for r in test_all})
    if leak:
        shown = ", ".join(leak[:5]) + (f", ... ({len(leak)} in all)" if len(leak) > 5 else "")
        where = root if root is not None else f"the {spec.name} labels shipped with lmac"
        raise ValueError(f"{where}: the train and test splits both list {shown}: a video in both splits leaks the "
                         f"test set into training; remove it from one of them")

    train_rows = [r for r in train_all if r.cls == task.cls]
    test_rows = [r for r in test_all if r.cls == task.cls]
    train_rows, val_rows = carve_validation(train_rows, cfg.seed, cfg.val_fraction)
    if val_rows and len(val_rows) < MIN_VAL_VIDEOS and log is not None:
        log(f"warning: the validation split has {len(val_rows)} videos; a Spearman rho over so few is nearly "
            f"meaningless (2 videos give +-1), so the val-selected epoch is close to arbitrary")
    have = set(store.ids())
    missing = [r.video_id for r in train_rows + val_rows + test_rows if r.video_id not in have]
    if missing:
        shown = ", ".join(missing[:8]) + (f", ... ({len(missing)} in all)" if len(missing) > 8 else "")
        hint = ("; these labels are the real ones shipped with lmac: pass --labels with your features' label files"
                if not cfg.labels else "; check that --labels and --features belong together")
        raise FeatureDataError(f"{len(missing)} of the {len(train_rows) + len(val_rows) + len(test_rows)} labelled "
                               f"{task.cls} videos (train and test) have no features in {store.describe()}: {shown}{hint}")
    mods = tuple(cfg.modalities) if cfg.modalities else None
    window = cfg.window or task.window
    train = FeatureSequenceDataset(store, train_rows, task, True, window, mods, cfg.seed)
    val = FeatureSequenceDataset(store, val_rows, task, False, window, mods, cfg.seed, crop=cfg.test_crop or None) \
        if val_rows else None
    test = FeatureSequenceDataset(store, test_rows, task, False, window, mods, cfg.seed, crop=cfg.test_crop or None)
    if log is not None:
        for note in getattr(store, "notes", lambda: [])():  # e.g. FS1000 modalities cut to their shortest
            log(f"note: {note}")
    return train, val, test


# ----------------------------------------------------------------------------- model
def build_model(cfg: TrainConfig, dims: dict) -> torch.nn.Module:
    """The model of a resolved config: `dropout` (the flag, or the task's recipe) goes to models that have one;
    a multi-score task sets `num_scores`."""
    if MODELS.info(cfg.model).get("member_only"):
        raise ValueError(f"model {cfg.model} is fitted in closed form inside an ensemble, not trained alone: use "
                         f"--model lmac_ensemble --set members=lmac_aligned_md,gdlt,{cfg.model}")
    kwargs = dict(cfg.model_args)
    if "dropout" not in kwargs and "dropout" in _model_fields(cfg.model):
        kwargs["dropout"] = cfg.dropout
    task = get_task(cfg.task)
    n = task.n_outputs
    if n > 1:
        if "num_scores" not in _model_fields(cfg.model):
            able = ", ".join(m for m in MODELS.names() if "num_scores" in _model_fields(m))
            what = f"{n} parts ({', '.join(c for c, _ in task.parts)})" if task.parts else f"{n} scores"
            raise ValueError(f"task {cfg.task} predicts {what} at once; model {cfg.model} predicts one "
                             f"(models that predict several: {able})")
        kwargs["num_scores"] = n
    return create_model(cfg.model, dims, **kwargs)


def model_meta(cfg: TrainConfig, task: TaskSpec, model, dims, feature_info: dict) -> dict:
    return {
        "model": cfg.model,
        "model_config": dataclasses.asdict(model.config),
        "dims": dims,
        "modalities": list(model.modalities),
        "task": task.name,
        "score_range": task.score_range,
        "feature_info": feature_info,  # how the features were made (preset, extractors, weights): predict checks it
    }


def load_run_model(run_dir, which: str = "last", device="cpu"):
    """Rebuild a trained model from its run folder: returns (model, meta)."""
    return RunFolder(run_dir).load_model(which, device)


def _optimizer(model, cfg: TrainConfig, lr: float):
    """AdamW (or SGD with momentum 0.9) over the trainable parameters: weight decay on matrices only,
    and per-prefix lr multipliers where the model asks for them (`lr_scales()`, e.g. PAMFN's head)."""
    scales = model.lr_scales() if hasattr(model, "lr_scales") else {}
    groups: dict[tuple, list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        scale = next((v for k, v in scales.items() if name.startswith(k)), 1.0)
        groups.setdefault((p.dim() >= 2, scale), []).append(p)
    params = [{"params": ps, "weight_decay": cfg.weight_decay if decay else 0.0, "lr": lr * scale}
              for (decay, scale), ps in sorted(groups.items(), key=lambda kv: (not kv[0][0], -kv[0][1]))]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    # fused: one kernel over all parameters, 4-6x faster a step on a CPU than torch's per-tensor loop (the same
    # update to float rounding; benchmarks/train_profile.py)
    return torch.optim.AdamW(params, lr=lr, fused=True)


def _lr_lambda(total_steps: int, warmup_steps: int):
    def f(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    return f


# ----------------------------------------------------------------------------- evaluation
@torch.no_grad()
def predict_dataset(model, dataset, task: TaskSpec, device, batch_size: int = 16, drop: tuple = (),
                    precision: str = "fp32", spans: bool = False) -> dict:
    """Scores in points for every video of a dataset, with stage details when the model has them.
    `drop`: modalities withheld from the model, as if the videos had none (no sound, no flow)."""
    model.eval()
    dtype = next(model.parameters()).dtype  # features in the model's precision
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate_sequences)
    ids, pred, true, stage_scores, stage_weights, gaps = [], [], [], [], [], []
    parts, true_parts = [], []  # a task with parts: each part in points, predicted and the judges'
    stage_spans_, lengths = [], []  # with `spans`: only the summary's last evaluation needs them
    for batch in loader:
        feats = {m: x.to(device, dtype) for m, x in batch["feats"].items() if m not in drop}
        mask = batch["mask"].to(device)
        with _autocast(device, precision):
            out = model(feats, mask)
        ids += batch["video_id"]
        pred.append(task.to_score(task.compose(out["score"].float().cpu())))  # parts: their signed sum
        true.append(batch["score"])
        if task.parts:
            parts.append(task.to_score(out["score"].float().cpu()))
            true_parts.append(task.to_score(batch["target"]))
        if "stage_scores" in out:
            stage_scores.append(task.to_score(task.compose(out["stage_scores"].float().cpu())))
            stage_weights.append(out["stage_weights"].float().cpu())
        g = center_gap_per_video(out)
        if g is not None:
            gaps.append(g.cpu())
        if spans and out.get("attn"):  # each stage's span, from the modalities' mean attention (stage localisation)
            a = torch.stack([v.float() for v in out["attn"].values()]).mean(0).cpu().numpy()  # (B, K, T)
            n_real = mask.sum(1).cpu().tolist()
            stage_spans_ += [stage_spans(a[i, :, :n]) for i, n in enumerate(n_real)]
            lengths += n_real
    res = {"video_id": ids, "pred": torch.cat(pred).numpy(), "true": torch.cat(true).numpy()}
    if task.n_scores > 1:
        res["score_keys"] = list(task.score_keys)
    if parts:
        res["part_keys"] = [c for c, _ in task.parts]
        res["parts"], res["true_parts"] = torch.cat(parts).numpy(), torch.cat(true_parts).numpy()
    if stage_scores:
        res["stage_scores"] = torch.cat(stage_scores).numpy()
        res["stage_weights"] = torch.cat(stage_weights).numpy()
    res["center_gap"] = float(torch.cat(gaps).mean()) if gaps else float("nan")
    if stage_spans_:
        res["stage_spans"], res["lengths"] = stage_spans_, lengths
    return res


def _predict(model, dataset, task: TaskSpec, device, batch_size: int, info: ddist.DistInfo, drop: tuple = (),
             precision: str = "fp32", spans: bool = False) -> dict:
    """predict_dataset, each rank taking a contiguous shard; every rank gets the whole result."""
    if not info.enabled:
        return predict_dataset(model, dataset, task, device, batch_size, drop, precision, spans)
    lo, hi = ddist.shard_bounds(len(dataset), info.rank, info.world)
    part = predict_dataset(model, torch.utils.data.Subset(dataset, range(lo, hi)), task, device, batch_size, drop,
                           precision, spans) \
        if hi > lo else None
    return merge_prediction_parts(ddist.all_gather_objects(part))


def merge_prediction_parts(parts: list) -> dict:
    """The ranks' predict_dataset results (rank order = dataset order; None for an empty shard) as one."""
    parts = [p for p in parts if p is not None]
    res = {"video_id": [v for p in parts for v in p["video_id"]]}
    for key in ("score_keys", "part_keys"):
        if key in parts[0]:
            res[key] = parts[0][key]
    if "stage_spans" in parts[0]:
        res["stage_spans"] = [s for p in parts for s in p["stage_spans"]]
        res["lengths"] = [n for p in parts for n in p["lengths"]]
    for key in ("pred", "true", "stage_scores", "stage_weights", "parts", "true_parts"):
        if key in parts[0]:
            res[key] = np.concatenate([p[key] for p in parts])
    gaps = [(p["center_gap"], len(p["video_id"])) for p in parts if not math.isnan(p["center_gap"])]
    res["center_gap"] = sum(g * n for g, n in gaps) / sum(n for _, n in gaps) if gaps else float("nan")
    return res


def _metrics(res: dict) -> dict:
    """rho, MSE (points^2) and relative L2. Several scores: each score's rho in `per_score`, the headline rho
    their Fisher-z average, MSE and RL2 averaged over the scores."""
    pred, true = np.asarray(res["pred"]), np.asarray(res["true"])
    if pred.ndim == 1:
        return {"srcc": spearman(pred, true), "mse": mse_points(pred, true), "rl2": relative_l2(pred, true)}
    keys = res.get("score_keys") or [f"score{i}" for i in range(pred.shape[1])]
    per = {k: spearman(pred[:, i], true[:, i]) for i, k in enumerate(keys)}
    mse = {k: mse_points(pred[:, i], true[:, i]) for i, k in enumerate(keys)}
    return {"srcc": fisher_z_mean(list(per.values())), "per_score": per, "per_score_mse": mse,
            "mse": float(np.mean(list(mse.values()))),
            "rl2": float(np.mean([relative_l2(pred[:, i], true[:, i]) for i in range(len(keys))]))}


# ----------------------------------------------------------------------------- run folder
def _env_info(device, seed) -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                                cwd=Path(__file__).parent).stdout.strip()
    except Exception:
        commit = ""
    import lmac

    return {
        "lmac": lmac.__version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "platform": platform.platform(), "device": str(device),
        "cpu": cpu_model(), "torch_threads": torch.get_num_threads(), "git_commit": commit, "seed": seed,
    }


# ----------------------------------------------------------------------------- the loop
def resolve_config(cfg: TrainConfig) -> TrainConfig:
    """What the run will use, with nothing left for later to fill in: the task's canonical name and
    recipe (lr, window, dropout when the model has one), absolute input paths. config.yaml holds this,
    so a resume or a reader of the folder never depends on what TaskSpec says at that later time."""
    task = get_task(cfg.task)
    MODELS.get(cfg.model)  # an unknown model fails here, before any data is read
    for name, ok, want in (("epochs", cfg.epochs >= 1, ">= 1"), ("batch_size", cfg.batch_size >= 1, ">= 1"),
                           ("eval_batch_size", cfg.eval_batch_size >= 1, ">= 1"),
                           ("val_fraction", 0 <= cfg.val_fraction < 1, "in [0, 1)"),
                           ("lr", cfg.lr is None or cfg.lr > 0, "> 0"), ("window", cfg.window is None or cfg.window >= 1, ">= 1"),
                           ("test_crop", cfg.test_crop >= 0, ">= 0 (0: the full length)"),
                           ("weight_decay", cfg.weight_decay is None or cfg.weight_decay >= 0, ">= 0"),
                           ("grad_clip", cfg.grad_clip is None or cfg.grad_clip >= 0, ">= 0"),
                           ("warmup_epochs", cfg.warmup_epochs is None or cfg.warmup_epochs >= 0, ">= 0"),
                           ("dropout", cfg.dropout is None or 0 <= cfg.dropout < 1, "in [0, 1)"),
                           ("input_dropout", cfg.input_dropout is None or 0 <= cfg.input_dropout < 1, "in [0, 1)"),
                           ("weight_average", cfg.weight_average is None or 0 <= cfg.weight_average <= 1, "in [0, 1]")):
        if not ok:
            raise ValueError(f"{name} must be {want}, got {getattr(cfg, name)!r} (--{name.replace('_', '-')})")
    dropout = cfg.dropout
    if dropout is None and "dropout" in _model_fields(cfg.model) and "dropout" not in cfg.model_args:
        dropout = task.dropout
    recipe = {**RECIPE_DEFAULTS, "lr": task.lr, **MODELS.info(cfg.model).get("recipe", {})}
    chosen = {k: getattr(cfg, k) if getattr(cfg, k) is not None else v for k, v in recipe.items()}
    if chosen["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {chosen['optimizer']!r} (--optimizer)")
    return dataclasses.replace(
        cfg, task=task.name, **chosen, window=cfg.window or task.window,
        dropout=dropout, features=str(Path(cfg.features).resolve()) if cfg.features else "",
        labels=str(Path(cfg.labels).resolve()) if cfg.labels else "",
        modalities=list(cfg.modalities) if cfg.modalities else None,  # None: every modality of the data (train fills it in)
    )


def _model_fields(name: str) -> set:
    cls = MODELS.info(name).get("config")
    return {f.name for f in dataclasses.fields(cls)} if cls is not None else set()


def _run_config(cfg: TrainConfig, out_dir: Path, resume: bool) -> TrainConfig:
    """The config to run: the saved one when resuming (with this call's epochs, progress and device,
    and its features/labels/format when given: the same data may have moved)."""
    if resume:
        saved = RunFolder(out_dir).config()
        moved = {k: getattr(cfg, k) for k in ("features", "labels") if getattr(cfg, k)}
        if cfg.format != "auto":
            moved["format"] = cfg.format
        return resolve_config(dataclasses.replace(saved, epochs=cfg.epochs, progress=cfg.progress, device=cfg.device,
                                                  **moved))
    if (out_dir / "config.yaml").exists():
        raise FileExistsError(f"{out_dir}: already holds a run; use --resume to continue it or choose a new --out")
    return resolve_config(cfg)


def _drop_inputs(feats: dict, p: float, key: tuple) -> dict:
    """Input dropout (--input-dropout): every feature value zeroed with probability p, the rest scaled by 1/(1-p).
    On a linear read-out this is a ridge penalty scaled by each feature's energy, which is why it suits 160-video
    training sets of 512-1024-dim features. The masks come from a generator seeded by (seed, epoch, step, rank):
    the same on any device and thread count, and a resumed run draws what the uninterrupted one did."""
    g = torch.Generator().manual_seed(int(np.random.SeedSequence(list(key)).generate_state(1)[0]))
    return {m: x * dropout_mask(x.shape, p, x.dtype, generator=g).to(x.device) for m, x in feats.items()}


def _train_epoch(epoch, net, model, train_ds, opt, sched, cfg, info, device, dtype, out_dir, average=None) -> dict:
    """One epoch over the training set (this rank's shard of each global batch under DDP); returns each loss
    term's mean over the epoch's videos. `average` (a WeightAverage) takes in each step's weights."""
    model.train()
    train_ds.set_epoch(epoch)
    g = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)
    if info.enabled:  # this rank's shard of each global batch a single process would draw
        shards = ddist.ShardedBatchSampler(torch.utils.data.RandomSampler(train_ds, generator=g), cfg.batch_size,
                                           info.rank, info.world)
        loader = torch.utils.data.DataLoader(train_ds, batch_sampler=shards, generator=g,
                                             collate_fn=collate_sequences)
    else:
        loader = torch.utils.data.DataLoader(train_ds, batch_size=cfg.batch_size, shuffle=True, generator=g,
                                             collate_fn=collate_sequences)
    sums: dict[str, float] = {}
    n = 0
    for step, batch in enumerate(loader):
        feats = {m: x.to(device, dtype) for m, x in batch["feats"].items()}
        if cfg.input_dropout:
            feats = _drop_inputs(feats, cfg.input_dropout, (cfg.seed, epoch, step, info.rank))
        mask, target = batch["mask"].to(device), batch["target"].to(device, dtype)
        with _autocast(device, cfg.precision):
            out = net(feats, mask)
            losses = model.compute_loss(out, target, mask)
        loss = losses["total"]
        bs = len(batch["video_id"])
        finite = torch.isfinite(loss.detach()).float()
        if info.enabled:
            bs, weight = shards.loss_weight(step)  # the averaged gradient is the global batch's
            torch.distributed.all_reduce(finite, op=torch.distributed.ReduceOp.MIN)  # every rank stops together
            loss = loss * weight
        if not finite:
            value = losses["total"].item()
            value = value if not math.isfinite(value) else "non-finite on another rank"
            raise RuntimeError(f"{out_dir}: loss became {value} at epoch {epoch + 1}; "
                               f"lower the learning rate or check the features")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:  # per group where the model has several (lmac_ensemble: per member)
            for group in (model.grad_clip_groups() if hasattr(model, "grad_clip_groups") else [model.parameters()]):
                torch.nn.utils.clip_grad_norm_(group, cfg.grad_clip)
        opt.step()
        sched.step()
        if average is not None:
            average.update(model)
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach()) * bs
        n += bs
    if info.enabled:  # loss sums over the whole epoch, all ranks
        keys = list(sums)
        tot = torch.tensor([sums[k] for k in keys] + [float(n)], dtype=torch.float64,
                           device=device if torch.distributed.get_backend() == "nccl" else "cpu")
        torch.distributed.all_reduce(tot)
        sums, n = dict(zip(keys, tot[:-1].tolist())), tot[-1].item()
    return {k: v / n for k, v in sums.items()}


def _summary(cfg, task, model, n_params, train_ds, val_ds, test_ds, best, last, res_test, device, info,
             elements: dict) -> dict:
    """summary.json: the run's numbers under each protocol, each labelled; per score, stage localisation and
    missing modalities where they apply."""
    summary = {
        "task": task.name,
        "model": cfg.model,
        "params": n_params,
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "train_videos": len(train_ds),
        "val_videos": len(val_ds) if val_ds else 0,
        "test_videos": len(test_ds),
        "test_srcc_best": best["test"]["srcc"],
        "best_epoch_test": best["test"]["epoch"],
        "test_srcc_last": last["srcc"],
        "test_srcc_val": best["val"]["test_srcc"] if val_ds is not None else None,
        "best_epoch_val": best["val"]["epoch"] if val_ds is not None else None,
        "test_mse": last["mse"],
        "test_rl2": last["rl2"],
        "test_mse_best": best["test"].get("mse"),
        "center_gap_last": res_test["center_gap"] if not math.isnan(res_test["center_gap"]) else None,
        "protocol": {
            "test_srcc_best": "epoch with the best test rho (the peers' protocol; optimistic)",
            "test_srcc_last": "last epoch (honest)",
            "test_srcc_val": f"epoch chosen on a validation split of {cfg.val_fraction:.0%} of train (honest)",
            "test_mse": "last epoch, in score points",
        },
    }
    if task.n_scores > 1:  # each score's rho under each protocol (epochs chosen on the scores' Fisher-z average)
        per = {"test_srcc_last": last["per_score"]}
        if best["test"]["res"] is not None:
            per["test_srcc_best"] = _metrics(best["test"]["res"])["per_score"]
        if val_ds is not None and best["val"]["res"] is not None:
            per["test_srcc_val"] = _metrics(best["val"]["res"])["per_score"]
        summary["per_score"] = {k: {**{p: v[k] for p, v in per.items()}, "test_mse": last["per_score_mse"][k]}
                                for k in task.score_keys}
        summary["protocol"]["per_score"] = ("each score's test rho; test_srcc_* above is their Fisher-z average, and "
                                            "the best and val-selected epochs are chosen on it")
    if "parts" in res_test:  # trained on the judges' parts: how well each is read (last epoch)
        summary["per_part"] = {k: {"test_srcc_last": spearman(res_test["parts"][:, j], res_test["true_parts"][:, j]),
                                   "test_mse": mse_points(res_test["parts"][:, j], res_test["true_parts"][:, j])}
                               for j, k in enumerate(res_test["part_keys"])}
        summary["protocol"]["per_part"] = "each part's test rho and MSE (points) at the last epoch; the score is their signed sum"
    if elements and "stage_spans" in res_test:  # where element times are known (truth.json, FineFS annotations)
        loc = localisation(dict(zip(res_test["video_id"], res_test["stage_spans"])),
                           dict(zip(res_test["video_id"], res_test["lengths"])), elements)
        if loc is not None:
            summary["stage_localisation"] = loc
            summary["protocol"]["stage_localisation"] = (
                "last epoch, test videos: share of elements some stage's centre falls in (hit_rate), mean best "
                "temporal IoU of an element with a stage's span (centre +- one attention std), and both for "
                "evenly spread stages (chance_*)")
    if getattr(model, "accepts_missing_modalities", False):
        # the last epoch's model, each modality withheld in turn: what a video without it loses
        summary["missing_modality"] = {
            m: _metrics(_predict(model, test_ds, task, device, cfg.eval_batch_size, info, drop=(m,), precision=cfg.precision))["srcc"]
            for m in model.modalities}
        summary["protocol"]["missing_modality"] = "last epoch, test rho with that modality withheld from every video"
    return summary


def _on_rank0(fn, info: ddist.DistInfo):
    """fn() on rank 0 only (it reads the run folder, which may exist on rank 0's machine alone);
    its result, or its error, reaches every rank."""
    if not info.enabled:
        return fn()
    value, error = None, None
    if info.is_main:
        try:
            value = fn()
        except Exception as e:  # re-raised on every rank below
            error = e
    error_msg = ddist.broadcast_object(None if error is None else (type(error).__name__, str(error)))
    if error is not None:
        raise error
    if error_msg is not None:
        exc = {"FileNotFoundError": FileNotFoundError, "FileExistsError": FileExistsError,
               "ValueError": ValueError}.get(error_msg[0], RuntimeError)
        raise exc(error_msg[1])
    return ddist.broadcast_object(value)


def train(cfg: TrainConfig, out_dir, resume: bool = False, log=print, on_epoch_end=None,
          distributed: bool | None = None) -> dict:
    """Train, evaluate every epoch, write the run folder; returns summary.json's content.

    `on_epoch_end(epoch)` is called after each epoch, once its metrics row is written (and its resume point,
    when the epoch ends one: every `cfg.save_every` seconds and at the last epoch).
    `distributed`: None = use the torch.distributed process group when one is running with more
    than one process (DDP; only rank 0 writes, every rank returns the summary); False = train
    alone even then (lmac benchmark's ranks train their own jobs)."""
    out_dir = Path(out_dir)
    run = RunFolder(out_dir)
    run.check_target()
    info = ddist.current() if distributed is not False else ddist.DistInfo()
    if distributed and not info.enabled:
        raise RuntimeError("train(distributed=True) needs a torch.distributed process group of 2+ processes")
    main = info.is_main
    if not main:
        log = lambda msg: None  # noqa: E731 - rank 0 speaks for the job
    cfg = _on_rank0(lambda: _run_config(cfg, out_dir, resume), info)
    task = get_task(cfg.task)
    lr = cfg.lr if cfg.lr is not None else task.lr
    device = ddist.rank_device(resolve_device(cfg.device)) if info.enabled else resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)

    if cfg.precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {cfg.precision!r}")
    dtype = PRECISIONS[cfg.precision]
    train_ds, val_ds, test_ds = prepare_data(cfg, task, log=log)
    cfg = dataclasses.replace(cfg, modalities=list(train_ds.modalities))  # resolved from the data, in model order
    dims = train_ds.dims
    model = build_model(cfg, dims).to(device, dtype)
    meta = model_meta(cfg, task, model, dims, train_ds.feature_info)
    # closed-form members (pooled_ridge): fitted once on the training videos; every rank fits the same, and a
    # resumed run's state loads the same fit over it
    fitted = model.fit(train_ds, cfg.seed) if hasattr(model, "fit") else {}
    opt = _optimizer(model, cfg, lr)
    net = model  # what the training forward runs: the model itself, or its DDP wrapper
    if info.enabled:
        # Same seed on every rank gives the same initial weights; DDP also broadcasts rank 0's.
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    steps_per_epoch = math.ceil(len(train_ds) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, _lr_lambda(cfg.epochs * steps_per_epoch, cfg.warmup_epochs * steps_per_epoch)
    )
    rows: list[dict] = []
    best = {"test": {"srcc": -2.0, "epoch": None, "res": None}, "val": {"srcc": -2.0, "epoch": None, "res": None, "test_srcc": None}}
    start_epoch = 0
    if not resume and main:
        env = _env_info(device, cfg.seed)
        if info.enabled:
            env["distributed"] = {"world_size": info.world, "backend": torch.distributed.get_backend()}
        run.create(cfg, env)
    pretrain = MODELS.info(cfg.model).get("pretrain")
    if pretrain is not None:  # e.g. PAMFN's stage 1: its own runs inside this run folder (resumed state loads over it)
        outer_log = log

        def stage(sub_cfg, sub_dir, resume=False, log=None):  # alone or with the ranks, as this run is; each stage
            return train(sub_cfg, sub_dir, resume=resume, log=outer_log, distributed=distributed)  # keeps its own log

        def pretrain_log(msg):  # what is pretrained and why, also in this run's train.log
            outer_log(msg)
            if main:
                run.log(msg)

        if MODELS.info(cfg.model).get("pretrain_reseeds"):  # PAMFN, as its figures were made
            model.load_branches(pretrain(cfg, out_dir, train_fn=stage, resume=resume, log=pretrain_log), str(out_dir))
            torch.manual_seed(cfg.seed + 1)  # stage 2's random draws do not depend on whether stage 1 ran in this call
        else:  # stage 2 draws exactly what it would without pretraining (batches, dropout), whether stage 1 ran now
            with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
                states = pretrain(cfg, out_dir, train_fn=stage, resume=resume, log=pretrain_log, fitted=fitted)
            if states:
                model.load_branches(states, str(out_dir))
    average = None
    if cfg.weight_average:  # evaluated and saved in place of the last step's weights (lmac.training.averaging)
        average = WeightAverage(model, max(1.0, cfg.weight_average * cfg.epochs * steps_per_epoch))
    scored = (lambda: average.applied(model)) if average is not None else contextlib.nullcontext
    if resume and _on_rank0(lambda: run.resumable(log), info):
        st = _on_rank0(run.read_state, info)  # rank 0 reads, every rank loads the same state
        apply_model_state(st["model"], model, run.state_path)
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        torch.set_rng_state(st["torch_rng"])
        if average is not None:
            if st.get("average") is None:
                raise ValueError(f"{run.state_path}: was written without --weight-average; resume it without one")
            average.load_state_dict(st["average"], run.state_path)
        start_epoch = int(st["epoch"])
        rows = json.loads(st["rows"])
        b = json.loads(st["best"])
        for policy in ("test", "val"):
            best[policy].update(b[policy])
            if b[policy].get("res") is not None:
                arrays = ("pred", "true", "stage_scores", "stage_weights", "parts", "true_parts")
                best[policy]["res"] = {k: np.asarray(v) if k in arrays else v for k, v in b[policy]["res"].items()}
        log(f"resuming {out_dir} at epoch {start_epoch + 1}/{cfg.epochs}")

    base_log = log

    def log(msg):  # noqa: F811 - also keep a train.log in the run folder
        if not main:
            return
        base_log(msg)
        run.log(msg)

    n_params = count_parameters(model)
    log(f"{task.name} | {cfg.model} ({n_params / 1e6:.2f} M params) | dims {dims} | train {len(train_ds)} "
        f"val {len(val_ds) if val_ds else 0} test {len(test_ds)} | lr {lr:g} | {device}")
    for name, chose in fitted.items():
        if name == "member_weights":
            log("member weights, gated by the closed-form member's cross-validation: "
                + ", ".join(f"{n} {w:.2f}" for n, w in chose.items()))
            continue
        pairs = f" and their aligned pairs (k={chose['pairs']})" if chose.get("pairs") else ""
        pairs += " and every two modalities' shared moments" if chose.get("shared") else ""
        pairs += " (also at each modality's key moments)" if chose.get("keys") else ""
        pairs += " and how often they change" if chose.get("changes") else ""
        if chose.get("stack"):
            parts = ", ".join(f"{o} {v['weight']:.2f} (penalty {v['penalty']:g})" for o, v in chose["stack"].items())
            log(f"{name}: fitted on the {len(train_ds)} training videos, a stack of input options weighted by "
                f"5-fold cross-validation on them: {parts}")
        else:
            log(f"{name}: fitted on the {len(train_ds)} training videos, inputs {'+'.join(chose['inputs'])}{pairs}, "
                f"penalty {chose['penalty']:g} (chosen by 5-fold cross-validation on them)")
        if chose.get("fallback"):  # what scores a video that lacks a stream it reads
            fb = chose["fallback"]
            kept = [f"{sub} ({f['cv']:.2f})" for sub, f in fb.items() if f.get("kept", True)]
            left = [f"{sub} ({f['cv']:.2f})" for sub, f in fb.items() if not f.get("kept", True)]
            own = max(chose.get("cv_by_reads", {}).values(), default=None)  # not `main`: that is the rank's flag
            log(f"{name}: for a video without some of its inputs, the fits of the streams it has (cross-validated "
                f"rho): {', '.join(kept) or 'none'}" + (f"; it sits out for {', '.join(left)}, which keep too little "
                                                          "of its read" if left else "")
                + (f" (its own: {own:.2f})" if own is not None else ""))
    if info.enabled:
        log(f"distributed: {info.world} processes ({torch.distributed.get_backend()}), global batch {cfg.batch_size} "
            f"split over them; rank 0 writes {out_dir}")
        coupled = MODELS.info(cfg.model).get("batch_coupled")
        if coupled:
            log(f"note: {cfg.model} couples the videos of a batch ({coupled}); each rank computes them over its "
                f"{cfg.batch_size // info.world}-{-(-cfg.batch_size // info.world)} videos, so results differ "
                f"slightly from one process")
    from tqdm import tqdm

    bar = tqdm(range(start_epoch, cfg.epochs), desc=f"{task.name}/{cfg.model}", unit="ep",
               disable=not cfg.progress or not main, initial=start_epoch, total=cfg.epochs)
    res_test = None
    elements = task_elements(cfg, task)  # element times, where known: the last test gets stage spans
    pending: dict[str, tuple] = {}  # best checkpoints not yet written: {which: (weights, epoch)}
    last_save = time.time()
    for epoch in bar:
        t0 = time.time()
        losses = _train_epoch(epoch, net, model, train_ds, opt, sched, cfg, info, device, dtype, out_dir, average)
        row = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"]}
        row.update({f"train_{k}": v for k, v in losses.items()})
        save_now = main and (epoch + 1 == cfg.epochs or time.time() - last_save >= cfg.save_every)
        with scored():  # the epoch's model: the weight average, where one is kept
            if val_ds is not None:
                res_val = _predict(model, val_ds, task, device, cfg.eval_batch_size, info, precision=cfg.precision)
                mv = _metrics(res_val)
                row.update({"val_srcc": mv["srcc"], "val_mse": mv["mse"]})
                row.update({f"val_srcc_{k}": v for k, v in mv.get("per_score", {}).items()})
            res_test = _predict(model, test_ds, task, device, cfg.eval_batch_size, info, precision=cfg.precision,
                                spans=bool(elements) and epoch + 1 == cfg.epochs)
            mt = _metrics(res_test)
            row.update({"test_srcc": mt["srcc"], "test_mse": mt["mse"], "test_rl2": mt["rl2"]})
            row.update({f"test_srcc_{k}": v for k, v in mt.get("per_score", {}).items()})
            row.update({"center_gap": res_test["center_gap"], "epoch_s": time.time() - t0})
            rows.append(row)
            # every rank holds the same gathered metrics, so they agree on the best epochs; rank 0 writes
            if mt["srcc"] > best["test"]["srcc"]:
                best["test"].update(srcc=mt["srcc"], epoch=epoch + 1, res=res_test, mse=mt["mse"])
                if main:
                    pending["best_test"] = (_weights(model), epoch + 1)
            if val_ds is not None and row["val_srcc"] > best["val"]["srcc"]:
                best["val"].update(srcc=row["val_srcc"], epoch=epoch + 1, res=res_test, test_srcc=mt["srcc"],
                                   mse=mt["mse"])
                if main:
                    pending["best_val"] = (_weights(model), epoch + 1)
            if main:
                run.write_metrics(rows)
                run.log_epoch(row)
                if save_now:
                    # a resume point: the best checkpoints found since the last one, then `last`, then (below) the
                    # trainer state, so the files on disk always agree with the state a resume reads. Writing them every
                    # epoch was a third of a small run's time (a 6 M-param model's state is 75 MB)
                    for which, (weights, at) in pending.items():
                        run.save_checkpoint(which, weights, meta, at)
                    pending.clear()
                    run.save_checkpoint("last", model, meta, epoch + 1)
        if save_now:
            run.save_state({  # the trained weights (not the average) too: one atomic file is a consistent resume point
                "epoch": epoch + 1,
                "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "rows": json.dumps(rows),
                "best": json.dumps(best, default=_jsonable),
                "average": average.state_dict() if average is not None else None,
            })
            last_save = time.time()
        bar.set_postfix(loss=f"{row['train_total']:.4f}", test_rho=f"{mt['srcc']:.3f}")
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
    bar.close()

    if res_test is None:  # resumed a finished run: re-evaluate the last checkpoint
        with scored():
            res_test = _predict(model, test_ds, task, device, cfg.eval_batch_size, info, precision=cfg.precision,
                                spans=bool(elements))
    last = _metrics(res_test)
    if main:
        run.write_predictions(res_test, best)
        run.plot(rows)
    with scored():
        summary = _summary(cfg, task, model, n_params, train_ds, val_ds, test_ds, best, last, res_test, device, info,
                           elements)
    if main:
        run.write_summary(summary)
    if info.enabled:  # a job trained alone (lmac benchmark's ranks) must not wait for the other ranks' jobs
        ddist.barrier()  # every rank returns once the run folder is complete
    return summary


def _weights(model) -> dict:
    """A copy of the model's weights on the CPU, to write later (a best epoch's checkpoint)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _jsonable(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o))
