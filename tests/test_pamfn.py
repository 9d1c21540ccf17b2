"""PAMFN in the framework: one `lmac train --model pamfn` runs both stages, as its authors' code does.

Stage 1 trains one branch per modality (SGD, lr 1e-2) into OUT/stage1/<modality>; stage 2 starts from
those branches, keeps RGB and flow frozen, fine-tunes audio, and trains the fusion with AdamW (head
lr x 0.1). Evaluation is deterministic (the policy's arg-max), and an interrupted run resumes to
the uninterrupted result.
"""
from __future__ import annotations

import csv
import json
import shutil

import pytest
import torch
import yaml

import lmac
from lmac.cli.main import main
from lmac.config import TrainConfig
from lmac.models import count_parameters, create_model
from lmac.training.checkpoints import read_model_state
from lmac.training.trainer import _optimizer, train

from small_models import narrow

REAL = {"rgb": 1024, "flow": 1024, "audio": 768}


def _cfg(tiny_synth, **kw) -> TrainConfig:
    return TrainConfig(task="rg_hoop", model="pamfn", model_args=narrow("pamfn"), features=str(tiny_synth / "features"),
                       labels=str(tiny_synth), epochs=2, batch_size=8, window=16, progress=False, device="cpu", **kw)


@pytest.fixture(scope="module")
def run(tiny_synth, tmp_path_factory):
    out = tmp_path_factory.mktemp("pamfn") / "run"
    args = ["train", "--task", "hoop", "--model", "pamfn", "--features", str(tiny_synth / "features"),
            "--labels", str(tiny_synth), "--epochs", "2", "--batch-size", "8", "--window", "16", "--device", "cpu",
            "--no-progress", *[f"--set={k}={v}" for k, v in narrow("pamfn").items()], "--out", str(out)]
    assert main(args) == 0
    return out


def test_parameter_count_at_the_real_dims():
    """The paper's 18.06 M is the authors' K=6, fc_r=1 configuration, stage-1 branches included (their
    count also holds six never-used LayerNorms, 3072 parameters, which we leave out)."""
    assert count_parameters(create_model("pamfn", REAL, K=6, fc_reduction=1)) == 18_054_733
    assert count_parameters(create_model("pamfn", REAL)) == 22_711_421  # default: their RG config, K=10, fc_r=2
    assert count_parameters(create_model("pamfn_branch", {"rgb": 1024})) == 1_842_177


def test_one_command_runs_both_stages_with_their_recipes(run):
    for mod in ("rgb", "flow", "audio"):
        sub = run / "stage1" / mod
        assert (sub / "summary.json").is_file() and (sub / "checkpoints" / "best_val.safetensors").is_file()
        cfg = yaml.safe_load((sub / "config.yaml").read_text())
        assert cfg["model"] == "pamfn_branch" and cfg["modalities"] == [mod]
        assert (cfg["optimizer"], cfg["lr"], cfg["warmup_epochs"], cfg["weight_decay"]) == ("sgd", 0.01, 0, 1e-4)
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert (cfg["optimizer"], cfg["lr"], cfg["warmup_epochs"], cfg["weight_decay"], cfg["grad_clip"]) == \
        ("adamw", 5e-4, 0, 0.01, 2.0)
    assert cfg["dropout"] is None  # pamfn has no `dropout` option (its dropouts are model options)
    assert None not in [v for k, v in cfg.items() if k != "dropout"]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["model"] == "pamfn" and summary["epochs"] == 2


