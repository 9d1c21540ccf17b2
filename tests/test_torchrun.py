"""torchrun training (DDP over gloo) is 1-process training; distributed resume; benchmark and
extraction jobs over ranks, through a real `torchrun --standalone --nproc-per-node 2` job on CPU.

One launch: torchrun and its two ranks cost about 9 s of process start-up here, so every
distributed command runs in one job (tests/torchrun_commands.py), checked against a 1-process
run made under the ranks' thread count, in float64 (tolerance: see `END_TO_END`). LMAC-Net with
dropout 0: dropout masks are drawn per rank. The exact one-process form of the guarantee, for
every model, is in test_distributed.py.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch

from lmac.training.checkpoints import load_trainer_state
from lmac.training.trainer import train

from test_distributed import RUN, SMALL, _cfg

# End to end, two ranks against one process, both in float64. Measured on a 2-core AMD EPYC (Zen 3)
# with this test's run (4 epochs, 12 optimiser steps, small LMAC-Net): the largest relative difference
# of any metric at full precision is 5.6e-16, the same with the reference at 1 or 2 threads (in
# float32 the same runs differ by 3.8e-7, and with the full-size LMAC-Net by up to 1.8e-4: chaotic
# training amplifies the rounding of two half-batch sums). 1e-9 leaves six orders of magnitude for
# other CPUs; a real error, the shards' losses left unweighted, moves the metrics by 1.4e-2.
END_TO_END = dict(rel=1e-9, abs=1e-12)
COMPARED = ("train_total", "train_mse", "train_rank", "train_sparsity", "train_consistency", "val_srcc", "val_mse",
            "test_srcc", "test_mse", "test_rl2", "center_gap", "lr")

def torchrun_script(args: list[str], nproc: int = 2, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)

def _flags(tiny_synth) -> list[str]:
    return ["--task", RUN["task"], "--model", RUN["model"], "--features", str(tiny_synth / "features"),
            "--labels", str(tiny_synth), "--epochs", str(RUN["epochs"]), "--batch-size", str(RUN["batch_size"]),
            "--window", str(RUN["window"]), "--dropout", "0", "--seed", str(RUN["seed"]), "--device", "cpu",
            "--precision", RUN["precision"], *[f"--set={k}={v}" for k, v in SMALL.items()], "--no-progress"]


def _rows(run: Path) -> list[dict]:
    """metrics.csv's rows at full precision (the CSV rounds to 8 digits; the trainer state keeps them exact)."""
    rows = json.loads(load_trainer_state(run / "checkpoints" / "trainer_last.pt")["rows"])
    assert [str(r["epoch"]) for r in rows] == [r["epoch"] for r in csv.DictReader(open(run / "metrics.csv"))]
    return rows


def _assert_same_metrics(a: Path, b: Path) -> float:
    """Every compared metrics.csv value agrees; returns the largest relative difference seen."""
    ra, rb = _rows(a), _rows(b)
    assert [r["epoch"] for r in ra] == [r["epoch"] for r in rb]
    worst = 0.0
    for x, y in zip(ra, rb):
        for key in COMPARED:
            if key not in x:
                continue
            fx, fy = float(x[key]), float(y[key])
            assert fy == pytest.approx(fx, **END_TO_END), (x["epoch"], key, fx, fy)
            worst = max(worst, abs(fx - fy) / max(abs(fx), 1e-12))
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    for key in ("test_srcc_best", "test_srcc_last", "test_srcc_val", "test_mse", "best_epoch_test", "best_epoch_val"):
        assert sb[key] == pytest.approx(sa[key], **END_TO_END), key
    return worst


@pytest.fixture(scope="module")
def single_run(tiny_synth, tmp_path_factory):
    """The 1-process reference run, under the ranks' thread count (torchrun() sets OMP_NUM_THREADS=1)."""
    out = tmp_path_factory.mktemp("single") / "run"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(_cfg(tiny_synth), out, log=lambda m: None)
    finally:
        torch.set_num_threads(threads)
    return out

# ----------------------------------------------------------------------------- the torchrun job
# One launch (torchrun and its two ranks cost about 9 s of process start-up here): a job that runs
# `lmac train` (the end-to-end check against one process) and the other distributed commands
# through the real CLI, in order.
QUICK_EXTRACT = ["--crop", "32", "--resize", "40", "--no-progress"]


