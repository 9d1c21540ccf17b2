import json
from pathlib import Path

import pytest

from lmac.cli.main import main
from lmac.config import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load_and_name_a_real_task_and_model(path):
    from lmac.data.tasks import get_task
    from lmac.models import list_models

    from lmac.training.trainer import resolve_config

    cfg = load_config(path)
    task = get_task(cfg.task)
    assert cfg.model in list_models()
    # the recipe is held once, by the task: a config file does not repeat it, and resolves to it
    assert cfg.lr is None and cfg.dropout is None and cfg.window is None
    r = resolve_config(cfg)
    if cfg.task.startswith("rg"):
        assert r.lr == pytest.approx(9e-4) and r.dropout == pytest.approx(0.1)
    else:
        assert r.lr == pytest.approx(9e-5) and r.dropout == pytest.approx(0.2)
    assert r.window == task.window and r.batch_size == 32 and r.weight_decay == pytest.approx(1e-4)


def test_config_errors_name_key_and_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: rg_ball\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown config key\(s\) \['learning_rate'\]"):
        load_config(bad)
    bad.write_text("epochs: ten\n")
    with pytest.raises(ValueError, match=r"bad.yaml: 'epochs' must be an integer"):
        load_config(bad)


def test_synth_train_benchmark_through_the_cli(tmp_path, capsys):
    data = tmp_path / "synth"
    assert main(["synth", str(data), "--train", "10", "--test", "6", "--classes", "Ball,Hoop", "--dims", "12,10,8",
                 "--t-min", "16", "--t-max", "20", "--no-progress"]) == 0
    run = tmp_path / "run"
    assert main(["train", "--task", "hoop", "--model", "concat", "--features", str(data / "features"), "--labels",
                 str(data), "--epochs", "2", "--batch-size", "4", "--window", "12", "--no-progress", "--device", "cpu",
                 "--out", str(run)]) == 0
    assert "test rho last" in capsys.readouterr().out
    assert json.loads((run / "summary.json").read_text())["task"] == "rg_hoop"
    # the same folder again is refused with one line, not a traceback
    assert main(["train", "--task", "hoop", "--model", "concat", "--features", str(data / "features"), "--labels",
                 str(data), "--epochs", "1", "--no-progress", "--out", str(run)]) == 1
    assert "already holds a run" in capsys.readouterr().err
    bench = tmp_path / "bench"
    assert main(["benchmark", "--suite", "synth", "--tasks", "rg_ball,rg_hoop", "--models", "concat,concat_rgb",
                 "--seeds", "0,1", "--features", str(data / "features"), "--labels", str(data), "--epochs", "1",
                 "--batch-size", "4", "--window", "12", "--no-progress", "--out", str(bench)]) == 0
    md = (bench / "results.md").read_text()
    assert "| concat_rgb |" in md and "Fisher-z avg" in md and "best test epoch (peers' protocol)" in md
    assert len(list((bench / "runs").iterdir())) == 8


