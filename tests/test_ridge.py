"""pooled_ridge: a ridge over pooled features fitted in closed form, as a member of lmac_ensemble."""
import csv

import numpy as np
import pytest
import torch

import lmac
from benchmark_scripts import load
from lmac.config import TrainConfig
from lmac.data.dataset import collate_sequences
from lmac.data.tasks import get_task
from lmac.data.worlds import generate_world, world_config
from lmac.models import MODELS, create_model, list_models
from lmac.training.trainer import prepare_data, train
from small_models import narrow

RIDGE_MEMBERS = "lmac_aligned_md,gdlt,pooled_ridge"


def _data(tiny_synth, task="rg_hoop", **kw):
    cfg = TrainConfig(task=task, features=str(tiny_synth / "features"), labels=str(tiny_synth), seed=2,
                      progress=False, **kw)
    return prepare_data(cfg, get_task(task))


def _score(model, ds):
    batch = collate_sequences([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        return model(batch["feats"], batch["mask"])


def _probe_member(train, window: int, seed: int):
    """The ridge member as benchmarks/worlds_ridge_probe.py's pieces build it: inputs (RGB, or every modality) and
    penalty chosen together by 5-fold cross-validation on the training videos, in score units. Returns
    (modalities, penalty, predictor of a dataset)."""
    probe = load("worlds_ridge_probe")
    cands = {mods: probe.pooled(train, mods, window)[0] for mods in (("rgb",), tuple(train.modalities))}
    y = np.array([float(s.score) for s in train.samples])
    mods, lam = probe.choose_by_cv(cands, y, seed)
    f = probe.ridge_fit(cands[mods], y, lam)
    return list(mods), lam, lambda ds: f(probe.pooled(ds, mods, window)[0])


def test_the_member_is_the_probes_ridge(tiny_synth):
    """Fitted by the trainer's hook, it chooses the inputs and penalty that benchmarks/worlds_ridge_probe.py chooses
    on the same training videos, and scores unseen videos as that probe does (in target units, not points)."""
    train_ds, _, test_ds = _data(tiny_synth, val_fraction=0.25)
    task = get_task("rg_hoop")
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False)  # the probe's choices (no pairs)
    assert not model.fitted and not model.can_score({m: None for m in train_ds.dims})
    chose = model.fit(train_ds, seed=2)
    mods, lam, predict = _probe_member(train_ds, train_ds.window, 2)
    cv = chose.pop("cv_by_reads")
    assert len(chose.pop("fallback")) == 6  # the fallback fits (the default since the twenty-ninth candidate)
    assert chose == {"inputs": mods, "pairs": 0, "shared": False, "keys": False, "changes": False, "penalty": lam} \
        and model.fitted
    assert set(cv) == {"rgb", "rgb+flow+audio"} and max(cv.values()) == cv["+".join(mods)]
    got = task.to_score(_score(model, test_ds)["score"].double()).numpy()
    assert got == pytest.approx(predict(test_ds), rel=1e-6, abs=1e-6)
    # the fit is in its buffers: a state_dict carries it to a fresh member
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(model, test_ds)["score"])


def test_it_reads_rgb_alone_or_every_modality_and_sits_out_without_what_it_reads(tiny_synth):
    train_ds, _, test_ds = _data(tiny_synth)
    batch = collate_sequences([test_ds[i] for i in range(4)])
    no_audio = {m: x for m, x in batch["feats"].items() if m != "audio"}
    for inputs, reads in (("rgb", ["rgb"]), ("all", ["rgb", "flow", "audio"])):
        model = create_model("pooled_ridge", train_ds.dims, inputs=inputs, fallback=False)
        assert model.fit(train_ds, seed=0)["inputs"] == reads
        assert model.can_score(no_audio) == (inputs == "rgb")
    ens = create_model("lmac_ensemble", train_ds.dims, members=RIDGE_MEMBERS,
                       member_args={"pooled_ridge": {"fallback": False}, **{m: narrow(m) for m in ("lmac_aligned_md", "gdlt")}})
    ens.members["pooled_ridge"].fit(train_ds, seed=0)
    ens.eval()
    with torch.no_grad():
        assert set(ens(batch["feats"], batch["mask"])["member_scores"]) == {"lmac_aligned_md", "gdlt", "pooled_ridge"}
        if ens.members["pooled_ridge"].used_modalities() != ["rgb"]:
            assert "pooled_ridge" not in ens(no_audio, batch["mask"])["member_scores"]
    with pytest.raises(ValueError, match="inputs"):
        create_model("pooled_ridge", train_ds.dims, inputs="audio")


def test_several_scores_at_once(tmp_path):
    """A task trained on the judges' parts: one ridge per part, in the parts' target units."""
    folder = tmp_path / "energy"
    generate_world(folder, world_config("energy", seed=1, n_train=30, n_test=4, dims={"rgb": 8, "flow": 8, "audio": 8}))
    train_ds, _, test_ds = _data(folder, task="world_energy_parts")
    n = get_task("world_energy_parts").n_outputs
    model = create_model("pooled_ridge", train_ds.dims, num_scores=n)
    model.fit(train_ds, seed=1)
    out = _score(model, test_ds)["score"]
    assert out.shape == (len(test_ds), n) and torch.isfinite(out).all()


def test_a_stacked_fit_logs_its_fallback_fits_too(tiny_synth, tmp_path):
    """With `combine=stack` the training log names the stack and, as for a single fit, the fallback fits."""
    _run(tiny_synth, tmp_path / "stack", RIDGE_MEMBERS, {"combine": "stack", "inputs": "rgb,all"})
    log = (tmp_path / "stack" / "train.log").read_text()
    assert "a stack of input options weighted by 5-fold cross-validation" in log
    assert "pooled_ridge: for a video without some of its inputs, the fits of the streams it has" in log


def test_it_is_a_member_only():
    assert "pooled_ridge" not in list_models() and "pooled_ridge" in list_models(members=True)
    assert MODELS.info("pooled_ridge")["member_only"]
    from lmac.training.trainer import build_model

    with pytest.raises(ValueError, match="--model lmac_ensemble --set members=lmac_aligned_md,gdlt,pooled_ridge"):
        build_model(TrainConfig(task="rg_hoop", model="pooled_ridge"), {"rgb": 8})


def _run(tiny_synth, out, members, ridge: dict | None = None):
    args = {"members": members, "member_args": {m: narrow(m) for m in ("lmac_aligned_md", "gdlt")}}
    if ridge:
        args["member_args"]["pooled_ridge"] = ridge
    cfg = TrainConfig(task="rg_hoop", model="lmac_ensemble", model_args=args, features=str(tiny_synth / "features"),
                      labels=str(tiny_synth), epochs=2, batch_size=8, window=16, progress=False, device="cpu", seed=4)
    train(cfg, out, log=lambda m: None)
    return {r["video_id"]: r for r in csv.DictReader(open(out / "predictions.csv"))}


