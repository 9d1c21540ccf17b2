"""Every registered model: builds from defaults, finite outputs of the declared shapes on ragged
batches, gradients reach every parameter, padding changes nothing, interpretable outputs are
consistent. Parametrised over the registry, so a new model is tested by registering it."""
from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from lmac.models import MODELS, count_parameters, create_model, list_models
from lmac.models.lmac_net import mean_center_gap
from small_models import model_dims, narrow

REAL = {"rgb": 1024, "flow": 1024, "audio": 768}  # built once, for the parameter count (test_*_at_the_real_dims)
DIMS = {  # the parametrised tests run at small input dims; model widths stay their defaults
    "wide3": {"rgb": 48, "flow": 40, "audio": 32},
    "small3": {"rgb": 24, "flow": 16, "audio": 12},
    "rgb_audio": {"rgb": 20, "audio": 8},
    "rgb_only": {"rgb": 16},
}
ALL = list_models()


def _build(name, dk):
    """Every model at its default widths on "small3"; on the other dims at narrow widths, which test
    the same code paths (building a default-width LMAC-Net alone takes 0.1 s)."""
    return create_model(name, _used_dims(name, DIMS[dk]), **({} if dk == "small3" else narrow(name)))


def _needs(name, dims):
    wanted = MODELS.info(name).get("modalities")
    return wanted is None or all(m in dims for m in wanted)


def _num_queries(model) -> int:
    """K of an interpretable model: LMAC-Net's, or the explaining member's (lmac_ensemble)."""
    return model.members[model.explainer].config.num_queries if hasattr(model, "explainer") else model.config.num_queries


def _cases():
    return [pytest.param(n, k, id=f"{n}-{k}") for n in ALL for k in DIMS if _needs(n, DIMS[k])]


def _batch(dims, B=3, T=11, lengths=(11, 7, 3), seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = {m: torch.randn(B, T, D, generator=g) for m, D in dims.items()}
    mask = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]  # (B, T) ragged
    for m in feats:  # padding is zeros, as the data loader writes it
        feats[m] = feats[m] * mask[..., None]
    return feats, mask


def _used_dims(name, dims):
    wanted = MODELS.info(name).get("modalities")
    return model_dims(name, dims if wanted is None else {m: dims[m] for m in wanted})


def test_registry_has_the_models_the_issue_lists():
    for n in ["concat", "lmac", "lmac_query", "lmac_rank", "lmac_sparse", "lmac_rgb", "lmac_flow", "lmac_audio", "gdlt"]:
        assert n in MODELS
    assert MODELS.info("lmac_rgb")["modalities"] == ("rgb",)
    assert MODELS.info("gdlt")["modalities"] == ("rgb",)


@pytest.mark.parametrize("name,dk", _cases())
def test_forward_shapes_finite(name, dk):
    torch.manual_seed(0)
    dims = DIMS[dk]
    model = _build(name, dk)
    feats, mask = _batch(dims)
    out = model(feats, mask)
    B, T = mask.shape
    assert out["score"].shape == (B,)
    assert torch.isfinite(out["score"]).all()
    if MODELS.info(name).get("interpretable"):
        K = _num_queries(model)
        mods = tuple(_used_dims(name, dims))
        assert out["stage_scores"].shape == (B, K) and out["stage_weights"].shape == (B, K)
        assert set(out["attn"]) == set(mods) == set(out["centers"])
        for m in mods:
            assert out["attn"][m].shape == (B, K, T)
            assert out["centers"][m].shape == (B, K)
            assert torch.isfinite(out["attn"][m]).all() and torch.isfinite(out["centers"][m]).all()
    losses = model.compute_loss(out, torch.rand(B), mask)
    assert "total" in losses
    for k, v in losses.items():
        assert v.dim() == 0 and torch.isfinite(v), k
    assert torch.allclose(losses["total"], sum(v for k, v in losses.items() if k != "total"))


@pytest.mark.parametrize("name,dk", _cases())
def test_backward_reaches_every_parameter(name, dk):
    torch.manual_seed(0)
    dims = DIMS[dk]
    model = _build(name, dk)
    feats, mask = _batch(dims)
    out = model(feats, mask)
    model.compute_loss(out, torch.rand(mask.shape[0]), mask)["total"].backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or not torch.isfinite(p.grad).all())]
    assert not missing, f"no/non-finite gradient for {missing}"
    # and something actually flows (not all-zero gradients everywhere)
    assert sum(p.grad.abs().sum() for p in model.parameters() if p.grad is not None) > 0


