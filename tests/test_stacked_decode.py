"""Scoring runs LMAC-Net's decoders as one batched computation over the modalities (models/stacked_decode.py).
It must give what the per-modality modules give (the definition, used in training) for every option that
changes the decoders, on ragged batches, with a modality missing, and after the weights change."""
from __future__ import annotations

import pytest
import torch

from lmac.models import create_model

DIMS = {"rgb": 24, "flow": 20, "audio": 12}  # different widths: the narrower ones are zero-padded


def _batch(dims, B=3, T=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    feats = {m: torch.randn(B, T, D, generator=g) for m, D in dims.items()}
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, 7:] = False
    mask[2, 3:] = False
    return feats, mask


def _both(model, feats, mask):
    """(reference: the per-modality modules, stacked) outputs of one eval-mode model."""
    model.eval()
    with torch.enable_grad():  # autograd on: the forward takes the per-modality path
        ref = model(feats, mask)
    with torch.no_grad():
        fast = model(feats, mask)
    return ref, fast


def _assert_same(ref, fast):
    for key in ("score", "stage_scores", "stage_weights"):
        torch.testing.assert_close(fast[key], ref[key].detach(), rtol=1e-5, atol=1e-6)
    for key in ("attn", "centers", "attn_layers"):
        assert fast[key].keys() == ref[key].keys()
        for m in ref[key]:
            torch.testing.assert_close(fast[key][m], ref[key][m].detach(), rtol=1e-5, atol=1e-6)


OPTIONS = [
    ("lmac", {}),
    ("lmac_aligned_md", {}),  # joint attention, value MLP, sine positions, modality dropout: the default's member
    ("lmac", {"self_attn_layers": "all", "input_norm": True, "num_layers": 3}),
    ("lmac", {"self_attn_layers": "none", "learn_tau": False, "tau_init": 0.2}),
    ("lmac_aligned", {"joint_weights": "learned"}),
    ("lmac_aligned_md", {"sum_head": True, "stage_head": "mlp"}),
    ("lmac_aligned_md", {"agree_head": True}),
    ("lmac_rgb", {}),
]


@pytest.mark.parametrize("name,opts", OPTIONS, ids=[f"{n}-{'-'.join(o) or 'default'}" for n, o in OPTIONS])
def test_stacked_scoring_equals_the_per_modality_modules(name, opts):
    torch.manual_seed(0)
    model = create_model(name, DIMS, d_model=32, d_ffn=48, num_heads=4, **opts)
    with torch.no_grad():  # learned logits away from their zero init, so the joint weights matter
        for p in model.parameters():
            if p.dim() == 2 and p.shape[0] == model.config.num_layers:
                p.normal_()
    feats, mask = _batch(DIMS)
    ref, fast = _both(model, feats, mask)
    _assert_same(ref, fast)


def test_stacked_scoring_with_a_modality_missing():
    torch.manual_seed(0)
    model = create_model("lmac_aligned_md", DIMS, d_model=32, d_ffn=48, num_heads=4)
    feats, mask = _batch(DIMS)
    for gone in ("audio", "flow"):
        sub = {m: x for m, x in feats.items() if m != gone}
        ref, fast = _both(model, sub, mask)
        _assert_same(ref, fast)


@pytest.mark.parametrize("fused", [False, True])  # fused AdamW (lmac train's) does not bump version counters
def test_stacked_weights_follow_an_optimiser_step_and_a_load(fused):
    torch.manual_seed(0)
    model = create_model("lmac", DIMS, d_model=32, d_ffn=48, num_heads=4)
    feats, mask = _batch(DIMS)
    model.eval()
    with torch.no_grad():
        before = model(feats, mask)["score"]
    saved = {k: v.clone() for k, v in model.state_dict().items()}

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, fused=fused)
    out = model(feats, mask)
    model.compute_loss(out, torch.rand(3), mask)["total"].backward()
    opt.step()
    ref, fast = _both(model, feats, mask)
    _assert_same(ref, fast)
    assert not torch.allclose(fast["score"], before)  # the step changed the scores, and the cache followed

    model.load_state_dict(saved)
    with torch.no_grad():
        torch.testing.assert_close(model(feats, mask)["score"], before)


def test_stacked_scoring_of_a_double_precision_model():
    torch.manual_seed(0)
    model = create_model("lmac_aligned", DIMS, d_model=32, d_ffn=48, num_heads=4)
    feats, mask = _batch(DIMS)
    ref32, _ = _both(model, feats, mask)
    model.double()
    ref, fast = _both(model, {m: x.double() for m, x in feats.items()}, mask)
    assert fast["score"].dtype == torch.float64
    torch.testing.assert_close(fast["score"], ref["score"].detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast["score"].float(), ref32["score"].detach(), rtol=1e-5, atol=1e-6)


def test_stacked_scoring_can_be_switched_off():
    torch.manual_seed(0)
    model = create_model("lmac", DIMS, d_model=32, d_ffn=48, num_heads=4).eval()
    feats, mask = _batch(DIMS)
    with torch.enable_grad():
        ref = model(feats, mask)["score"].detach()
    model.stacked_scoring = False  # benchmarks/bench_model.py times both paths this way
    with torch.no_grad():
        assert torch.equal(model(feats, mask)["score"], ref)  # the very same ops: bit-equal
    assert "_stacked_cache" not in model.__dict__  # the stacked path never ran