def test_the_ridge_member_changes_nothing_of_the_trained_members(tiny_synth, tmp_path):
    """An ensemble with the ridge trains its other members exactly as the ensemble without it (the fit draws no
    random numbers and has no loss); the run folder's checkpoint carries the fit and the gated weights (the ridge 4,
    `lmac_aligned_md` 1, `gdlt` 1 x its gate), and `lmac.load` reproduces predictions.csv. The two-member run's score
    is its members' mean (no ridge, no gate), the three-member run's their weighted mean with the ridge."""
    two = _run(tiny_synth, tmp_path / "two", "lmac_aligned_md,gdlt")
    three = _run(tiny_synth, tmp_path / "three", RIDGE_MEMBERS)
    log = (tmp_path / "three" / "train.log").read_text()
    assert "pooled_ridge: fitted on the" in log and "member weights, gated by" in log
    assert "pooled_ridge: for a video without some of its inputs, the fits of the streams it has" in log
    p2, p3 = lmac.load(tmp_path / "two", device="cpu"), lmac.load(tmp_path / "three", device="cpu")
    s2, s3 = p2.model.state_dict(), p3.model.state_dict()
    for k, v in s2.items():
        if k != "w":  # the members' weights differ: (1, 1) against (1, g, 4)
            assert torch.equal(v, s3[k]), k
    w = s3["w"].tolist()
    assert s2["w"].tolist() == [1.0, 1.0] and w[0] == 1.0 and 0.0 <= w[1] <= 1.0 and w[2] == 4.0
    assert p3.model.members["pooled_ridge"].fitted
    feats = tiny_synth / "features"
    task = get_task("rg_hoop")
    for vid, row in three.items():
        assert p3.predict_features(feats, video_id=vid).score == pytest.approx(float(row["pred_last"]), rel=1e-5,
                                                                             abs=1e-5)
        x = {m: torch.from_numpy(np.asarray(a))[None] for m, a in lmac_features(feats, vid).items()}
        mask = torch.ones(1, next(iter(x.values())).shape[1], dtype=torch.bool)
        with torch.no_grad():
            s = {n: float(task.to_score(v.double())) for n, v in p3.model(x, mask)["member_scores"].items()}
        assert float(two[vid]["pred_last"]) == pytest.approx((s["lmac_aligned_md"] + s["gdlt"]) / 2, rel=1e-4,
                                                             abs=1e-4), vid
        want = (w[0] * s["lmac_aligned_md"] + w[1] * s["gdlt"] + w[2] * s["pooled_ridge"]) / sum(w)
        assert float(row["pred_last"]) == pytest.approx(want, rel=1e-4, abs=1e-4), vid


def lmac_features(folder, vid):
    from lmac.data.features import open_feature_store

    return open_feature_store(str(folder), "auto").load(vid)


def _rewritten_world(tmp_path, n_train, n_test, rewrite, seed=0):
    """A tiny `energy` draw (6 dims a modality) as datasets, each video's features and score then rewritten by
    `rewrite(sample, T, rng)`: a world with one scoring rule and nothing else."""
    folder = tmp_path / "energy"
    generate_world(folder, world_config("energy", seed=1, n_train=n_train, n_test=n_test,
                                        dims={"rgb": 6, "flow": 6, "audio": 6}))
    train_ds, _, test_ds = _data(folder, task="world_energy", val_fraction=0.0)
    rng = np.random.default_rng(seed)
    for ds in (train_ds, test_ds):
        for s in ds.samples:
            rewrite(s, len(s.feats["rgb"]), rng)
    return train_ds, test_ds


def _product_world(tmp_path, seed=0):
    """A world whose score is what RGB and audio show *together*: 10 + 2 sqrt(T) mean_t rgb_0(t) audio_0(t), on
    features of independent noise. Nothing of it is in any modality's mean or sum."""
    def rewrite(s, T, rng):
        s.feats = {m: torch.from_numpy(rng.standard_normal((T, 6)).astype(np.float32)) for m in s.feats}
        s.score = 10 + 2 * np.sqrt(T) * float((s.feats["rgb"][:, 0] * s.feats["audio"][:, 0]).double().mean())

    return _rewritten_world(tmp_path, 100, 40, rewrite, seed)


def _rho(model, ds):
    from lmac.evaluation.metrics import spearman

    return spearman(_score(model, ds)["score"].double().numpy(), np.array([s.score for s in ds.samples]))


def test_aligned_pairs_read_what_happens_together_and_only_in_step(tmp_path):
    """With `pairs` among its inputs, cross-validation picks the aligned pairs on a score that only they show, and
    the member ranks unseen videos by it; without them it cannot. Rolling one stream against the other (the
    benchmarks' --desync control) takes it away again. The fit (projections included) is in its buffers."""
    train_ds, test_ds = _product_world(tmp_path)
    pairs = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,pairs", pair_ranks="2,6")
    chose = pairs.fit(train_ds, seed=0)
    assert chose["inputs"] == ["rgb", "flow", "audio"] and chose["pairs"] == 6
    assert _rho(pairs, test_ds) > 0.7
    plain = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all")
    assert plain.fit(train_ds, seed=0)["pairs"] == 0 and int(plain.rank) == 0
    assert abs(_rho(plain, test_ds)) < 0.4
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,pairs", pair_ranks="2,6")
    fresh.load_state_dict(pairs.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(pairs, test_ds)["score"])
    desync = load("worlds_val_ridge_blend").desync
    desync(test_ds)
    assert abs(_rho(pairs, test_ds)) < 0.4


def test_pair_features_are_the_numpy_ones_in_the_members_layout(tmp_path):
    """The member's torch forward reads the same pair blocks as `pair_pool` (which the fit used), padded videos
    included, and a rank above a modality's dims is clipped to them."""
    from lmac.models.ridge import pair_pool, pool_video, ridge_predict

    train_ds, test_ds = _product_world(tmp_path)
    model = create_model("pooled_ridge", train_ds.dims, inputs="pairs", pair_ranks="9", key_pool=False)
    assert model.fit(train_ds, seed=3)["pairs"] == 6
    proj = {m: tuple(getattr(model, f"{n}_{m}").numpy() for n in ("proj_mean", "proj_scale", "proj"))
            for m in model.modalities}
    X = np.stack([np.concatenate([pool_video(s.feats, model.modalities, train_ds.window), pair_pool(s.feats, proj, 6)])
                  for s in test_ds.samples])
    P = X.shape[1]
    fit = (model.mean[:P].numpy(), model.scale[:P].numpy(), model.weight[:P].numpy(), model.bias.numpy())
    want = ridge_predict(fit, X)[:, 0]
    got = _score(model, test_ds)["score"].double().numpy()  # one padded batch of different lengths
    assert len({len(s.feats["rgb"]) for s in test_ds.samples}) > 1
    assert got == pytest.approx(want, rel=1e-5, abs=1e-5)
    with pytest.raises(ValueError, match="pair_ranks"):
        create_model("pooled_ridge", train_ds.dims, inputs="pairs", pair_ranks="0")


