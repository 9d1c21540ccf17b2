"""Extractors: I3D port against independent JAX outputs and on real video (Kinetics-400), checkpoint
layouts (random weights saved in the published key layouts), AST fbank against transformers."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from lmac.features import EXTRACTORS, PRESETS
from lmac.features.weights import WEIGHTS, WeightsError

import media_clips


def _topk(p, k=5):
    return [int(i) for i in np.argsort(-p)[:k]]


# ----------------------------------------------------------------------------- registry
def test_registry_entries_are_complete():
    assert {"i3d-rgb", "i3d-flow", "vst", "ast", "flow-hof", "audio-stats", "musicnn"} <= set(EXTRACTORS.names())
    for name in EXTRACTORS.names():
        info = EXTRACTORS.info(name)
        assert info["modality"] in ("rgb", "flow", "audio"), name
        assert info["dim"] > 0 and info["fps"] == 25 and info["clip_len"] == 32, name
        assert (info["sample_rate"] == 16000) == (info["modality"] == "audio"), name
        for w in info["weights"]:
            spec = WEIGHTS[w]
            assert spec.extractor == name and spec.url and spec.license and spec.layout
    for preset in PRESETS.values():
        for mod, ex in preset.extractors.items():
            assert EXTRACTORS.info(ex)["modality"] == mod
            assert EXTRACTORS.info(ex)["dim"] == preset.dims[mod]
    with pytest.raises(KeyError, match="Did you mean 'i3d-rgb'"):
        EXTRACTORS.get("i3d_rgb")


# ----------------------------------------------------------------------------- I3D (real weights: test_i3d_kinetics.py)
def test_i3d_packaged_weights_hash_is_checked(monkeypatch, tmp_path):
    from lmac.features.backbones import i3d

    fake = tmp_path / "i3d-kinetics-400.ckpt"
    fake.write_bytes(b"not the checkpoint")
    monkeypatch.setattr(i3d, "default_rgb_weights", lambda: fake)
    with pytest.raises(WeightsError, match="SHA-256"):
        i3d.create_i3d_rgb()


def _pytorch_i3d_state(model):
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    return sd


def test_i3d_flow_loads_pytorch_i3d_layout(tmp_path):
    from lmac.features.backbones.i3d import InceptionI3d

    torch.manual_seed(0)
    src = InceptionI3d(in_channels=2).eval()
    for m in src.modules():  # non-trivial batch-norm statistics
        if isinstance(m, torch.nn.BatchNorm3d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    sd = _pytorch_i3d_state(src)
    # The published pytorch-i3d names, spelled out (not derived from our module).
    for key in ("Conv3d_1a_7x7.conv3d.weight", "Conv3d_1a_7x7.bn.running_var", "Mixed_3b.b1b.conv3d.weight",
                "Mixed_5c.b3b.bn.bias", "logits.conv3d.weight", "logits.conv3d.bias"):
        assert key in sd, key
    assert sd["Conv3d_1a_7x7.conv3d.weight"].shape == (64, 2, 7, 7, 7)
    path = tmp_path / "i3d_flow.pth"
    torch.save(sd, path)
    ex = EXTRACTORS.get("i3d-flow")(weights=path)
    assert ex.weights_sha256 and ex.describe()["weights"]["sha256"] == ex.weights_sha256
    flow = np.random.default_rng(0).normal(0, 8, size=(2, 16, 64, 64, 2)).astype(np.float32)
    got = ex(flow)
    with torch.inference_mode():
        x = torch.from_numpy(flow).permute(0, 4, 1, 2, 3).clamp(-20, 20) / 20
        want = src(x)[0].numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)

    # wrapped in a container with a DataParallel prefix: still loads
    torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, tmp_path / "wrapped.pth")
    np.testing.assert_allclose(EXTRACTORS.get("i3d-flow")(weights=tmp_path / "wrapped.pth")(flow), want, atol=1e-5)

    bad = dict(sd)
    del bad["Mixed_4b.b2b.conv3d.weight"]
    torch.save(bad, tmp_path / "missing.pth")
    with pytest.raises(WeightsError, match=r"missing\.pth: .*missing .*Mixed_4b\.b2b\.conv3d\.weight"):
        EXTRACTORS.get("i3d-flow")(weights=tmp_path / "missing.pth")
    rgb = InceptionI3d(in_channels=3).state_dict()
    torch.save(rgb, tmp_path / "rgb_as_flow.pth")
    with pytest.raises(WeightsError, match="another shape.*Conv3d_1a_7x7.conv3d.weight"):
        EXTRACTORS.get("i3d-flow")(weights=tmp_path / "rgb_as_flow.pth")
    with pytest.raises(WeightsError, match="needs a checkpoint"):
        EXTRACTORS.get("i3d-flow")()


def test_checkpoint_reading_refuses_unsafe_pickles(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    (tmp_path / "evil.ckpt").write_bytes(pickle.dumps({"params": Evil()}))
    (tmp_path / "evil.pth").write_bytes(pickle.dumps(Evil()))
    with pytest.raises(Exception, match="evil.ckpt"):
        EXTRACTORS.get("i3d-rgb")(weights=tmp_path / "evil.ckpt")
    with pytest.raises(WeightsError, match="evil.pth: cannot read checkpoint"):
        EXTRACTORS.get("i3d-flow")(weights=tmp_path / "evil.pth")


# ----------------------------------------------------------------------------- Video Swin
def _to_mmaction(k: str) -> str:
    """torchvision swin3d key -> original Video Swin / mmaction2 key (written out independently)."""
    m = re.match(r"features\.(\d+)\.(\d+)\.(.*)", k)
    if m:
        rest = m[3].replace("mlp.0.", "mlp.fc1.").replace("mlp.3.", "mlp.fc2.")
        return f"backbone.layers.{int(m[1]) // 2}.blocks.{m[2]}.{rest}"
    m = re.match(r"features\.(\d+)\.(.*)", k)
    if m:
        return f"backbone.layers.{int(m[1]) // 2}.downsample.{m[2]}"
    if k.startswith("head."):
        return "cls_head.fc_cls." + k[5:]
    return "backbone." + k


TINY_SWIN = dict(embed_dim=16, depths=(1, 1, 2, 1), num_heads=(1, 2, 2, 4))


def test_vst_loads_torchvision_and_mmaction2_layouts(tmp_path):
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    from lmac.features.backbones.swin import VSTExtractor

    torch.manual_seed(0)
    net = SwinTransformer3d(patch_size=[2, 4, 4], embed_dim=16, depths=[1, 1, 2, 1], num_heads=[1, 2, 2, 4],
                            window_size=[8, 7, 7], num_classes=400).eval()
    sd = net.state_dict()
    x = np.random.default_rng(1).integers(0, 256, size=(2, 16, 64, 64, 3), dtype=np.uint8)
    with torch.inference_mode():
        mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1, 1) * 255
        std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1, 1) * 255
        xx = (torch.from_numpy(x).permute(0, 4, 1, 2, 3).float() - mean) / std
        want = net.norm(net.features(net.patch_embed(xx))).mean(dim=(1, 2, 3)).numpy()

    torch.save(sd, tmp_path / "tv.pth")
    ex = VSTExtractor(tmp_path / "tv.pth", **TINY_SWIN)
    assert ex.layout == "torchvision" and ex.dim == 128
    np.testing.assert_allclose(ex(x), want, atol=1e-5)

    mm = {_to_mmaction(k): v for k, v in sd.items()}
    assert "backbone.layers.2.blocks.1.mlp.fc2.weight" in mm and "backbone.layers.0.downsample.reduction.weight" in mm
    torch.save({"meta": {"epoch": 30}, "state_dict": mm}, tmp_path / "swin_mm.pth")
    ex = VSTExtractor(tmp_path / "swin_mm.pth", **TINY_SWIN)
    assert ex.layout == "mmaction2-swin"
    np.testing.assert_allclose(ex(x), want, atol=1e-5)

    # relative_position_index is a derived buffer: absent is fine, a different one is an error
    no_index = {k: v for k, v in mm.items() if not k.endswith("relative_position_index")}
    torch.save({"state_dict": no_index}, tmp_path / "no_index.pth")
    np.testing.assert_allclose(VSTExtractor(tmp_path / "no_index.pth", **TINY_SWIN)(x), want, atol=1e-5)
    wrong = dict(mm)
    k0 = next(k for k in mm if k.endswith("relative_position_index"))
    wrong[k0] = torch.flip(mm[k0], dims=[0])
    torch.save({"state_dict": wrong}, tmp_path / "wrong_index.pth")
    with pytest.raises(WeightsError, match="relative_position_index differs"):
        VSTExtractor(tmp_path / "wrong_index.pth", **TINY_SWIN)

    missing = {k: v for k, v in mm.items() if "layers.2.blocks.1.attn.qkv.weight" not in k}
    torch.save({"state_dict": missing}, tmp_path / "missing.pth")
    with pytest.raises(WeightsError, match=r"missing\.pth: .*missing.*features\.4\.1\.attn\.qkv\.weight"):
        VSTExtractor(tmp_path / "missing.pth", **TINY_SWIN)
    extra = dict(mm)
    extra["backbone.layers.0.blocks.0.attn.extra_scale"] = torch.zeros(1)
    torch.save({"state_dict": extra}, tmp_path / "extra.pth")
    with pytest.raises(WeightsError, match="unexpected.*extra_scale"):
        VSTExtractor(tmp_path / "extra.pth", **TINY_SWIN)
    with pytest.raises(WeightsError, match="another shape"):  # a Swin-T checkpoint given for Swin-B-like arch
        VSTExtractor(tmp_path / "swin_mm.pth", embed_dim=32, depths=(1, 1, 2, 1), num_heads=(1, 2, 2, 4))
    torch.save({"foo.weight": torch.zeros(2)}, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match="not a Video Swin checkpoint"):
        VSTExtractor(tmp_path / "other.pth", **TINY_SWIN)


# ----------------------------------------------------------------------------- AST
def test_kaldi_fbank_matches_transformers_feature_extractor():
    from transformers import ASTFeatureExtractor

    from lmac.features.backbones.ast import ast_input

    wav, _ = _music_chunk()
    fe = ASTFeatureExtractor(max_length=1024)
    want = fe(wav - wav.mean(), sampling_rate=16000, return_tensors="np")["input_values"][0]
    got = ast_input(wav, 1024)
    assert got.shape == want.shape == (1024, 128)
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert got[:126].std() > 0.1  # real music, not padding


def _music_chunk():
    from lmac.features.video import load_audio

    wav, start = load_audio(media_clips.music())
    return wav[16000 * 30 : 16000 * 30 + 20480].copy(), start


SMALL_AST = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=128, max_length=128)


def _orig_ast_layout(sd: dict) -> dict:
    """transformers ASTModel keys -> the original AST repo's `module.v.*` keys (written out here)."""
    out = {}
    qkv: dict = {}
    for k, v in sd.items():
        k4 = k.replace("encoder.layer.", "layers.")
        if k4 == "embeddings.cls_token":
            out["module.v.cls_token"] = v
        elif k4 == "embeddings.distillation_token":
            out["module.v.dist_token"] = v
        elif k4 == "embeddings.position_embeddings":
            out["module.v.pos_embed"] = v
        elif k4.startswith("embeddings.patch_embeddings.projection."):
            out["module.v.patch_embed.proj." + k4.rsplit(".", 1)[1]] = v
        elif k4.startswith("layernorm."):
            out["module.v.norm." + k4.rsplit(".", 1)[1]] = v
        else:
            m = re.match(r"layers\.(\d+)\.(.*)\.(weight|bias)$", k4)
            i, stem, leaf = m[1], m[2], m[3]
            role = {"attention.q_proj": "q", "attention.attention.query": "q", "attention.k_proj": "k",
                    "attention.attention.key": "k", "attention.v_proj": "v", "attention.attention.value": "v"}.get(stem)
            if role:
                qkv.setdefault((i, leaf), {})[role] = v
                continue
            name = {"attention.o_proj": "attn.proj", "attention.output.dense": "attn.proj",
                    "layernorm_before": "norm1", "layernorm_after": "norm2", "mlp.fc1": "mlp.fc1",
                    "intermediate.dense": "mlp.fc1", "mlp.fc2": "mlp.fc2", "output.dense": "mlp.fc2"}[stem]
            out[f"module.v.blocks.{i}.{name}.{leaf}"] = v
    for (i, leaf), d in qkv.items():
        out[f"module.v.blocks.{i}.attn.qkv.{leaf}"] = torch.cat([d["q"], d["k"], d["v"]], 0)
    out["module.mlp_head.1.weight"] = torch.zeros(527, sd["layernorm.weight"].shape[0])
    return out


