"""musicnn in PyTorch from the musicnn wheel's TF checkpoint (read without TensorFlow), and the offline
preset's audio."""
import numpy as np
import pytest
import torch

from lmac.features.backbones.musicnn import (
    MTT_LABELS, MUSICNN_MTT, PATCH_SAMPLES, MusiCNNExtractor, bundle_sha256, checkpoint_prefix, load_musicnn,
    log_mel_patches, mel_filterbank,
)
from lmac.features.tf_checkpoint import CheckpointFormatError, read_checkpoint, read_index

ARCADE_MUSIC = "arcade/resources/assets/music/{}"


def _track(name: str) -> np.ndarray:
    import importlib.util
    from pathlib import Path

    from lmac.features.video import load_audio

    root = Path(importlib.util.find_spec("arcade").origin).parent.parent  # arcade is never imported
    return load_audio(root / ARCADE_MUSIC.format(name))[0]


@pytest.fixture(scope="module")
def weights():
    return read_checkpoint(checkpoint_prefix())


@pytest.fixture(scope="module")
def extractor():
    return MusiCNNExtractor()


def test_the_checkpoint_reads_without_tensorflow(weights):
    import sys

    assert "tensorflow" not in sys.modules and "musicnn" not in sys.modules  # the wheel's code is never imported
    assert bundle_sha256(checkpoint_prefix()) == MUSICNN_MTT.sha256
    assert len(weights) == 64 and not any("Adam" in k for k in weights)  # optimizer slots are left out
    assert weights["conv2d/kernel"].shape == (7, 38, 1, 204) and weights["conv2d_1/kernel"].shape == (7, 67, 1, 204)
    assert weights["conv2d_5/kernel"].shape == (7, 561, 1, 64) and weights["dense_1/kernel"].shape == (200, 50)
    assert weights["conv2d/kernel"].dtype == np.float32 and np.isfinite(weights["dense/kernel"]).all()
    entries = read_index(checkpoint_prefix())
    assert entries["dense/kernel"]["shape"] == [1506, 200] and entries["dense/kernel"]["size"] == 1506 * 200 * 4


def test_broken_checkpoints_are_named(tmp_path):
    src = checkpoint_prefix()
    (tmp_path / "cut.index").write_bytes(open(src + ".index", "rb").read()[:-20])
    with pytest.raises(CheckpointFormatError, match="cut.index: not a TensorFlow checkpoint index"):
        read_index(tmp_path / "cut")
    (tmp_path / "nodata.index").write_bytes(open(src + ".index", "rb").read())
    with pytest.raises(CheckpointFormatError, match="nodata.data-00000-of-00001: checkpoint data shard not found"):
        read_checkpoint(tmp_path / "nodata")
    with pytest.raises(CheckpointFormatError, match="checkpoint index not found"):
        read_index(tmp_path / "missing")


def test_first_timbral_block_matches_an_independent_numpy_reading(weights):
    """Input batch norm, the 7x38 timbral conv, ReLU, batch norm and the max over frequency, computed with
    numpy straight from the checkpoint's arrays (TF layouts), against the PyTorch module."""
    rng = np.random.default_rng(0)
    x = (2.0 + rng.standard_normal((2, 187, 96))).astype(np.float32)

    def bn(v, name):
        return (v - weights[f"{name}/moving_mean"]) / np.sqrt(weights[f"{name}/moving_variance"] + 1e-3) \
            * weights[f"{name}/gamma"] + weights[f"{name}/beta"]

    h = bn(x[..., None], "batch_normalization")[..., 0]  # (B, T, F), one channel
    h = np.pad(h, ((0, 0), (3, 3), (0, 0)))
    windows = np.lib.stride_tricks.sliding_window_view(h, (7, 38), axis=(1, 2))  # (B, T, F-37, 7, 38)
    y = np.einsum("btfij,ijo->btfo", windows, weights["conv2d/kernel"][:, :, 0, :]) + weights["conv2d/bias"]
    want = bn(np.maximum(y, 0), "batch_normalization_1").max(axis=2)  # (B, T, 204)
    model = load_musicnn()
    with torch.no_grad():
        got = model(torch.from_numpy(x))["frontend"][:, :204].permute(0, 2, 1).numpy()
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=1e-4)


def test_mel_filterbank_is_slaney_area_normalised():
    fb = mel_filterbank()
    assert fb.shape == (96, 257) and (fb >= 0).all()
    hz_per_bin = 8000 / 256
    area = fb.sum(1) * hz_per_bin
    np.testing.assert_allclose(area, 1.0, rtol=0.08)  # unit area in Hz, up to the sampling of the triangles
    assert abs(area.mean() - 1.0) < 0.01
    peaks = fb.argmax(1)
    assert (np.diff(peaks) >= 0).all() and peaks[-1] > 240  # ordered, up to 8 kHz
    mel = log_mel_patches(np.zeros((1, PATCH_SAMPLES), np.float32))
    assert mel.shape == (1, 187, 96) and (mel == 0).all()  # log10(10000 * 0 + 1)


def test_tags_of_real_music_are_sensible(extractor):
    """funkyrobot.mp3 (arcade): an electronic funk track. Its first 24 s, 8 patches of 3 s."""
    wav = _track("funkyrobot.mp3")
    p = extractor.tags(wav[: 8 * PATCH_SAMPLES].reshape(8, PATCH_SAMPLES)).mean(0)
    top = [MTT_LABELS[i] for i in np.argsort(-p)[:5]]
    assert top == ["guitar", "piano", "electronic", "techno", "drums"], top
    assert p.max() < 0.5 and p[MTT_LABELS.index("opera")] < 0.02 and p[MTT_LABELS.index("choral")] < 0.02


def test_extractor_gives_each_segment_its_centred_three_seconds(extractor):
    from lmac.features.video import audio_chunks

    class Probe:  # one segment at 1.28 s per segment, starting at 0
        seg_len, fps, t0, skip_start, n_segments = 32, 25.0, 0.0, 0, 3

    wav = np.arange(16000 * 5, dtype=np.float32)
    chunks = audio_chunks(wav, 0.0, Probe, samples=PATCH_SAMPLES)
    assert chunks.shape == (3, PATCH_SAMPLES)
    centre = int(1.5 * 20480)  # segment 1 covers 20480-40960
    assert chunks[1, PATCH_SAMPLES // 2] == pytest.approx(centre, abs=1)
    assert (chunks[0, : PATCH_SAMPLES // 2 - 10240] == 0).all()  # before the track: zeros
    feats = extractor(chunks / chunks.max())
    assert feats.shape == (3, 200) and extractor.dim == 200 and np.isfinite(feats).all()