def _mismatch_world(tmp_path, seed=0):
    """A world whose score is how closely flow follows audio at each moment: flow_0(t) = audio_0(t) + s N(0, 1),
    score 10 - 3 mean_t |flow_0(t) - audio_0(t)|, s each video's own; every other dim is louder noise. Neither
    stream's mean or sum shows s."""
    def rewrite(s, T, rng):
        x = {m: 2.0 * rng.standard_normal((T, 6)) for m in s.feats}
        x["audio"][:, 0] = rng.uniform(-1, 1, T)
        x["flow"][:, 0] = x["audio"][:, 0] + rng.uniform(0.05, 1.0) * rng.standard_normal(T)
        s.feats = {m: torch.from_numpy(a.astype(np.float32)) for m, a in x.items()}
        s.score = 10 - 3 * float(np.abs(x["flow"][:, 0] - x["audio"][:, 0]).mean())

    return _rewritten_world(tmp_path, 120, 60, rewrite, seed)


def test_shared_moments_read_how_closely_two_streams_follow_each_other(tmp_path):
    """With `rgb_cca` among its inputs, cross-validation picks the shared-moment features on a score that only
    they show (the canonical pair finds the two dims that move together, though they are the quietest), and the
    member ranks unseen videos by it; pooled features cannot. The fit lives in its buffers, it reads every
    modality, and the torch forward computes the numpy features of the fit (padded videos included)."""
    from lmac.models.ridge import cca_pool, pool_video, ridge_predict

    train_ds, test_ds = _mismatch_world(tmp_path)
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_cca", key_pool=False)
    chose = model.fit(train_ds, seed=0)
    assert chose["shared"] and chose["inputs"] == ["rgb"]
    assert model.used_modalities() == ["rgb", "flow", "audio"]
    assert _rho(model, test_ds) > 0.7
    u = model.get_buffer("cca_flow_audio_u").numpy()
    assert np.abs(u).argmax() == 0 and np.abs(u[0]) > 3 * np.abs(u[1:]).max()  # flow's dim 0 in flow-audio's pair
    plain = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False)
    assert not plain.fit(train_ds, seed=0)["shared"]
    assert abs(_rho(plain, test_ds)) < 0.4
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_cca", key_pool=False)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(model, test_ds)["score"])
    dirs = {pair: tuple(tuple(model.get_buffer(f"cca_{pair[0]}_{pair[1]}_{n}{side}").numpy()
                              for n in ("mean_", "scale_", ""))
                        for side in "uv") for pair in model.pairs}
    X = np.stack([np.concatenate([pool_video(s.feats, ["rgb"], train_ds.window), cca_pool(s.feats, dirs)])
                  for s in test_ds.samples])
    keep = np.r_[np.arange(12), 2 * sum(train_ds.dims.values()) + np.arange(15)]  # RGB's pooled, then the 15
    fit = (model.mean[keep].numpy(), model.scale[keep].numpy(), model.weight[keep].numpy(), model.bias.numpy())
    assert len({len(s.feats["rgb"]) for s in test_ds.samples}) > 1
    assert _score(model, test_ds)["score"].double().numpy() == pytest.approx(ridge_predict(fit, X)[:, 0], rel=1e-5,
                                                                             abs=1e-5)
    feats = {m: a for m, a in collate_sequences([test_ds[0]])["feats"].items() if m != "audio"}
    assert not model.can_score(feats)
    with pytest.raises(ValueError, match="cca_rank"):
        create_model("pooled_ridge", train_ds.dims, inputs="rgb_cca", cca_rank=0)


def test_a_fit_from_before_the_shared_moments_loads_and_scores_as_it_did(tmp_path):
    """A checkpoint of the member written before `rgb_cca`/`all_cca` existed (no shared-moment buffers, a shorter
    layout) loads into today's member with those options and scores the same videos the same."""
    train_ds, test_ds = _mismatch_world(tmp_path)
    old = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,pairs", pair_ranks="2")
    old.fit(train_ds, seed=0)
    state = {k: v for k, v in old.state_dict().items()}
    assert "shared" in state
    del state["shared"]  # what a checkpoint from before the option holds
    new = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,pairs,rgb_cca", pair_ranks="2")
    assert new.mean.shape[0] == old.mean.shape[0] + 15
    new.load_state_dict(state)
    assert not bool(new.shared)
    assert torch.equal(_score(new, test_ds)["score"], _score(old, test_ds)["score"])


