"""musicnn on real music: its tags, its speed, and what its per-segment features capture.

For each track (arcade's two music files, which `make` installs), every 1.28-s segment gets the 3 s
around it, as `lmac extract --preset offline` does. Prints and writes (JSON):
- the mean tag probabilities' top 5 per track (a sanity check of the weights and the preprocessing);
- segments/s of the extractor (log-mel + network, batch 8) on this machine's threads;
- separation: leave-one-out nearest-centroid accuracy of segments between the tracks, from the 200-d
  embedding (chance 0.5), with segments of the same 10-s block kept out of the centroid;
- stability: cosine similarity of consecutive segments' embeddings, against that of random pairs
  within the track and across tracks.

    python benchmarks/musicnn_check.py [--out benchmarks/results/musicnn_cpu.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from pathlib import Path

import numpy as np
import torch

from lmac.features.backbones.musicnn import MTT_LABELS, PATCH_SAMPLES, MusiCNNExtractor
from lmac.features.video import load_audio
from lmac.utils import cpu_model

TRACKS = ("funkyrobot.mp3", "1918.mp3")
SEG = 20480  # 1.28 s at 16 kHz


def segments(wav: np.ndarray) -> np.ndarray:
    """(n, PATCH_SAMPLES): the 3 s centred on each whole 1.28-s segment, zero-padded at the ends."""
    n = len(wav) // SEG
    pad = (PATCH_SAMPLES - SEG) // 2
    padded = np.pad(wav, (pad, PATCH_SAMPLES))
    return np.stack([padded[i * SEG : i * SEG + PATCH_SAMPLES] for i in range(n)])


def cos(a, b):
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return (a * b).sum(-1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    root = Path(importlib.util.find_spec("arcade").origin).parent / "resources" / "assets" / "music"
    ex = MusiCNNExtractor()
    res = {"threads": torch.get_num_threads(), "cpu": cpu_model(),
           "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "tracks": {}}
    emb, tags_all = {}, {}
    for name in TRACKS:
        wav, _ = load_audio(root / name)
        x = segments(wav)
        ex(x[:8])  # warm-up
        t0 = time.perf_counter()
        feats, tags = [], []
        for i in range(0, len(x), 8):
            out = ex.run(x[i : i + 8])
            feats.append(out["penultimate"].numpy())
            tags.append(torch.sigmoid(out["logits"]).numpy())
        dt = time.perf_counter() - t0
        emb[name], tags_all[name] = np.concatenate(feats), np.concatenate(tags)
        mean = tags_all[name].mean(0)
        top = [(MTT_LABELS[i], round(float(mean[i]), 3)) for i in np.argsort(-mean)[:5]]
        res["tracks"][name] = {"seconds": round(len(wav) / 16000, 1), "segments": len(x),
                               "segments_per_s": round(len(x) / dt, 2), "top5_tags": top}
        print(f"{name}: {len(wav) / 16000:.0f} s, {len(x)} segments, {len(x) / dt:.1f} segments/s; top tags {top}")
    for key, value in _capture(emb).items():
        res[key] = value
    # the hand-made descriptor the offline preset used before (`offline-stats`), on the same segments
    from lmac.features import EXTRACTORS

    stats = EXTRACTORS.get("audio-stats")()
    pad = (PATCH_SAMPLES - SEG) // 2
    desc = {n: stats(segments(load_audio(root / n)[0])[:, pad : pad + SEG]) for n in TRACKS}
    both = np.concatenate(list(desc.values()))  # standardised over both tracks together
    res["audio_stats_descriptor"] = _capture({n: (d - both.mean(0)) / (both.std(0) + 1e-6) for n, d in desc.items()})
    print(f"the same for the audio-stats descriptor (standardised): {res['audio_stats_descriptor']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


def _capture(emb: dict) -> dict:
    """Separation of the tracks' segments and stability over time (see the module docstring)."""
    correct = total = 0
    names = list(emb)
    for k, name in enumerate(names):
        for i in range(len(emb[name])):
            block = slice(max(0, i - 4), i + 4)
            keep = np.ones(len(emb[name]), bool)
            keep[block] = False
            cents = [emb[n][keep].mean(0) if n == name else emb[n].mean(0) for n in names]
            guess = int(np.argmax([cos(emb[name][i], c) for c in cents]))
            correct += guess == k
            total += 1
    rng = np.random.default_rng(0)
    consec = np.concatenate([cos(e[1:], e[:-1]) for e in emb.values()])
    within = np.concatenate([cos(e[rng.integers(0, len(e), 500)], e[rng.integers(0, len(e), 500)]) for e in emb.values()])
    a, b = emb[names[0]], emb[names[1]]
    across = cos(a[rng.integers(0, len(a), 500)], b[rng.integers(0, len(b), 500)])
    out = {"separation_accuracy": round(correct / total, 3), "dim": int(a.shape[1]),
           "cosine": {"consecutive": round(float(consec.mean()), 3), "random_within_track": round(float(within.mean()), 3),
                      "across_tracks": round(float(across.mean()), 3)}}
    print(f"nearest-centroid separation of the two tracks' segments: {out['separation_accuracy']:.3f} (chance 0.5); "
          f"cosine similarity: consecutive segments {consec.mean():.3f}, random pairs in a track {within.mean():.3f}, "
          f"across tracks {across.mean():.3f}")
    return out


if __name__ == "__main__":
    raise SystemExit(main())
