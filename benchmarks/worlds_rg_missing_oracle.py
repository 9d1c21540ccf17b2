"""Is the cost of a missing stream on `rg` the world's or the model's? Bayes-oracle rhos from the ground truth.

In `rg` the judges credit a dance element only in time with the music and take artistry off for every climax
that lands away from the music's highlight: both hang on each element's timing, |climax - highlight| =
2.5 (1 - timing). The climax is a burst in flow (and the middle of the element's span in RGB); the highlight is
in the audio. Each reader below sees the ground truth a stream shows and scores a video by the expected total
under the generator's own law given what it sees (the posterior over skill, musicality and the per-element
timing noise, by quadrature), then is ranked against the label:

- `all`: every stream: each timing exactly (the climax from flow, the highlight from audio).
- `no_audio`: RGB and flow: types, qualities, spans, drops, and each climax to the segment; no highlight, so
  timing is read only from skill (qualities, types) and from where each climax sits in its slot.
- `no_flow`: RGB and audio: the climax only through the element's span in RGB (start = round(climax - L/2)),
  each highlight to the segment.
- `skill_only`: `no_audio` without the climaxes' positions (how much position adds).

A model far below a reader is limited by its reading, not by what the streams hold. Readers are told the world's
element table and law exactly, so they bound from above what any model trained on 160 videos can reach.

    python benchmarks/worlds_rg_missing_oracle.py DEV/data/rg --seeds 1,2,3 [--split train] [--out FILE.json]
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from worlds_energy_oracle import built_world, oracle_main

U = np.linspace(-6.0, 6.0, 241)  # grid of u = 0.6 skill + musicality (timing = sigmoid(u + noise))
NOISE = 0.6 * np.linspace(-4.0, 4.0, 161)  # quadrature of the per-element N(0, 0.6^2) timing noise
NOISE_W = np.exp(-0.5 * (NOISE / 0.6) ** 2)
NOISE_W /= NOISE_W.sum()
DROP = 0.45  # a drop is seen (RGB and flow) but not its size, 0.3 or 0.6: every reader takes the mean


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _credit(timing):
    """The judges' credit of a dance element for its timing (lmac.data.synthetic._routine)."""
    return _sigmoid((timing - 0.45) / 0.08)


TIMING = _sigmoid(U[:, None] + NOISE[None, :])  # (grid, noise): each timing the quadrature weighs
CREDIT = _credit(TIMING)


