"""Golden values, computed by hand, for LMAC-Net's attention centres and loss terms, and the
loss terms each variant of the ablation chain switches on."""
from __future__ import annotations

import pytest
import torch

from lmac.models import create_model
from lmac.models.baselines.gdlt import hardest_triplet_loss
from lmac.models.lmac_net import (
    attention_centers,
    consistency_loss,
    mean_center_gap,
    rank_loss,
    sparsity_loss,
)

# ---------------------------------------------------------------- centres


def test_centre_golden():
    # 0.1*1 + 0.2*2 + 0.3*3 + 0.4*4 = 3.0 ; a one-hot at t=2 -> 2.0
    alpha = torch.tensor([[[0.1, 0.2, 0.3, 0.4], [0.0, 1.0, 0.0, 0.0]]])
    torch.testing.assert_close(attention_centers(alpha), torch.tensor([[3.0, 2.0]]))


def test_centre_ignores_padding_with_zero_weight():
    alpha = torch.tensor([[[0.1, 0.2, 0.3, 0.4, 0.0, 0.0]]])  # T=6, last two padded
    torch.testing.assert_close(attention_centers(alpha), torch.tensor([[3.0]]))


# ---------------------------------------------------------------- ranking


def test_rank_golden():
    # c = [2, 1, 5], T_b = 6, margin 1:
    # order: max(0, 2-1+1)=2, max(0, 1-5+1)=0 ; first: max(0, 1-2+1)=0 ; last: max(0, 5-6+1)=0 -> 2
    c = torch.tensor([[2.0, 1.0, 5.0]])
    T = torch.tensor([6])
    torch.testing.assert_close(rank_loss(c, T, margin=1.0, normalize=False), torch.tensor(2.0))
    torch.testing.assert_close(rank_loss(c, T, margin=1.0, normalize=True), torch.tensor(2.0 / 6))


def test_rank_boundary_terms_use_each_videos_length():
    # video 0: c=[1.5, 3.5], T_b=4, m=1: order max(0,1.5-3.5+1)=0, first max(0,1-1.5+1)=0.5, last max(0,3.5-4+1)=0.5 -> 1.0
    # video 1: c=[1.5, 3.5], T_b=8: last max(0, 3.5-8+1)=0 -> 0.5
    c = torch.tensor([[1.5, 3.5], [1.5, 3.5]])
    T = torch.tensor([4, 8])
    torch.testing.assert_close(rank_loss(c, T, 1.0, normalize=False), torch.tensor((1.0 + 0.5) / 2))
    torch.testing.assert_close(rank_loss(c, T, 1.0, normalize=True), torch.tensor((1.0 / 4 + 0.5 / 8) / 2))


def test_rank_zero_when_ordered_with_margin():
    c = torch.tensor([[3.0, 6.0, 9.0]])
    assert rank_loss(c, torch.tensor([12]), margin=2.0, normalize=True) == 0


# ---------------------------------------------------------------- sparsity


def test_sparsity_golden():
    # alpha [0, .5, .5, 0] -> c = 2.5 ; sum |t-c| alpha = .5*.5 + .5*.5 = 0.5
    # alpha [1, 0, 0, 0]  -> c = 1   ; spread 0
    alpha = torch.tensor([[[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0]]])
    c = attention_centers(alpha)
    T = torch.tensor([4])
    torch.testing.assert_close(sparsity_loss(alpha, c, T, normalize=False), torch.tensor(0.25))  # mean of (0.5, 0)
    torch.testing.assert_close(sparsity_loss(alpha, c, T, normalize=True), torch.tensor(0.25 / 4))


# ---------------------------------------------------------------- consistency


def test_consistency_golden():
    # rgb [1, 2], flow [2, 4], audio [1, 2]; pairs: rgb-flow 1+4=5, rgb-audio 0, flow-audio 1+4=5 -> 10
    c = {"rgb": torch.tensor([[1.0, 2.0]]), "flow": torch.tensor([[2.0, 4.0]]), "audio": torch.tensor([[1.0, 2.0]])}
    T = torch.tensor([5])
    torch.testing.assert_close(consistency_loss(c, T, normalize=False), torch.tensor(10.0))
    torch.testing.assert_close(consistency_loss(c, T, normalize=True), torch.tensor(10.0 / 25))
    # mean |gap| over pairs: rgb-flow mean(1, 2)=1.5, rgb-audio 0, flow-audio 1.5 -> 1.0
    torch.testing.assert_close(mean_center_gap({"centers": c}), torch.tensor(1.0))


