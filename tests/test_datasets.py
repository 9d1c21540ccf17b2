"""The dataset registry: FS1000, FineFS and LOGO read from small packages generated in their releases'
real layouts, trained on end to end; their malformed and malicious files are one-line errors."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

from lmac.config import TrainConfig
from lmac.data.datasets import dataset_names, get_dataset
from lmac.data.datasets import finefs
from lmac.data.features import FeatureDataError, detect_layout, open_feature_store
from lmac.data.labels import LabelFormatError
from lmac.data.tasks import SUITES, get_task
from lmac.training.trainer import prepare_data, train
from small_models import narrow


def _tiny_train(tmp_path, task, features, **kw):
    cfg = TrainConfig(task=task, model="lmac", model_args=narrow("lmac"), features=str(features), epochs=1,
                      batch_size=4, val_fraction=0.0, progress=False, device="cpu", window=12, **kw)
    logs = []
    summary = train(cfg, tmp_path / f"run-{task}", log=logs.append)
    return summary, logs


# ----------------------------------------------------------------------------- FS1000
def _fs1000(root, n_train=8, n_test=4, short_audio="v003"):
    rng = np.random.default_rng(0)
    dirs = {m: root / d for m, d in {"rgb": "output_feature_fs1000_new", "flow": "i3d_avg_clip8_5s_fs1000",
                                     "audio": "ast_feature_fs1000_new"}.items()}
    for d in dirs.values():
        d.mkdir(parents=True)
    lines = {"train": [], "test": []}
    for i in range(n_train + n_test):
        vid = f"v{i:03d}"
        T = 20 + i
        np.save(dirs["rgb"] / f"{vid}.npy", rng.standard_normal((T, 3, 8)).astype(np.float32))  # (T, views, D)
        np.save(dirs["flow"] / f"{vid}.npy", rng.standard_normal((T, 6)).astype(np.float32))
        np.save(dirs["audio"] / f"{vid}.npy", rng.standard_normal((T - (2 if vid == short_audio else 0), 5)).astype(np.float32))
        ss, tr, pe, co, inn = rng.uniform(5, 9, 5).round(2)
        factor = 2.0 if i % 2 else 1.6
        pcs = round((ss + tr + pe + co + inn) * factor, 2)
        split = "train" if i < n_train else "test"
        lines[split].append(f"{vid} {rng.uniform(40, 100):.2f} {pcs} {ss} {tr} {pe} {co} {inn} {factor}")
    (root / "train_fs1000_new.txt").write_text("\n".join(lines["train"]) + "\n")
    (root / "val_fs1000_new.txt").write_text("\n".join(lines["test"]) + "\n")
    return root


def test_fs1000_labels_views_and_unequal_lengths(tmp_path):
    root = _fs1000(tmp_path / "FS1000")
    rows = get_dataset("fs1000").records(root, "train")
    r = rows[1]
    assert len(rows) == 8 and r.cls == "FS1000"
    comps = sum(r.scores[c] for c in ("ss", "tr", "pe", "co", "in"))
    assert r.scores["pcs"] == pytest.approx(r.scores["pcs_factored"] / r.scores["factor"])
    assert r.scores["pcs"] == pytest.approx(comps, abs=0.03)  # PCS / factor is the sum of the components
    assert detect_layout(root) == "fs1000"
    store = open_feature_store(root)
    assert store.dims == {"rgb": 8, "flow": 6, "audio": 5}
    views = np.load(root / "output_feature_fs1000_new" / "v001.npy")
    np.testing.assert_allclose(store.load("v001")["rgb"], views.mean(1), rtol=1e-6)
    a = store.load("v003")  # audio two segments short: every modality cut to the shortest, and said
    assert {m: x.shape[0] for m, x in a.items()} == {"rgb": 21, "flow": 21, "audio": 21}
    assert "v003" in store.notes()[0] and "shortest" in store.notes()[0]


def test_fs1000_trains_every_score_and_the_centre_crop_is_an_option(tmp_path):
    root = _fs1000(tmp_path / "FS1000")
    assert SUITES["fs1000"] == ["fs1000_tes", "fs1000_pcs", "fs1000_ss", "fs1000_tr", "fs1000_pe", "fs1000_co",
                                "fs1000_in", "fs1000_all"]
    assert get_task("fs1000_pcs").score_range == 60 and get_task("fs1000_ss").score_range == 10
    summary, logs = _tiny_train(tmp_path, "fs1000_pcs", root)
    assert summary["train_videos"] == 8 and summary["test_videos"] == 4
    assert any("shortest" in m for m in logs)
    cfg = TrainConfig(task="fs1000_tes", features=str(root), val_fraction=0.0, test_crop=10)
    _, _, test = prepare_data(cfg, get_task("fs1000_tes"))
    item = test[0]
    full = test.samples[0].feats["rgb"]
    start = (full.shape[0] - 10) // 2
    assert item["feats"]["rgb"].shape[0] == 10 and torch.equal(item["feats"]["rgb"], full[start:start + 10])


def test_fs1000_malformed_label_line_names_file_and_line(tmp_path):
    root = _fs1000(tmp_path / "FS1000")
    with open(root / "train_fs1000_new.txt", "a") as f:
        f.write("v099 50.0 60.0 7 7 7 7 7\n")  # the factor is missing
    with pytest.raises(LabelFormatError, match=r"train_fs1000_new.txt:9: FS1000 lines are"):
        get_dataset("fs1000").records(root, "train")
    os.remove(root / "val_fs1000_new.txt")
    with pytest.raises(FileNotFoundError, match="val_fs1000_new.txt or val_fs800.txt"):
        get_dataset("fs1000").records(root, "test")


# ----------------------------------------------------------------------------- FineFS
def _annotation(i, rng):
    factor = 1.0 if i < 729 else 2.0
    elements = {f"element{k + 1}": {"element": "3Lz", "coarse_class": "jump", "bv": 5.9, "goe": 1.2,
                                    "score_of_pannel": 7.1, "time": f"{k}-1{k},{k}-1{k + 3}"} for k in range(3)}
    comps = {c: {"score_of_pannel": float(rng.uniform(5, 9))} for c in finefs.COMPONENTS}
    return {"total_element_score": float(rng.uniform(20, 90)),
            "total_program_component_score(factored)": factor * sum(c["score_of_pannel"] for c in comps.values()),
            "factor": factor, "deductions": -1.0, "program_component": comps, "executed_element": elements}


def _finefs(root, ids):
    rng = np.random.default_rng(1)
    (root / "annotation").mkdir(parents=True)
    (root / "video_features").mkdir()
    for i in ids:
        (root / "annotation" / f"{i}.json").write_text(json.dumps(_annotation(i, rng)))
        torch.save(torch.randn(16 + i % 7, 10), root / "video_features" / f"{i}.pkl")
    return root


def _finefs_ids(n=6):
    split = finefs.shipped_split()
    sp = lambda xs: [i for i in xs if i < finefs.N_SP]  # noqa: E731
    return sp(split["train"])[:n] + sp(split["test"])[:n]


def test_finefs_split_is_the_documented_rule_with_the_release_counts():
    split = finefs.shipped_split()
    assert split == finefs.make_split()
    count = lambda xs, p: sum(finefs.programme(i) == p for i in xs)  # noqa: E731
    assert (count(split["train"], "SP"), count(split["test"], "SP")) == (583, 146)
    assert (count(split["train"], "FS"), count(split["test"], "FS")) == (350, 88)
    assert sorted(split["train"] + split["test"]) == list(range(1167))


def test_finefs_annotations_elements_and_training(tmp_path):
    root = _finefs(tmp_path / "FineFS", _finefs_ids())
    rows = get_dataset("finefs").records(root, "train")
    r = rows[0]
    assert len(rows) == 6 and r.cls == "SP"
    assert r.scores["pcs"] == pytest.approx(r.scores["pcs_factored"] / r.scores["factor"])
    assert [(e["start_s"], e["end_s"]) for e in r.elements] == [(10, 13), (71, 74), (132, 135)]
    assert detect_layout(root) == "finefs" and open_feature_store(root).dims == {"rgb": 10}
    summary, _ = _tiny_train(tmp_path, "finefs_sp_tes", root)
    assert summary["train_videos"] == 6 and summary["test_videos"] == 6
    # the stages are scored against the annotated elements, placed at 1.28 s a feature step
    loc = summary["stage_localisation"]
    assert loc["elements"] == 18 and 0 <= loc["hit_rate"] <= 1 and 0 <= loc["chance_tiou"] <= 1
    els = get_dataset("finefs").test_elements(root)
    assert els[str(_finefs_ids()[6])][0] == pytest.approx((10 / 1.28, 13 / 1.28))


def test_finefs_bad_time_and_a_malicious_pkl_are_refused(tmp_path):
    ids = _finefs_ids(2)
    root = _finefs(tmp_path / "FineFS", ids)
    bad = json.loads((root / "annotation" / f"{ids[0]}.json").read_text())
    bad["executed_element"]["element2"]["time"] = "1:25-1:29"
    (root / "annotation" / f"{ids[0]}.json").write_text(json.dumps(bad))
    with pytest.raises(LabelFormatError, match=rf"{ids[0]}.json element2: element time '1:25-1:29' is not 'M-S,M-S'"):
        get_dataset("finefs").records(root, "train")

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    with open(root / "video_features" / f"{ids[1]}.pkl", "wb") as f:
        pickle.dump(Evil(), f)
    store = open_feature_store(root)
    with pytest.raises(FeatureDataError, match=rf"{ids[1]}.pkl: not a readable weights-only torch file"):
        store.load(str(ids[1]))
    assert not (tmp_path / "pwned").exists()


def test_every_dataset_has_tasks_and_the_public_ones_come_first():
    assert dataset_names()[:4] == ["rg", "fisv", "fs1000", "finefs"]
    for name in dataset_names():
        spec = get_dataset(name)
        assert spec.tasks and all(t.dataset == name for t in spec.tasks)
    with pytest.raises(FileNotFoundError, match="pass --labels"):
        get_dataset("fs1000").records(None, "train")


def test_lmac_models_tasks_lists_every_dataset(capsys):
    from lmac.cli.main import main

    assert main(["models", "--tasks"]) == 0
    out = capsys.readouterr().out
    for name in ("rg:", "fisv:", "fs1000:", "finefs:", "fs1000_in", "finefs_fs_pcs"):
        assert name in out


# ----------------------------------------------------------------------------- multi-score
@pytest.mark.parametrize("model", ["lmac", "gdlt", "concat", "lmac_ensemble"])
def test_one_model_predicts_all_seven_fs1000_scores(tmp_path, model):
    root = _fs1000(tmp_path / "FS1000")
    task = get_task("fs1000_all")
    assert task.score_keys == ("tes", "pcs", "ss", "tr", "pe", "co", "in") and task.n_scores == 7
    cfg = TrainConfig(task="fs1000_all", model=model, model_args=narrow(model), features=str(root), epochs=2,
                      batch_size=4, val_fraction=0.25, progress=False, device="cpu", window=12)
    s = train(cfg, tmp_path / "run", log=lambda m: None)
    assert set(s["per_score"]) == set(task.score_keys)
    for k, protos in s["per_score"].items():
        assert set(protos) == {"test_srcc_last", "test_srcc_best", "test_srcc_val", "test_mse"}, k
    # the headline is the Fisher-z average of the scores' rhos
    from lmac.evaluation.metrics import fisher_z_mean

    assert s["test_srcc_last"] == pytest.approx(fisher_z_mean([p["test_srcc_last"] for p in s["per_score"].values()]))
    import csv

    rows = list(csv.DictReader(open(tmp_path / "run" / "predictions.csv")))
    assert {"true_pcs", "pred_last_pcs", "pred_best_val_in"} <= set(rows[0])
    truth = {r.video_id: r.scores["pcs"] for r in get_dataset("fs1000").records(root, "test")}
    assert all(float(r["true_pcs"]) == pytest.approx(truth[r["video_id"]], rel=1e-5) for r in rows)
    metrics = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert "test_srcc_co" in metrics[-1] and "val_srcc_tes" in metrics[-1]


def test_a_single_score_model_is_refused_for_a_multi_score_task(tmp_path):
    root = _fs1000(tmp_path / "FS1000")
    cfg = TrainConfig(task="fs1000_all", model="pamfn", features=str(root), epochs=1, progress=False, device="cpu")
    with pytest.raises(ValueError, match="predicts 7 scores at once; model pamfn predicts one"):
        train(cfg, tmp_path / "run", log=lambda m: None)


def test_multi_score_targets_are_each_score_over_its_range(tmp_path):
    root = _fs1000(tmp_path / "FS1000")
    cfg = TrainConfig(task="fs1000_all", features=str(root), val_fraction=0.0)
    train_ds, _, _ = prepare_data(cfg, get_task("fs1000_all"))
    item = train_ds[0]
    ranges = [130, 60, 10, 10, 10, 10, 10]
    assert item["target"] == pytest.approx([v / r for v, r in zip(train_ds.samples[0].score, ranges)])


def test_the_benchmark_table_shows_each_score_of_a_multi_score_run():
    from lmac.evaluation.benchmark import summarise

    base = {"model": "lmac", "seed": 0, "test_srcc_last": 0.5, "test_srcc_val": 0.4, "test_srcc_best": 0.6,
            "test_mse": 9.0, "center_gap_last": None}
    results = [{**base, "task": "fisv_tes"}, {**base, "task": "fisv_pcs"},
               {**base, "task": "fisv_tes_pcs", "per_score": {
                   "tes": {"test_srcc_last": 0.71, "test_srcc_val": 0.7, "test_srcc_best": 0.72, "test_mse": 31.0},
                   "pcs": {"test_srcc_last": 0.81, "test_srcc_val": 0.8, "test_srcc_best": 0.82, "test_mse": 4.5}}}]
    md, _, _ = summarise(results)
    assert "fisv_tes_pcs/tes" in md and "fisv_tes_pcs/pcs" in md and "0.810" in md and "0.710" in md
    assert "31.00" in md and "4.50" in md  # each score's own MSE, not their average


@pytest.mark.parametrize("dataset", ["fs1000", "finefs"])
def test_every_task_of_the_new_datasets_trains_on_its_package(tmp_path, dataset):
    if dataset == "fs1000":
        root = _fs1000(tmp_path / "FS1000")
    else:
        split = finefs.shipped_split()
        pick = lambda xs, p: [i for i in xs if finefs.programme(i) == p][:5]  # noqa: E731
        root = _finefs(tmp_path / "FineFS", [i for p in ("SP", "FS") for xs in split.values() for i in pick(xs, p)])
    for task in SUITES[dataset]:
        cfg = TrainConfig(task=task, model="concat", model_args=narrow("concat"), features=str(root), epochs=1,
                          batch_size=4, val_fraction=0.0, progress=False, device="cpu", window=12)
        s = train(cfg, tmp_path / f"run-{task}", log=lambda m: None)
        assert s["task"] == task and s["test_videos"] >= 4 and s["test_srcc_last"] == s["test_srcc_last"], task