def _key_moment_world(tmp_path, seed=0):
    """A world scored on how closely flow follows audio at a routine's elements only: elements (a third of the
    segments) show in RGB (dims 0-3 move together) and there flow_0 = audio_0 + s N(0, 1); between them flow_0 = audio_0 +
    s' N(0, 1), s and s' each video's own and independent (how closely a routine follows the music between its
    elements is not judged). Score 10 - 3 mean over element segments of |flow_0 - audio_0|."""
    def rewrite(s, T, rng):
        x = {m: 2.0 * rng.standard_normal((T, 6)) for m in s.feats}
        x["audio"][:, 0] = rng.uniform(-1, 1, T)
        el = np.zeros(T, bool)
        el[rng.permutation(T)[:T // 3]] = True
        x["rgb"][:, :4] += np.where(el, 4.0, 0.0)[:, None]  # an element changes the picture in several dims
        x["flow"][:, 0] = x["audio"][:, 0] + np.where(el, rng.uniform(0.05, 1.0), rng.uniform(0.05, 1.0)) \
            * rng.standard_normal(T)
        s.feats = {m: torch.from_numpy(a.astype(np.float32)) for m, a in x.items()}
        s.score = 10 - 3 * float(np.abs(x["flow"][el, 0] - x["audio"][el, 0]).mean())

    return _rewritten_world(tmp_path, 160, 80, rewrite, seed)


def test_key_moments_read_two_streams_where_the_elements_are(tmp_path):
    """With `rgb_key` among its inputs, cross-validation picks the key-moment features on a score that compares two
    streams at the elements only (RGB shows where they are), and ranks unseen videos by it better than the shared
    moments over every segment. The torch forward computes the numpy features of the fit (padded videos included),
    and a fit from before the option loads and scores as it did."""
    from lmac.models.ridge import cca_pool, key_pool, pool_video, ridge_predict

    train_ds, test_ds = _key_moment_world(tmp_path)
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,rgb_cca,rgb_key", key_rank=1, key_pool=False)
    chose = model.fit(train_ds, seed=0)
    assert chose["keys"] and chose["shared"] and chose["inputs"] == ["rgb"]
    shared = create_model("pooled_ridge", train_ds.dims, inputs="rgb,rgb_cca", key_pool=False)
    assert shared.fit(train_ds, seed=0)["shared"]
    assert _rho(model, test_ds) > 0.6 and _rho(model, test_ds) > _rho(shared, test_ds) + 0.1
    dirs = {pair: tuple(tuple(model.get_buffer(f"cca_{pair[0]}_{pair[1]}_{n}{side}").numpy()
                              for n in ("mean_", "scale_", ""))
                        for side in "uv") for pair in model.pairs}
    gates = {m: tuple(model.get_buffer(f"{n}_{m}").numpy() for n in ("key_mean", "key_scale", "key"))
             for m in model.modalities}
    X = np.stack([np.concatenate([pool_video(s.feats, ["rgb"], train_ds.window), cca_pool(s.feats, dirs),
                                  key_pool(s.feats, dirs, gates, 1)]) for s in test_ds.samples])
    keep = np.r_[np.arange(12), 2 * sum(train_ds.dims.values()) + np.arange(15 + 90)]  # RGB's, shared, key
    fit = (model.mean[keep].numpy(), model.scale[keep].numpy(), model.weight[keep].numpy(), model.bias.numpy())
    assert len({len(s.feats["rgb"]) for s in test_ds.samples}) > 1
    assert _score(model, test_ds)["score"].double().numpy() == pytest.approx(ridge_predict(fit, X)[:, 0], rel=1e-5,
                                                                             abs=1e-5)
    state = dict(shared.state_dict())
    del state["keyed"]  # what a checkpoint from before the option holds
    new = create_model("pooled_ridge", train_ds.dims, inputs="rgb,rgb_cca,rgb_key", key_rank=1, key_pool=False)
    new.load_state_dict(state)
    assert not bool(new.keyed) and bool(new.shared)
    assert torch.equal(_score(new, test_ds)["score"], _score(shared, test_ds)["score"])
    with pytest.raises(ValueError, match="key_rank"):
        create_model("pooled_ridge", train_ds.dims, inputs="rgb_key", key_rank=0)


def test_a_stack_of_input_options_is_their_weighted_sum_in_one_linear_read_out(tmp_path):
    """`combine=stack` (the twentieth candidate): each input option at its own cross-validated penalty, weighted by
    non-negative least squares on their out-of-fold predictions; the weights sum to 1, and the member scores unseen
    videos exactly as the weighted sum of the single-option members (fitted alone, with the same folds) does, the
    aligned pairs and shared moments included. A checkpoint carries it; `combine` is checked."""
    train_ds, test_ds = _mismatch_world(tmp_path)
    inputs = "rgb,all,pairs,rgb_cca,all_cca"
    model = create_model("pooled_ridge", train_ds.dims, inputs=inputs, pair_ranks="2,4", combine="stack")
    chose = model.fit(train_ds, seed=0)
    stack = chose["stack"]
    assert len(stack) >= 2 and set(stack) <= set(inputs.split(","))
    assert all(v["weight"] > 0 for v in stack.values()) and sum(v["weight"] for v in stack.values()) == pytest.approx(1)
    expected = 0.0
    for option, v in stack.items():
        alone = create_model("pooled_ridge", train_ds.dims, inputs=option, pair_ranks="2,4")
        assert alone.fit(train_ds, seed=0)["penalty"] == v["penalty"]
        expected = expected + v["weight"] * _score(alone, test_ds)["score"].double().numpy()
    got = _score(model, test_ds)["score"].double().numpy()
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
    fresh = create_model("pooled_ridge", train_ds.dims, inputs=inputs, pair_ranks="2,4", combine="stack")
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(model, test_ds)["score"])
    best = create_model("pooled_ridge", train_ds.dims, inputs=inputs, pair_ranks="2,4")
    assert "stack" not in best.fit(train_ds, seed=0)
    with pytest.raises(ValueError, match="combine"):
        create_model("pooled_ridge", train_ds.dims, combine="mean")


def _count_world(tmp_path, seed=0):
    """A world scored on how many elements a routine has (3-9), not on how long they last: an element is a run of
    2-8 segments in which RGB dims 0-3 are raised by 3; the elements fill a share of the routine drawn apart from
    their number, so the pooled mean and sum (total duration) say little of the count."""
    def rewrite(s, T, rng):
        x = {m: rng.standard_normal((T, 6)) for m in s.feats}
        n = int(rng.integers(3, 10))
        lengths = np.maximum(2, np.round(rng.uniform(0.15, 0.5) * T / n * rng.uniform(0.7, 1.3, n))).astype(int)
        starts = np.sort(rng.choice(np.arange(0, T, 1), n, replace=False))
        el = np.zeros(T, bool)
        for a, L in zip(starts, lengths):
            el[a:a + L] = True
        onsets = int(el[0]) + int((el[1:] & ~el[:-1]).sum())  # elements that touch count once
        x["rgb"][:, :4] += np.where(el, 3.0, 0.0)[:, None]
        s.feats = {m: torch.from_numpy(a.astype(np.float32)) for m, a in x.items()}
        s.score = float(onsets)

    return _rewritten_world(tmp_path, 160, 80, rewrite, seed)


def test_changes_count_the_elements_whatever_their_length(tmp_path):
    """With `rgb_delta` among its inputs, cross-validation picks RGB's changes on a score that counts elements of
    varying length, and the member ranks unseen videos by it better than from RGB's pooled features alone. The torch
    forward computes `delta_pool`'s numpy features of the fit (padded videos included); a checkpoint carries it; a
    member without the option has no change buffers (its state is as before the option existed)."""
    from lmac.models.ridge import delta_pool, pool_video, ridge_predict

    train_ds, test_ds = _count_world(tmp_path)
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_delta", delta_rank=4, key_pool=False)
    chose = model.fit(train_ds, seed=0)
    assert chose["changes"] and chose["inputs"] == ["rgb"] and bool(model.changes)
    plain = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False)
    assert not plain.fit(train_ds, seed=0)["changes"]
    assert not any(name.startswith(("delta_", "changes")) for name in plain.state_dict())
    assert _rho(model, test_ds) > 0.6 and _rho(model, test_ds) > _rho(plain, test_ds) + 0.1
    proj = {"rgb": tuple(model.get_buffer(f"{n}_rgb").numpy() for n in ("delta_mean", "delta_scale", "delta"))}
    X = np.stack([np.concatenate([pool_video(s.feats, ["rgb"], train_ds.window),
                                  delta_pool(s.feats, proj, 4, train_ds.window)]) for s in test_ds.samples])
    P = len(model.mean)
    keep = np.r_[np.arange(12), P - 24 + np.arange(8)]  # RGB's pooled features, then RGB's changes (first of three)
    fit = (model.mean[keep].numpy(), model.scale[keep].numpy(), model.weight[keep].numpy(), model.bias.numpy())
    assert len({len(s.feats["rgb"]) for s in test_ds.samples}) > 1
    got = _score(model, test_ds)["score"].double().numpy()  # one padded batch of different lengths
    assert got == pytest.approx(ridge_predict(fit, X)[:, 0], rel=1e-5, abs=1e-5)
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_delta", delta_rank=4, key_pool=False)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(model, test_ds)["score"])
    old = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_cca", key_pool=False)  # a fit from before the option
    old.fit(train_ds, seed=0)
    new = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all,rgb_cca,rgb_delta", delta_rank=4, key_pool=False)
    new.load_state_dict(old.state_dict())
    assert not bool(new.changes)
    assert torch.equal(_score(new, test_ds)["score"], _score(old, test_ds)["score"])
    every = create_model("pooled_ridge", train_ds.dims, inputs="all_delta", delta_rank=4)
    assert every.fit(train_ds, seed=0)["inputs"] == ["rgb", "flow", "audio"]
    assert _rho(every, test_ds) > 0.5
    with pytest.raises(ValueError, match="delta_rank"):
        create_model("pooled_ridge", train_ds.dims, inputs="rgb_delta", delta_rank=0)



