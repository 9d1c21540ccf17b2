import csv
import json

import numpy as np
import pytest
import torch

from lmac.config import TrainConfig
from lmac.training.trainer import load_run_model, train


def _cfg(tiny_synth, **kw):
    base = dict(task="rg_hoop", model="concat", features=str(tiny_synth / "features"), labels=str(tiny_synth),
                epochs=3, batch_size=8, window=16, progress=False, device="cpu", eval_batch_size=4)
    base.update(kw)
    return TrainConfig(**base)


def test_run_folder_contents(tiny_synth, tmp_path):
    s = train(_cfg(tiny_synth), tmp_path / "run", log=lambda m: None)
    run = tmp_path / "run"
    for name in ("config.yaml", "env.json", "metrics.csv", "predictions.csv", "learning_curve.png", "summary.json",
                 "train.log", "checkpoints/last.safetensors", "checkpoints/best_test.safetensors",
                 "checkpoints/best_val.safetensors"):
        assert (run / name).is_file(), name
    rows = list(csv.DictReader(open(run / "metrics.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    for key in ("train_total", "train_mse", "val_srcc", "test_srcc", "test_mse"):
        assert all(np.isfinite(float(r[key])) for r in rows), key
    summary = json.loads((run / "summary.json").read_text())
    for key in ("test_srcc_best", "test_srcc_last", "test_srcc_val", "test_mse", "params", "model", "task"):
        assert key in summary
    assert summary["test_srcc_best"] == pytest.approx(max(float(r["test_srcc"]) for r in rows), abs=1e-6)
    assert summary["test_srcc_last"] == pytest.approx(float(rows[-1]["test_srcc"]), abs=1e-5)
    best_val_epoch = max(range(3), key=lambda i: float(rows[i]["val_srcc"]))
    assert summary["test_srcc_val"] == pytest.approx(float(rows[best_val_epoch]["test_srcc"]), abs=1e-5)
    preds = list(csv.DictReader(open(run / "predictions.csv")))
    assert len(preds) == 8 and {"video_id", "true_score", "pred_last", "pred_best_test"} <= set(preds[0])
    model, meta = load_run_model(run)
    assert meta["model"] == "concat" and meta["task"] == "rg_hoop"
    env = json.loads((run / "env.json").read_text())  # which CPU and how many threads trained it: figures can differ by CPU
    assert isinstance(env["cpu"], str) and env["cpu"] and env["torch_threads"] == torch.get_num_threads()


def test_existing_run_is_not_overwritten(tiny_synth, tmp_path):
    train(_cfg(tiny_synth, epochs=1), tmp_path / "run", log=lambda m: None)
    with pytest.raises(FileExistsError, match="--resume"):
        train(_cfg(tiny_synth, epochs=1), tmp_path / "run", log=lambda m: None)


def test_interrupted_run_resumes_to_the_same_result(tiny_synth, tmp_path):
    full = train(_cfg(tiny_synth, epochs=4), tmp_path / "full", log=lambda m: None)

    def crash(epoch):
        if epoch == 2:
            raise KeyboardInterrupt  # the process dies right after epoch 2's checkpoint

    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth, epochs=4, save_every=0), tmp_path / "cut", log=lambda m: None, on_epoch_end=crash)
    assert len(list(csv.DictReader(open(tmp_path / "cut" / "metrics.csv")))) == 2
    resumed = train(_cfg(tiny_synth, epochs=4), tmp_path / "cut", resume=True, log=lambda m: None)
    a = list(csv.DictReader(open(tmp_path / "full" / "metrics.csv")))
    b = list(csv.DictReader(open(tmp_path / "cut" / "metrics.csv")))
    assert len(b) == 4
    for ra, rb in zip(a, b):
        for key in ("train_total", "val_srcc", "test_srcc", "test_mse"):
            assert float(ra[key]) == pytest.approx(float(rb[key]), rel=1e-5, abs=1e-7), key
    assert resumed["test_srcc_last"] == pytest.approx(full["test_srcc_last"])
    assert resumed["test_srcc_val"] == pytest.approx(full["test_srcc_val"])


def test_resume_points_are_written_every_save_every_seconds_and_at_the_end(tiny_synth, tmp_path):
    """By default a resume point (trainer state, checkpoints) is written once 60 s have passed and at the last
    epoch; metrics.csv every epoch. A run killed sooner has none, and --resume starts it over to the same result."""
    def crash(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth), cut, log=lambda m: None, on_epoch_end=crash)
    assert len(list(csv.DictReader(open(cut / "metrics.csv")))) == 2
    assert not (cut / "checkpoints" / "trainer_last.pt").exists() and not (cut / "checkpoints" / "last.safetensors").exists()
    resumed = train(_cfg(tiny_synth), cut, resume=True, log=lambda m: None)
    full = train(_cfg(tiny_synth), tmp_path / "full", log=lambda m: None)
    assert resumed["test_srcc_last"] == pytest.approx(full["test_srcc_last"])
    assert {p.name for p in (cut / "checkpoints").iterdir()} == {
        "trainer_last.pt", "last.safetensors", "best_val.safetensors", "best_test.safetensors"}