def test_stage2_starts_from_stage1_rgb_flow_frozen_audio_tuned(run):
    final = read_model_state(run / "checkpoints" / "last.safetensors")
    for mod, frozen in (("rgb", True), ("flow", True), ("audio", False)):
        start = read_model_state(run / "stage1" / mod / "checkpoints" / "best_val.safetensors")
        weights = [k for k in start if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
        same = [torch.equal(start[k], final[f"branches.{mod}.{k}"]) for k in weights]
        if frozen:  # trained weights untouched (batch-norm statistics still move in training mode, as the authors')
            assert all(same), mod
        else:
            assert not all(same), mod
        heads = [k for k in weights if k.startswith("head.")]
        assert heads and all(torch.equal(start[k], final[f"branches.{mod}.{k}"]) for k in heads)  # never in the loss


def test_head_lr_is_a_tenth_and_frozen_branches_are_not_optimised(tiny_synth):
    model = create_model("pamfn", {"rgb": 24, "flow": 20, "audio": 12}, **narrow("pamfn"))
    cfg = TrainConfig(optimizer="adamw", weight_decay=0.01)
    opt = _optimizer(model, cfg, 5e-4)
    lr_of = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    for name, p in model.named_parameters():
        if name.startswith(("branches.rgb.", "branches.flow.")) or ".head." in name:
            assert id(p) not in lr_of, name
        else:
            assert lr_of[id(p)] == pytest.approx(5e-5 if name.startswith("head.") else 5e-4), name
    assert type(_optimizer(model, TrainConfig(optimizer="sgd", weight_decay=0.0), 1e-2)).__name__ == "SGD"


def test_evaluation_is_deterministic_and_reproduces_predictions_csv(run, tiny_synth):
    rows = {r["video_id"]: float(r["pred_last"]) for r in csv.DictReader(open(run / "predictions.csv"))}
    predictor = lmac.load(run, checkpoint="last", device="cpu")
    for vid, want in rows.items():
        a = predictor.predict_features(tiny_synth / "features", video_id=vid).score
        b = predictor.predict_features(tiny_synth / "features", video_id=vid).score
        assert a == b and a == pytest.approx(want, rel=1e-5, abs=1e-5), vid


def test_policy_samples_in_training_and_takes_the_argmax_in_evaluation():
    torch.manual_seed(0)
    dims = {"rgb": 12, "flow": 10, "audio": 8}
    model = create_model("pamfn", dims, **narrow("pamfn"))
    feats = {m: torch.randn(4, 24, d) for m, d in dims.items()}
    mask = torch.ones(4, 24, dtype=torch.bool)
    with torch.no_grad():
        model.eval()
        e1, e2 = model(feats, mask), model(feats, mask)
        model.train()
        t1, t2 = model(feats, mask), model(feats, mask)
    assert torch.equal(e1["score"], e2["score"])
    assert all(torch.equal(a, b) for a, b in zip(e1["fusion_choice"], e2["fusion_choice"]))
    assert not all(torch.equal(a, b) for a, b in zip(t1["fusion_choice"], t2["fusion_choice"]))
    for choice in e1["fusion_choice"]:  # one net chosen per time step
        assert torch.equal(choice.sum(1), torch.ones_like(choice.sum(1)))


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(tiny_synth, run, tmp_path):
    cut = tmp_path / "cut"
    shutil.copytree(run / "stage1", cut / "stage1")  # stage 1 done: stage 2 draws the same as in one go

    def crash(epoch):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth, save_every=0), cut, log=lambda m: None, on_epoch_end=crash)
    (cut / "stage1" / "audio" / "summary.json").unlink()  # as if stage 1's audio run had been cut short too
    train(_cfg(tiny_synth), cut, resume=True, log=lambda m: None)
    a = [r for r in csv.DictReader(open(run / "metrics.csv"))]
    b = [r for r in csv.DictReader(open(cut / "metrics.csv"))]
    assert [r["test_srcc"] for r in a] == [r["test_srcc"] for r in b]
    assert [r["train_total"] for r in a] == [r["train_total"] for r in b]


def test_single_modality_branch_needs_one_modality(tiny_synth, tmp_path, capsys):
    with pytest.raises(ValueError, match="models one modality"):
        create_model("pamfn_branch", {"rgb": 8, "audio": 4})
