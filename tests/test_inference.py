"""The inference package: its schema follows the result dataclasses, and one provenance comparison serves
predict (features against a run) and extract (features joining a folder)."""
from dataclasses import fields

from lmac.inference import Prediction, Stage, feature_mismatch, manifest_differences
from lmac.inference.results import _SPAN, _STAGE, _TOP, Span


def test_the_json_schema_is_derived_from_the_dataclasses():
    assert set(_TOP) == {"schema", "version", *(f.name for f in fields(Prediction))}
    assert set(_STAGE) == {f.name for f in fields(Stage)} and set(_SPAN) == {f.name for f in fields(Span)}
    assert type(None) in _TOP["preset"] and str in _TOP["preset"]  # `str | None`
    assert float in _STAGE["score"] and int in _STAGE["score"] and type(None) in _STAGE["center_gap_s"]
    assert _TOP["stages"] == (list,) and _TOP["attention"] == (dict,)


INFO = {"preset": "offline", "settings": {"crop": 224, "fps": 25},
        "extractors": {"rgb": {"extractor": "i3d", "weights": {"sha256": "aa" * 32}},
                       "audio": {"extractor": "musicnn", "weights": {"sha256": "bb" * 32}}}}


def test_one_provenance_comparison_for_predict_and_extract():
    other = {**INFO, "settings": {"crop": 64, "fps": 25},
             "extractors": {**INFO["extractors"], "audio": {"extractor": "musicnn", "weights": {"sha256": "cc" * 32}}}}
    run_side = feature_mismatch(INFO, {"rgb": 1024, "audio": 200}, other, {"rgb": 1024, "audio": 200})
    folder_side = manifest_differences(INFO, other)
    assert run_side == ["extraction settings crop 64 (run: 224)", "audio weights sha256 cccccccccccc (run: bbbbbbbbbbbb)"]
    assert folder_side == [d.replace("(run:", "(existing:") for d in run_side]
    assert manifest_differences(INFO, {**INFO, "preset": "fast"}) == ["preset 'fast' (existing: 'offline')"]
    assert manifest_differences(INFO, INFO) == [] and manifest_differences({}, INFO) == []


def test_inference_does_not_import_the_trainer():
    import subprocess
    import sys

    code = ("import sys, lmac.inference, lmac.training.run; "
            "print('lmac.training.trainer' in sys.modules, 'torch.optim' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "False"