def test_consistency_zero_when_centres_agree():
    c0 = torch.tensor([[1.5, 4.0, 7.25]])
    c = {"rgb": c0, "flow": c0.clone(), "audio": c0.clone()}
    assert consistency_loss(c, torch.tensor([9]), normalize=True) == 0
    assert mean_center_gap({"centers": c}) == 0
    assert consistency_loss({"rgb": c0}, torch.tensor([9]), normalize=True) == 0


# ---------------------------------------------------------------- through compute_loss


def _handmade_out(alpha_by_mod, score):
    """A forward output built by hand: each modality's attention (B, K, T), one layer."""
    return {
        "score": score,
        "attn_layers": {m: a.unsqueeze(1) for m, a in alpha_by_mod.items()},  # (B, L=1, K, T)
        "centers": {m: attention_centers(a) for m, a in alpha_by_mod.items()},
    }


def test_compute_loss_golden_weights_and_normalisation():
    # T=4 real of 5, K=2. rgb: queries at t=1 and t=3 (one-hot) ; flow: both at t=2 (one-hot).
    rgb = torch.tensor([[[1.0, 0, 0, 0, 0], [0, 0, 1.0, 0, 0]]])
    flow = torch.tensor([[[0, 1.0, 0, 0, 0], [0, 1.0, 0, 0, 0]]])
    mask = torch.tensor([[True, True, True, True, False]])
    model = create_model(
        "lmac", {"rgb": 4, "flow": 4}, num_layers=1, num_queries=2, d_model=8, d_ffn=8, num_heads=2,
        rank_margin=1.0, rank_weight=2.0, sparsity_weight=0.5, consistency_weight=3.0, aux_weight=1.0, mse_weight=1.0,
    )
    out = _handmade_out({"rgb": rgb, "flow": flow}, torch.tensor([0.7]))
    losses = model.compute_loss(out, torch.tensor([0.5]), mask)
    # mse = 0.2^2 = 0.04
    # rank rgb: c=[1,3]: order max(0,1-3+1)=0, first max(0,1-1+1)=1, last max(0,3-4+1)=0 -> 1/4
    # rank flow: c=[2,2]: order 1, first max(0,1-2+1)=0, last max(0,2-4+1)=0 -> 1/4 ; sum 0.5, x2 -> 1.0
    # sparsity: one-hot -> 0
    # consistency: (1-2)^2 + (3-2)^2 = 2, /16 -> 0.125, x3 -> 0.375
    torch.testing.assert_close(losses["mse"], torch.tensor(0.04))
    torch.testing.assert_close(losses["rank"], torch.tensor(1.0))
    torch.testing.assert_close(losses["sparsity"], torch.tensor(0.0))
    torch.testing.assert_close(losses["consistency"], torch.tensor(0.375))
    torch.testing.assert_close(losses["total"], torch.tensor(0.04 + 1.0 + 0.375))
    # lambda2 scales every auxiliary term
    model.config.aux_weight = 0.5
    half = model.compute_loss(out, torch.tensor([0.5]), mask)
    torch.testing.assert_close(half["rank"], torch.tensor(0.5))
    torch.testing.assert_close(half["consistency"], torch.tensor(0.1875))


