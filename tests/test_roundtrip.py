"""A trained run scores its own test videos as training did: every registered model, through
`lmac.load(run)` and through `lmac predict --features`, against the run's predictions.csv."""
from __future__ import annotations

import csv
import json

import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

import lmac
from lmac.cli.main import main
from lmac.config import TrainConfig
from lmac.models import MODELS, list_models
from lmac.training.trainer import train

from small_models import narrow


def _train(tiny_synth, out, model, **kw):
    if MODELS.info(model).get("single_modality"):
        kw.setdefault("modalities", ["rgb"])
    cfg = TrainConfig(task="rg_hoop", model=model, model_args=narrow(model), features=str(tiny_synth / "features"),
                      labels=str(tiny_synth), epochs=2, batch_size=8, window=16, progress=False, device="cpu", **kw)
    train(cfg, out, log=lambda m: None)
    return {r["video_id"]: r for r in csv.DictReader(open(out / "predictions.csv"))}


@pytest.mark.parametrize("model", list_models())
def test_loaded_run_reproduces_its_predictions_csv(model, tiny_synth, tmp_path):
    run = tmp_path / "run"
    rows = _train(tiny_synth, run, model)
    feats = tiny_synth / "features"
    for which, column in (("last", "pred_last"), ("best_val", "pred_best_val"), ("best_test", "pred_best_test")):
        predictor = lmac.load(run, checkpoint=which, device="cpu")
        for vid, row in rows.items():
            got = predictor.predict_features(feats, video_id=vid).score
            assert got == pytest.approx(float(row[column]), rel=1e-5, abs=1e-5), (which, vid)
    # the CLI, on every test video at once
    out = tmp_path / "pred"
    assert main(["predict", *rows, "--run", str(run), "--features", str(feats), "--out", str(out),
                 "--no-report", "--no-progress", "--device", "cpu"]) == 0
    for vid, row in rows.items():
        score = json.loads((out / vid / "prediction.json").read_text())["score"]
        assert score == pytest.approx(float(row["pred_last"]), rel=1e-5, abs=1e-5), vid


def test_modality_order_is_recorded_and_a_user_order_round_trips(tiny_synth, tmp_path):
    run = tmp_path / "run"
    rows = _train(tiny_synth, run, "lmac", modalities=["audio", "rgb"])
    with safe_open(str(run / "checkpoints" / "last.safetensors"), framework="pt") as f:
        meta = json.loads(f.metadata()["lmac"])
    assert meta["modalities"] == ["audio", "rgb"]
    predictor = lmac.load(run, device="cpu")
    assert predictor.model.modalities == ("audio", "rgb")
    for vid, row in rows.items():
        got = predictor.predict_features(tiny_synth / "features", video_id=vid).score
        assert got == pytest.approx(float(row["pred_last"]), rel=1e-5, abs=1e-5), vid


def test_checkpoints_written_before_the_order_was_recorded_load_in_training_order(tiny_synth, tmp_path):
    """Old checkpoints have no `modalities` and their dims were saved sorted (audio, flow, rgb); the
    model was trained in the store's order, rgb, flow, audio, which is what loading must use."""
    run = tmp_path / "run"
    rows = _train(tiny_synth, run, "lmac")
    path = run / "checkpoints" / "last.safetensors"
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["lmac"])
    meta.pop("modalities")
    save_file(load_file(str(path)), str(path), metadata={"lmac": json.dumps(meta, sort_keys=True)})
    predictor = lmac.load(run, device="cpu")
    assert predictor.model.modalities == ("rgb", "flow", "audio")
    vid, row = next(iter(rows.items()))
    assert predictor.predict_features(tiny_synth / "features", video_id=vid).score == pytest.approx(
        float(row["pred_last"]), rel=1e-5, abs=1e-5)
