"""Each finding of the bad-input pass (issue 16): the command refuses in one line, or does the right thing."""
from __future__ import annotations

import csv
import json
import os
import shutil

import pytest

from lmac.cli.main import main
from lmac.config import TrainConfig
from lmac.training.trainer import train
from small_models import narrow

SMALL = [f"--set={k}={v}" for k, v in narrow("lmac").items()]


def _one_line_error(capsys, *parts):
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for p in parts:
        assert p in err, err
    return err


@pytest.fixture
def data(tiny_synth, tmp_path, monkeypatch):
    """A copy of the tiny benchmark at a relative path (cwd = tmp_path)."""
    shutil.copytree(tiny_synth, tmp_path / "d")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "d"


def _train_args(out, epochs=2):
    return ["train", "--task", "hoop", "--features", "d/features", "--labels", "d", "--epochs", str(epochs),
            "--batch-size", "8", "--window", "16", "--device", "cpu", "--no-progress", "--model", "lmac_aligned_md", *SMALL,
            "--out", str(out)]


def _cut_after(cfg_epochs, out, data_dir, cut=1):
    def crash(epoch):
        if epoch == cut:
            raise KeyboardInterrupt

    cfg = TrainConfig(task="rg_hoop", model="lmac", model_args=narrow("lmac"),
                      features="d/features", labels="d", epochs=cfg_epochs, batch_size=8, window=16, progress=False,
                      device="cpu", save_every=0)  # a resume point every epoch
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out, log=lambda m: None, on_epoch_end=crash)


def test_config_yaml_is_resolved_and_resume_finds_relative_inputs(data, tmp_path, capsys, monkeypatch):
    import yaml

    assert main(_train_args("runs/a", epochs=1)) == 0
    saved = yaml.safe_load((tmp_path / "runs/a/config.yaml").read_text())
    assert saved["features"] == str(data / "features") and saved["labels"] == str(data)  # absolute
    assert saved["task"] == "rg_hoop" and saved["lr"] == pytest.approx(9e-4) and saved["window"] == 16
    assert saved["dropout"] == pytest.approx(0.1) and saved["modalities"] == ["rgb", "flow", "audio"]
    assert None not in saved.values()
    capsys.readouterr()
    monkeypatch.chdir(data)  # resume from elsewhere: the inputs are found
    assert main(["train", "--out", str(tmp_path / "runs/a"), "--resume", "--epochs", "2", "--no-progress"]) == 0
    # the data moved: --features and --labels given again are used
    shutil.move(str(data), str(tmp_path / "moved"))
    assert main(["train", "--out", str(tmp_path / "runs/a"), "--resume", "--epochs", "3", "--no-progress",
                 "--features", str(tmp_path / "moved" / "features"), "--labels", str(tmp_path / "moved")]) == 0
    assert len(list(csv.DictReader(open(tmp_path / "runs/a/metrics.csv")))) == 3


def test_resume_without_epochs_continues_to_the_runs_own_epochs(data, tmp_path, capsys):
    _cut_after(3, tmp_path / "run", data)
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--no-progress"]) == 0
    rows = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]  # not 100
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs"] == 3
    capsys.readouterr()
    assert main(["train", "--out", str(tmp_path / "run"), "--resume", "--lr", "0.1"]) == 1
    _one_line_error(capsys, "cannot change --lr")


