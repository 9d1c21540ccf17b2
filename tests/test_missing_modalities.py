"""Scoring a video with a modality missing: modality dropout in training, a learned placeholder at test."""
import json

import pytest
import torch

from lmac.config import TrainConfig
from lmac.models import create_model
from small_models import LMAC

DIMS = {"rgb": 16, "flow": 12, "audio": 8}


def _model(name="lmac_aligned", **kw):
    torch.manual_seed(0)
    return create_model(name, DIMS, num_queries=3, **{**LMAC, "modality_dropout": 0.3, **kw})


def _batch(B=3, lengths=(10, 7, 4)):
    torch.manual_seed(1)
    T = max(lengths)
    feats = {m: torch.randn(B, T, d) for m, d in DIMS.items()}
    mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    return feats, mask


@pytest.mark.parametrize("name", ["lmac", "lmac_aligned"])
def test_a_missing_modality_scores_each_video_as_it_would_alone(name):
    """Padding must not leak through the reweighted joint attention (its -inf logits times a zero weight
    would be NaN): every video of a padded batch scores as it does on its own."""
    model = _model(name).eval()
    feats, mask = _batch()
    with torch.no_grad():
        for gone in ("audio", "flow", ("flow", "audio")):
            gone = (gone,) if isinstance(gone, str) else gone
            part = {m: x for m, x in feats.items() if m not in gone}
            batch = model(part, mask)
            assert torch.isfinite(batch["score"]).all()
            assert set(batch["attn"]) == set(part)  # attention maps only of what the video has
            for i in range(3):
                n = int(mask[i].sum())
                alone = model({m: x[i:i + 1, :n] for m, x in part.items()}, mask[i:i + 1, :n])
                torch.testing.assert_close(batch["score"][i], alone["score"][0], atol=1e-6, rtol=0)


def test_missing_modality_uses_the_placeholder_and_present_ones_do_not():
    model = _model().eval()
    feats, mask = _batch()
    no_audio = {m: x for m, x in feats.items() if m != "audio"}
    with torch.no_grad():
        full, part = model(feats, mask)["score"], model(no_audio, mask)["score"]
        model.placeholders[2].add_(1.0)  # the audio placeholder
        assert torch.equal(model(feats, mask)["score"], full)  # all present: the placeholder is not read
        assert not torch.allclose(model(no_audio, mask)["score"], part)  # audio missing: it is


def test_without_modality_dropout_a_missing_modality_is_a_clear_error():
    model = _model(modality_dropout=0.0).eval()
    feats, mask = _batch()
    assert model.placeholders is None and not model.accepts_missing_modalities
    with pytest.raises(KeyError, match=r"missing \['audio'\].*modality_dropout"):
        model({m: x for m, x in feats.items() if m != "audio"}, mask)
    with pytest.raises(KeyError, match="missing"):
        _model()({}, mask)


def test_modality_dropout_hides_about_p_and_never_all():
    model = _model(modality_dropout=0.5).train()
    feats = {m: torch.zeros(4000, 1, d) for m, d in DIMS.items()}
    present = model._presence(feats, 4000, "cpu")
    assert present.any(1).all()
    hidden = 1 - present.float().mean().item()
    # 0.5 per modality, minus the videos that got one back: 0.5 - (1/8) / 3 = 0.458
    assert 0.43 < hidden < 0.49
    assert model.eval()._presence(feats, 4000, "cpu") is None  # at test, nothing is hidden


def test_training_reports_the_test_rho_without_each_modality(tiny_synth, tmp_path):
    from lmac.training.trainer import train

    cfg = TrainConfig(task="rg_ball", features=str(tiny_synth / "features"), labels=str(tiny_synth), model="lmac_aligned_md",
                      model_args=dict(LMAC), epochs=2, batch_size=8, progress=False, device="cpu")
    s = train(cfg, tmp_path / "run", log=lambda *a: None)
    assert set(s["missing_modality"]) == {"rgb", "flow", "audio"}
    assert all(-1 <= v <= 1 for v in s["missing_modality"].values())
    assert json.loads((tmp_path / "run/summary.json").read_text())["missing_modality"] == s["missing_modality"]
    from safetensors.torch import load_file

    w = load_file(tmp_path / "run/checkpoints/last.safetensors")
    assert w["placeholders"].abs().sum() > 0  # the placeholders learned


def test_learned_joint_weights_start_equal_and_can_read_one_modality_alone():
    """joint_weights=learned: zero-initialised, the joint attention is the equal average; a gate that puts
    its weight on RGB makes the attention blind to the other modalities' features."""
    feats, mask = _batch()
    equal = _model("lmac_aligned", modality_dropout=0.0).eval()
    gated = _model("lmac_aligned", modality_dropout=0.0, joint_weights="learned").eval()
    gated.load_state_dict({**equal.state_dict(), "joint_gate": gated.joint_gate.detach().clone()})
    with torch.no_grad():
        torch.testing.assert_close(gated(feats, mask)["attn"]["rgb"], equal(feats, mask)["attn"]["rgb"], atol=1e-6, rtol=0)
        gated.joint_gate[:, 0] = 30.0  # all the weight on RGB
        other = {m: (x if m == "rgb" else torch.randn_like(x)) for m, x in feats.items()}
        torch.testing.assert_close(gated(other, mask)["attn"]["rgb"], gated(feats, mask)["attn"]["rgb"], atol=1e-6, rtol=0)
        assert not torch.allclose(equal(other, mask)["attn"]["rgb"], equal(feats, mask)["attn"]["rgb"])
