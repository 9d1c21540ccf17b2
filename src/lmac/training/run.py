"""One run folder, owned by one class: what `lmac train` writes and what `lmac.load` and `--resume` read.

    run/
      config.yaml            the fully resolved TrainConfig (task recipe, model options, modalities), written once
      env.json               versions, platform, CPU model, torch threads, device, git commit, seed
      metrics.csv            one row per epoch: every loss term, validation and test rho / MSE
      predictions.csv        last epoch's test predictions (and the best epochs'), stage scores
      summary.json           the honest and the peers' numbers, each labelled
      train.log              what was said, with times; one line per epoch
      learning_curve.png
      checkpoints/{last,best_val,best_test}.safetensors   weights + the metadata that rebuilds the model
      checkpoints/trainer_last.pt                        the resume point (weights, optimiser, RNG, rows)
"""
from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path


from lmac.config import TrainConfig, dump_config, load_config
from lmac.training.checkpoints import (config_modalities, load_trainer_state, read_model_state, rebuild_model,
                                       save_model, save_trainer_state)
from lmac.utils import atomic_path, atomic_write_json, atomic_write_text

CHECKPOINTS = ("last", "best_val", "best_test")


class RunFolder:
    def __init__(self, path):
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.state_path = self.checkpoints / "trainer_last.pt"
        self.config_path = self.path / "config.yaml"

    # ---------------------------------------------------------------- creating and reading
    def check_target(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise NotADirectoryError(f"{self.path}: is a file; --out names the run folder to create")

    def has_run(self) -> bool:
        return self.config_path.is_file()

    def create(self, cfg: TrainConfig, env: dict) -> None:
        """The folder, its resolved config.yaml (written once: a resume reads it, never rewrites it) and env.json."""
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.config_path, dump_config(cfg))
        atomic_write_json(self.path / "env.json", env)

    def config(self) -> TrainConfig:
        if not self.has_run():
            raise FileNotFoundError(f"{self.path}: nothing to resume (no config.yaml)")
        return load_config(self.config_path)

    def summary(self) -> dict:
        path = self.path / "summary.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def checkpoint(self, which: str = "last") -> Path:
        if which not in CHECKPOINTS:
            raise ValueError(f"checkpoint must be last, best_val or best_test, got {which!r}")
        return self.checkpoints / f"{which}.safetensors"

    def load_model(self, which: str = "last", device="cpu"):
        """(model in eval mode, metadata), rebuilt from a checkpoint the way `from_pretrained` does: the
        registry name and config stored in it, the modality order the run recorded."""
        return rebuild_model(self.checkpoint(which), config_modalities(self.path), device)

    # ---------------------------------------------------------------- during training
    def log(self, msg: str) -> None:
        with open(self.path / "train.log", "a") as f:
            f.write(time.strftime("%Y-%m-%d %H:%M:%S ") + msg + "\n")

    def log_epoch(self, row: dict) -> None:
        with open(self.path / "train.log", "a") as f:
            f.write(f"epoch {row['epoch']}: " + " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                                          for k, v in row.items()) + "\n")

    def save_checkpoint(self, which: str, model, meta: dict, epoch: int) -> None:
        """`model`: the model, or a copy of its weights taken at `epoch` (then meta must name the modalities)."""
        save_model(self.checkpoint(which), model, {**meta, "epoch": epoch, "policy": which})

    def save_state(self, state: dict) -> None:
        save_trainer_state(self.state_path, state)

    def read_state(self) -> dict:
        st = load_trainer_state(self.state_path)
        if "model" not in st:  # written before the trainer state held the weights
            st["model"] = read_model_state(self.checkpoint("last"))
        return st

    def write_metrics(self, rows: list[dict]) -> None:
        _write_csv(self.path / "metrics.csv", rows)

    def write_summary(self, summary: dict) -> None:
        atomic_write_json(self.path / "summary.json", summary)

    def write_predictions(self, res_last: dict, best: dict) -> None:
        _write_predictions(self.path / "predictions.csv", res_last, best)

    def plot(self, rows: list[dict]) -> None:
        _plot_curve(self.path / "learning_curve.png", rows)

    def resumable(self, log) -> bool:
        """Whether a run folder has a trainer state to resume from; removes temp files of killed writes.
        Without one (the run was stopped before its first epoch was saved) training starts over, and says so."""
        for tmp in self.checkpoints.glob(".*"):  # atomic_path's temp files: .NAME.XXXX.SUFFIX
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
        if self.state_path.is_file():
            return True
        log(f"{self.checkpoints}: no trainer state (the run stopped before its first epoch was saved): starting at epoch 1")
        return False


def stage_checkpoint(sub_cfg: TrainConfig, path, train_fn, log, what: str, which: str = "last") -> dict:
    """A run inside a run (PAMFN's stage 1, LMAC-Net's per-modality pretraining): trained into `path` by `train_fn`
    unless it finished there already, resumed when it was cut short. Returns the tensors of its `which` checkpoint."""
    folder = RunFolder(path)
    if not (folder.path / "summary.json").is_file():
        again = folder.has_run()
        log(f"{what} -> {folder.path}" + (" (resuming)" if again else ""))
        train_fn(sub_cfg, folder.path, resume=again, log=log)
    return read_model_state(folder.checkpoint(which))


def _write_csv(path, rows: list[dict]) -> None:
    if not rows:
        return
    buf = io.StringIO()
    fields = list(rows[0])
    for r in rows[1:]:
        fields += [k for k in r if k not in fields]
    w = csv.DictWriter(buf, fieldnames=fields)
    w.writeheader()
    for r in rows:
        w.writerow({k: (f"{v:.8g}" if isinstance(v, float) else v) for k, v in r.items()})
    atomic_write_text(path, buf.getvalue())


def _plot_curve(path, rows: list[dict]) -> None:
    """learning_curve.png. A bare matplotlib Figure with a fixed layout and fixed legend corners:
    pyplot, tight_layout (a second draw) and legend(loc="best") tripled its cost (0.5 s -> 0.18 s a
    run; every run of a benchmark and of the test suite pays it)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogFormatter


    ep = [r["epoch"] for r in rows]
    fig = Figure(figsize=(10, 3.5), dpi=90)
    ax = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.15, top=0.95, wspace=0.24)
    ax[0].plot(ep, [r["train_total"] for r in rows], label="train loss")
    ax[0].set_xlabel("epoch"); ax[0].set_ylabel("loss"); ax[0].set_yscale("log"); ax[0].legend(loc="upper right")
    ax[0].yaxis.set_major_formatter(LogFormatter())  # plain "0.1" labels: mathtext ("$10^{-1}$") was half
    ax[0].yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))  # the plot's cost
    ax[1].plot(ep, [r["test_srcc"] for r in rows], label="test rho")
    if "val_srcc" in rows[0]:
        ax[1].plot(ep, [r["val_srcc"] for r in rows], label="val rho")
    ax[1].set_xlabel("epoch"); ax[1].set_ylabel("Spearman rho"); ax[1].legend(loc="lower right")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)


def _write_predictions(path, res_last: dict, best: dict) -> None:
    if "score_keys" in res_last:
        return _write_predictions_multi(path, res_last, best)
    rows = []
    for i, vid in enumerate(res_last["video_id"]):
        r = {"video_id": vid, "true_score": float(res_last["true"][i]), "pred_last": float(res_last["pred"][i])}
        for policy in ("test", "val"):
            if best[policy]["res"] is not None:
                r[f"pred_best_{policy}"] = float(best[policy]["res"]["pred"][i])
        for j, k in enumerate(res_last.get("part_keys", ())):  # a task with parts: each at the last epoch
            r[f"true_{k}"] = float(res_last["true_parts"][i][j])
            r[f"pred_last_{k}"] = float(res_last["parts"][i][j])
        if "stage_scores" in res_last:
            for k, (s, w) in enumerate(zip(res_last["stage_scores"][i], res_last["stage_weights"][i])):
                r[f"stage{k + 1}_score"] = float(s)
                r[f"stage{k + 1}_weight"] = float(w)
        rows.append(r)
    _write_csv(path, rows)


def _write_predictions_multi(path, res_last: dict, best: dict) -> None:
    """A multi-score run: true_K, pred_last_K, pred_best_test_K, pred_best_val_K per score K, and the stage
    scores per score (stage1_K_score) with the stage weights."""
    rows, keys = [], res_last["score_keys"]
    for i, vid in enumerate(res_last["video_id"]):
        r = {"video_id": vid}
        for j, k in enumerate(keys):
            r[f"true_{k}"] = float(res_last["true"][i][j])
            r[f"pred_last_{k}"] = float(res_last["pred"][i][j])
            for policy in ("test", "val"):
                if best[policy]["res"] is not None:
                    r[f"pred_best_{policy}_{k}"] = float(best[policy]["res"]["pred"][i][j])
        if "stage_scores" in res_last:
            for st, (s, w) in enumerate(zip(res_last["stage_scores"][i], res_last["stage_weights"][i])):
                for j, k in enumerate(keys):
                    r[f"stage{st + 1}_{k}_score"] = float(s[j])
                r[f"stage{st + 1}_weight"] = float(w)
        rows.append(r)
    _write_csv(path, rows)