def test_resume_survives_a_truncated_checkpoint_and_a_killed_state_write(data, tmp_path, capsys):
    run = tmp_path / "run"
    _cut_after(3, run, data, cut=2)
    ck = run / "checkpoints"
    (ck / "last.safetensors").write_bytes((ck / "last.safetensors").read_bytes()[:100])  # truncated
    (ck / ".trainer_last.pt.abc123.pt").write_bytes(b"")  # kill -9 during the next state write
    assert main(["train", "--out", str(run), "--resume", "--no-progress"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in csv.DictReader(open(run / "metrics.csv"))] == ["1", "2", "3"]
    assert not [p for p in ck.iterdir() if p.name.startswith(".")]
    # predict on a cut checkpoint: one line
    (ck / "best_val.safetensors").write_bytes(b"")
    assert main(["predict", "--run", str(run), "--checkpoint", "best_val", "--features", "d/features"]) == 1
    _one_line_error(capsys, "best_val.safetensors")
    # an unreadable trainer state: one line, not a silent restart
    (ck / "trainer_last.pt").write_bytes(b"\0" * 10)
    assert main(["train", "--out", str(run), "--resume", "--epochs", "4", "--no-progress"]) == 1
    _one_line_error(capsys, "trainer_last.pt", "unreadable trainer state")


@pytest.mark.parametrize("item,expect", [("foo=1", "has no option(s) foo; valid: "),
                                         ("d_model=abc", "'d_model' of 'lmac_aligned_md' must be an integer"),
                                         ("learn_tau=maybe", "'learn_tau' of 'lmac_aligned_md' must be true or false"),
                                         ("d_model=30", "not divisible by num_heads"),
                                         ("noequals", "--set expects KEY=VALUE")])
def test_set_is_checked_against_the_models_config(data, tmp_path, capsys, item, expect):
    assert main([*_train_args(tmp_path / "r"), "--set", item]) == 1
    _one_line_error(capsys, expect)
    assert not (tmp_path / "r").exists()


def test_help_examples_are_valid_and_lmac_models_lists_the_registry(capsys):
    import re

    from lmac.cli.main import build_parser
    from lmac.models import list_models
    from lmac.models._builder import check_model_args

    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    examples = re.findall(r"--set\s+([a-z_]+)=(\w+)", text)
    assert examples
    for key, value in examples:
        check_model_args("lmac", {key: int(value) if value.isdigit() else value})
    assert "list-models" not in text and "lmac models" in text
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in list_models())
    assert main(["models", "lmac"]) == 0 and "d_model" in capsys.readouterr().out
    assert main(["models", "lmca"]) == 1
    _one_line_error(capsys, "Did you mean 'lmac'")


def test_yaml_lists_and_model_options_are_type_checked(tmp_path):
    from lmac.config import load_config

    p = tmp_path / "c.yaml"
    p.write_text("modalities: rgb\n")
    assert load_config(p).modalities == ["rgb"]  # not ['r', 'g', 'b']
    p.write_text("modalities: [rgb, 3]\n")
    with pytest.raises(ValueError, match="must be a list of names"):
        load_config(p)
    p.write_text("model: lmac\nmodel_args: {d_model: big}\n")
    with pytest.raises(ValueError, match=r"c.yaml: model option 'd_model' of 'lmac' must be an integer"):
        load_config(p)


def test_synth_refuses_a_file_and_a_non_empty_folder(tmp_path, capsys):
    args = ["--train", "2", "--test", "2", "--classes", "Ball", "--dims", "4,4,4", "--no-progress"]
    assert main(["synth", str(tmp_path / "s"), *args]) == 0
    capsys.readouterr()
    assert main(["synth", str(tmp_path / "s"), *args, "--dims", "5,5,5"]) == 1
    _one_line_error(capsys, "is not empty")
    (tmp_path / "f").write_text("x")
    assert main(["synth", str(tmp_path / "f"), *args]) == 1
    _one_line_error(capsys, "is a file")


def test_a_video_in_both_splits_is_refused(data, tmp_path, capsys):
    test_line = (data / "test.txt").read_text().splitlines()[1]
    with open(data / "train.txt", "a") as f:
        f.write(test_line + "\n")
    assert main(_train_args(tmp_path / "r")) == 1
    _one_line_error(capsys, "both list", test_line.split()[0], "leaks the test set")


def test_missing_features_are_counted_over_both_splits_with_a_labels_hint(data, tmp_path, capsys):
    hoop = sorted(p for p in (data / "features").glob("Hoop_*.safetensors"))
    for p in hoop[:3]:
        p.unlink()
    assert main(_train_args(tmp_path / "r")) == 1
    _one_line_error(capsys, "3 of the 32 labelled Hoop videos (train and test) have no features")
    assert main([*_train_args(tmp_path / "r2")[:5], "--epochs", "1", "--out", str(tmp_path / "r2")]) == 1  # no --labels
    _one_line_error(capsys, "pass --labels")