@pytest.fixture(scope="module")
def job(tiny_synth, single_run, tmp_path_factory):
    """One torchrun job (2 ranks) running, in order: a train to compare with the 1-process run, a
    train into an existing run (must fail on every rank), the resume of a run cut after epoch 2 by one process, a benchmark that draws fresh
    data, and an extraction that finishes a folder a crash left half done. Returns (folder, per-rank
    results, {step: index})."""
    import shutil

    import media_clips
    from lmac.cli.main import main

    root = tmp_path_factory.mktemp("job")
    setup_start = time.perf_counter()

    def crash(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    cut = root / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth, save_every=0), cut, log=lambda m: None, on_epoch_end=crash)
    assert len(_rows(cut)) == 2

    src = root / "videos"
    src.mkdir()
    for i in range(5):
        media_clips.write_video(src / f"clip{i}.mp4", n_frames=40, size=(48, 40), audio_tone_hz=440, seed=i)
    single = root / "single"  # the reference: one process, every video
    assert main(["extract", str(src), "--out", str(single), *QUICK_EXTRACT]) == 0
    feats = root / "feats"  # what a crash left: features.json, two of five videos, a killed write's temp file
    feats.mkdir()
    for name in ("features.json", "clip0.safetensors", "clip3.safetensors"):
        shutil.copy2(single / name, feats / name)
    (feats / ".clip1.safetensors.x1y2.tmp").write_bytes(b"partial")
    kept = {p.name: p.stat().st_mtime_ns for p in feats.glob("clip*.safetensors")}

    steps = {
        "train": ["train", *_flags(tiny_synth), "--out", str(root / "ddp")],
        "exists": ["train", *_flags(tiny_synth), "--out", str(cut)],
        "resume": ["train", "--out", str(cut), "--resume", "--epochs", str(RUN["epochs"]), "--device", "cpu",
                   "--no-progress"],
        "benchmark": ["benchmark", "--suite", "synth", "--tasks", "rg_ball", "--models", "concat", "--seeds", "0,1,2",
                      "--synth-train", "8", "--synth-test", "5", "--synth-dims", "12,10,8", "--epochs", "1",
                      "--batch-size", "4", "--device", "cpu", "--no-progress", "--out", str(root / "bench")],
        "extract": ["extract", str(src), "--out", str(feats), *QUICK_EXTRACT],
    }
    (root / "commands.json").write_text(json.dumps(list(steps.values())))
    script = Path(__file__).with_name("torchrun_commands.py")
    t0 = time.perf_counter()
    print(f"job setup in this process: {t0 - setup_start:.1f} s")
    res = torchrun_script([str(script), str(root / "commands.json"), str(root)])
    ranks = [json.loads(p.read_text()) if (p := root / f"rank{r}.json").exists() else [] for r in range(2)]
    finished = all(len(r) == len(steps) for r in ranks) and all(
        f"[rank {r}] all steps done" in res.stderr for r in range(2))
    if res.returncode != 0 and finished:
        # Every command ran to its end on both ranks and its results are checked below; only the
        # teardown after the last barrier failed (a rank killed by a signal in torch's gloo shutdown,
        # seen once in CI and not reproduced). Said, not hidden; any failure inside a step still fails.
        warnings.warn(f"torchrun job exited {res.returncode} after every step finished on both ranks:\n"
                      f"{res.stderr[-2000:]}")
    else:
        progress = "\n".join(line for line in res.stderr.splitlines() if line.startswith("[rank "))  # where each rank was
        assert res.returncode == 0, \
            f"torchrun failed ({res.returncode}):\n{progress}\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    print(f"torchrun job: {time.perf_counter() - t0:.1f} s;", ", ".join(
        f"{k} {max(r[i]['seconds'] for r in ranks):.1f} s" for i, k in enumerate(steps)))
    assert all(len(r) == len(steps) for r in ranks), ranks
    return {"root": root, "ranks": ranks, "step": {k: i for i, k in enumerate(steps)}, "single": single,
            "feats": feats, "kept": kept, "cut": cut}


def _step(job, name) -> list[dict]:
    return [r[job["step"][name]] for r in job["ranks"]]


