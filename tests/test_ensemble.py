"""lmac_ensemble: LMAC-Net (modality dropout) and RGB-only GDLT side by side, scores averaged (and, by default, a
ridge over pooled features fitted in closed form: tests/test_ridge.py). The mechanism is tested on two members."""
import pytest
import torch

from lmac.models import create_model
from small_models import merge_options, narrow, without_dropout

DIMS = {"rgb": 16, "flow": 12, "audio": 8}


TWO = "lmac_aligned_md,gdlt"


def _model(**kw):
    torch.manual_seed(0)
    members = kw.pop("members", TWO)
    base = {"members": members, "member_args": {m: narrow(m) for m in members.split(",") if narrow(m)}}
    return create_model("lmac_ensemble", DIMS, **merge_options(base, kw))


def _batch(B=3, lengths=(10, 7, 4)):
    g = torch.Generator().manual_seed(1)
    T = max(lengths)
    mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    feats = {m: torch.randn(B, T, d, generator=g) * mask[..., None] for m, d in DIMS.items()}
    return feats, mask


def test_the_score_is_the_weighted_mean_of_the_members_and_the_stages_still_add_up():
    model = _model(weights="3,1").eval()
    feats, mask = _batch()
    with torch.no_grad():
        out = model(feats, mask)
        lm = model.members["lmac_aligned_md"](feats, mask)["score"]
        gd = model.members["gdlt"](feats, mask)["score"]
    torch.testing.assert_close(out["score"], 0.75 * lm + 0.25 * gd)
    assert not torch.allclose(lm, gd)  # the members differ, so the weights matter
    torch.testing.assert_close((out["stage_weights"] * out["stage_scores"]).sum(-1), out["score"])
    assert set(out["attn"]) == set(DIMS)


def test_a_video_without_rgb_is_scored_by_lmac_net_alone_and_one_without_audio_by_both():
    model = _model().eval()
    feats, mask = _batch()
    with torch.no_grad():
        no_rgb = {m: x for m, x in feats.items() if m != "rgb"}
        torch.testing.assert_close(model(no_rgb, mask)["score"], model.members["lmac_aligned_md"](no_rgb, mask)["score"])
        silent = {m: x for m, x in feats.items() if m != "audio"}
        both = 0.5 * (model.members["lmac_aligned_md"](silent, mask)["score"] + model.members["gdlt"](silent, mask)["score"])
        torch.testing.assert_close(model(silent, mask)["score"], both)
    assert model.accepts_missing_modalities and model.modalities == ("rgb", "flow", "audio")


def test_without_modality_dropout_a_missing_modality_is_refused():
    model = _model(member_args={"lmac_aligned_md": {"modality_dropout": 0.0}}).eval()
    feats, mask = _batch()
    assert not model.accepts_missing_modalities
    with pytest.raises(KeyError, match="missing"):
        model({m: x for m, x in feats.items() if m != "flow"}, mask)


def test_an_early_fusion_member_sits_out_a_video_without_sound_when_lmac_can_score_it():
    torch.manual_seed(0)
    model = create_model("lmac_ensemble", DIMS, members="lmac_aligned_md,gdlt_mm",
                         member_args={m: narrow(m) for m in ("lmac_aligned_md", "gdlt_mm")}).eval()
    feats, mask = _batch()
    silent = {m: x for m, x in feats.items() if m != "audio"}
    out = model(silent, mask)
    assert list(out["member_scores"]) == ["lmac_aligned_md"]
    torch.testing.assert_close(out["score"], model.members["lmac_aligned_md"](silent, mask)["score"])
    assert list(model(feats, mask)["member_scores"]) == ["lmac_aligned_md", "gdlt_mm"]


def test_the_loss_is_the_sum_of_the_members_losses():
    model = _model(**without_dropout("lmac_ensemble")).train()
    feats, mask = _batch()
    target = torch.tensor([0.2, 0.5, 0.9])
    out = model(feats, mask)
    losses = model.compute_loss(out, target, mask)
    parts = [model.members[n].compute_loss(out["members"][n], target, mask)["total"] for n in model.members]
    torch.testing.assert_close(losses["total"], sum(parts))
    assert {"m0_mse", "m0_rank", "m1_mse", "m1_triplet"} <= set(losses)


def test_the_run_dropout_reaches_every_member_that_has_one():
    model = create_model("lmac_ensemble", DIMS, dropout=0.17, **narrow("lmac_ensemble"))
    assert model.members["lmac_aligned_md"].config.dropout == 0.17 and model.members["gdlt"].config.dropout == 0.17


@pytest.mark.parametrize("kw,msg", [(dict(members="gdlt"), "two or more"), (dict(members="lmac,nope"), "unknown model"),
                                    (dict(members="lmac,lmac_ensemble"), "unknown model"),
                                    (dict(weights="1,2"), "weights must be 3"),
                                    (dict(member_args={"concat": {}}), "not members"),
                                    (dict(copies=0), "copies must be")])
def test_bad_options_are_one_line_errors(kw, msg):
    with pytest.raises(ValueError, match=msg):
        create_model("lmac_ensemble", DIMS, **kw)


def test_each_member_is_clipped_on_its_own():
    model = _model()
    groups = model.grad_clip_groups()
    assert len(groups) == 2
    ids = [{id(p) for p in g} for g in groups]
    assert not ids[0] & ids[1] and ids[0] | ids[1] == {id(p) for p in model.parameters()}