def test_ast_loads_hf_folder_file_and_original_layout(tmp_path):
    from safetensors.torch import save_file
    from transformers import ASTConfig, ASTForAudioClassification, ASTModel

    from lmac.features.backbones.ast import ast_input

    torch.manual_seed(0)
    cfg = ASTConfig(**SMALL_AST)
    model = ASTModel(cfg).eval()
    wav, _ = _music_chunk()
    batch = np.stack([wav, 0.5 * wav[::-1].copy()])
    with torch.inference_mode():
        x = torch.from_numpy(np.stack([ast_input(w, 128) for w in batch]))
        want = model(input_values=x).pooler_output.numpy()

    model.save_pretrained(tmp_path / "ast_dir")
    ex = EXTRACTORS.get("ast")(weights=tmp_path / "ast_dir")
    assert ex.dim == 64 and ex.max_length == 128 and ex.layout == "hf-directory"
    np.testing.assert_allclose(ex(batch), want, atol=1e-5)

    single = tmp_path / "single"
    single.mkdir()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(single / "model.safetensors"))
    cfg.to_json_file(str(single / "config.json"))
    np.testing.assert_allclose(EXTRACTORS.get("ast")(weights=single / "model.safetensors")(batch), want, atol=1e-5)

    clf = ASTForAudioClassification(cfg)
    clf.audio_spectrogram_transformer.load_state_dict(model.state_dict())
    torch.save(clf.state_dict(), single / "clf.pth")
    np.testing.assert_allclose(EXTRACTORS.get("ast")(weights=single / "clf.pth")(batch), want, atol=1e-5)

    torch.save(_orig_ast_layout(model.state_dict()), single / "audioset_orig.pth")
    ex = EXTRACTORS.get("ast")(weights=single / "audioset_orig.pth")
    assert ex.layout == "ast-original"
    np.testing.assert_allclose(ex(batch), want, atol=1e-5)

    bad = _orig_ast_layout(model.state_dict())
    del bad["module.v.blocks.1.norm2.weight"]
    torch.save(bad, single / "bad.pth")
    with pytest.raises(WeightsError, match=r"bad\.pth: .*missing"):
        EXTRACTORS.get("ast")(weights=single / "bad.pth")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(WeightsError, match="no config.json"):
        EXTRACTORS.get("ast")(weights=tmp_path / "empty_dir")