def _element_quality_world(tmp_path, seed=0):
    """A world scored on what RGB shows at a routine's elements only: elements (a third of the segments) change the
    picture (RGB dims 0-3 move together) and show their quality in RGB dim 4 (the routine's q plus N(0, 0.3)); between
    them dim 4 is N(0, 4), unscored. Score 10 + 2 q. The mean over every segment dilutes q with the transitions."""
    def rewrite(s, T, rng):
        x = {m: rng.standard_normal((T, 6)) for m in s.feats}
        el = np.zeros(T, bool)
        el[rng.permutation(T)[:T // 3]] = True
        q = rng.standard_normal()
        x["rgb"][:, :4] += np.where(el, 4.0, 0.0)[:, None]
        x["rgb"][:, 4] = np.where(el, q + 0.3 * rng.standard_normal(T), 4.0 * rng.standard_normal(T))
        s.feats = {m: torch.from_numpy(a.astype(np.float32)) for m, a in x.items()}
        s.score = 10 + 2 * q

    return _rewritten_world(tmp_path, 160, 80, rewrite, seed)


def test_key_pooling_reads_each_stream_at_its_own_key_moments(tmp_path):
    """With `key_pool`, every input option's pooled features are also taken over each read modality's own key moments:
    on a score that RGB shows at the elements only, the member ranks unseen videos better than without it. The torch
    forward computes `pool_video`'s numpy features of the fit (padded videos included), a checkpoint carries it, a
    member without the option has the state it had before the option existed, and such a fit loads into a member with
    the option and scores as it did. It is the default."""
    from lmac.models.ridge import pool_video, ridge_predict

    train_ds, test_ds = _element_quality_world(tmp_path)
    assert create_model("pooled_ridge", train_ds.dims).key_pool  # the default since the twenty-seventh candidate
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=True, key_rank=1)
    chose = model.fit(train_ds, seed=0)
    assert chose["inputs"] == ["rgb"] and bool(model.key_pooled)
    plain = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False)
    assert plain.fit(train_ds, seed=0)["inputs"] == ["rgb"]
    assert not any(name.startswith(("key_pooled", "key_mean_", "key_scale_", "key_rgb")) for name in plain.state_dict())
    assert _rho(model, test_ds) > 0.8 and _rho(model, test_ds) > _rho(plain, test_ds) + 0.1
    gates = {"rgb": tuple(model.get_buffer(f"{n}_rgb").numpy()[:, :1] if n == "key" else model.get_buffer(f"{n}_rgb")
                          .numpy() for n in ("key_mean", "key_scale", "key"))}
    X = np.stack([pool_video(s.feats, ["rgb"], train_ds.window, gates, 1) for s in test_ds.samples])
    assert X.shape[1] == 4 * 6  # mean, sum / window, and both over the key moments
    fit = (model.mean[:24].numpy(), model.scale[:24].numpy(), model.weight[:24].numpy(), model.bias.numpy())
    assert len({len(s.feats["rgb"]) for s in test_ds.samples}) > 1
    got = _score(model, test_ds)["score"].double().numpy()  # one padded batch of different lengths
    assert got == pytest.approx(ridge_predict(fit, X)[:, 0], rel=1e-5, abs=1e-5)
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=True, key_rank=1)
    fresh.load_state_dict(model.state_dict())
    assert torch.equal(_score(fresh, test_ds)["score"], _score(model, test_ds)["score"])
    for inputs in ("rgb,all", "rgb,all,pairs,rgb_cca,all_cca"):  # a fit from before the option loads as it was
        old = create_model("pooled_ridge", train_ds.dims, inputs=inputs, key_pool=False, fallback=False)  # as then
        old.fit(train_ds, seed=0)
        new = create_model("pooled_ridge", train_ds.dims, inputs=inputs, key_pool=True, key_rank=1)
        new.load_state_dict(old.state_dict())
        assert not bool(new.key_pooled) and new.mean.shape[0] == old.mean.shape[0] + 2 * sum(train_ds.dims.values())
        assert torch.allclose(_score(new, test_ds)["score"], _score(old, test_ds)["score"], rtol=0, atol=1e-6)

def test_the_gate_weighs_members_by_what_their_modalities_show(tmp_path):
    """`gate=cv` (the twenty-second candidate): on `glide`, whose PCS only flow shows, the ridge's cross-validation
    on the training videos gives the RGB-only `gdlt` member little weight, and on its TES, which RGB shows, most of
    its weight; members that read every modality and the ridge itself keep theirs. Fitting again (a resumed run)
    gives the same weights, and a checkpoint carries them."""
    folder = tmp_path / "glide"
    generate_world(folder, world_config("glide", seed=3, n_train=120, n_test=4, t_range=(30, 34),
                                        dims={"rgb": 16, "flow": 16, "audio": 8}))
    gates = {}
    for task in ("world_glide_pcs", "world_glide_tes"):
        train_ds, _, _ = _data(folder, task=task)
        kw = dict(members=RIDGE_MEMBERS, member_args={m: narrow(m) for m in ("lmac_aligned_md", "gdlt")})
        ens = create_model("lmac_ensemble", train_ds.dims, **kw)  # gate="cv", the default
        fitted = ens.fit(train_ds, seed=0)
        w = fitted["member_weights"]
        assert sum(w.values()) == pytest.approx(1.0) and w == pytest.approx(
            {n: float(x) for n, x in zip(ens.members, ens.w / ens.w.sum())})
        gates[task] = ens.gates(fitted)
        assert gates[task]["lmac_aligned_md"] == 1.0 and gates[task]["pooled_ridge"] == 1.0
        before = ens.w.clone()
        ens.fit(train_ds, seed=0)
        assert torch.equal(ens.w, before)  # not gated twice
        fresh = create_model("lmac_ensemble", train_ds.dims, gate="cv", **kw)
        fresh.load_state_dict(ens.state_dict())
        assert torch.equal(fresh.w, ens.w)
        plain = create_model("lmac_ensemble", train_ds.dims, gate="", **kw)
        assert "member_weights" not in plain.fit(train_ds, seed=0) and plain.w.tolist() == [1.0, 1.0, 4.0]
    assert gates["world_glide_pcs"]["gdlt"] < 0.5 < gates["world_glide_tes"]["gdlt"]