def test_the_default_model_trains_and_lmac_predict_explains_its_score(tiny_synth, tmp_path):
    """What a new user gets: `lmac train` without --model builds lmac_ensemble, and lmac.load scores a video's
    features with a valid prediction whose stage scores add up to the score."""
    import lmac
    from lmac.config import DEFAULT_MODEL, TrainConfig
    from lmac.data.features import NativeStore
    from lmac.predict import check_prediction
    from lmac.training.trainer import train

    cfg = TrainConfig(task="rg_ball", model_args=narrow("lmac_ensemble"), features=str(tiny_synth / "features"),
                      labels=str(tiny_synth), epochs=1, batch_size=8, window=16, progress=False, device="cpu")
    assert cfg.model == DEFAULT_MODEL == "lmac_ensemble"
    s = train(cfg, tmp_path / "run", log=lambda m: None)
    assert s["model"] == "lmac_ensemble" and set(s["missing_modality"]) == {"rgb", "flow", "audio"}
    store = NativeStore(tiny_synth / "features")
    vid = next(v for v in store.ids() if v.startswith("Ball"))
    pred = lmac.load(tmp_path / "run", device="cpu").predict_store(store, vid)
    d = pred.to_dict()
    check_prediction(d)
    assert len(d["stages"]) == 5 and sum(st["weight"] * st["score"] for st in d["stages"]) == pytest.approx(d["score"])


def test_the_default_has_the_ridge_member_which_sits_out_until_fitted_and_is_not_copied():
    model = create_model("lmac_ensemble", DIMS, **narrow("lmac_ensemble")).eval()
    assert list(model.members) == ["lmac_aligned_md", "gdlt", "pooled_ridge"]
    feats, mask = _batch()
    with torch.no_grad():
        out = model(feats, mask)
        two = 0.5 * (model.members["lmac_aligned_md"](feats, mask)["score"] + model.members["gdlt"](feats, mask)["score"])
    assert list(out["member_scores"]) == ["lmac_aligned_md", "gdlt"]  # not fitted yet: it sits out
    torch.testing.assert_close(out["score"], two)
    copied = create_model("lmac_ensemble", DIMS, copies=2, **narrow("lmac_ensemble"))
    assert list(copied.members) == ["lmac_aligned_md", "lmac_aligned_md_copy2", "gdlt", "gdlt_copy2", "pooled_ridge"]
    # the ridge weighs 4 against the trained members' 1 each (the twenty-sixth candidate); a closed-form fit has one copy
    assert (model.w / model.w.sum()).tolist() == pytest.approx([1 / 6, 1 / 6, 2 / 3])
    assert (copied.w / copied.w.sum()).tolist() == pytest.approx([1 / 12, 1 / 12, 1 / 12, 1 / 12, 2 / 3])
    explicit = create_model("lmac_ensemble", DIMS, weights="1,1,4", **narrow("lmac_ensemble"))
    assert torch.equal(explicit.w, model.w)  # the default is the candidate round 12 ran with (--set weights=1,1,4)
    two_members = create_model("lmac_ensemble", DIMS, members="lmac_aligned_md,gdlt",
                               member_args={m: narrow(m) for m in ("lmac_aligned_md", "gdlt")})
    assert (two_members.w / two_members.w.sum()).tolist() == pytest.approx([1 / 2, 1 / 2])
    equal = create_model("lmac_ensemble", DIMS, weights="1,1,1", **narrow("lmac_ensemble"))
    assert (equal.w / equal.w.sum()).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])
    # the weights travel with a checkpoint; one saved before they did was trained with equal weights, and keeps them
    state = model.state_dict()
    again = create_model("lmac_ensemble", DIMS, **narrow("lmac_ensemble"))
    again.w.fill_(7.0)
    again.load_state_dict(state)
    assert (again.w / again.w.sum()).tolist() == pytest.approx([1 / 6, 1 / 6, 2 / 3])
    del state["w"]
    again.load_state_dict(state)
    assert (again.w / again.w.sum()).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3])


def test_a_summing_gdlt_member():
    model = create_model("lmac_ensemble", DIMS, members="lmac_aligned_md,gdlt_sum",
                         member_args={m: narrow(m) for m in ("lmac_aligned_md", "gdlt_sum")})
    assert list(model.members) == ["lmac_aligned_md", "gdlt_sum"] and model.members["gdlt_sum"].config.sum_head


def test_copies_train_each_member_from_its_own_start_and_share_its_weight():
    model = _model(weights="3,1", copies=2).eval()
    assert list(model.members) == ["lmac_aligned_md", "lmac_aligned_md_copy2", "gdlt", "gdlt_copy2"]
    feats, mask = _batch()
    with torch.no_grad():
        out = model(feats, mask)
        s = {k: m(feats, mask)["score"] for k, m in model.members.items()}
    assert not torch.allclose(s["gdlt"], s["gdlt_copy2"])  # each copy has its own initialisation
    assert not torch.allclose(s["lmac_aligned_md"], s["lmac_aligned_md_copy2"])
    expected = 0.375 * (s["lmac_aligned_md"] + s["lmac_aligned_md_copy2"]) + 0.125 * (s["gdlt"] + s["gdlt_copy2"])
    torch.testing.assert_close(out["score"], expected)
    torch.testing.assert_close((out["stage_weights"] * out["stage_scores"]).sum(-1), out["score"])
    assert len(model.grad_clip_groups()) == 4
    losses = model.compute_loss(out, torch.rand(3), mask)
    assert {"m1_mse", "m3_triplet"} <= set(losses)
    # one copy is the plain ensemble, key for key
    assert set(_model(copies=1).state_dict()) == set(_model().state_dict())