def test_run_folder_files_are_readable_by_the_group_as_umask_allows(data, tmp_path):
    assert main(_train_args(tmp_path / "r", epochs=1)) == 0
    want = 0o666 & ~_umask()
    for name in ("config.yaml", "summary.json", "metrics.csv", "checkpoints/last.safetensors",
                 "checkpoints/trainer_last.pt", "learning_curve.png"):
        assert os.stat(tmp_path / "r" / name).st_mode & 0o777 == want, name


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_print_config_is_the_resolved_config(data, capsys):
    assert main(["train", "--task", "ball", "--features", "d/features", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "task: rg_ball" in out and "lr: 0.0009" in out and "window: 70" in out and "null" not in out.split("modalities")[0]
    assert "model: lmac_ensemble\n" in out  # the default model (issue 17): not the paper's lmac


def test_tiny_validation_split_is_warned(data, tmp_path, capsys):
    assert main([*_train_args(tmp_path / "r", epochs=1), "--val-fraction", "0.05"]) == 0
    assert "validation split has 2 videos" in capsys.readouterr().out


@pytest.mark.parametrize("cmd", ["benchmark", "demo"])
def test_models_and_seeds_are_checked_before_any_data_is_generated(tmp_path, capsys, cmd):
    extra = ["--suite", "synth"] if cmd == "benchmark" else []
    assert main([cmd, *extra, "--models", "lmac,nope", "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys, "--models", "unknown model 'nope'")
    assert main([cmd, *extra, "--models", "lmac", "--seeds", "x", "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys, "--seeds takes comma-separated integers")
    assert not (tmp_path / "o").exists()


def test_predict_features_scores_the_runs_class_only(data, tmp_path, capsys):
    assert main(_train_args(tmp_path / "r", epochs=1)) == 0
    capsys.readouterr()
    assert main(["predict", "--run", str(tmp_path / "r"), "--features", "d/features", "--out", str(tmp_path / "p"),
                 "--no-report", "--no-progress", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "scoring the 32 Hoop videos" in err and "32 of other classes skipped" in err
    assert sorted(p.name.split("_")[0] for p in (tmp_path / "p").iterdir() if p.is_dir()) == ["Hoop"] * 32


def test_two_extracts_into_one_folder_share_the_work(tmp_path):
    """A live process's lock makes the other run skip that video; a dead process's lock is taken over."""
    import subprocess
    import sys

    from lmac.features.extract import _claim

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / ".v1.lock").write_text(str(proc.pid))
        assert _claim(tmp_path, "v1") is None  # held by a live process
    finally:
        proc.kill()
        proc.wait()
    lock = _claim(tmp_path, "v1")  # its process died: taken over
    assert lock is not None and lock.read_text() == str(os.getpid())
    (tmp_path / "v2.safetensors").write_bytes(b"")
    assert _claim(tmp_path, "v2") is None  # finished meanwhile


@pytest.mark.parametrize("flag,value,expect", [("--epochs", "0", "epochs must be >= 1"),
                                               ("--batch-size", "0", "batch_size must be >= 1"),
                                               ("--val-fraction", "1", "val_fraction must be in [0, 1)"),
                                               ("--lr", "-1", "lr must be > 0")])
def test_out_of_range_numbers_are_refused_before_any_work(data, tmp_path, capsys, flag, value, expect):
    assert main([*_train_args(tmp_path / "r"), flag, value]) == 1
    _one_line_error(capsys, expect)
    assert not (tmp_path / "r").exists()


def test_out_that_is_a_file_is_refused(data, tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    assert main(_train_args(tmp_path / "afile")) == 1
    _one_line_error(capsys, "is a file; --out names the run folder")


def test_a_parts_task_refuses_a_one_score_model_and_labels_without_the_parts(data, capsys):
    """rg_hoop_parts trains on D, E and P: pamfn (one score) is refused in one line, and so is a label file
    that has no Penalty column."""
    args = _train_args("runs/p", epochs=1)
    args[args.index("hoop")] = "rg_hoop_parts"
    args[args.index("lmac_aligned_md")] = "pamfn"
    args = [a for a in args if not a.startswith("--set=")]
    assert main(args) == 1
    _one_line_error(capsys, "rg_hoop_parts predicts 3 parts (difficulty, execution, penalty)", "model pamfn predicts one")
    for split in ("train", "test"):  # drop the Penalty column
        rows = [line.split() for line in (data / f"{split}.txt").read_text().splitlines()]
        col = rows[0].index("Penalty")
        (data / f"{split}.txt").write_text("\n".join(" ".join(r[:col] + r[col + 1:]) for r in rows) + "\n")
    args = _train_args("runs/q", epochs=1)
    args[args.index("hoop")] = "rg_hoop_parts"
    assert main(args) == 1
    _one_line_error(capsys, "labels have no 'penalty' column")