def test_gates_from_the_cross_validation():
    """The gate's arithmetic: c / c* clipped to [0, 1], 1 where no input reads only the member's modalities or
    nothing reads the score; and an average over members whose weights are all 0 falls back to equal weights."""
    ens = create_model("lmac_ensemble", {"rgb": 8, "flow": 8, "audio": 8}, members=RIDGE_MEMBERS, gate="cv",
                       member_args={m: narrow(m) for m in ("lmac_aligned_md", "gdlt")})
    g = ens.gates({"pooled_ridge": {"cv_by_reads": {"rgb": 0.2, "rgb+flow+audio": 0.8}}})
    assert g == pytest.approx({"lmac_aligned_md": 1.0, "gdlt": 0.25, "pooled_ridge": 1.0})
    g = ens.gates({"pooled_ridge": {"cv_by_reads": {"rgb": -0.1, "rgb+flow+audio": 0.5}}})
    assert g["gdlt"] == 0.0
    assert ens.gates({"pooled_ridge": {"cv_by_reads": {"rgb": -0.1, "rgb+flow+audio": -0.2}}})["gdlt"] == 1.0
    assert ens.gates({"pooled_ridge": {"cv_by_reads": {"rgb+flow+audio": 0.5}}})["gdlt"] == 1.0
    ens.w.copy_(torch.tensor([1.0, 0.0, 2.0]))
    score, w = ens.mix({"gdlt": torch.tensor([3.0])})
    assert score.item() == 3.0 and w.tolist() == [1.0]
    with pytest.raises(ValueError, match="gate"):
        create_model("lmac_ensemble", {"rgb": 8, "flow": 8, "audio": 8}, gate="ridge")


def _two_stream_world(tmp_path, seed=0):
    """A world scored on what RGB and audio each show all along: 10 + a + b, RGB dim 0 showing a and audio dim 0
    showing b (each under noise); flow is noise. Either stream alone reads half of the score."""
    def rewrite(s, T, rng):
        a, b = rng.standard_normal(2)
        x = {m: rng.standard_normal((T, 6)) for m in s.feats}
        x["rgb"][:, 0] += a
        x["audio"][:, 0] += b
        s.feats = {m: torch.from_numpy(v.astype(np.float32)) for m, v in x.items()}
        s.score = 10 + a + b

    return _rewritten_world(tmp_path, 120, 60, rewrite, seed)


def test_a_fallback_fit_scores_a_video_without_a_modality_the_member_reads(tmp_path):
    """With `fallback` (the twenty-eighth candidate), a video without sound is scored by the ridge of the modalities it
    has (the `rgb` and `all` options on their pooled features, chosen by the same cross-validation; numpy's fit to
    rounding) instead of the member sitting out; a video with every modality is scored exactly as without the option;
    a checkpoint carries the fallback fits, and a fit from before the option loads and sits out as it did."""
    from lmac.models.ridge import choose_by_cv, pool_video, ridge_fit, ridge_predict

    train_ds, test_ds = _two_stream_world(tmp_path)
    batch = collate_sequences([test_ds[i] for i in range(len(test_ds))])
    y = np.array([s.score for s in test_ds.samples])
    no_audio = {m: x for m, x in batch["feats"].items() if m != "audio"}
    default = create_model("pooled_ridge", train_ds.dims).config
    assert default.fallback and default.fallback_keep == 0.9  # the default since the twenty-ninth candidate
    plain = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=False)
    model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True,
                         fallback_keep=0.0)  # every fallback fit, the twenty-eighth's
    assert plain.fit(train_ds, seed=0)["inputs"] == ["rgb", "flow", "audio"]
    chose = model.fit(train_ds, seed=0)
    assert set(chose["fallback"]) == {"rgb+flow", "rgb+audio", "flow+audio", "rgb", "flow", "audio"}
    with torch.no_grad():
        assert torch.equal(model(batch["feats"], batch["mask"])["score"], plain(batch["feats"], batch["mask"])["score"])
        assert not plain.can_score(no_audio) and model.can_score(no_audio)
        got = model(no_audio, batch["mask"])["score"].double().numpy()
        only_flow = model({"flow": batch["feats"]["flow"]}, batch["mask"])["score"].double().numpy()
    from lmac.evaluation.metrics import spearman

    assert spearman(got, y) > 0.5 and abs(spearman(only_flow, y)) < 0.4  # RGB's half; flow shows none of it
    # numpy's ridge on the same candidates, as `fit` chooses among them
    w = train_ds.window
    cands = {mods: np.stack([pool_video(s.feats, mods, w) for s in train_ds.samples]) for mods in (("rgb",), ("rgb", "flow"))}
    mods, lam = choose_by_cv(cands, np.array([s.score for s in train_ds.samples]), 0)
    assert {k: chose["fallback"]["rgb+flow"][k] for k in ("inputs", "penalty", "kept")} == {
        "inputs": list(mods), "penalty": lam, "kept": True}  # `fallback_keep` 0: every fallback fit is kept
    X = np.stack([pool_video(s.feats, mods, w) for s in test_ds.samples])
    want = ridge_predict(ridge_fit(cands[mods], np.array([s.score for s in train_ds.samples]), lam), X)
    assert train_ds.task.to_score(torch.from_numpy(got)).numpy() == pytest.approx(want, rel=1e-6, abs=1e-6)
    fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True)
    fresh.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert torch.equal(fresh(no_audio, batch["mask"])["score"], model(no_audio, batch["mask"])["score"])
    old = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True)
    old.load_state_dict(plain.state_dict())  # a fit from before the option: no fallback fits
    assert not old.can_score(no_audio)
    with torch.no_grad():
        assert torch.equal(old(batch["feats"], batch["mask"])["score"], plain(batch["feats"], batch["mask"])["score"])
    # in the ensemble, the ridge now scores a video without sound
    ens = create_model("lmac_ensemble", train_ds.dims, members=RIDGE_MEMBERS,
                       member_args={"pooled_ridge": {"fallback": True, "fallback_keep": 0.0, "inputs": "rgb,all"},
                                    **{m: narrow(m) for m in ("lmac_aligned_md", "gdlt")}})
    ens.fit(train_ds, seed=0)
    ens.eval()
    with torch.no_grad():
        assert set(ens(no_audio, batch["mask"])["member_scores"]) == {"lmac_aligned_md", "gdlt", "pooled_ridge"}