def test_checkpoint_with_an_attention_key_bias_still_loads_and_other_extras_do_not(tmp_path):
    """Checkpoints from before the key bias was removed carry `cross.key.bias`; softmax ignores a
    key bias, so it is dropped on load and the model computes the same scores. Any other
    unexpected tensor is still an error naming the file."""
    import torch
    from safetensors.torch import save_file

    from lmac.models import create_model
    from lmac.training.checkpoints import load_model_state

    dims = {"rgb": 12, "flow": 10}
    torch.manual_seed(0)
    model = create_model("lmac", dims, d_model=16, d_ffn=32, num_heads=2).eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    old = dict(state, **{f"decoders.{m}.layers.{i}.cross.key.bias": torch.randn(16) for m in dims for i in range(2)})
    save_file(old, str(tmp_path / "old.safetensors"))
    fresh = create_model("lmac", dims, d_model=16, d_ffn=32, num_heads=2).eval()
    load_model_state(tmp_path / "old.safetensors", fresh)
    x = {m: torch.randn(2, 9, d) for m, d in dims.items()}
    mask = torch.ones(2, 9, dtype=torch.bool)
    with torch.no_grad():
        assert torch.equal(fresh(x, mask)["score"], model(x, mask)["score"])
    save_file(dict(state, stray=torch.zeros(1)), str(tmp_path / "bad.safetensors"))
    with pytest.raises(ValueError, match=r"bad.safetensors: checkpoint does not match.*stray"):
        load_model_state(tmp_path / "bad.safetensors", fresh)


def test_bf16_mixed_precision_trains_in_bfloat16_with_fp32_weights(tiny_synth, tmp_path):
    """--precision bf16 (for GPUs; autocast works on CPU too): the forward runs in bfloat16, so the losses
    differ from fp32's by bfloat16 rounding, not more; the checkpoint keeps fp32 weights."""
    import torch
    from safetensors.torch import load_file

    kw = dict(model="concat", epochs=2)
    a = train(_cfg(tiny_synth, **kw), tmp_path / "fp32", log=lambda m: None)
    b = train(_cfg(tiny_synth, precision="bf16", **kw), tmp_path / "bf16", log=lambda m: None)
    la = [float(r["train_mse"]) for r in csv.DictReader(open(tmp_path / "fp32/metrics.csv"))]
    lb = [float(r["train_mse"]) for r in csv.DictReader(open(tmp_path / "bf16/metrics.csv"))]
    assert la != lb and np.allclose(la, lb, rtol=0.05)  # bfloat16 keeps ~3 significant digits
    assert np.isfinite(b["test_srcc_last"]) and abs(a["test_mse"] - b["test_mse"]) / a["test_mse"] < 0.1
    w = load_file(tmp_path / "bf16/checkpoints/last.safetensors")
    assert all(v.dtype == torch.float32 for v in w.values())