def test_two_process_training_matches_one_process(job, single_run):
    r0, r1 = _step(job, "train")
    assert r0["rc"] == 0 and r1["rc"] == 0, (r0["stderr"][-2000:], r1["stderr"][-2000:])
    assert r0["stdout"].count("test rho last") == 1 and "test rho last" not in r1["stdout"]  # rank 0 alone reports
    assert "distributed: 2 processes (gloo)" in r0["stdout"]
    out = job["root"] / "ddp"
    worst = _assert_same_metrics(single_run, out)
    print(f"largest relative difference, 2 ranks vs 1 process: {worst:.3g}")

    def listing(p):  # rank 0 alone wrote the run folder: the same files as one process, no strays
        return sorted(str(f.relative_to(p)) for f in p.rglob("*"))

    assert listing(out) == listing(single_run)
    env = json.loads((out / "env.json").read_text())
    assert env["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert (out / "train.log").read_text().count("epoch 4:") == 1


def test_an_error_found_by_rank_0_stops_every_rank_with_its_message(job):
    for r in _step(job, "exists"):  # the run folder exists: every rank stops with the message, no hang
        assert r["rc"] == 1 and "already holds a run; use --resume" in r["stderr"], r


def test_two_process_resume_of_an_interrupted_run(job, single_run):
    """A run cut after epoch 2 (one process) continues under torchrun to the uninterrupted result."""
    r0, r1 = _step(job, "resume")
    assert r0["rc"] == 0 and r1["rc"] == 0, (r0["stderr"][-2000:], r1["stderr"][-2000:])
    assert r0["stdout"].count("resuming") == 1 and "resuming" not in r1["stdout"]  # rank 0 speaks for the job
    assert "distributed: 2 processes (gloo)" in r0["stdout"]
    _assert_same_metrics(single_run, job["cut"])


def test_benchmark_draws_fresh_data_once_and_spreads_jobs_over_ranks(job):
    r0, r1 = _step(job, "benchmark")
    assert r0["rc"] == 0 and r1["rc"] == 0, (r0["stderr"][-2000:], r1["stderr"][-2000:])
    # three jobs: rank 0 trains two, rank 1 one. A job trained alone must not wait for the other rank's
    # jobs (a barrier there paired rank 0's second job with rank 1's gather of the results)
    assert "[rank 0] [1/3] rg_ball concat seed 0" in r0["stdout"] and "[rank 0] [3/3] rg_ball concat seed 2" in r0["stdout"]
    assert "[rank 1] [2/3] rg_ball concat seed 1" in r1["stdout"]
    assert (r0["stdout"] + r1["stdout"]).count("wrote ") == 1  # rank 0 alone writes the tables
    out = job["root"] / "bench"
    for seed in (0, 1, 2):
        assert (out / "data" / f"seed{seed}" / "synth.json").is_file()
        assert (out / "runs" / f"rg_ball-concat-s{seed}" / "summary.json").is_file()
    md = (out / "results.md").read_text()
    assert "| concat |" in md and "Ball" in md
    assert (out / "results.csv").is_file()


def test_torchrun_extract_finishes_an_interrupted_folder_shared_over_ranks(job):
    """Each missing video written once, by both ranks, with one process's features; finished ones untouched."""
    import re

    import numpy as np

    from lmac.data.features import NativeStore

    steps = _step(job, "extract")
    assert all(r["rc"] == 0 for r in steps), [r["stderr"][-2000:] for r in steps]
    log = "".join(r["stderr"] for r in steps)
    writes = re.findall(r"\[rank (\d)\] \[\d+/\d+\] (clip\d)\.mp4: \d+ segments -> ", log)
    assert sorted(v for _, v in writes) == ["clip1", "clip2", "clip4"]
    assert sorted(r for r, _ in writes) == ["0", "0", "1"]  # the missing work dealt evenly
    assert "3 written, 2 skipped (already done), 0 failed of 5" in log
    feats = job["feats"]
    assert {n: (feats / n).stat().st_mtime_ns for n in job["kept"]} == job["kept"]
    store, single = NativeStore(feats), NativeStore(job["single"])
    assert store.ids() == [f"clip{i}" for i in range(5)]
    assert [p.name for p in feats.iterdir() if p.name.startswith(".")] == [".clip1.safetensors.x1y2.tmp"]  # no new ones
    for vid in ("clip1", "clip2", "clip4"):
        a, b = single.load(vid), store.load(vid)
        for m in a:  # float32 sums in another order (each rank's thread count): 1e-6 apart on features of order 1
            np.testing.assert_allclose(b[m], a[m], rtol=1e-4, atol=1e-5)
    assert single.info == store.info