def test_fallback_keep_leaves_unfitted_the_fallbacks_that_keep_too_little_of_the_main_read(tmp_path):
    """`fallback_keep` (the twenty-ninth candidate): a fallback fit scores only where its cross-validated rho is at
    least that share of the main fit's best; the others are left unfitted and the member sits out for them, as
    without `fallback`. The fits kept score exactly as with every fallback kept; the option is checked."""
    from lmac.models.ridge import cv_scores, pool_video

    train_ds, test_ds = _two_stream_world(tmp_path)  # the score is RGB's half plus audio's half; flow shows none
    batch = collate_sequences([test_ds[i] for i in range(len(test_ds))])
    every = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True,
                         fallback_keep=0.0)
    chose_every = every.fit(train_ds, seed=0)
    main_rho = max(chose_every["cv_by_reads"].values())
    cvs = {sub: f["cv"] for sub, f in chose_every["fallback"].items()}
    # the cross-validated rho reported is the one cross-validation chose the subset's fit by
    y = np.array([s.score for s in train_ds.samples])
    cands = {mods: np.stack([pool_video(s.feats, mods, train_ds.window) for s in train_ds.samples])
             for mods in (("rgb",), ("rgb", "flow"))}
    assert cvs["rgb+flow"] == pytest.approx(max(r for r, _ in cv_scores(cands, y, 0).values()))
    assert cvs["rgb+flow"] < main_rho and cvs["flow"] < 0.3 * main_rho  # a stream left carries less
    keep = (cvs["rgb+flow"] / main_rho + 1) / 2  # between what RGB with flow keeps and all of it
    strict = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True,
                          fallback_keep=keep)
    chose = strict.fit(train_ds, seed=0)
    assert chose["inputs"] == chose_every["inputs"] and chose["penalty"] == chose_every["penalty"]
    assert {sub: f["kept"] for sub, f in chose["fallback"].items()} == {
        sub: cv >= keep * main_rho for sub, cv in cvs.items()}
    assert not chose["fallback"]["rgb+flow"]["kept"] and not chose["fallback"]["flow"]["kept"]
    loose = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True,
                         fallback_keep=cvs["rgb+flow"] / main_rho * 0.99)
    assert loose.fit(train_ds, seed=0)["fallback"]["rgb+flow"]["kept"]
    with torch.no_grad():
        assert torch.equal(strict(batch["feats"], batch["mask"])["score"], every(batch["feats"], batch["mask"])["score"])
        for sub in chose["fallback"]:
            feats = {m: batch["feats"][m] for m in sub.split("+")}
            assert strict.can_score(feats) == chose["fallback"][sub]["kept"]
            if chose["fallback"][sub]["kept"]:
                assert torch.equal(strict(feats, batch["mask"])["score"], every(feats, batch["mask"])["score"])
        no_audio = {m: x for m, x in batch["feats"].items() if m != "audio"}
        assert loose.can_score(no_audio) and torch.equal(loose(no_audio, batch["mask"])["score"],
                                                         every(no_audio, batch["mask"])["score"])
    # a refit of a module that held every fallback fit (a loaded run) leaves unfitted those it does not keep
    refit = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_pool=False, fallback=True,
                         fallback_keep=keep)
    refit.load_state_dict(every.state_dict())
    assert refit.can_score(no_audio)
    assert not refit.fit(train_ds, seed=0)["fallback"]["rgb+flow"]["kept"]
    assert not refit.can_score(no_audio)
    assert torch.equal(refit.state_dict()["fallback_weight"], strict.state_dict()["fallback_weight"])
    # in the ensemble, the ridge sits out a video whose streams keep too little of its read
    ens = create_model("lmac_ensemble", train_ds.dims, members=RIDGE_MEMBERS,
                       member_args={"pooled_ridge": {"fallback": True, "fallback_keep": keep, "inputs": "rgb,all"},
                                    **{m: narrow(m) for m in ("lmac_aligned_md", "gdlt")}})
    ens.fit(train_ds, seed=0)
    ens.eval()
    with torch.no_grad():
        assert set(ens(no_audio, batch["mask"])["member_scores"]) == {"lmac_aligned_md", "gdlt"}
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="fallback_keep must be a share between 0 and 1"):
            create_model("pooled_ridge", train_ds.dims, fallback=True, fallback_keep=bad)


def test_fallback_inputs_same_reads_the_streams_left_together(tmp_path):
    """`fallback_inputs="same"` (a thirtieth candidate): a video without flow is scored by the member's own fit
    (every input option, the same cross-validation) on RGB and audio, so it still reads what they show *together*,
    where today's pooled fallback cannot; a video with every stream is scored exactly as before; the fits it keeps
    follow `fallback_keep` and are those of a member fitted on the subset's streams alone; checkpoints carry them, and
    a fit with pooled fallback fits loads into it and sits out for a missing stream. The options are checked."""
    from lmac.models.ridge import SubsetView

    train_ds, test_ds = _product_world(tmp_path)  # score: RGB's dim 0 times audio's, at the same moment; flow: noise
    batch = collate_sequences([test_ds[i] for i in range(len(test_ds))])
    no_flow = {m: x for m, x in batch["feats"].items() if m != "flow"}
    y = np.array([s.score for s in test_ds.samples])
    from lmac.evaluation.metrics import spearman

    def rho(model, feats):
        with torch.no_grad():
            return spearman(model(feats, batch["mask"])["score"].double().numpy(), y)

    assert create_model("pooled_ridge", train_ds.dims).config.fallback_inputs == "pooled"  # the default, as before
    pooled = create_model("pooled_ridge", train_ds.dims, fallback_keep=0.0)
    same = create_model("pooled_ridge", train_ds.dims, fallback_keep=0.0, fallback_inputs="same")
    chose_pooled, chose = pooled.fit(train_ds, seed=0), same.fit(train_ds, seed=0)
    assert {k: chose[k] for k in ("inputs", "pairs", "shared", "penalty")} == {
        k: chose_pooled[k] for k in ("inputs", "pairs", "shared", "penalty")}
    assert chose["pairs"] or chose["shared"]  # the main fit reads the streams together
    with torch.no_grad():
        assert torch.equal(same(batch["feats"], batch["mask"])["score"], pooled(batch["feats"], batch["mask"])["score"])
    assert pooled.can_score(no_flow) and same.can_score(no_flow)
    assert abs(rho(pooled, no_flow)) < 0.4 and rho(same, no_flow) > 0.7
    assert chose["fallback"]["rgb+audio"]["pairs"] or chose["fallback"]["rgb+audio"]["shared"]
    assert chose["fallback"]["rgb+audio"]["cv"] > 2 * chose_pooled["fallback"]["rgb+audio"]["cv"]
    # the fit is a member fitted on RGB and audio alone
    alone = create_model("pooled_ridge", {"rgb": 6, "audio": 6}, fallback=False)
    assert chose["fallback"]["rgb+audio"]["cv"] == max(alone.fit(SubsetView(train_ds, ("rgb", "audio")),
                                                               seed=0)["cv_by_reads"].values())
    with torch.no_grad():
        assert torch.equal(alone(no_flow, batch["mask"])["score"], same(no_flow, batch["mask"])["score"])
    # kept by the same rule: the streams that keep the read, not those that do not
    main_rho = max(chose["cv_by_reads"].values())
    strict = create_model("pooled_ridge", train_ds.dims, fallback_inputs="same", fallback_keep=0.9)
    kept = {sub: f["kept"] for sub, f in strict.fit(train_ds, seed=0)["fallback"].items()}
    assert kept == {sub: f["cv"] >= 0.9 * main_rho for sub, f in chose["fallback"].items()}
    assert kept["rgb+audio"] and not kept["rgb+flow"] and not kept["audio"]
    for sub, k in kept.items():
        assert strict.can_score({m: batch["feats"][m] for m in sub.split("+")}) == k
    # checkpoints carry the fits; a fit with pooled fallback fits loads and sits out without flow
    fresh = create_model("pooled_ridge", train_ds.dims, fallback_inputs="same", fallback_keep=0.0)
    fresh.load_state_dict(same.state_dict())
    with torch.no_grad():
        assert torch.equal(fresh(no_flow, batch["mask"])["score"], same(no_flow, batch["mask"])["score"])
    old = fresh  # a fitted module: what it held goes
    old.load_state_dict(pooled.state_dict())
    assert not old.can_score(no_flow)
    unfitted = create_model("pooled_ridge", train_ds.dims, fallback_inputs="same", fallback_keep=0.0).state_dict()
    assert all(torch.equal(v, unfitted[k]) for k, v in old.state_dict().items() if k.startswith("fallback_fits."))
    with torch.no_grad():
        assert torch.equal(old(batch["feats"], batch["mask"])["score"], pooled(batch["feats"], batch["mask"])["score"])
    # in the ensemble the ridge scores a video without flow
    ens = create_model("lmac_ensemble", train_ds.dims, members=RIDGE_MEMBERS,
                       member_args={"pooled_ridge": {"fallback_inputs": "same"},
                                    **{m: narrow(m) for m in ("lmac_aligned_md", "gdlt")}})
    ens.fit(train_ds, seed=0)
    ens.eval()
    with torch.no_grad():
        assert "pooled_ridge" in ens(no_flow, batch["mask"])["member_scores"]
    with pytest.raises(ValueError, match="fallback_inputs must be 'pooled' or 'same'"):
        create_model("pooled_ridge", train_ds.dims, fallback_inputs="all")
    with pytest.raises(ValueError, match="needs combine='best'"):
        create_model("pooled_ridge", train_ds.dims, fallback_inputs="same", combine="stack")