def test_the_trainers_fused_adamw_makes_the_looped_adamw_update_to_rounding():
    """`lmac train` steps with torch's fused AdamW (one kernel; the looped default is 4-6x slower on a CPU): its
    parameter groups (decay on matrices only) and its updates match the looped AdamW's over many steps."""
    import torch

    from lmac.config import TrainConfig
    from lmac.models import create_model
    from lmac.training.trainer import _optimizer

    dims = {"rgb": 8, "flow": 6, "audio": 4}
    torch.manual_seed(0)
    a = create_model("lmac_aligned", dims, d_model=16, d_ffn=32, num_heads=2, num_queries=3)
    b = create_model("lmac_aligned", dims, d_model=16, d_ffn=32, num_heads=2, num_queries=3)
    b.load_state_dict(a.state_dict())
    start = [p.detach().clone() for p in a.parameters()]
    cfg = TrainConfig(weight_decay=0.05)
    fused = _optimizer(a, cfg, 1e-2)
    assert all(g.get("fused") for g in fused.param_groups)
    looped = torch.optim.AdamW([{**{k: v for k, v in g.items() if k != "params"}, "fused": False, "foreach": False,
                                 "params": [dict(b.named_parameters())[n] for n, p in a.named_parameters()
                                            if any(p is q for q in g["params"])]} for g in fused.param_groups])
    g = torch.Generator().manual_seed(1)
    for _ in range(100):
        for p, q in zip(a.parameters(), b.parameters()):
            p.grad = torch.randn(p.shape, generator=g)
            q.grad = p.grad.clone()
        fused.step()
        looped.step()
    moved = max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))
    assert moved < 1e-5
    assert max((p - p0).abs().max().item() for p, p0 in zip(a.parameters(), start)) > 0.1  # the steps moved them


def test_input_dropout_regularises_training_deterministically_and_resumes(tiny_synth, tmp_path):
    """--input-dropout zeroes input values during training only: the training loss differs from a run without it,
    two runs with it agree exactly, and a run cut short and resumed ends where the uninterrupted one does
    (its masks are seeded by seed, epoch and step, not by the generator's history)."""
    log = lambda m: None  # noqa: E731
    plain = train(_cfg(tiny_synth, epochs=4, save_every=0), tmp_path / "plain", log=log)
    dropped = train(_cfg(tiny_synth, epochs=4, save_every=0, input_dropout=0.5), tmp_path / "a", log=log)
    again = train(_cfg(tiny_synth, epochs=4, save_every=0, input_dropout=0.5), tmp_path / "b", log=log)
    rows = lambda d: list(csv.DictReader(open(tmp_path / d / "metrics.csv")))  # noqa: E731
    assert rows("a")[0]["train_total"] != rows("plain")[0]["train_total"]
    assert [r["train_total"] for r in rows("a")] == [r["train_total"] for r in rows("b")]
    assert dropped["test_srcc_last"] == again["test_srcc_last"] != plain["test_srcc_last"]
    train(_cfg(tiny_synth, epochs=2, save_every=0, input_dropout=0.5), tmp_path / "cut", log=log)
    resumed = train(_cfg(tiny_synth, epochs=4, save_every=0), tmp_path / "cut", resume=True, log=log)
    assert resumed["test_srcc_last"] == pytest.approx(dropped["test_srcc_last"])
    import yaml

    assert yaml.safe_load(open(tmp_path / "cut" / "config.yaml"))["input_dropout"] == 0.5
    assert yaml.safe_load(open(tmp_path / "plain" / "config.yaml"))["input_dropout"] == 0.0  # the recipe's


def test_input_dropout_outside_0_1_is_refused_with_its_flag(tiny_synth, tmp_path):
    with pytest.raises(ValueError, match="--input-dropout"):
        train(_cfg(tiny_synth, input_dropout=1.0), tmp_path / "run", log=lambda m: None)


def test_the_weight_average_is_a_running_mean_then_an_exponential_one():
    import torch

    from lmac.training.averaging import WeightAverage

    lin = torch.nn.Linear(2, 1)
    avg = WeightAverage(lin, window=2)
    seen = []
    for v in (1.0, 3.0, 7.0, 15.0):
        with torch.no_grad():
            lin.weight.fill_(v)
        avg.update(lin)
        seen.append(float(avg.shadow["weight"][0, 0]))
    assert seen == [1.0, 2.0, 4.5, 9.75]  # mean of 1 and 3, then halfway to each new value
    with avg.applied(lin):
        assert float(lin.weight.detach()[0, 0]) == 9.75
    assert float(lin.weight.detach()[0, 0]) == 15.0  # the trained weights are back
    with pytest.raises(ValueError, match="window"):
        WeightAverage(lin, window=0.5)