@pytest.mark.parametrize("name,dk", _cases())
@pytest.mark.parametrize("pad_value", ["zeros", "garbage"])
def test_padding_invariance(name, dk, pad_value):
    """Appending masked-out segments (zeros, or even random garbage) changes no output."""
    torch.manual_seed(0)
    dims = DIMS[dk]
    model = _build(name, dk).eval()
    feats, mask = _batch(dims)
    B, T = mask.shape
    extra = 6
    g = torch.Generator().manual_seed(1)
    feats2 = {
        m: torch.cat([x, torch.zeros(B, extra, x.shape[-1]) if pad_value == "zeros" else 5 * torch.randn(B, extra, x.shape[-1], generator=g)], 1)
        for m, x in feats.items()
    }
    mask2 = torch.cat([mask, torch.zeros(B, extra, dtype=torch.bool)], 1)
    with torch.no_grad():
        a, b = model(feats, mask), model(feats2, mask2)
    torch.testing.assert_close(a["score"], b["score"], atol=1e-5, rtol=1e-5)
    if "centers" in a:
        for m in a["centers"]:
            torch.testing.assert_close(a["centers"][m], b["centers"][m], atol=1e-4, rtol=1e-5)
            torch.testing.assert_close(a["attn"][m], b["attn"][m][..., :T], atol=1e-6, rtol=1e-5)
            assert (b["attn"][m][..., T:] == 0).all()
        torch.testing.assert_close(a["stage_scores"], b["stage_scores"], atol=1e-5, rtol=1e-5)


def test_padding_invariance_in_training_mode_for_lmac():
    """No padding leak in train mode either (no batch statistics in LMAC-Net); dropout off via p=0."""
    torch.manual_seed(0)
    model = create_model("lmac", DIMS["small3"], dropout=0.0).train()
    feats, mask = _batch(DIMS["small3"])
    feats2 = {m: torch.cat([x, torch.randn(3, 4, x.shape[-1])], 1) for m, x in feats.items()}
    mask2 = torch.cat([mask, torch.zeros(3, 4, dtype=torch.bool)], 1)
    a, b = model(feats, mask), model(feats2, mask2)
    torch.testing.assert_close(a["score"], b["score"], atol=1e-5, rtol=1e-5)
    la = model.compute_loss(a, torch.full((3,), 0.5), mask)
    lb = model.compute_loss(b, torch.full((3,), 0.5), mask2)
    for k in la:
        torch.testing.assert_close(la[k], lb[k], atol=1e-5, rtol=1e-5)