def _highlight_probs(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """The integers int(round(uniform(lo, hi))) takes, and their probabilities."""
    if hi <= lo:
        return np.array([float(round(lo))]), np.array([1.0])
    hs = np.arange(round(lo), round(hi) + 1, dtype=float)
    p = np.clip(np.minimum(hs + 0.5, hi) - np.maximum(hs - 0.5, lo), 0, None)
    return hs[p > 0], p[p > 0] / p.sum()


def _element_posterior(el: dict, T: int, n_el: int, e: int, sees: str, max_offset: float):
    """For one element, over the grid U: the likelihood of what the reader sees, and E[timing], E[credit]."""
    timing, credit = TIMING, CREDIT
    d = max_offset * (1.0 - timing)
    L = el["end"] - el["start"]
    edges = np.linspace(1, T - 1, n_el + 1)
    margin = max_offset + L / 2
    lo, hi = edges[e] + margin, max(edges[e] + margin, edges[e + 1] - margin)
    a, b = edges[e] + L / 2, max(edges[e] + L / 2, edges[e + 1] - L / 2)
    if sees == "skill_only":
        lik = np.ones_like(timing)
    elif sees == "no_audio":  # the climax to the segment, the highlight unseen
        hs, ph = _highlight_probs(lo, hi)
        c = round(el["climax"])
        lik = np.zeros_like(timing)
        for h, p in zip(hs, ph):
            for s in (-1.0, 1.0):
                lik += 0.5 * p * (np.round(np.clip(h + s * d, a, b)) == c)
    elif sees == "no_flow":  # the highlight from audio, the climax only through the span's start
        h = float(el["highlight"])
        lik = np.zeros_like(timing)
        for s in (-1.0, 1.0):
            start = np.clip(np.round(np.clip(h + s * d, a, b) - L / 2), 0, T - 1)
            lik += 0.5 * (start == el["start"])
    else:
        raise ValueError(sees)
    w = lik * NOISE_W[None, :]
    z = w.sum(1)
    safe = np.where(z > 0, z, 1.0)
    return z, (w * timing).sum(1) / safe, (w * credit).sum(1) / safe


def expected_total(truth: dict, table_value: np.ndarray, sees: str, max_offset: float = 2.5,
                   n_samples: int = 4000, seed: int = 0) -> float:
    """E[D + E - P | what the reader sees], under the generator's law (lmac.data.synthetic._routine)."""
    els, T = truth["elements"], truth["T"]
    if sees == "all":
        D = sum(el["value"] * (_credit(el["timing"]) if el["dance"] else 1.0) for el in els)
        E = 10.0 - sum(0.6 * (1 - el["quality"]) for el in els) - 4.5 * (1.0 - np.mean([el["timing"] for el in els]))
        return D + float(np.clip(E, 0, 10)) - _penalty(truth)
    rng = np.random.default_rng(seed)
    skill, musical = rng.standard_normal(n_samples), rng.standard_normal(n_samples)
    # what RGB shows of skill: each element's quality (logit q = 0.9 skill + N(0, 0.8^2)) and its type
    logw = np.zeros(n_samples)
    z_val = 0.8 * (table_value - table_value.mean()) / table_value.std()
    logits = skill[:, None] * z_val[None, :]
    log_norm = np.log(np.exp(logits).sum(1))
    for el in els:
        lq = np.log(el["quality"]) - np.log1p(-el["quality"])
        logw += -0.5 * ((lq - 0.9 * skill) / 0.8) ** 2
        logw += logits[:, el["type"]] - log_norm
    u = 0.6 * skill + musical
    exp_timing, exp_credit = [], []
    n_el = len(els)
    for e, el in enumerate(els):
        z, t, c = _element_posterior(el, T, n_el, e, sees, max_offset)
        logw += np.log(np.interp(u, U, z) + 1e-300)
        exp_timing.append(np.interp(u, U, t))
        exp_credit.append(np.interp(u, U, c))
    w = np.exp(logw - logw.max())
    w /= w.sum()
    D = sum(el["value"] * ((w * exp_credit[e]).sum() if el["dance"] else 1.0) for e, el in enumerate(els))
    E = 10.0 - sum(0.6 * (1 - el["quality"]) for el in els) - 4.5 * (1.0 - np.mean([(w * t).sum() for t in exp_timing]))
    return float(D + E - _penalty(truth))


def _penalty(truth: dict) -> float:
    return DROP if truth["drop_segment"] is not None else 0.0


def oracles(folder: Path, split: str = "test") -> dict:
    world = built_world(folder)
    table_value = world.synth_world.types[world.CLASS]["value"]
    max_offset = world.synth_cfg.max_offset
    truth = json.loads((folder / "truth.json").read_text())
    rows = [line.split("\t") for line in (folder / f"{split}.txt").read_text().splitlines()[1:] if line.strip()]
    total = np.array([float(r[3]) for r in rows])
    out = {}
    for sees in ("all", "no_audio", "no_flow", "skill_only"):
        pred = [expected_total(truth[r[0]], table_value, sees, max_offset) for r in rows]
        out[sees] = float(spearmanr(pred, total)[0])
    out[f"{split}_videos"] = len(rows)
    return out


def main(argv=None) -> int:
    return oracle_main(__doc__, "DEV/data/rg (holding seed{s}/)", oracles, lambda r: (
        f"all streams {r['all']:.3f}, no audio {r['no_audio']:.3f}, no flow {r['no_flow']:.3f}, "
        f"skill alone {r['skill_only']:.3f}"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