def test_loss_layers_all_sums_every_layer():
    # two layers: layer 0 has rgb's queries swapped (rank > 0), the last layer is ordered (rank 0)
    ordered = torch.tensor([[[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1.0, 0]]])  # c = [1, 5], T=6
    swapped = ordered.flip(1)  # c = [5, 1]
    out = {
        "score": torch.tensor([0.5]),
        "attn_layers": {"rgb": torch.stack([swapped, ordered], 1)},  # (B=1, L=2, K=2, T=6)
        "centers": {"rgb": attention_centers(ordered)},
    }
    mask = torch.ones(1, 6, dtype=torch.bool)
    kw = dict(num_layers=2, num_queries=2, d_model=8, d_ffn=8, num_heads=2, rank_margin=1.0, normalize_by_length=False)
    last = create_model("lmac", {"rgb": 4}, loss_layers="last", **kw).compute_loss(out, torch.tensor([0.5]), mask)
    both = create_model("lmac", {"rgb": 4}, loss_layers="all", **kw).compute_loss(out, torch.tensor([0.5]), mask)
    # last layer: order max(0,1-5+1)=0, first max(0,1-1+1)=1, last max(0,5-6+1)=0 -> 1
    # layer 0 (c=[5,1]): order max(0,5-1+1)=5, first max(0,1-5+1)=0, last max(0,1-6+1)=0 -> 5 ; all layers -> 6
    torch.testing.assert_close(last["rank"], torch.tensor(1.0))
    torch.testing.assert_close(both["rank"], torch.tensor(6.0))


def test_loss_scale_does_not_depend_on_sequence_length():
    """Same relative layout at T=10 and T=100 -> same normalised rank/sparsity/consistency."""
    def layout(T):
        t = torch.arange(1, T + 1).float()
        def bump(centre, width):
            a = torch.exp(-((t - centre * T) / (width * T)) ** 2)
            return a / a.sum()
        rgb = torch.stack([bump(0.5, 0.1), bump(0.3, 0.1)])[None]  # wrong order -> rank > 0
        flow = torch.stack([bump(0.2, 0.1), bump(0.4, 0.1)])[None]
        return {"rgb": rgb, "flow": flow}

    model = create_model("lmac", {"rgb": 4, "flow": 4}, num_layers=1, num_queries=2, d_model=8, d_ffn=8, num_heads=2, rank_margin=0.0)
    vals = []
    for T in (200, 2000):
        out = _handmade_out(layout(T), torch.tensor([0.5]))
        vals.append(model.compute_loss(out, torch.tensor([0.5]), torch.ones(1, T, dtype=torch.bool)))
    for k in ("rank", "sparsity", "consistency"):
        assert vals[0][k] > 0
        torch.testing.assert_close(vals[0][k], vals[1][k], rtol=0.02, atol=0), k


# ---------------------------------------------------------------- the ablation chain

DIMS = {"rgb": 12, "flow": 10, "audio": 6}
EXPECTED = {
    "lmac_query": {"mse"},
    "lmac_rank": {"mse", "rank"},
    "lmac_sparse": {"mse", "rank", "sparsity"},
    "lmac": {"mse", "rank", "sparsity", "consistency"},
    "lmac_rgb": {"mse", "rank", "sparsity"},  # consistency needs two modalities
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_ablation_variants_have_exactly_the_expected_terms(name):
    torch.manual_seed(0)
    model = create_model(name, DIMS)
    B, T = 4, 15
    feats = {m: torch.randn(B, T, D) for m, D in DIMS.items()}
    mask = torch.arange(T)[None] < torch.tensor([15, 12, 9, 6])[:, None]
    out = model(feats, mask)
    losses = model.compute_loss(out, torch.rand(B), mask)
    assert set(losses) == {"total", "mse", "rank", "sparsity", "consistency"}  # same columns for every variant
    nonzero = {k for k, v in losses.items() if k != "total" and v.item() != 0}
    assert nonzero == EXPECTED[name]


def test_gdlt_triplet_golden():
    # queries identical across videos and orthogonal to each other: d_ap = 0, d_an = 1, margin 1 -> 0
    embed = torch.eye(4)[None].repeat(3, 1, 1)  # (B=3, G=4, H=4)
    torch.testing.assert_close(hardest_triplet_loss(embed, 1.0), torch.tensor(0.0))
    # all queries collapsed to one vector: d_ap = d_an = 0 -> loss = margin
    torch.testing.assert_close(hardest_triplet_loss(torch.ones(3, 4, 5), 1.0), torch.tensor(1.0))
    # margin 1.5 on the orthogonal layout -> 0.5
    torch.testing.assert_close(hardest_triplet_loss(embed, 1.5), torch.tensor(0.5))
