"""torchrun training (DDP over gloo) matches one process; distributed resume; benchmark jobs over ranks.

The multi-process tests start real `torchrun --standalone --nproc-per-node 2` jobs on CPU (gloo).
Equivalence tolerance: every metrics.csv value within rel 1e-4 / abs 1e-6 of the 1-process run
(measured: about 1e-7 relative; only float summation order differs). LMAC-Net with dropout 0:
dropout masks are drawn per rank and would differ from one process's.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lmac.config import TrainConfig
from lmac.distributed import ShardedBatchSampler, shard_bounds
from lmac.training.trainer import train

REL, ABS = 1e-4, 1e-6
COMPARED = ("train_total", "train_mse", "train_rank", "train_sparsity", "train_consistency", "val_srcc", "val_mse",
            "test_srcc", "test_mse", "test_rl2", "center_gap", "lr")
# 19 training videos (24 minus the validation share) in global batches of 9: 9, 9, 1. The ranks'
# shards are unequal (4 + 5), so their losses must be weighted by share; the last batch is smaller
# than the world size, so one rank steps on a zero-weight stand-in.
RUN = dict(task="rg_hoop", model="lmac", epochs=4, batch_size=9, window=16, dropout=0.0, seed=1, eval_batch_size=3)


def torchrun(args: list[str], nproc: int = 2, timeout: float = 180, check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m", "lmac", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert res.returncode == 0 or not check, f"torchrun failed ({res.returncode}):\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    return res


def _cfg(tiny_synth, **kw) -> TrainConfig:
    return TrainConfig(features=str(tiny_synth / "features"), labels=str(tiny_synth), progress=False, device="cpu",
                       **{**RUN, **kw})


def _flags(tiny_synth) -> list[str]:
    return ["--task", RUN["task"], "--model", RUN["model"], "--features", str(tiny_synth / "features"),
            "--labels", str(tiny_synth), "--epochs", str(RUN["epochs"]), "--batch-size", str(RUN["batch_size"]),
            "--window", str(RUN["window"]), "--dropout", "0", "--seed", str(RUN["seed"]), "--device", "cpu",
            "--no-progress"]


def _rows(run: Path) -> list[dict]:
    return list(csv.DictReader(open(run / "metrics.csv")))


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
            assert fy == pytest.approx(fx, rel=REL, abs=ABS), (x["epoch"], key, fx, fy)
            worst = max(worst, abs(fx - fy) / max(abs(fx), 1e-12))
    sa, sb = (json.loads((p / "summary.json").read_text()) for p in (a, b))
    for key in ("test_srcc_best", "test_srcc_last", "test_srcc_val", "test_mse", "best_epoch_test", "best_epoch_val"):
        assert sb[key] == pytest.approx(sa[key], rel=REL, abs=ABS), key
    return worst


@pytest.fixture(scope="module")
def single_run(tiny_synth, tmp_path_factory):
    """The 1-process reference run."""
    out = tmp_path_factory.mktemp("single") / "run"
    train(_cfg(tiny_synth), out, log=lambda m: None)
    return out


# ----------------------------------------------------------------------------- sharding (in process)
@pytest.mark.parametrize("n,batch,world", [(19, 6, 2), (24, 8, 2), (7, 3, 3), (5, 4, 3), (10, 10, 4)])
def test_sharded_batches_are_the_single_process_batches(n, batch, world):
    data = list(range(n))

    def loader(**kw):
        return torch.utils.data.DataLoader(data, generator=torch.Generator().manual_seed(11), **kw)

    single = [b.tolist() for b in loader(batch_size=batch, shuffle=True)]
    per_rank = []
    for rank in range(world):
        g = torch.Generator().manual_seed(11)
        s = ShardedBatchSampler(torch.utils.data.RandomSampler(data, generator=g), batch, rank, world)
        dl = torch.utils.data.DataLoader(data, batch_sampler=s, generator=g)
        per_rank.append((s, [b.tolist() for b in dl]))
        assert len(s) == len(single) == len(per_rank[-1][1])
    for step, want in enumerate(single):
        got, share = [], 0.0
        for s, batches in per_rank:
            count, w = s.share(step)
            assert count in (0, len(batches[step]))
            got += batches[step][:count]  # a zero-count shard is a stand-in, weighted 0
            share += w
        assert got == want, step
        assert share == pytest.approx(1.0)


def test_shard_bounds_cover_each_item_once():
    for n in range(0, 12):
        for world in range(1, 5):
            items = [i for r in range(world) for i in range(*shard_bounds(n, r, world))]
            assert items == list(range(n))


def test_global_batch_smaller_than_world_is_refused():
    with pytest.raises(ValueError, match="batch size 2 is smaller than the 3 processes"):
        ShardedBatchSampler(range(10), 2, 0, 3)


def test_distributed_true_needs_a_process_group(tiny_synth, tmp_path):
    with pytest.raises(RuntimeError, match="process group"):
        train(_cfg(tiny_synth, epochs=1), tmp_path / "r", log=lambda m: None, distributed=True)


# ----------------------------------------------------------------------------- torchrun jobs
def test_two_process_training_matches_one_process(tiny_synth, single_run, tmp_path):
    out = tmp_path / "ddp"
    res = torchrun(["train", *_flags(tiny_synth), "--out", str(out)])
    assert res.stdout.count("test rho last") == 1, res.stdout  # rank 0 alone reports
    assert "distributed: 2 processes (gloo)" in res.stdout
    worst = _assert_same_metrics(single_run, out)
    assert worst < REL
    # rank 0 alone wrote the run folder: the same files as one process, no strays
    def listing(p):
        return sorted(str(f.relative_to(p)) for f in p.rglob("*"))

    assert listing(out) == listing(single_run)
    env = json.loads((out / "env.json").read_text())
    assert env["distributed"] == {"world_size": 2, "backend": "gloo"}
    assert (out / "train.log").read_text().count("epoch 4:") == 1

    # an error found by rank 0 (the run folder exists) stops every rank with the message, no hang
    res = torchrun(["train", *_flags(tiny_synth), "--out", str(out)], timeout=90, check=False)
    assert res.returncode != 0
    assert res.stderr.count("already holds a run; use --resume") >= 2, res.stderr[-3000:]  # from both ranks


def test_two_process_resume_of_an_interrupted_run(tiny_synth, single_run, tmp_path):
    """A run cut after epoch 2 (one process) continues under torchrun to the uninterrupted result."""
    def crash(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth), cut, log=lambda m: None, on_epoch_end=crash)
    assert len(_rows(cut)) == 2
    res = torchrun(["train", "--out", str(cut), "--resume", "--epochs", str(RUN["epochs"]), "--device", "cpu",
                    "--no-progress"])
    assert "resuming" in res.stdout and res.stdout.count("resuming") == 1
    _assert_same_metrics(single_run, cut)


def test_benchmark_spreads_jobs_over_ranks(tiny_synth, tmp_path):
    out = tmp_path / "bench"
    res = torchrun(["benchmark", "--suite", "synth", "--tasks", "rg_ball,rg_hoop", "--models", "concat", "--seeds", "0",
                    "--epochs", "1", "--batch-size", "8", "--window", "16", "--device", "cpu", "--no-progress",
                    "--features", str(tiny_synth / "features"), "--labels", str(tiny_synth), "--out", str(out)])
    assert "[rank 0] [1/2] rg_ball concat seed 0" in res.stdout
    assert "[rank 1] [2/2] rg_hoop concat seed 0" in res.stdout
    assert res.stdout.count("wrote ") == 1  # rank 0 alone writes the tables
    for job in ("rg_ball-concat-s0", "rg_hoop-concat-s0"):
        assert (out / "runs" / job / "summary.json").is_file()
    md = (out / "results.md").read_text()
    assert "| concat |" in md and "Ball" in md and "Hoop" in md
    assert (out / "results.csv").is_file()


def test_benchmark_fresh_synth_data_is_drawn_once_before_any_rank_trains(tmp_path):
    out = tmp_path / "bench"
    res = torchrun(["benchmark", "--suite", "synth", "--tasks", "rg_ball", "--models", "concat", "--seeds", "0,1",
                    "--synth-train", "8", "--synth-test", "5", "--synth-dims", "12,10,8", "--epochs", "1",
                    "--batch-size", "4", "--device", "cpu", "--no-progress", "--out", str(out)])
    assert "[rank 1] [2/2] rg_ball concat seed 1" in res.stdout
    for seed in (0, 1):
        assert (out / "data" / f"seed{seed}" / "synth.json").is_file()
        assert (out / "runs" / f"rg_ball-concat-s{seed}" / "summary.json").is_file()