def test_synth_benchmark_without_features_draws_fresh_data_per_seed(tmp_path, capsys):
    bench = tmp_path / "bench"
    args = ["benchmark", "--suite", "synth", "--tasks", "rg_ball", "--models", "concat", "--seeds", "3,4",
            "--synth-train", "8", "--synth-test", "5", "--synth-dims", "12,10,8", "--epochs", "1", "--batch-size", "4",
            "--no-progress", "--device", "cpu", "--out", str(bench)]
    assert main(args) == 0
    labels = {}
    for seed in (3, 4):
        data = bench / "data" / f"seed{seed}"
        meta = json.loads((data / "synth.json").read_text())
        assert (meta["seed"], meta["n_train"], meta["n_test"], meta["dims"]) == (seed, 8, 5, {"rgb": 12, "flow": 10, "audio": 8})
        labels[seed] = (data / "test.txt").read_text()
        cfg = load_config(bench / "runs" / f"rg_ball-concat-s{seed}" / "config.yaml")
        assert (cfg.labels, cfg.features, cfg.seed) == (str(data), str(data / "features"), seed)
    assert labels[3] != labels[4]  # each seed its own draw of the data
    summary = bench / "runs" / "rg_ball-concat-s3" / "summary.json"
    before = summary.stat().st_mtime_ns
    assert main(args) == 0  # finished runs and their data are reused, not redrawn
    assert summary.stat().st_mtime_ns == before
    # asking for other data in the same folder is refused, naming the folder and what differs
    capsys.readouterr()
    assert main(args[:args.index("--synth-test") + 1] + ["6"] + args[args.index("--synth-test") + 2:]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed3" in err[0] and "n_test" in err[0]


def test_benchmark_jobs_in_worker_processes_match_one_process(tmp_path, capsys):
    """--jobs 2 trains the jobs in two spawned processes (fresh data per seed, so the data folder travels to
    them); each run is the run one process makes (one torch thread in both)."""
    import torch

    from lmac.cli.benchmark import parse_jobs

    args = ["benchmark", "--suite", "synth", "--tasks", "rg_ball", "--models", "concat,gdlt", "--seeds", "3",
            "--synth-train", "8", "--synth-test", "5", "--synth-dims", "12,10,8", "--epochs", "1", "--batch-size", "4",
            "--no-progress", "--device", "cpu"]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(args + ["--out", str(tmp_path / "one")]) == 0
        assert main(args + ["--out", str(tmp_path / "two"), "--jobs", "2"]) == 0
    finally:
        torch.set_num_threads(threads)
    assert "2 job processes, 1 torch thread(s) each" in capsys.readouterr().out
    for model in ("concat", "gdlt"):
        a, b = (json.loads((tmp_path / d / "runs" / f"rg_ball-{model}-s3" / "summary.json").read_text())
                for d in ("one", "two"))
        assert a["test_srcc_last"] == b["test_srcc_last"] and a["test_mse"] == b["test_mse"], model
    assert parse_jobs("3", "cpu", n_jobs=2) == 2 and parse_jobs("auto", "cpu", n_jobs=1) == 1
    for bad in ("0", "two"):
        with pytest.raises(ValueError, match="--jobs takes a positive number or auto"):
            parse_jobs(bad, "cpu", n_jobs=4)


def test_rg_benchmark_without_features_is_one_line(tmp_path, capsys):
    assert main(["benchmark", "--suite", "rg", "--models", "concat", "--no-progress", "--out", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--features is required for the rg suite" in err[0]
    assert main(["benchmark", "--suite", "synth", "--labels", str(tmp_path), "--no-progress", "--out", str(tmp_path / "b")]) == 1
    assert "--labels without --features" in capsys.readouterr().err


def test_missing_features_folder_is_one_line(tmp_path, capsys):
    assert main(["train", "--task", "ball", "--features", str(tmp_path / "nope"), "--out", str(tmp_path / "r"),
                 "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]


def test_every_trainconfig_field_is_a_flag_generated_from_the_dataclass(capsys):
    """The flags come from TrainConfig's fields (their metadata gives help and choices), so a new field is one
    line in lmac/config.py; grad_clip, warmup_epochs and eval_batch_size included."""
    import dataclasses

    import pytest as _pytest

    from lmac.cli.main import main as _main
    from lmac.config import TrainConfig

    with _pytest.raises(SystemExit):
        _main(["train", "--help"])
    text = capsys.readouterr().out
    for f in dataclasses.fields(TrainConfig):
        if f.name == "model_args":
            continue
        flag = "--no-progress" if f.name == "progress" else "--" + f.name.replace("_", "-")
        assert flag in text, flag
        assert f.metadata.get("help"), f.name
    assert "{auto,pamfn,gdlt,native," in text and "logo" in text  # dataset layouts from the registry