def test_weight_average_is_evaluated_and_saved_and_resumes(tiny_synth, tmp_path):
    """--weight-average: the checkpoints and the metrics are the averaged weights', the trainer state keeps the trained
    ones, and a run cut short and resumed ends where the uninterrupted one does."""
    import torch

    from lmac.training.checkpoints import load_trainer_state, read_model_state

    log = lambda m: None  # noqa: E731
    plain = train(_cfg(tiny_synth, epochs=4, save_every=0), tmp_path / "plain", log=log)
    full = train(_cfg(tiny_synth, epochs=4, save_every=0, weight_average=0.5), tmp_path / "full", log=log)
    rows = lambda d: list(csv.DictReader(open(tmp_path / d / "metrics.csv")))  # noqa: E731
    assert [r["train_total"] for r in rows("full")] == [r["train_total"] for r in rows("plain")]  # same training
    assert all(a["test_mse"] != b["test_mse"] for a, b in zip(rows("full"), rows("plain")))  # scored otherwise
    state = load_trainer_state(tmp_path / "full" / "checkpoints" / "trainer_last.pt")
    last = read_model_state(tmp_path / "full" / "checkpoints" / "last.safetensors")
    trained = {n: state["model"][n] for n in state["average"]["shadow"]}
    for n, t in state["average"]["shadow"].items():
        assert torch.equal(last[n], t) and not torch.equal(trained[n], t), n
    assert state["average"]["window"] == 0.5 * state["average"]["steps"]  # half the run's steps
    plain_state = load_trainer_state(tmp_path / "plain" / "checkpoints" / "trainer_last.pt")
    plain_last = read_model_state(tmp_path / "plain" / "checkpoints" / "last.safetensors")
    assert all(torch.equal(plain_last[n], t) for n, t in plain_state["model"].items())

    def crash(epoch):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(_cfg(tiny_synth, epochs=4, save_every=0, weight_average=0.5), tmp_path / "cut", log=log,
              on_epoch_end=crash)
    resumed = train(_cfg(tiny_synth, epochs=4), tmp_path / "cut", resume=True, log=log)
    for ra, rb in zip(rows("full"), rows("cut")):
        assert float(ra["test_srcc"]) == pytest.approx(float(rb["test_srcc"]), rel=1e-5, abs=1e-7)
    assert resumed["test_srcc_last"] == pytest.approx(full["test_srcc_last"])
    with pytest.raises(ValueError, match="--weight-average"):
        train(_cfg(tiny_synth, weight_average=1.5), tmp_path / "bad", log=log)


def test_per_modality_pretraining_starts_each_decoder_from_its_own_run(tiny_synth, tmp_path):
    """`pretrain_epochs`: LMAC-Net is first trained on each modality alone (run folders OUT/stage1/<modality>) and each
    decoder starts from that run's last checkpoint. At lr 1e-12 nothing moves (by more than 1e-11) afterwards, so the
    trained model's decoders are the pretraining runs'; without pretraining they are the model's own initialisation,
    which differs for the modalities built after the first."""
    import torch

    from lmac.training.checkpoints import read_model_state
    from small_models import narrow

    log = lambda m: None  # noqa: E731
    args = {**narrow("lmac_aligned_md"), "pretrain_epochs": 1}
    train(_cfg(tiny_synth, model="lmac_aligned_md", model_args=args, epochs=1, lr=1e-12), tmp_path / "pre", log=log)
    train(_cfg(tiny_synth, model="lmac_aligned_md", model_args=narrow("lmac_aligned_md"), epochs=1, lr=1e-12),
          tmp_path / "plain", log=log)
    last = read_model_state(tmp_path / "pre" / "checkpoints" / "last.safetensors")
    plain = read_model_state(tmp_path / "plain" / "checkpoints" / "last.safetensors")
    for m in ("rgb", "flow", "audio"):
        stage1 = read_model_state(tmp_path / "pre" / "stage1" / m / "checkpoints" / "last.safetensors")
        keys = [k for k in last if k.startswith(f"decoders.{m}.")]
        assert keys and set(keys) == {k for k in stage1 if k.startswith("decoders.")}  # one modality each
        assert all(torch.allclose(last[k], stage1[k], rtol=0, atol=1e-11) for k in keys), m
        if m != "rgb":
            assert max(float((plain[k] - stage1[k]).abs().max()) for k in keys) > 1e-3, m
    with pytest.raises(ValueError, match="pretrain_epochs"):
        train(_cfg(tiny_synth, model="lmac_aligned_md", model_args={"pretrain_epochs": -1}), tmp_path / "bad", log=log)