def test_padding_invariance_with_positional_encoding():
    torch.manual_seed(0)
    model = create_model("lmac", DIMS["small3"], pos_encoding="sine").eval()
    feats, mask = _batch(DIMS["small3"])
    feats2 = {m: torch.cat([x, torch.randn(3, 5, x.shape[-1])], 1) for m, x in feats.items()}
    mask2 = torch.cat([mask, torch.zeros(3, 5, dtype=torch.bool)], 1)
    with torch.no_grad():
        a, b = model(feats, mask), model(feats2, mask2)
        plain = create_model("lmac", DIMS["small3"]).eval()
        plain.load_state_dict(model.state_dict())
        c = plain(feats, mask)
    torch.testing.assert_close(a["score"], b["score"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a["centers"]["rgb"], b["centers"]["rgb"], atol=1e-4, rtol=1e-5)
    assert not torch.allclose(a["centers"]["rgb"], c["centers"]["rgb"])  # the encoding does change attention


LMACS = [n for n in ALL if n.startswith("lmac") and MODELS.info(n)["config"].__name__ == "LMACConfig"]


@pytest.mark.parametrize("name", LMACS)
def test_lmac_stage_weights_and_centres(name):
    torch.manual_seed(0)
    dims = _used_dims(name, DIMS["small3"])
    model = create_model(name, dims).eval()
    with torch.no_grad():  # make the stage weights non-uniform so the check has teeth
        model.stage_logits.copy_(torch.randn(model.config.num_queries))
    feats, mask = _batch(dims, B=4, T=13, lengths=(13, 9, 4, 1))
    out = model(feats, mask)
    w, s = out["stage_weights"], out["stage_scores"]
    torch.testing.assert_close(w.sum(-1), torch.ones(4))
    torch.testing.assert_close(out["score"], (w * s).sum(-1))
    assert ((s >= 0) & (s <= 1)).all()  # sigmoid stage scores by default
    lengths = mask.sum(1).float()
    for m, c in out["centers"].items():
        assert (c >= 1 - 1e-5).all() and (c <= lengths[:, None] + 1e-5).all(), m
        torch.testing.assert_close(out["attn"][m].sum(-1), torch.ones_like(c))
    # a one-segment video has every centre exactly at 1
    for c in out["centers"].values():
        torch.testing.assert_close(c[3], torch.ones(model.config.num_queries))


@pytest.mark.parametrize(
    "opts",
    [
        dict(self_attn_layers="all"),
        dict(self_attn_layers="none"),
        dict(stage_head="per_stage"),
        dict(stage_head="mlp"),
        dict(stage_sigmoid=False),
        dict(loss_layers="all"),
        dict(learn_tau=False),
        dict(num_layers=1, num_queries=3, d_model=32, d_ffn=64, num_heads=4),
        dict(normalize_by_length=False),
        dict(pos_encoding="sine"),
        dict(attention="joint"),
        dict(input_norm=True),
        dict(value_mlp=True),
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_lmac_config_options_build_and_train(opts):
    torch.manual_seed(0)
    model = create_model("lmac", DIMS["small3"], **{**narrow("lmac"), **opts})
    feats, mask = _batch(DIMS["small3"])
    out = model(feats, mask)
    model.compute_loss(out, torch.rand(3), mask)["total"].backward()
    assert all(p.grad is not None for p in model.parameters())
    for k, v in opts.items():
        assert getattr(model.config, k) == v


def test_lmac_per_stage_head_differs_from_shared():
    shared = create_model("lmac", DIMS["small3"])
    per = create_model("lmac", DIMS["small3"], stage_head="per_stage")
    K = shared.config.num_queries
    assert per.stage_head.weight.shape[0] == K and shared.stage_head.weight.shape[0] == 1


@pytest.mark.parametrize("name", ALL)
def test_config_rebuilds_model(name):
    dims = _used_dims(name, DIMS["wide3"])
    model = _build(name, "wide3")
    again = create_model(name, dims, **asdict(model.config))
    assert asdict(again.config) == asdict(model.config)
    assert count_parameters(again) == count_parameters(model)
    missing, unexpected = again.load_state_dict(model.state_dict(), strict=True)
    assert not missing and not unexpected


def test_unknown_option_and_missing_modality_raise():
    with pytest.raises(TypeError, match="no option"):
        create_model("lmac", DIMS["small3"], widht=3)
    with pytest.raises(ValueError, match="needs modalities"):
        create_model("lmac_flow", {"rgb": 8})
    with pytest.raises(ValueError):
        create_model("lmac", DIMS["small3"], self_attn_layers="second")


def test_lmac_any_number_of_modalities():
    for dims in ({"audio": 7}, {"rgb": 9, "flow": 5}, DIMS["small3"]):
        model = create_model("lmac", dims)
        feats, mask = _batch(dims)
        out = model(feats, mask)
        assert set(out["centers"]) == set(dims)
        gap = mean_center_gap(out, mask)
        assert gap.dim() == 0 and (gap == 0) == (len(dims) == 1)


def test_lmac_parameter_count_near_paper_and_forward_at_the_real_dims():
    """Default width at the real dims lands near the paper's 8.95 M parameters (docs/model.md)."""
    torch.manual_seed(0)
    model = create_model("lmac", REAL).eval()
    n = count_parameters(model)
    assert 8.0e6 < n < 9.5e6, n
    feats, mask = _batch(REAL)
    with torch.no_grad():
        out = model(feats, mask)
    assert out["score"].shape == (3,) and torch.isfinite(out["score"]).all()
    assert all(out["attn"][m].shape == (3, model.config.num_queries, 11) for m in REAL)


def test_single_modality_variant_ignores_other_features():
    model = create_model("lmac_audio", DIMS["wide3"])
    assert model.modalities == ("audio",)
    feats, mask = _batch({"audio": DIMS["wide3"]["audio"], "rgb": 8})
    assert model(feats, mask)["score"].shape == (3,)


def _shuffle_time(x, mask, g):
    """Permute each video's real segments in time (padding stays at the end)."""
    x = x.clone()
    for b in range(x.shape[0]):
        n = int(mask[b].sum())
        x[b, :n] = x[b, torch.randperm(n, generator=g)]
    return x


@pytest.mark.parametrize("opts,blind", [({}, True), (dict(pos_encoding="sine"), False), (dict(attention="joint"), False)],
                         ids=["paper", "sine", "joint"])
def test_lmac_as_specified_cannot_see_when_one_modality_happens_relative_to_another(opts, blind):
    """Without positions, each branch is a function of the *set* of its segments: shuffling the
    audio in time (destroying any movement-music alignment) leaves LMAC-Net's score unchanged.
    This is why the consistency loss can align attention centres in training but the score cannot
    read cross-modal timing. A positional encoding or joint attention removes the blindness."""
    torch.manual_seed(0)
    model = create_model("lmac", DIMS["small3"], **opts).eval()
    feats, mask = _batch(DIMS["small3"])
    shuffled = {**feats, "audio": _shuffle_time(feats["audio"], mask, torch.Generator().manual_seed(1))}
    with torch.no_grad():
        a, b = model(feats, mask)["score"], model(shuffled, mask)["score"]
    assert torch.allclose(a, b, atol=1e-6) == blind


@pytest.mark.parametrize("value_mlp", [False, True])
def test_values_are_affine_in_the_segment_unless_value_mlp(value_mlp):
    """The paper's values are a linear projection, so attention pools an affine function of each
    segment and cannot gate or combine features within a segment before pooling; `value_mlp`
    (ours) adds that per-segment nonlinearity, as the concat baseline has."""
    torch.manual_seed(0)
    model = create_model("lmac", DIMS["small3"], value_mlp=value_mlp).eval()
    value = model.decoders["rgb"].layers[0].cross.value
    x = torch.randn(4, DIMS["small3"]["rgb"])
    with torch.no_grad():
        affine = torch.allclose(value(2 * x) - value(x), value(x) - value(torch.zeros_like(x)), atol=1e-5)
    assert affine != value_mlp


def test_joint_attention_gives_every_modality_the_same_map():
    torch.manual_seed(0)
    model = create_model("lmac_joint", DIMS["small3"]).eval()
    feats, mask = _batch(DIMS["small3"])
    out = model(feats, mask)
    maps = list(out["attn"].values())
    assert all(torch.equal(maps[0], m) for m in maps[1:])
    assert torch.allclose(maps[0].sum(-1), torch.ones(3, model.config.num_queries))
    assert float(mean_center_gap(out, mask)) == 0.0


def test_mlp_stage_head_lets_modalities_interact_where_the_linear_head_cannot():
    """Stage features [a; b] of two modalities: a Linear head is additive, s(a1,b1) + s(a2,b2) = s(a1,b2) + s(a2,b1);
    the mlp head is not, so a stage score can depend on how the modalities relate at that moment."""
    from lmac.models.lmac_net import LMACConfig, StageHead

    torch.manual_seed(0)
    d = 8
    a1, a2, b1, b2 = (torch.randn(1, 1, d) for _ in range(4))
    pair = lambda a, b: torch.cat([a, b], -1)  # noqa: E731
    for head, additive in (("shared", True), ("mlp", False)):
        h = StageHead(2 * d, LMACConfig(d_model=d, d_ffn=16, num_heads=2, stage_head=head, stage_sigmoid=False,
                                        dropout=0.0)).eval()
        gap = (h(pair(a1, b1)) + h(pair(a2, b2)) - h(pair(a1, b2)) - h(pair(a2, b1))).abs().item()
        assert (gap < 1e-5) == additive, (head, gap)


def test_gdlt_mm_reads_whichever_modalities_it_was_built_with():
    """Early fusion concatenates its own modalities; built on flow alone it reads flow (not a missing RGB)."""
    import torch

    from lmac.models import create_model

    torch.manual_seed(0)
    model = create_model("gdlt_mm", {"flow": 8}, hidden=16).eval()
    mask = torch.ones(2, 5, dtype=torch.bool)
    flow = torch.randn(2, 5, 8)
    with torch.no_grad():
        a = model({"flow": flow}, mask)["score"]
        b = model({"flow": flow * 3}, mask)["score"]
    assert model.modalities == ("flow",) and not torch.allclose(a, b)


def test_gdlt_sum_starts_as_gdlt_and_its_summing_path_counts_real_segments():
    """`gdlt_sum` = GDLT + (1/ref) sum_t MLP(memory_t): zero at initialisation (the same scores as GDLT with
    the same weights); once its last layer is set, the path grows with the number of real segments and
    ignores padding (a mean-pooled read-out would not change with a video's length)."""
    import torch

    from lmac.models import create_model

    torch.manual_seed(0)
    dims, kw = {"rgb": 8}, dict(hidden=16, num_queries=3, dropout=0.0)
    plain = create_model("gdlt", dims, **kw).eval()
    summing = create_model("gdlt_sum", dims, **kw).eval()
    missing, unexpected = summing.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(k.startswith("sum_mlp.") for k in missing) and missing
    x, mask = torch.randn(2, 6, 8), torch.ones(2, 6, dtype=torch.bool)
    with torch.no_grad():
        assert torch.allclose(plain({"rgb": x}, mask)["score"], summing({"rgb": x}, mask)["score"], atol=1e-6)
        last = summing.sum_mlp[-1]
        last.bias.fill_(1.0)  # every real segment adds 1/ref_len
        ref = summing.config.sum_ref_len
        short = torch.ones(1, 6, dtype=torch.bool)
        short[0, 3:] = False  # 3 real segments, 3 padded
        x1 = x[:1]
        full, half = summing({"rgb": x1}, mask[:1])["score"], summing({"rgb": x1}, short)["score"]
        plain_full, plain_half = plain({"rgb": x1}, mask[:1])["score"], plain({"rgb": x1}, short)["score"]
    assert torch.allclose(full - plain_full, torch.tensor(6.0 / ref), atol=1e-5)
    assert torch.allclose(half - plain_half, torch.tensor(3.0 / ref), atol=1e-5)


def test_lmac_sum_head_starts_as_lmac_counts_real_segments_and_reads_only_present_modalities():
    """LMAC-Net `sum_head`: zero at initialisation (same scores as without it, same weights); with its last
    layer's bias set, each real segment adds 1/ref_len, padding adds nothing, the path is spread evenly over
    the stages (stage scores still sum to the score) and a missing modality adds nothing to it."""
    torch.manual_seed(0)
    dims = {"rgb": 8, "flow": 6, "audio": 4}
    kw = dict(d_model=16, d_ffn=32, num_heads=2, num_queries=3, dropout=0.0, modality_dropout=0.3)
    plain = create_model("lmac_aligned", dims, **kw).eval()
    summing = create_model("lmac_aligned", dims, sum_head=True, **kw).eval()
    missing, unexpected = summing.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("sum_head.") for k in missing)
    feats = {m: torch.randn(1, 6, D) for m, D in dims.items()}
    full, short = torch.ones(1, 6, dtype=torch.bool), torch.ones(1, 6, dtype=torch.bool)
    short[0, 3:] = False
    with torch.no_grad():
        assert torch.allclose(plain(feats, full)["score"], summing(feats, full)["score"], atol=1e-6)
        summing.sum_head.out.bias.fill_(1.0)
        ref = summing.config.sum_ref_len
        for mask, n in ((full, 6), (short, 3)):
            out = summing(feats, mask)
            assert torch.allclose(out["score"] - plain(feats, mask)["score"], torch.tensor(n / ref), atol=1e-5)
            assert torch.allclose((out["stage_scores"] * out["stage_weights"]).sum(-1), out["score"], atol=1e-6)
        # a missing modality adds nothing to the path: with weights that read only audio, no audio = bias only
        summing.sum_head.out.weight.fill_(1.0)
        no_audio = {m: x for m, x in feats.items() if m != "audio"}
        with_audio = summing.sum_head(feats, full, summing.modalities, None)
        without = summing.sum_head(no_audio, full, summing.modalities, None)
        proj = summing.sum_head.proj
        h = sum(proj[m](feats[m]) for m in ("rgb", "flow")).relu().sum(-1)
        assert torch.allclose(without, (h + 1.0).sum(1) / ref, atol=1e-5)
        assert not torch.allclose(with_audio, without)


def test_lmac_agree_head_starts_as_lmac_and_is_a_gated_mean_of_pairwise_mismatch():
    """LMAC-Net `agree_head`: zero at initialisation (same scores, same weights otherwise); with v set, the path
    adds the mean over real segments of v.|a - b| summed over modality pairs (the gate starts uniform), padding
    adds nothing, it is spread evenly over the stages, and a pair with a missing modality adds nothing."""
    torch.manual_seed(0)
    dims = {"rgb": 8, "flow": 6, "audio": 4}
    kw = dict(d_model=16, d_ffn=32, num_heads=2, num_queries=3, dropout=0.0, modality_dropout=0.3)
    plain = create_model("lmac_aligned", dims, **kw).eval()
    agree = create_model("lmac_aligned", dims, agree_head=True, agree_dim=3, **kw).eval()
    missing, unexpected = agree.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.startswith("agree_head.") for k in missing)
    feats = {m: torch.randn(1, 6, D) for m, D in dims.items()}
    full, short = torch.ones(1, 6, dtype=torch.bool), torch.ones(1, 6, dtype=torch.bool)
    short[0, 3:] = False
    path = agree.agree_head
    assert path.pairs == [("rgb", "flow"), ("rgb", "audio"), ("flow", "audio")]

    def expected(fs, n, pairs):
        tot = 0.0
        for m, o in pairs:
            a, b = path.proj[f"{m}__{o}__0"](fs[m][:, :n]), path.proj[f"{m}__{o}__1"](fs[o][:, :n])
            tot = tot + (a - b).abs().sum(-1).mean(1)  # v = 1 on every dim
        return tot

    with torch.no_grad():
        assert torch.allclose(plain(feats, full)["score"], agree(feats, full)["score"], atol=1e-6)
        path.out.weight.fill_(1.0)
        for mask, n in ((full, 6), (short, 3)):
            out = agree(feats, mask)
            assert torch.allclose(out["score"] - plain(feats, mask)["score"], expected(feats, n, path.pairs), atol=1e-5)
            assert torch.allclose((out["stage_scores"] * out["stage_weights"]).sum(-1), out["score"], atol=1e-6)
        no_audio = {m: x for m, x in feats.items() if m != "audio"}
        term, _ = path(no_audio, full, agree.modalities, None)
        assert torch.allclose(term, expected(feats, 6, [("rgb", "flow")]), atol=1e-5)
        # the gate weighs moments: with a gate that is not uniform, the path is the gate-weighted mean, and the
        # gate of a padded segment is zero
        torch.nn.init.normal_(path.gate_out.weight, std=3.0)
        for mask, n in ((full, 6), (short, 3)):
            h = sum(path.gate_in[m](feats[m]) for m in dims).relu()
            g = torch.sigmoid(path.gate_out(h)).squeeze(-1)[:, :n]  # (1, n)
            assert float(g.max() - g.min()) > 0.1  # the weighting is not uniform
            per_t = sum((path.proj[f"{m}__{o}__0"](feats[m][:, :n]) - path.proj[f"{m}__{o}__1"](feats[o][:, :n])).abs().sum(-1)
                        for m, o in path.pairs)  # (1, n)
            term, _ = path(feats, mask, agree.modalities, None)
            assert torch.allclose(term, (g * per_t).sum(1) / g.sum(1), atol=1e-5)
            assert not torch.allclose(term, per_t.mean(1), atol=1e-3)


def test_lmac_agree_head_alignment_loss_is_zero_for_agreeing_modalities_and_trains():
    """The agreement path's alignment term: 0 when both sides of a pair project the same signal identically,
    about 1 for independent sides; it is logged as `align` and its gradient reaches the projections."""
    torch.manual_seed(0)
    dims = {"rgb": 5, "flow": 5}
    kw = dict(d_model=16, d_ffn=32, num_heads=2, num_queries=3, dropout=0.0)
    model = create_model("lmac_aligned", dims, agree_head=True, agree_dim=4, **kw)
    path = model.agree_head
    with torch.no_grad():
        path.proj["rgb__flow__1"].load_state_dict(path.proj["rgb__flow__0"].state_dict())
    x = torch.randn(6, 10, 5)
    mask = torch.ones(6, 10, dtype=torch.bool)
    _, same = path({"rgb": x, "flow": x.clone()}, mask, model.modalities, None)
    assert float(same.detach()) < 1e-6
    _, indep = path({"rgb": x, "flow": torch.randn(6, 10, 5)}, mask, model.modalities, None)
    assert 0.5 < float(indep.detach()) < 1.5
    out = model({"rgb": x, "flow": torch.randn(6, 10, 5)}, mask)
    losses = model.compute_loss(out, torch.rand(6), mask)
    assert "align" in losses and torch.allclose(losses["align"], model.config.align_weight * out["align"])
    losses["total"].backward()
    assert path.proj["rgb__flow__0"][1].weight.grad.abs().sum() > 0
    assert "align" not in create_model("lmac_aligned", dims, **kw).compute_loss(
        create_model("lmac_aligned", dims, **kw)(dict(rgb=x, flow=x), mask), torch.rand(6), mask)
    with pytest.raises(ValueError, match="two modalities"):
        create_model("lmac_aligned_rgb", {"rgb": 5}, agree_head=True)