# ----------------------------------------------------------------------------- descriptors
def test_descriptors_respond_to_motion_and_sound():
    from lmac.features.backbones.descriptors import AUDIO_STATS_DIM, FLOW_HOF_DIM
    from lmac.features.flow import FlowComputer

    hof = EXTRACTORS.get("flow-hof")()
    still = np.zeros((1, 32, 48, 48, 2), np.float32)
    right = still.copy()
    right[..., 0] = 3.0  # everything moves 3 px/frame to the right
    f_still, f_right = hof(still)[0], hof(right)[0]
    assert f_still.shape == (FLOW_HOF_DIM,) and np.allclose(f_still, 0)
    assert f_right[0] > 1.0 and np.allclose(f_right[1:8], 0)  # orientation bin 0 (rightwards) only
    assert f_right[96] > 1.0 and abs(f_right[97]) < 1e-6  # global dx > 0, dy = 0

    # real flow of a moving square: DIS and Farneback see rightwards motion
    frames = np.zeros((6, 48, 48, 3), np.uint8)
    rng = np.random.default_rng(0)
    frames[:] = rng.integers(0, 60, size=(48, 48, 3), dtype=np.uint8)
    for t in range(6):
        frames[t, 16:28, 8 + 2 * t : 20 + 2 * t] = 255
    for method in ("dis", "farneback", "tvl1"):
        fl = FlowComputer(method)(frames)
        assert fl.shape == (6, 48, 48, 2)
        moving = fl[:5, 16:28, 10:20, 0]
        assert moving.mean() > 0.8, (method, moving.mean())

    stats = EXTRACTORS.get("audio-stats")()
    wav, _ = _music_chunk()
    a_music, a_silence = stats(np.stack([wav, np.zeros_like(wav)]))
    assert a_music.shape == (AUDIO_STATS_DIM,) and np.isfinite(a_music).all()
    assert a_silence[148] == 1.0 and a_music[148] < 0.5  # silent-frame fraction
    assert a_music[:64].mean() > a_silence[:64].mean() + 5  # log-mel energy