def test_the_pretraining_gate_reads_the_closed_form_members_best_cross_validated_read():
    from lmac.models.ensemble import best_read, cv_by_reads

    def best(fitted):
        return best_read(cv_by_reads(fitted))

    two = {"rgb": 0.71, "rgb+flow+audio": 0.64}
    assert best({"pooled_ridge": {"cv_by_reads": two}}) == frozenset({"rgb"})
    assert best({"pooled_ridge": {"cv_by_reads": {**two, "rgb+flow+audio": 0.80}}}) == {"rgb", "flow", "audio"}
    assert best({"pooled_ridge": {"cv_by_reads": {"rgb": 0.5, "flow+audio": 0.5}}}) == {"rgb"}  # a tie: fewer
    assert best({"member_weights": {"gdlt": 1.0}, "other": {"inputs": ["rgb"]}}) is None


def _rgb_alone_shows_the_score(tiny_synth, folder):
    """tiny_synth with the Hoop total written into RGB (dimension 0, every segment) and flow and audio redrawn as
    noise: the ridge's cross-validation then reads RGB alone, by a margin no CPU's rounding can flip."""
    import shutil

    from safetensors.numpy import load_file, save_file

    from lmac.data.labels import read_rg_labels

    shutil.copytree(tiny_synth, folder)
    totals = {r.video_id: r.scores["total"] for name in ("train.txt", "test.txt")
              for r in read_rg_labels(folder / name)}
    mean = float(np.mean(list(totals.values())))
    rng = np.random.default_rng(0)
    for f in sorted((folder / "features").glob("*.safetensors")):
        x = load_file(f)
        x["rgb"][:, 0] += 3.0 * (totals[f.stem] - mean) if f.stem in totals else 0.0
        for m in ("flow", "audio"):
            x[m] = rng.standard_normal(x[m].shape).astype(x[m].dtype)
        save_file(x, f)
    return folder


def test_a_gated_ensemble_pretrains_only_the_modalities_its_ridge_reads(tiny_synth, tmp_path):
    """`pretrain_gate="cv"`: the LMAC-Net member pretrains the decoders of the ridge's best cross-validated read
    alone (the log says which and why), the others start untrained; without a closed-form member there is nothing to
    gate on and every modality is pretrained (said in the log)."""
    from small_models import narrow

    data = _rgb_alone_shows_the_score(tiny_synth, tmp_path / "data")
    members = "lmac_aligned_md,gdlt,pooled_ridge"
    args = {"members": members, "pretrain_gate": "cv",
            "member_args": {"lmac_aligned_md": {**narrow("lmac_aligned_md"), "pretrain_epochs": 1},
                            "gdlt": narrow("gdlt")}}
    said = []
    train(_cfg(data, model="lmac_ensemble", model_args=args, epochs=1), tmp_path / "gated", log=said.append)
    line = next(m for m in said if m.startswith("pretraining gated by the closed-form member's cross-validation"))
    assert line.split("best read ")[1].startswith("rgb (")
    stage1 = tmp_path / "gated" / "stage1" / "lmac_aligned_md"
    assert sorted(p.name for p in stage1.iterdir()) == ["rgb"] and (stage1 / "rgb" / "summary.json").is_file()
    assert "lmac_aligned_md: the rgb decoders start from their pretraining runs (last checkpoints)" in said
    kept = (tmp_path / "gated" / "train.log").read_text()  # the run folder says it too, and not the stages' epochs
    assert line in kept and "decoders start from their pretraining runs" in kept
    assert "lmac_aligned_md pretraining: rgb alone, 1 epochs ->" in kept
    assert "epoch 1:" not in kept.split("decoders start from their pretraining runs")[0]
    said = []
    ungated = {**args, "members": "lmac_aligned_md,gdlt"}
    train(_cfg(data, model="lmac_ensemble", model_args=ungated, epochs=1), tmp_path / "ungated", log=said.append)
    assert any(m.startswith("pretraining every modality: no closed-form member") for m in said)
    assert sorted(p.name for p in (tmp_path / "ungated" / "stage1" / "lmac_aligned_md").iterdir()) == \
        ["audio", "flow", "rgb"]


