"""benchmarks/worlds_val_compare.py: validation-only comparison by world across benchmark folders."""
import json

import numpy as np
import pytest

from benchmark_scripts import load
from lmac.evaluation.benchmark import job_dir



def _module():
    return load("worlds_val_compare")


def _write_run(bench, task, model, seed, val_rhos, finished=True):
    run = job_dir(bench, task, model, seed)
    run.mkdir(parents=True)
    rows = ["epoch,val_srcc,test_srcc"] + [f"{i + 1},{v},0.99" for i, v in enumerate(val_rhos)]
    (run / "metrics.csv").write_text("\n".join(rows) + "\n")
    if finished:
        (run / "summary.json").write_text(json.dumps({"task": task, "model": model, "seed": seed}))


def test_it_pools_by_world_reads_the_last_epoch_and_compares_only_common_task_draws(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for seed, (tes, pcs) in {1: (0.5, 0.7), 2: (0.6, 0.4)}.items():
        _write_run(a, "world_amplitude_tes", "m", seed, [0.9, tes])  # the last epoch counts, not the best
        _write_run(a, "world_amplitude_pcs", "m", seed, [0.9, pcs])
        _write_run(b, "world_amplitude_tes", "m", seed, [tes + 0.1])
        _write_run(b, "world_amplitude_pcs", "m", seed, [pcs + 0.1])
    _write_run(a, "world_energy", "m", 1, [0.8])  # only in a: left out of both rows
    _write_run(b, "world_energy", "m", 2, [0.3], finished=False)  # unfinished: not read
    out = tmp_path / "cmp.json"
    assert _module().main([f"{a}:m:A", f"{b}:m:B", "--out", str(out)]) == 0
    table = json.loads(out.read_text())["table"]
    z = np.arctanh([0.5, 0.7, 0.6, 0.4])
    assert table["A"]["amplitude"] == pytest.approx(np.tanh(z.mean()))
    assert table["B"]["amplitude"] == pytest.approx(np.tanh(np.arctanh([0.6, 0.8, 0.7, 0.5]).mean()))
    assert table["A"]["n"] == table["B"]["n"] == 4 and "energy" not in table["A"]


def test_a_folder_without_the_model_is_a_one_line_error(tmp_path, capsys):
    _write_run(tmp_path / "a", "world_rg", "m", 1, [0.5])
    with pytest.raises(SystemExit):
        _module().main([f"{tmp_path / 'a'}:other", f"{tmp_path / 'a'}:m"])
    assert "no finished run of 'other'" in capsys.readouterr().err


def test_a_run_trained_on_parts_pairs_with_its_base_task(tmp_path):
    """world_energy_parts ranks the same videos on the same total as world_energy: the two are compared."""
    a, b = tmp_path / "a", tmp_path / "b"
    _write_run(a, "world_energy", "m", 1, [0.5])
    _write_run(b, "world_energy_parts", "m", 1, [0.7])
    out = tmp_path / "cmp.json"
    assert _module().main([f"{a}:m:A", f"{b}:m:B", "--out", str(out)]) == 0
    table = json.loads(out.read_text())["table"]
    assert (table["A"]["energy"], table["B"]["energy"], table["B"]["n"]) == (pytest.approx(0.5), pytest.approx(0.7), 1)
