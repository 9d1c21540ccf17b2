"""benchmarks/paired_bootstrap.py: the paired difference and its sampling error, on written prediction files."""
import csv
import json

import numpy as np
import pytest

from benchmark_scripts import load
from lmac.evaluation.benchmark import job_dir
from lmac.evaluation.metrics import fisher_z_mean, spearman


def _module():
    return load("paired_bootstrap")


def _write_run(bench, task, model, seed, ids, true, pred):
    run = job_dir(bench, task, model, seed)
    run.mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"task": task, "model": model, "seed": seed}))
    with open(run / "predictions.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["video_id", "true_score", "pred_last", "pred_best_test", "pred_best_val"])
        for i, t, p in zip(ids, true, pred):
            w.writerow([i, t, p, p, p])


@pytest.fixture
def bench(tmp_path):
    rng = np.random.default_rng(0)
    truth = {}
    for task in ("rg_ball", "rg_hoop"):
        ids = [f"{task}_{i:03d}" for i in range(60)]
        true = rng.normal(15, 3, 60)
        good = true + rng.normal(0, 1.5, 60)  # rho about 0.9
        poor = true + rng.normal(0, 6, 60)  # rho about 0.45
        _write_run(tmp_path, task, "good", 0, ids, true, good)
        _write_run(tmp_path, task, "poor", 0, ids, true, poor)
        _write_run(tmp_path, task, "twin", 0, ids[::-1], true[::-1], good[::-1])  # same predictions, other order
        truth[task] = (true, good, poor)
    return tmp_path, truth


def test_difference_is_the_benchmark_difference_and_its_error_is_a_real_spread(bench, capsys):
    root, truth = bench
    rng = np.random.default_rng(0)
    r = _module().paired_bootstrap(root, "good", "poor", 0, "pred_last", 300, rng)
    want = fisher_z_mean(spearman(g, t) for t, g, _ in truth.values()) - fisher_z_mean(
        spearman(p, t) for t, _, p in truth.values())
    assert r["diff"] == pytest.approx(want) and r["diff"] > 0.3
    assert 0.02 < r["diff_se"] < 0.2 and r["test_videos"] == [60, 60]
    # the same predictions in another row order: no difference and no spread (the resample is paired)
    r = _module().paired_bootstrap(root, "good", "twin", 0, "pred_last", 100, rng)
    assert r["diff"] == pytest.approx(0.0, abs=1e-12) and r["diff_se"] == pytest.approx(0.0, abs=1e-12)


def test_command_line_and_errors(bench, capsys, tmp_path):
    root, _ = bench
    out = tmp_path / "pb.json"
    assert _module().main([str(root), "good", "poor", "--resamples", "50", "--out", str(out)]) == 0
    assert "seed 0:" in capsys.readouterr().out
    assert json.loads(out.read_text())["seeds"][0]["diff"] > 0.3
    with pytest.raises(FileNotFoundError, match="no finished runs of nope with seed 0"):
        _module().main([str(root), "nope", "poor", "--seeds", "0"])
    with pytest.raises(FileNotFoundError, match="rg_ball-absent-s0/predictions.csv"):
        _module().main([str(root), "good", "absent", "--seeds", "0"])


def test_read_predictions_takes_a_multi_score_runs_columns(tmp_path):
    """A multi-score run writes true_<score> / pred_last_<score>: `truth` names the column of true scores,
    and a column that is not there is a one-line error naming the file."""
    from lmac.evaluation.bootstrap import read_predictions

    path = tmp_path / "predictions.csv"
    path.write_text("video_id,true_tes,pred_last_tes,true_pcs,pred_last_pcs\na,40,41,30,29\nb,50,48,33,35\n")
    assert read_predictions(path, "pred_last_pcs", truth="true_pcs") == {"a": (30.0, 29.0), "b": (33.0, 35.0)}
    with pytest.raises(ValueError, match=r"predictions.csv: no column 'true_score'"):
        read_predictions(path, "pred_last_tes")