def test_key_pool_cv_reads_the_key_pooled_features_only_where_cross_validation_ranks_them_first(tmp_path):
    """`key_pool_cv` (a thirty-first candidate): the inputs are cross-validated with and without the key-pooled
    features, and the fit is the better of the two: where the score is in the elements (key pooling ranks first) it is
    today's key-pooled fit, where it is in the whole routine it is the fit without key pooling, its pooled fallbacks
    too; a checkpoint carries the choice. Off by default; it needs key pooling and the `best` combination."""
    from lmac.evaluation.metrics import spearman

    assert not create_model("pooled_ridge", {"rgb": 6}).config.key_pool_cv  # off by default
    picked = set()
    for world in (_element_quality_world, _two_stream_world):
        train_ds, test_ds = world(tmp_path / world.__name__)
        batch = collate_sequences([test_ds[i] for i in range(len(test_ds))])
        no_audio = {m: x for m, x in batch["feats"].items() if m != "audio"}
        fits = {}
        for name, kw in (("keyed", {"key_pool": True}), ("plain", {"key_pool": False}),
                         ("cv", {"key_pool": True, "key_pool_cv": True})):
            model = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_rank=1, fallback_keep=0.0, **kw)
            fits[name] = (model, model.fit(train_ds, seed=0))
        cv_model, chose = fits["cv"]
        best = max(("keyed", "plain"), key=lambda n: (max(fits[n][1]["cv_by_reads"].values()), n == "keyed"))
        picked.add(best)
        assert chose["key_pool"] == (best == "keyed") == bool(cv_model.key_pooled)
        assert chose["cv_by_reads"] == pytest.approx(fits[best][1]["cv_by_reads"], abs=1e-12)
        assert {k: chose[k] for k in ("inputs", "penalty")} == {k: fits[best][1][k] for k in ("inputs", "penalty")}
        with torch.no_grad():
            for feats in (batch["feats"], no_audio):  # the main fit, and the pooled fallback without sound
                got = cv_model(feats, batch["mask"])["score"]
                assert torch.allclose(got, fits[best][0](feats, batch["mask"])["score"], rtol=0, atol=1e-5)
        fresh = create_model("pooled_ridge", train_ds.dims, inputs="rgb,all", key_rank=1, key_pool_cv=True)
        fresh.load_state_dict(cv_model.state_dict())
        with torch.no_grad():
            for feats in (batch["feats"], no_audio):
                assert torch.equal(fresh(feats, batch["mask"])["score"], cv_model(feats, batch["mask"])["score"])
        if world is _element_quality_world:  # the score is in the elements: key pooling is read, and reads it
            assert best == "keyed" and spearman(_score(cv_model, test_ds)["score"].double().numpy(),
                                                np.array([s.score for s in test_ds.samples])) > 0.8
    assert picked == {"keyed", "plain"}  # each world gets its own read
    for bad in ({"key_pool": False}, {"combine": "stack"}):
        with pytest.raises(ValueError, match="key_pool_cv needs key_pool=true and combine='best'"):
            create_model("pooled_ridge", {"rgb": 6}, key_pool_cv=True, **bad)


def test_the_fit_time_benchmark_times_both_fallbacks_and_prints_no_fit_figure(tmp_path, capsys, monkeypatch):
    """benchmarks/ridge_fit_time.py: it generates the draw it times (not a screen's), fits each kind of fallback, and
    writes seconds, the CPU and the videos; it prints and writes nothing of what the fit chose or cross-validated."""
    import json

    from lmac.models.ridge import PooledRidge

    mod = load("ridge_fit_time")
    fits, real_fit = [], PooledRidge.fit

    def spy(self, dataset, seed):  # the real fit, recorded: which member fitted, on which streams
        fits.append((self.config.fallback_inputs, self.config.fallback, tuple(self.modalities)))
        return real_fit(self, dataset, seed)

    monkeypatch.setattr(PooledRidge, "fit", spy)
    assert mod.main(["--data", str(tmp_path / "d"), "--small", "--repeats", "1", "--out", str(tmp_path / "t.json")]) == 0
    every = ("rgb", "flow", "audio")
    assert fits[0] == ("pooled", True, every) and fits[1] == ("same", True, every)  # the timed fits, one of each
    assert sorted(f[2] for f in fits[2:]) == sorted(
        [("rgb", "flow"), ("rgb", "audio"), ("flow", "audio"), ("rgb",), ("flow",), ("audio",)])  # same's fallbacks
    got = json.loads((tmp_path / "t.json").read_text())
    assert got["seed"] == 100 and got["train_videos"] == 32 and got["cpu"]
    assert set(got["seconds"]) == {"pooled", "same"} and all(s > 0 for s in got["seconds"].values())
    assert got["ratio"] == pytest.approx(got["seconds"]["same"] / got["seconds"]["pooled"])
    printed = capsys.readouterr().out
    assert "fallback_inputs=same" in printed and "cv" not in printed and "rho" not in printed
    assert not ({"cv", "cv_by_reads", "fallback", "inputs"} & set(got))
    assert (tmp_path / "d" / "amplitude" / "seed100" / "world.json").is_file()