def test_an_ensemble_pretrains_its_lmac_member_and_trains_the_others_as_before(tiny_synth, tmp_path):
    """`member_args={lmac_aligned_md: {pretrain_epochs: N}}`: the pretraining runs sit under OUT/stage1/<member>/, and
    they draw nothing from the run's random stream: the gdlt member trains exactly as it does without them."""
    import torch

    from lmac.training.checkpoints import read_model_state
    from small_models import narrow

    log = lambda m: None  # noqa: E731
    members = "lmac_aligned_md,gdlt"
    plain_args = {"members": members, "pretrain_epochs": 0, "member_args": {m: narrow(m) for m in members.split(",")}}
    pre_args = {"members": members, "member_args": {"lmac_aligned_md": {**narrow("lmac_aligned_md"), "pretrain_epochs": 1},
                                                   "gdlt": narrow("gdlt")}}
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=plain_args, epochs=2), tmp_path / "plain", log=log)
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=pre_args, epochs=2), tmp_path / "pre", log=log)
    for m in ("rgb", "flow", "audio"):
        assert (tmp_path / "pre" / "stage1" / "lmac_aligned_md" / m / "summary.json").is_file()
    plain = read_model_state(tmp_path / "plain" / "checkpoints" / "last.safetensors")
    pre = read_model_state(tmp_path / "pre" / "checkpoints" / "last.safetensors")
    gdlt = [k for k in plain if k.startswith("members.gdlt.")]
    lmac = [k for k in plain if k.startswith("members.lmac_aligned_md.decoders.")]
    assert gdlt and all(torch.equal(plain[k], pre[k]) for k in gdlt)
    assert lmac and not all(torch.equal(plain[k], pre[k]) for k in lmac)
    # resumed, the run reuses its finished pretraining runs and ends where it ended
    again = train(_cfg(tiny_synth, model="lmac_ensemble", model_args=pre_args, epochs=2), tmp_path / "pre", resume=True,
                  log=log)
    assert again["test_srcc_last"] == pytest.approx(json.loads((tmp_path / "pre" / "summary.json").read_text())["test_srcc_last"])


def test_the_default_ensemble_is_the_twenty_fifth_candidate(tiny_synth, tmp_path):
    """`lmac train` without options pretrains the LMAC-Net member for the run's own epochs, gated by the ridge: the
    model the eleventh held-out round ran with `--set member_args={lmac_aligned_md: {pretrain_epochs: N}} --set
    pretrain_gate=cv` at N = --epochs, weight for weight. `pretrain_epochs=0` trains without pretraining, a number
    sets the epochs, and a bad value is refused."""
    import torch
    import yaml

    from lmac.training.checkpoints import read_model_state
    from small_models import merge_options, narrow

    log = lambda m: None  # noqa: E731
    said = []
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=narrow("lmac_ensemble"), epochs=2), tmp_path / "default",
          log=said.append)
    assert any(m.startswith("pretraining gated by the closed-form member's cross-validation") for m in said)
    stage1 = tmp_path / "default" / "stage1" / "lmac_aligned_md"
    pretrained = sorted(p.name for p in stage1.iterdir())
    assert pretrained
    for m in pretrained:
        assert yaml.safe_load((stage1 / m / "config.yaml").read_text())["epochs"] == 2
    explicit = merge_options(narrow("lmac_ensemble"), {"pretrain_gate": "cv", "pretrain_epochs": 0,
                                                        "member_args": {"lmac_aligned_md": {"pretrain_epochs": 2}}})
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=explicit, epochs=2), tmp_path / "explicit", log=log)
    a = read_model_state(tmp_path / "default" / "checkpoints" / "last.safetensors")
    b = read_model_state(tmp_path / "explicit" / "checkpoints" / "last.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    off = merge_options(narrow("lmac_ensemble"), {"pretrain_epochs": 0})
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=off, epochs=2), tmp_path / "off", log=log)
    assert not (tmp_path / "off" / "stage1").exists()
    c = read_model_state(tmp_path / "off" / "checkpoints" / "last.safetensors")
    assert not all(torch.equal(a[k], c[k]) for k in a if k.startswith("members.lmac_aligned_md.decoders."))
    one = merge_options(narrow("lmac_ensemble"), {"pretrain_epochs": 1})
    train(_cfg(tiny_synth, model="lmac_ensemble", model_args=one, epochs=2), tmp_path / "one", log=log)
    for m in pretrained:
        assert yaml.safe_load((tmp_path / "one" / "stage1" / "lmac_aligned_md" / m / "config.yaml").read_text())["epochs"] == 1
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="pretrain_epochs must be a whole number"):
            train(_cfg(tiny_synth, model="lmac_ensemble", model_args={"pretrain_epochs": bad}), tmp_path / "bad", log=log)
