"""`pooled_ridge`: a ridge regression over a routine's pooled features, fitted in closed form on the training
videos. An `lmac_ensemble` member (`--set members=lmac_aligned_md,gdlt,pooled_ridge`), not a model to train alone.

Why (issue 17, benchmarks/results/worlds/README.md, the probe and the fourteenth candidate): on 160 training videos
of 512-1024-dim features, a linear, order-free summary of a routine (what it shows on average, and how much of it
there is) ranks the validation videos better than every trained model on the worlds where the judges reward
execution seen in RGB, and the trained members win where they reward what happens when. A closed-form fit needs
no epochs and no learning rate, so it is the most sample-efficient reader of the first kind.

How: each modality is pooled to [mean over the real segments, sum over them / the task's window] (the sum carries
how many elements there are). The pooled features are standardised, and the ridge penalty (PENALTIES) and the
inputs (RGB alone, or every modality, or every modality and their aligned pairs) are chosen together by 5-fold
cross-validation on the training videos only (folds seeded by the run's seed); then it is refitted on all of them.

Aligned pairs (`inputs` option `pairs`, the fifteenth worlds candidate): what one modality shows *at the moment*
another shows something, the linear model's way to read alignment. Each modality's segments are standardised and
projected on their first k principal components (fitted on the training videos' segments, no labels), and for
each pair of modalities the mean over a video's real segments of the outer product of the two projections at the
same segment is one k x k block of features: sum_t p_a(t) W p_b(t)^T is then what the ridge can weigh, a
bilinear score of the two streams in step. k is chosen by the same cross-validation among `pair_ranks`.

Shared moments (`inputs` options `rgb_cca` and `all_cca`, the seventeenth worlds candidate): where the judges
compare two streams at the same moment (movement energy against the music's intensity), the ridge needs a
non-linear feature of the two in step, along the directions in which they co-vary. Those directions are found
without labels: for each pair of modalities, a canonical correlation analysis of the training videos' segments
(each modality standardised, reduced to its first `cca_rank` principal components, centred within each video so
that a routine's constant look does not count) gives the pair of projections x(t), y(t) that move together most
closely. Five features per pair, means over a video's real segments: x^2, y^2, xy, |x - y| and |x + y| (the
squared difference of the two, at any relative scale, is a weighted sum of the first three). `rgb_cca` is RGB's
pooled features and these; `all_cca` every modality's and these.

Key moments (`inputs` options `rgb_key` and `all_key`, the nineteenth worlds candidate): judges score the
elements, not the transitions between them, so the shared moments are read again at a routine's key moments. For each
modality, a segment's salience is its squared distance from the video's own mean over the modality's first
`key_rank` principal components (fitted on the training videos' segments, no labels); the top third of a video's
segments by that salience are its key moments in that modality. For each such gate and each pair of modalities the
five shared-moment features are taken over the key segments and over the rest (10 per gate and pair). `rgb_key` is
`rgb_cca`'s features and these; `all_key` is `all_cca`'s and these.

Changes (`inputs` options `rgb_delta` and `all_delta`, the twenty-first worlds candidate): judges add over elements,
and a routine's pooled mean and sum tell how long its elements last in all, not how many there are. How often the
features change counts onsets whatever the elements' lengths: for each modality, |p(t) - p(t-1)| on its first
`delta_rank` principal components (fitted on the training videos' segments, no labels), its mean over a video's
consecutive real segments and its sum / window. `rgb_delta` is RGB's pooled features and RGB's changes; `all_delta`
every modality's.

Key pooling (`key_pool`, the twenty-seventh worlds candidate, the default since): judges score a routine's elements,
and a mean over every segment dilutes them with the transitions. In every input option, each read modality's pooled
features are followed by the same two over the modality's own key moments (the top third of its segments by
salience, as for the key moments above). It adds no input option for the cross-validation to choose among. A fit
from before it loads with those features unread and scores as it did. `key_pool_cv` (a thirty-first candidate, off by
default; screened and not made the default): the input options are also cross-validated without the key-pooled
features, and the fit reads them only where that ranks first; a routine whose score is not in its elements then does
not pay for twice the columns.

Missing modalities (`fallback`, the twenty-eighth worlds candidate): a video without sound, or features without flow,
leaves the fit above without what it reads, and until then the member sat out, leaving the ensemble's score to its
weaker trained members. With `fallback`, `fit` also fits, for every proper subset of the modalities, the ridge that
the `rgb` and `all` options give on that subset's pooled features alone (input option and penalty chosen by the same
cross-validation); a video that lacks some of what the main fit reads is scored by the fit of the modalities it has.
A video with every modality is scored exactly as without the option. `fallback_keep` (the twenty-ninth): a fallback
fit scores only where its cross-validated rho is at least that share of the main fit's; below it the member sits out
as before, since a stream that carried much of what the ridge reads leaves a fallback weaker than the trained members
that learned to score without it (on `rg`, the twenty-eighth's fallback cost 0.050 without audio). Both are the
default since the twenty-ninth candidate (`fallback=true, fallback_keep=0.9`); `fallback=false` for the fit before it.
`fallback_inputs="same"` (a thirtieth candidate, off by default; screened and not made the default): each fallback
fit is this member fitted on the subset's streams with every input option (a `PooledRidge` of its own under
`fallback_fits`), so the streams left are still read together (their aligned pairs and shared moments), where the
pooled fallback reads each apart.

`fit` is called once by the trainer before the first epoch; the fit lives in buffers (the projections too), so
checkpoints, resumes and `lmac predict` carry it. Until it is fitted, or when a modality it reads is missing (and
no fallback fit has the rest), the member sits out of the ensemble.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from lmac.data.dataset import Sample
from lmac.evaluation.metrics import spearman
from lmac.models._builder import MODELS, config_from_kwargs

PENALTIES = (0.1, 1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


def pool_video(feats: dict, modalities, window: int, key_projections: dict | None = None, k: int = 0) -> np.ndarray:
    """One video's pooled features: per modality, the mean over its segments and their sum / window; with
    `key_projections` {modality: pca_projection} (`key_pool`), also the mean and sum / window over the modality's own
    key moments (`key_gate` of its `salience` in the first k components)."""
    out = []
    for m in modalities:
        x = np.asarray(feats[m], np.float64)
        out += [x.mean(0), x.sum(0) / window]
        if key_projections is not None:
            g = key_gate(salience(x, key_projections[m], k))
            out += [x[g].mean(0), x[g].sum(0) / window]
    return np.concatenate(out)


def pca_projection(segments: np.ndarray, k: int):
    """(mean, scale, U) such that ((x - mean) / scale) @ U are a segment's first k principal components, each of
    unit variance over `segments` (segments, dim); fewer columns when there are fewer dims."""
    mu, sd = segments.mean(0), segments.std(0) + 1e-9
    Z = (segments - mu) / sd
    evals, evecs = np.linalg.eigh(Z.T @ Z / len(Z))
    order = np.argsort(evals)[::-1][:k]
    evecs = evecs[:, order] * np.sign(evecs[np.abs(evecs[:, order]).argmax(0), order])  # a fixed sign per component
    return mu, sd, evecs / np.sqrt(np.maximum(evals[order], 1e-12))


def project_segments(x, projection, k: int) -> np.ndarray:
    """A video's segments (segments, dim) on the first k components of a `pca_projection`."""
    mu, sd, U = projection
    return ((np.asarray(x, np.float64) - mu) / sd) @ U[:, :k]


def pair_pool(feats: dict, projections: dict, k: int) -> np.ndarray:
    """One video's aligned-pair features: for each pair of modalities (in the projections' order), the mean over its
    segments of outer(p_a(t), p_b(t)) of their first k projected components, flattened (k*k per pair)."""
    p = {m: project_segments(feats[m], proj, k) for m, proj in projections.items()}
    return np.concatenate([(p[a][:, :, None] * p[b][:, None, :]).mean(0).ravel()
                           for a, b in itertools.combinations(list(p), 2)])


def cca_pair(segs_a: list, segs_b: list, k: int):
    """The first canonical pair of two modalities' segments (lists of (segments, dim) arrays, one per video, in
    step): ((mean_a, scale_a, u), (mean_b, scale_b, v)) such that ((x_a - mean_a) / scale_a) @ u and the same for
    b move together most closely within videos, each of unit within-video variance, their correlation positive."""
    out = []
    centred = []
    for segs in (segs_a, segs_b):
        proj = pca_projection(np.concatenate([np.asarray(x, np.float64) for x in segs]), k)
        Z = [project_segments(x, proj, k) for x in segs]
        Z = np.concatenate([z - z.mean(0) for z in Z])
        evals, evecs = np.linalg.eigh(Z.T @ Z / len(Z))
        W = evecs / np.sqrt(np.maximum(evals, 1e-12))  # whitens the within-video covariance
        out.append((proj, W))
        centred.append(Z @ W)
    U, S, Vt = np.linalg.svd(centred[0].T @ centred[1] / len(centred[0]))
    dirs = []
    for (proj, W), d in zip(out, (U[:, 0], Vt[0])):
        mu, sd, P = proj
        dirs.append((mu, sd, P[:, :W.shape[0]] @ W @ d))
    return tuple(dirs)


def cca_features(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A video's five shared-moment features from its two canonical projections (segments,): means of x^2, y^2,
    xy, |x - y|, |x + y|."""
    return np.array([(x * x).mean(), (y * y).mean(), (x * y).mean(), np.abs(x - y).mean(), np.abs(x + y).mean()])


def cca_sides(feats: dict, a: str, b: str, pair) -> tuple[np.ndarray, np.ndarray]:
    """A video's two canonical projections x(t), y(t) (segments,) of modalities a and b, `pair` from `cca_pair`."""
    return tuple(((np.asarray(feats[m], np.float64) - mu) / sd) @ u for m, (mu, sd, u) in zip((a, b), pair))


def cca_pool(feats: dict, directions: dict) -> np.ndarray:
    """One video's shared-moment features for every pair of modalities in `directions` {(a, b): cca_pair(...)}."""
    return np.concatenate([cca_features(*cca_sides(feats, a, b, pair)) for (a, b), pair in directions.items()])


class SubsetView:
    """A training dataset seen through some of its streams (what `fit` reads: window, task, samples), for the
    fallback fits of `fallback_inputs="same"`; nothing is copied but the samples' stream dicts."""

    def __init__(self, dataset, modalities):
        self.window, self.task = dataset.window, dataset.task
        self.samples = [Sample(s.video_id, {m: s.feats[m] for m in modalities}, s.score, s.parts)
                        for s in dataset.samples]


KEY_FRACTION = 1 / 3  # the share of a video's segments that are its key moments in a modality
# a fallback fit's buffers as they are when it is not fitted (penalty 0 marks it so): at construction, for a checkpoint
# from before `fallback`, and for a subset that `fallback_keep` leaves out
FALLBACK_UNFITTED = {"mean": 0.0, "scale": 1.0, "weight": 0.0, "bias": 0.0, "penalty": 0.0}


def salience(x, projection, k: int) -> np.ndarray:
    """A video's segments' salience in one modality (segments,): the squared distance from the video's own mean in
    the first k components of a `pca_projection`."""
    p = project_segments(x, projection, k)
    return ((p - p.mean(0)) ** 2).sum(1)


def key_gate(d: np.ndarray) -> np.ndarray:
    """The key moments of a video (bool, segments,): the top third of its segments by salience `d`."""
    return d >= np.quantile(d, 1 - KEY_FRACTION)


def key_pool(feats: dict, directions: dict, projections: dict, k: int) -> np.ndarray:
    """One video's key-moment features: for each modality's gate (in the projections' order) and each pair in
    `directions`, the five shared-moment features over the key segments and over the others."""
    sides = {pair: cca_sides(feats, *pair, d) for pair, d in directions.items()}
    out = []
    for m, proj in projections.items():
        g = key_gate(salience(feats[m], proj, k))
        for x, y in sides.values():
            out += [cca_features(x[g], y[g]) if g.any() else np.zeros(5),
                    cca_features(x[~g], y[~g]) if (~g).any() else np.zeros(5)]
    return np.concatenate(out)


def delta_pool(feats: dict, projections: dict, k: int, window: int) -> np.ndarray:
    """One video's change features: for each modality in `projections` {m: pca_projection}, in their order, the mean
    over consecutive segments of |p(t) - p(t-1)| on the first k components and their sum / window (0 for a video of
    one segment)."""
    out = []
    for m, proj in projections.items():
        d = np.abs(np.diff(project_segments(feats[m], proj, k), axis=0))
        out += [d.mean(0) if len(d) else np.zeros(k), d.sum(0) / window]
    return np.concatenate(out)


def ridge_fit(X: np.ndarray, y: np.ndarray, lam: float):
    """(mean, scale, weights, intercept) of a ridge regression on standardised X; y is (n,) or (n, S)."""
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    yc = y - y.mean(0)
    if Z.shape[1] > Z.shape[0]:  # more features than videos: the same solution from the videos' Gram matrix
        w = Z.T @ np.linalg.solve(Z @ Z.T + lam * np.eye(Z.shape[0]), yc)
    else:
        w = np.linalg.solve(Z.T @ Z + lam * np.eye(Z.shape[1]), Z.T @ yc)
    return mu, sd, w, y.mean(0)


def ridge_predict(fit, X: np.ndarray) -> np.ndarray:
    mu, sd, w, b = fit
    return ((X - mu) / sd) @ w + b


def _mean_rho(pred: np.ndarray, y: np.ndarray) -> float:
    if y.ndim == 1:
        return spearman(pred, y)
    return float(np.mean([spearman(pred[:, k], y[:, k]) for k in range(y.shape[1])]))


def _cv_runs(candidates: dict, y: np.ndarray, seed: int, folds: int):
    """(mean validation Spearman rho over the folds, key, penalty, out-of-fold predictions) for every candidate and
    penalty, in order (keys as given, penalties rising); folds seeded by `seed`."""
    parts = np.array_split(np.random.default_rng(seed).permutation(len(y)), folds)
    for key, X in candidates.items():
        for lam in PENALTIES:
            rhos, oof = [], np.zeros(y.shape)
            for k in range(folds):
                held = np.zeros(len(y), bool)
                held[parts[k]] = True
                oof[held] = ridge_predict(ridge_fit(X[~held], y[~held], lam), X[held])
                rhos.append(_mean_rho(oof[held], y[held]))
            yield float(np.mean(rhos)), key, lam, oof


def cv_scores(candidates: dict, y: np.ndarray, seed: int, folds: int = 5) -> dict:
    """candidates {key: X}; returns {key: (best mean validation Spearman rho over `folds` cross-validation folds
    (seeded by `seed`), its penalty)}, the smallest penalty winning ties, keys in the given order."""
    best = {}
    for rho, key, lam, _ in _cv_runs(candidates, y, seed, folds):
        if key not in best or rho > best[key][0]:
            best[key] = (rho, lam)
    return best


def best_by_cv(scores: dict):
    """(key, penalty) of the best `cv_scores` entry, the first key winning ties."""
    key = max(scores, key=lambda k: scores[k][0])  # the first of equal maxima
    return key, scores[key][1]


def choose_by_cv(candidates: dict, y: np.ndarray, seed: int, folds: int = 5):
    """candidates {key: X}; returns (key, penalty) with the best mean validation Spearman rho over `folds`
    cross-validation folds (seeded by `seed`), the first key and the smallest penalty winning ties."""
    return best_by_cv(cv_scores(candidates, y, seed, folds))


def stack_by_cv(groups: dict, y: np.ndarray, seed: int, folds: int = 5) -> dict:
    """The twentieth candidate's combination (a super learner): groups {option: {key: X}}; for each option its best
    (key, penalty) by `folds`-fold cross-validation (as `choose_by_cv`), then non-negative weights over the options'
    out-of-fold predictions by least squares (centred; all score columns together), scaled to sum to 1. Returns
    {option: (key, penalty, weight)} for the options of positive weight; the single best option if none has any."""
    from scipy.optimize import nnls

    best = {}
    for option, candidates in groups.items():
        for rho, key, lam, oof in _cv_runs(candidates, y, seed, folds):
            if option not in best or rho > best[option][0]:
                best[option] = (rho, key, lam, oof)
    options = list(best)
    Y = y.reshape(len(y), -1)
    A = np.stack([(best[o][3].reshape(Y.shape) - best[o][3].reshape(Y.shape).mean(0)).ravel() for o in options], 1)
    a, _ = nnls(A, (Y - Y.mean(0)).ravel())
    if not (a > 0).any():
        top = max(options, key=lambda o: best[o][0])
        a = np.array([float(o == top) for o in options])
    a = a / a.sum()
    return {o: (best[o][1], best[o][2], float(w)) for o, w in zip(options, a) if w > 0}


@dataclass
class PooledRidgeConfig:
    num_scores: int = 1
    # the input options cross-validation chooses among: "rgb" (RGB alone), "all" (every modality), "pairs" (every
    # modality and their aligned pairs), "rgb_cca" / "all_cca" (RGB's or every modality's, and the shared moments),
    # "rgb_key" / "all_key" (those and the shared moments at each modality's key moments), "rgb_delta" / "all_delta"
    # (RGB's or every modality's pooled features and how often they change)
    inputs: str = "rgb,all,pairs,rgb_cca,all_cca"
    pair_ranks: str = "2,4,8"  # principal components per modality that cross-validation chooses among for "pairs"
    cca_rank: int = 64  # principal components per modality before the canonical correlation analysis
    key_rank: int = 16  # principal components per modality in which a segment's salience is measured
    delta_rank: int = 16  # principal components per modality whose changes from segment to segment are read
    # each read modality's pooled features also over its own key moments (the top third of its segments by salience in
    # its first `key_rank` principal components), in every input option: judges score the elements, and the routine's
    # mean dilutes them with the transitions (the twenty-seventh worlds candidate, the default since)
    key_pool: bool = True
    # with `key_pool`: the inputs are also cross-validated without the key-pooled features (their columns held at 0,
    # which a ridge weighs 0), and the fit reads them only where that cross-validation ranks them first (a thirty-first
    # worlds candidate, off by default: screened, not made the default): on a routine whose score is not in its
    # elements, the key-moment features are twice the columns for 160 videos to fit by chance (round 9's `edges` PCS
    # read 0.389 with them, 0.574 without)
    key_pool_cv: bool = False
    # also a ridge on the pooled features of every proper subset of the modalities, for videos that lack some of what
    # the main fit reads (no sound, no flow): the member then scores them instead of sitting out (the twenty-eighth
    # worlds candidate; the default since the twenty-ninth)
    fallback: bool = True
    # a fallback fit scores only where its cross-validated rho is at least this share of the main fit's (0: every one,
    # the twenty-eighth's): where the streams left keep most of what the ridge reads, the missing stream carried little
    # of it, and the member stays the strongest; where they keep less, the trained members, taught to score without a
    # stream (modality dropout), are left to score (the twenty-ninth worlds candidate, the default since)
    fallback_keep: float = 0.9
    # what a fallback fit reads: "pooled" (the `rgb` and `all` options on the subset's pooled features, the
    # twenty-eighth's) or "same" (the main fit's input options on the subset's streams, chosen by the same
    # cross-validation: the aligned pairs and shared moments of the streams left too; a thirtieth worlds candidate,
    # benchmarks/results/worlds/README.md: on `rg` without flow, what RGB and audio show together is most of the read)
    fallback_inputs: str = "pooled"
    # "best": the one (input option, penalty) that cross-validation ranks first; "stack": every input option at its
    # own best penalty, weighted by non-negative least squares on their out-of-fold predictions (`stack_by_cv`)
    combine: str = "best"

    OPTIONS = ("rgb", "all", "pairs", "rgb_cca", "all_cca", "rgb_key", "all_key", "rgb_delta", "all_delta")

    def options(self) -> list[str]:
        opts = [o.strip() for o in self.inputs.split(",") if o.strip()]
        if not opts or any(o not in self.OPTIONS for o in opts):
            raise ValueError(f"pooled_ridge inputs must name some of {', '.join(map(repr, self.OPTIONS))}, "
                             f"got {self.inputs!r}")
        if int(self.cca_rank) < 1:
            raise ValueError(f"pooled_ridge cca_rank must be a whole number >= 1, got {self.cca_rank!r}")
        if int(self.key_rank) < 1:
            raise ValueError(f"pooled_ridge key_rank must be a whole number >= 1, got {self.key_rank!r}")
        if int(self.delta_rank) < 1:
            raise ValueError(f"pooled_ridge delta_rank must be a whole number >= 1, got {self.delta_rank!r}")
        if not 0.0 <= float(self.fallback_keep) <= 1.0:
            raise ValueError(f"pooled_ridge fallback_keep must be a share between 0 and 1, got {self.fallback_keep!r}")
        if self.combine not in ("best", "stack"):
            raise ValueError(f"pooled_ridge combine must be 'best' or 'stack', got {self.combine!r}")
        if self.fallback_inputs not in ("pooled", "same"):
            raise ValueError(f"pooled_ridge fallback_inputs must be 'pooled' or 'same', got {self.fallback_inputs!r}")
        if self.key_pool_cv and not (self.key_pool and self.combine == "best"):
            raise ValueError("pooled_ridge key_pool_cv needs key_pool=true and combine='best' (it chooses whether the "
                             "key-pooled features are read)")
        if self.fallback and self.fallback_inputs == "same" and self.combine != "best":
            raise ValueError("pooled_ridge fallback_inputs='same' needs combine='best' (a stack reports no "
                             "cross-validated rho to keep a fallback fit by)")
        return opts

    def ranks(self) -> list[int]:
        try:
            ks = [int(k) for k in str(self.pair_ranks).split(",") if k.strip()]
        except ValueError:
            ks = []
        if not ks or min(ks) < 1:
            raise ValueError(f"pooled_ridge pair_ranks must be whole numbers >= 1, got {self.pair_ranks!r}")
        return ks


@MODELS.register("pooled_ridge", modalities=None, config=PooledRidgeConfig, member_only=True,
                 doc="ridge over pooled features, fitted in closed form; an lmac_ensemble member only [ours]")
def pooled_ridge(dims, **kwargs):
    return PooledRidge(dims, config_from_kwargs(PooledRidgeConfig, kwargs, "pooled_ridge"))


def _shared_means(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """`cca_features` for a batch (B, T) of canonical projections, over the segments `weight` (B, T) marks (0 where
    it marks none)."""
    n = weight.sum(1, keepdim=True)
    f = torch.stack([x * x, y * y, x * y, (x - y).abs(), (x + y).abs()], -1)  # (B, T, 5)
    return torch.where(n > 0, (f * weight.unsqueeze(-1)).sum(1) / n.clamp_min(1.0), torch.zeros_like(n))


class PooledRidge(nn.Module):
    accepts_missing_modalities = False

    def __init__(self, dims: dict[str, int], config: PooledRidgeConfig):
        super().__init__()
        self.config = config
        self.modalities = tuple(dims)
        self.dims = dict(dims)
        self.options = config.options()  # validated once
        self.kmax = max(config.ranks()) if "pairs" in self.options else 0  # 0: no pairs, no projections
        self.pairs = list(itertools.combinations(self.modalities, 2))
        self.keys = any(o.endswith("_key") for o in self.options) and bool(self.pairs)  # key-moment features
        self.cca = self.keys or any(o.endswith("_cca") for o in self.options) and bool(self.pairs)  # shared moments
        self.n_key = 10 * len(self.modalities) * len(self.pairs) if self.keys else 0
        self.kd = int(config.delta_rank) if any(o.endswith("_delta") for o in self.options) else 0  # 0: no changes
        self.n_delta = 2 * self.kd * len(self.modalities)
        self.key_pool = bool(config.key_pool)
        self.per = 4 if self.key_pool else 2  # pooled features per feature dim: mean, sum (and over the key moments)
        P = self.per * sum(dims.values()) + len(self.pairs) * self.kmax ** 2 \
            + (5 * len(self.pairs) if self.cca else 0) + self.n_key + self.n_delta
        S = config.num_scores
        # the fit; float64 so that it is the closed-form solution to rounding (the trainer may cast it)
        self.register_buffer("mean", torch.zeros(P, dtype=torch.float64))
        self.register_buffer("scale", torch.ones(P, dtype=torch.float64))
        self.register_buffer("weight", torch.zeros(P, S, dtype=torch.float64))
        self.register_buffer("bias", torch.zeros(S, dtype=torch.float64))
        self.register_buffer("used", torch.zeros(len(dims), dtype=torch.bool))  # the modalities it reads
        self.register_buffer("window", torch.ones((), dtype=torch.float64))
        self.register_buffer("penalty", torch.zeros((), dtype=torch.float64))  # 0 = not fitted
        self.register_buffer("rank", torch.zeros((), dtype=torch.long))  # k of the aligned pairs read; 0 = none
        for m in (self.modalities if self.kmax else ()):  # each modality's segment projection, for the pairs
            self._register_projection("proj", m, self.kmax)
        self.register_buffer("shared", torch.zeros((), dtype=torch.bool))  # whether the shared moments are read
        for a, b in (self.pairs if self.cca else ()):  # each pair's canonical projections
            for m, side in ((a, "u"), (b, "v")):
                self.register_buffer(f"cca_{a}_{b}_mean_{side}", torch.zeros(dims[m], dtype=torch.float64))
                self.register_buffer(f"cca_{a}_{b}_scale_{side}", torch.ones(dims[m], dtype=torch.float64))
                self.register_buffer(f"cca_{a}_{b}_{side}", torch.zeros(dims[m], dtype=torch.float64))
        self.register_buffer("keyed", torch.zeros((), dtype=torch.bool))  # whether the key moments are read
        for m in (self.modalities if self.keys or self.key_pool else ()):  # each modality's salience projection
            self._register_projection("key", m, int(config.key_rank))
        if self.key_pool:  # only with `key_pool`, so that other fits' state is as before it existed
            self.register_buffer("key_pooled", torch.zeros((), dtype=torch.bool))  # whether they are read
        if self.kd:  # only with a `_delta` option, so that other fits' state is as before it existed
            self.register_buffer("changes", torch.zeros((), dtype=torch.bool))  # whether the changes are read
            for m in self.modalities:
                self._register_projection("delta", m, self.kd)
        # the fallback fits, one per proper subset of the modalities (largest first), on the pooled block alone; only
        # with `fallback`, so that other fits' state is as before it existed
        self.subsets = [sub for r in range(len(self.modalities) - 1, 0, -1)
                        for sub in itertools.combinations(self.modalities, r)] if config.fallback else []
        # "same": each subset's fit is a member of its own on the subset's streams (buffers under `fallback_fits.`)
        self.fallback_same = bool(self.subsets) and config.fallback_inputs == "same"
        if self.fallback_same:
            sub_config = dataclasses.replace(config, fallback=False)
            self.fallback_fits = nn.ModuleDict({"_".join(sub): PooledRidge({m: dims[m] for m in sub}, sub_config)
                                                for sub in self.subsets})
        elif self.subsets:
            n, pooled = len(self.subsets), self.per * sum(dims.values())
            shapes = {"mean": (n, pooled), "scale": (n, pooled), "weight": (n, pooled, S), "bias": (n, S), "penalty": (n,)}
            for part, empty in FALLBACK_UNFITTED.items():
                self.register_buffer(f"fallback_{part}", torch.full(shapes[part], empty, dtype=torch.float64))

    def _register_projection(self, name: str, m: str, k: int) -> None:
        """Buffers `{name}_mean_{m}`, `{name}_scale_{m}`, `{name}_{m}`: a `pca_projection` of modality m, k columns."""
        self.register_buffer(f"{name}_mean_{m}", torch.zeros(self.dims[m], dtype=torch.float64))
        self.register_buffer(f"{name}_scale_{m}", torch.ones(self.dims[m], dtype=torch.float64))
        self.register_buffer(f"{name}_{m}", torch.zeros(self.dims[m], k, dtype=torch.float64))

    def _store_projection(self, name: str, m: str, projection) -> None:
        """A fitted `pca_projection` into the buffers `_register_projection` made (unused columns 0)."""
        mu, sd, U = (torch.as_tensor(a, device=self.mean.device) for a in projection)
        getattr(self, f"{name}_mean_{m}").copy_(mu)
        getattr(self, f"{name}_scale_{m}").copy_(sd)
        getattr(self, f"{name}_{m}").zero_()[:, :U.shape[1]] = U

    def _project(self, x: torch.Tensor, name: str, m: str, k: int | None = None) -> torch.Tensor:
        """A batch of modality m's segments (B, T, dim) on the first k (default all) columns of a stored projection."""
        buf = lambda part: getattr(self, f"{name}{part}_{m}").to(torch.float64)  # noqa: E731
        return ((x.to(torch.float64) - buf("_mean")) / buf("_scale")) @ buf("")[:, :k]

    def _option_modalities(self, option: str) -> tuple:
        """The modalities whose pooled features an input option reads: RGB alone for `rgb`, `rgb_cca` and `rgb_key`
        (none when there is no RGB), every modality for the others."""
        if option.startswith("rgb"):
            return ("rgb",) if "rgb" in self.modalities else ()
        return tuple(self.modalities)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint written before the shared moments, the key moments, the changes or key pooling existed (no
        `shared`, `keyed`, `changes` or `key_pooled` buffer) is a fit that does not read them: their missing buffers
        load as unread, so it scores as it did."""
        if self.key_pool and prefix + "penalty" in state_dict and prefix + "key_pooled" not in state_dict:
            state_dict[prefix + "key_pooled"] = torch.zeros((), dtype=torch.bool)
            for m in self.modalities:
                for name in (f"key_mean_{m}", f"key_scale_{m}", f"key_{m}"):
                    if prefix + name not in state_dict:
                        buf = getattr(self, name)
                        state_dict[prefix + name] = (torch.ones_like if "_scale_" in name else torch.zeros_like)(buf)
            for name, fill in (("mean", 0.0), ("scale", 1.0), ("weight", 0.0)):  # each modality's key block, unread
                old, parts, at = state_dict[prefix + name], [], 0
                for m in self.modalities:
                    n = 2 * self.dims[m]
                    parts += [old[at:at + n], torch.full((n, *old.shape[1:]), fill, dtype=old.dtype, device=old.device)]
                    at += n
                state_dict[prefix + name] = torch.cat(parts + [old[at:]])
        if self.fallback_same and prefix + "penalty" in state_dict:
            # a fit from before `fallback_inputs` ("pooled" fits, or none): its fallback fits are not of this kind, so
            # they load unfitted and the member sits out for a video without a stream it reads
            for part in FALLBACK_UNFITTED:
                state_dict.pop(prefix + f"fallback_{part}", None)
            for name, sub in self.fallback_fits.items():
                for key, buf in sub.unfitted_state().items():
                    state_dict.setdefault(f"{prefix}fallback_fits.{name}.{key}", buf)
        elif self.subsets and prefix + "penalty" in state_dict and prefix + "fallback_penalty" not in state_dict:
            for part, empty in FALLBACK_UNFITTED.items():
                state_dict[prefix + f"fallback_{part}"] = getattr(self, f"fallback_{part}").clone().fill_(empty)
        groups = (("shared", "cca_"), ("keyed", "key_")) + ((("changes", "delta_"),) if self.kd else ())
        if prefix + "penalty" in state_dict and any(prefix + flag not in state_dict for flag, _ in groups):
            for flag, start in groups:
                if prefix + flag in state_dict:
                    continue
                for name, buf in self.named_buffers(recurse=False):  # as the constructor leaves them: unread
                    if name == flag or name.startswith(start):
                        state_dict[prefix + name] = (torch.ones_like if "_scale_" in name else torch.zeros_like)(buf)
            for name in ("mean", "scale", "weight"):  # the layout grew by blocks at its end: unread
                old, want = state_dict[prefix + name], getattr(self, name)
                if old.shape[0] < want.shape[0]:
                    pad = torch.full((want.shape[0] - old.shape[0], *old.shape[1:]), 1.0 if name == "scale" else 0.0,
                                     dtype=old.dtype, device=old.device)
                    state_dict[prefix + name] = torch.cat([old, pad])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def fitted(self) -> bool:
        return bool(self.penalty > 0)

    def used_modalities(self) -> list[str]:
        return [m for m, u in zip(self.modalities, self.used.tolist()) if u]

    def _fallback_index(self, feats: dict) -> int | None:
        """Which fallback fit scores a video with these modalities: None when the main fit reads all it needs or no
        fallback fit has the modalities it has."""
        if all(m in feats for m in self.used_modalities()):
            return None
        have = tuple(m for m in self.modalities if m in feats)
        if have not in self.subsets:
            return None
        i = self.subsets.index(have)
        if self.fallback_same:
            return i if self.fallback_fits["_".join(have)].fitted else None
        return i if bool(self.fallback_penalty[i] > 0) else None

    def can_score(self, feats: dict) -> bool:
        return self.fitted and (all(m in feats for m in self.used_modalities()) or self._fallback_index(feats) is not None)

    def _option_groups(self, X: dict) -> dict:
        """The training features `fit` built, {key: X}, grouped by the input option that asked for them: {option:
        {key: X}} (`pairs` holds one key per rank; a key two options share, as `rgb` and `all` with RGB alone, goes to
        the first)."""
        kind = {"rgb": (0, False, False, False), "all": (0, False, False, False), "rgb_cca": (0, True, False, False),
                "all_cca": (0, True, False, False), "rgb_key": (0, True, True, False),
                "all_key": (0, True, True, False), "rgb_delta": (0, False, False, True),
                "all_delta": (0, False, False, True)}
        groups, taken = {}, set()
        for o in self.options:
            mods = self._option_modalities(o)
            keys = [key for key in X if key[0] == mods and key not in taken
                    and (key[1] > 0 and not key[2] and not key[4] if o == "pairs" else key[1:] == kind[o])]
            if keys:
                groups[o] = {key: X[key] for key in keys}
                taken.update(keys)
        return groups

    def _layout(self, mods, k: int, cca: bool, key: bool, delta: bool, mu, sd, w):
        """One fit over an input option's features -> (mean, scale, weight) in the full layout: [mod0 mean, mod0 sum,
        mod1 mean, ..., pairs k*k each (kmax*kmax reserved), shared moments 5 each, key moments 10 per gate and
        pair, changes 2 * delta_rank per modality]; what the option does not read weighs 0."""
        mean, scale = np.zeros(self.mean.shape), np.ones(self.scale.shape)
        weight = np.zeros(tuple(self.weight.shape))
        pos, off = 0, {}
        for m in self.modalities:
            off[m] = pos
            pos += self.per * self.dims[m]
        at = 0
        for m in mods:
            n = self.per * self.dims[m]
            sl = slice(off[m], off[m] + n)
            mean[sl], scale[sl] = mu[at:at + n], sd[at:at + n]
            weight[sl] = w[at:at + n].reshape(n, -1)
            at += n
        if k:  # the pair block: the first len(pairs) * k * k entries after the pooled ones
            n = len(self.pairs) * k * k
            sl = slice(pos, pos + n)
            mean[sl], scale[sl], weight[sl] = mu[at:at + n], sd[at:at + n], w[at:at + n].reshape(n, -1)
            at += n
        if cca:  # the shared-moment block, after the reserved pair block
            n = 5 * len(self.pairs)
            sl = slice(pos + len(self.pairs) * self.kmax ** 2, pos + len(self.pairs) * self.kmax ** 2 + n)
            mean[sl], scale[sl], weight[sl] = mu[at:at + n], sd[at:at + n], w[at:at + n].reshape(n, -1)
            at += n
        if key:  # the key-moment block, before the changes
            end = len(mean) - self.n_delta
            sl = slice(end - self.n_key, end)
            n = self.n_key
            mean[sl], scale[sl], weight[sl] = mu[at:at + n], sd[at:at + n], w[at:at + n].reshape(n, -1)
            at += n
        if delta:  # the changes, last: each of the option's modalities in its own place
            start = len(mean) - self.n_delta
            for i, m in enumerate(self.modalities):
                if m in mods:
                    n = 2 * self.kd
                    sl = slice(start + i * n, start + (i + 1) * n)
                    mean[sl], scale[sl], weight[sl] = mu[at:at + n], sd[at:at + n], w[at:at + n].reshape(n, -1)
                    at += n
        return mean, scale, weight

    @torch.no_grad()
    def fit(self, dataset, seed: int) -> dict:
        """Fit on every video of a training dataset (whole videos, as evaluation reads them). Returns what was
        chosen: {"inputs": [modalities], "pairs": k (0 = none), "penalty": float}."""
        window = int(dataset.window)
        y = np.array([np.asarray(dataset.task.to_target(np.asarray(s.score)) if s.parts is None else s.parts,
                                 np.float64) for s in dataset.samples])
        if self.config.num_scores == 1:
            y = y.reshape(len(y))
        projections, directions, gates, changes = {}, {}, {}, {}
        kr = int(self.config.key_rank) if self.keys or self.key_pool else 0
        if (self.kmax and self.pairs) or kr or self.kd:  # one PCA per modality serves the pairs, key gates, changes
            for m in self.modalities:
                mu, sd, U = pca_projection(np.concatenate([np.asarray(s.feats[m], np.float64)
                                                           for s in dataset.samples]), max(self.kmax, kr, self.kd))
                if self.kmax:
                    projections[m] = (mu, sd, U[:, :self.kmax])
                if kr:
                    gates[m] = (mu, sd, U[:, :kr])
                if self.kd:
                    changes[m] = (mu, sd, U[:, :self.kd])
        pooled = {}
        for o in self.options:
            mods = self._option_modalities(o)
            if mods and mods not in pooled:
                pooled[mods] = np.stack([pool_video(s.feats, mods, window, gates if self.key_pool else None, kr)
                                         for s in dataset.samples])
        # {(modalities, pair rank, shared moments, key moments, changes): training features}, in the config's order
        # (it breaks CV ties)
        X = {}
        for o in self.options:
            mods = self._option_modalities(o)
            if mods and o in ("rgb", "all"):
                X.setdefault((mods, 0, False, False, False), pooled[mods])
        if self.kmax and self.pairs:
            for k in self.config.ranks():
                k = min(k, *(U.shape[1] for _, _, U in projections.values()))
                X.setdefault((tuple(self.modalities), k, False, False, False), np.concatenate(
                    [pooled[tuple(self.modalities)],
                     np.stack([pair_pool(s.feats, projections, k) for s in dataset.samples])], 1))
        if self.cca:
            for a, b in self.pairs:
                directions[(a, b)] = cca_pair([s.feats[a] for s in dataset.samples],
                                              [s.feats[b] for s in dataset.samples], int(self.config.cca_rank))
            shared = np.stack([cca_pool(s.feats, directions) for s in dataset.samples])
            for o in self.options:
                mods = self._option_modalities(o)
                if o.endswith("_cca") and mods:
                    X.setdefault((mods, 0, True, False, False), np.concatenate([pooled[mods], shared], 1))
        if self.keys:
            keyed = np.stack([key_pool(s.feats, directions, gates, kr) for s in dataset.samples])
            for o in self.options:
                mods = self._option_modalities(o)
                if o.endswith("_key") and mods:
                    X.setdefault((mods, 0, True, True, False), np.concatenate([pooled[mods], shared, keyed], 1))
        if self.kd:
            for o in self.options:
                mods = self._option_modalities(o)
                if o.endswith("_delta") and mods:
                    X.setdefault((mods, 0, False, False, True), np.concatenate(
                        [pooled[mods], np.stack([delta_pool(s.feats, {m: changes[m] for m in mods}, self.kd, window)
                                                 for s in dataset.samples])], 1))
        key_pooled = self.key_pool  # whether the fit reads the key-pooled columns (`key_pool_cv` may choose not to)
        if self.config.combine == "stack":
            stack = stack_by_cv(self._option_groups(X), y, seed)
            mean, scale = np.zeros(self.mean.shape), np.ones(self.scale.shape)
            weight, b = np.zeros(tuple(self.weight.shape)), np.zeros(self.bias.shape)
            for o_key_, o_lam, a in stack.values():  # a sum of raw-scale linear fits
                mu, sd, w, b_o = ridge_fit(X[o_key_], y, o_lam)
                m_o, s_o, w_o = self._layout(*o_key_, mu, sd, w)
                weight += a * w_o / s_o[:, None]
                b += a * (np.atleast_1d(b_o) - (m_o / s_o) @ w_o)
            keys = [key for key, _, _ in stack.values()]
            mods = tuple(m for m in self.modalities if any(m in key[0] for key in keys))
            k = max(key[1] for key in keys)
            cca, key, delta = any(key[2] for key in keys), any(key[3] for key in keys), any(key[4] for key in keys)
            lam = max(stack.values(), key=lambda v: v[2])[1]  # the heaviest option's penalty
        else:
            scores = cv_scores(X, y, seed)
            if self.config.key_pool_cv:  # the same inputs without the key-pooled columns, if they cross-validate better
                plain = {key_: self._without_key_pool(key_[0], x) for key_, x in X.items()}
                plain_scores = cv_scores(plain, y, seed)
                if max(r for r, _ in plain_scores.values()) > max(r for r, _ in scores.values()):
                    X, scores, key_pooled = plain, plain_scores, False
            (mods, k, cca, key, delta), lam = best_by_cv(scores)
            mu, sd, w, b = ridge_fit(X[(mods, k, cca, key, delta)], y, lam)
            mean, scale, weight = self._layout(mods, k, cca, key, delta, mu, sd, w)
            stack = None
        if self.subsets and not self.fallback_same and tuple(self.modalities) not in pooled:  # the pooled fallbacks pool every modality
            pooled[tuple(self.modalities)] = np.stack([pool_video(s.feats, self.modalities, window,
                                                                  gates if self.key_pool else None, kr)
                                                       for s in dataset.samples])
        main_rho = scores[(mods, k, cca, key, delta)][0] if stack is None else None
        pooled_all = pooled.get(tuple(self.modalities))
        if pooled_all is not None and not key_pooled and self.key_pool:  # the pooled fallbacks read as the main fit
            pooled_all = self._without_key_pool(self.modalities, pooled_all)
        fallback = (self._fit_fallback_same(dataset, seed, main_rho) if self.fallback_same
                    else self._fit_fallback(pooled_all, y, seed, main_rho))
        dev = self.mean.device
        for name, value in (("mean", mean), ("scale", scale), ("weight", weight), ("bias", np.atleast_1d(b))):
            getattr(self, name).copy_(torch.as_tensor(value, device=dev))
        for m, projection in projections.items():
            self._store_projection("proj", m, projection)
        for (a, b), sides in directions.items():
            for side, (pm, ps, u) in zip("uv", sides):
                getattr(self, f"cca_{a}_{b}_mean_{side}").copy_(torch.as_tensor(pm, device=dev))
                getattr(self, f"cca_{a}_{b}_scale_{side}").copy_(torch.as_tensor(ps, device=dev))
                getattr(self, f"cca_{a}_{b}_{side}").copy_(torch.as_tensor(u, device=dev))
        for m, projection in gates.items():
            self._store_projection("key", m, projection)
        for m, projection in changes.items():
            self._store_projection("delta", m, projection)
        self.shared.fill_(bool(cca))
        self.keyed.fill_(bool(key))
        if self.key_pool:
            self.key_pooled.fill_(bool(key_pooled))
        if self.kd:
            self.changes.fill_(bool(delta))
        self.used.copy_(torch.tensor([m in mods or bool(cca) for m in self.modalities], device=dev))
        self.window.fill_(window)
        self.penalty.fill_(lam)
        self.rank.fill_(k)
        chose = {"inputs": list(mods), "pairs": int(k), "shared": bool(cca), "keys": bool(key),
                 "changes": bool(delta), "penalty": float(lam)}
        if self.config.key_pool_cv:
            chose["key_pool"] = bool(key_pooled)
        if fallback:
            chose["fallback"] = fallback
        if stack is None:
            chose["cv_by_reads"] = self._cv_by_reads(scores)
        else:
            chose["stack"] = {o: {"weight": a, "penalty": float(lam_o)} for o, (_, lam_o, a) in stack.items()}
        return chose

    def _fit_fallback(self, pooled_all: np.ndarray | None, y: np.ndarray, seed: int,
                      main_rho: float | None = None) -> dict:
        """The fallback fits (`fallback`) into their buffers: for each proper subset of the modalities, the `rgb` and
        `all` options on its pooled features (columns of `pooled_all`, every modality's pooled features as the main fit
        built them), chosen with the penalty by the same cross-validation. With `fallback_keep`, a subset whose best
        cross-validated rho is below that share of the main fit's (`main_rho`; not gated when it is None, as after a
        stack, or not positive) is left unfitted, so the member sits out for it. Returns {subset joined by '+':
        {"inputs": [modalities], "penalty": float, "cv": its cross-validated rho, "kept": bool}}."""
        if not self.subsets:
            return {}
        widths = [self.per * self.dims[m] for m in self.modalities]
        per_mod = dict(zip(self.modalities, np.split(pooled_all, np.cumsum(widths)[:-1], axis=1)))
        width = sum(widths)  # the pooled block of the layout
        dev = self.mean.device
        keep = float(self.config.fallback_keep)
        chose = {}
        for i, sub in enumerate(self.subsets):
            cands = {}
            if "rgb" in sub and len(sub) > 1 and any(o.startswith("rgb") for o in self.options):
                cands[("rgb",)] = per_mod["rgb"]
            cands[sub] = np.concatenate([per_mod[m] for m in sub], 1)
            scores = cv_scores(cands, y, seed)
            mods, lam = best_by_cv(scores)
            rho = float(scores[mods][0])
            kept = not (keep > 0 and main_rho is not None and main_rho > 0 and rho < keep * main_rho)
            chose["+".join(sub)] = {"inputs": list(mods), "penalty": float(lam), "cv": rho, "kept": kept}
            # unfitted first, so that a refit of a module that held this fit (a loaded run) does not leave it scoring
            for part, empty in FALLBACK_UNFITTED.items():
                getattr(self, f"fallback_{part}")[i] = empty
            if not kept:
                continue
            mu, sd, w, b = ridge_fit(cands[mods], y, lam)
            mean, scale, weight = self._layout(mods, 0, False, False, False, mu, sd, w)
            for name, value in (("mean", mean[:width]), ("scale", scale[:width]), ("weight", weight[:width]),
                                ("bias", np.atleast_1d(b))):
                getattr(self, f"fallback_{name}")[i] = torch.as_tensor(value, device=dev)
            self.fallback_penalty[i] = lam
        return chose

    def _without_key_pool(self, mods, x: np.ndarray) -> np.ndarray:
        """Training features of an input option that reads `mods` (its pooled block first, [mean, sum, key mean, key
        sum] per modality) with the key-pooled columns at 0: standardised, they are 0 and the ridge weighs them 0, so
        the fit is the one without key pooling, in this layout."""
        x = x.copy()
        at = 0
        for m in mods:
            d = self.dims[m]
            x[:, at + 2 * d:at + 4 * d] = 0.0
            at += 4 * d
        return x

    def unfitted_state(self) -> dict:
        """The state of this member as constructed (unfitted), on its device and in its dtype."""
        fresh = PooledRidge(self.dims, self.config).to(device=self.mean.device, dtype=self.mean.dtype)
        return fresh.state_dict()

    def _fit_fallback_same(self, dataset, seed: int, main_rho: float | None) -> dict:
        """`fallback_inputs="same"`: each subset's fit is this member's own fit (every input option, chosen by the same
        cross-validation on the same folds) on the subset's streams alone, kept by the same `fallback_keep` rule; a
        fit not kept is left as constructed (unfitted). Returns what `_fit_fallback` returns, with what each chose."""
        keep = float(self.config.fallback_keep)
        chose = {}
        for sub in self.subsets:
            fit = self.fallback_fits["_".join(sub)]
            view = SubsetView(dataset, sub)
            got = fit.fit(view, seed)
            rho = max(got.pop("cv_by_reads").values())
            kept = not (keep > 0 and main_rho is not None and main_rho > 0 and rho < keep * main_rho)
            chose["+".join(sub)] = {**got, "cv": rho, "kept": kept}
            if not kept:
                fit.load_state_dict(fit.unfitted_state())
        return chose

    def _cv_by_reads(self, scores: dict) -> dict:
        """{modalities read, joined by '+': the best cross-validated rho of an input option that reads only
        them}. An option with aligned pairs, shared moments or key moments reads every modality. The ensemble
        weighs its trained members by it (`EnsembleConfig.gate`): how much of the score their modalities show."""
        out = {}
        for (mods, k, cca, key, _delta), (rho, _) in scores.items():
            reads = "+".join(self.modalities if (k or cca or key) else mods)
            out[reads] = max(out.get(reads, -1.0), float(rho))
        return out

    def _key_gate(self, x: torch.Tensor, mod: str, mask: torch.Tensor) -> torch.Tensor:
        """`key_gate` of a batch (B, T, dim) of modality `mod`: its key moments (B, T) among the real segments."""
        m = mask.to(torch.float64).unsqueeze(-1)
        real = mask.bool()
        p = self._project(x, "key", mod)
        centre = (p * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp_min(1.0)
        d = ((p - centre) ** 2).sum(-1)  # (B, T) salience
        thr = torch.stack([torch.quantile(d[i][real[i]], 1 - KEY_FRACTION) if real[i].any() else d.new_zeros(())
                           for i in range(len(d))])
        return (d >= thr.unsqueeze(1)) & real

    def _pooled(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> list:
        """The pooled block of the layout, one tensor (B, per x dim) per modality, zeros for a missing one."""
        m = mask.to(torch.float64).unsqueeze(-1)  # (B, T, 1)
        n = m.sum(1).clamp_min(1.0)
        pooled = []
        for mod in self.modalities:
            if mod in feats:
                x = feats[mod].to(torch.float64)
                s = (x * m).sum(1)
                pooled += [s / n, s / self.window.to(torch.float64)]
                if self.key_pool and bool(self.key_pooled):  # the same over the modality's own key moments
                    g = self._key_gate(x, mod, mask).to(torch.float64).unsqueeze(-1)
                    s = (x * g).sum(1)
                    pooled += [s / g.sum(1).clamp_min(1.0), s / self.window.to(torch.float64)]
                elif self.key_pool:  # a fit from before key pooling: not read
                    pooled.append(m.new_zeros(m.shape[0], 2 * self.dims[mod]))
            else:  # not read (its weights are 0) or the member sits out: zeros keep the layout
                pooled.append(m.new_zeros(m.shape[0], self.per * self.dims[mod]))
        return pooled

    def _read_out(self, X: torch.Tensor, mean, scale, weight, bias, like: torch.Tensor) -> dict:
        P = X.shape[1]
        y = ((X - mean[:P].to(torch.float64)) / scale[:P].to(torch.float64)) @ weight[:P].to(torch.float64) \
            + bias.to(torch.float64)
        dtype = like.dtype if like.dtype.is_floating_point else torch.float32
        return {"score": (y[:, 0] if self.config.num_scores == 1 else y).to(dtype)}

    def forward(self, feats: dict[str, torch.Tensor], mask: torch.Tensor) -> dict:
        ref = next(iter(feats.values())) if feats else mask
        i = self._fallback_index(feats) if self.subsets else None
        if i is not None and self.fallback_same:  # the member's own fit on the streams the video has
            return self.fallback_fits["_".join(self.subsets[i])]({m: feats[m] for m in self.subsets[i]}, mask)
        if i is not None:  # a video without some of what the main fit reads: the fit of the modalities it has
            return self._read_out(torch.cat(self._pooled(feats, mask), 1), self.fallback_mean[i],
                                  self.fallback_scale[i], self.fallback_weight[i], self.fallback_bias[i], ref)
        m = mask.to(torch.float64).unsqueeze(-1)  # (B, T, 1)
        n = m.sum(1).clamp_min(1.0)
        pooled = self._pooled(feats, mask)
        k = int(self.rank)
        if k:  # aligned pairs: the mean over real segments of outer(p_a(t), p_b(t))
            p = {mod: self._project(feats[mod], "proj", mod, k) for mod in self.modalities}
            pooled += [torch.einsum("btj,btl->bjl", p[a] * m, p[b]).reshape(m.shape[0], k * k) / n
                       for a, b in self.pairs]
        if self.cca and bool(self.shared):  # the shared moments, after the reserved pair block
            pooled.append(m.new_zeros(m.shape[0], len(self.pairs) * (self.kmax ** 2 - k * k)))
            sides = {}
            for a, b in self.pairs:
                buf = lambda name: getattr(self, f"cca_{a}_{b}_{name}").to(torch.float64)  # noqa: E731
                sides[(a, b)] = tuple(((feats[mod].to(torch.float64) - buf(f"mean_{side}")) / buf(f"scale_{side}"))
                                      @ buf(side) for mod, side in ((a, "u"), (b, "v")))
                pooled.append(_shared_means(*sides[(a, b)], m[..., 0]))
            if self.keys and bool(self.keyed):  # the key moments, last
                real = mask.bool()
                for mod in self.modalities:
                    gate = self._key_gate(feats[mod], mod, mask)
                    for x, y in sides.values():
                        for g in (gate, real & ~gate):
                            pooled.append(_shared_means(x, y, g.to(torch.float64)))
        if self.kd and bool(self.changes):  # the changes, last, after every block before them (zeros where unread)
            at = sum(x.shape[1] for x in pooled)
            pooled.append(m.new_zeros(m.shape[0], len(self.mean) - self.n_delta - at))
            step = m[:, 1:] * m[:, :-1]  # (B, T - 1, 1): consecutive real segments
            for mod in self.modalities:
                if mod in feats:
                    p = self._project(feats[mod], "delta", mod)
                    d = (p[:, 1:] - p[:, :-1]).abs() * step
                    pooled += [d.sum(1) / step.sum(1).clamp_min(1.0), d.sum(1) / self.window.to(torch.float64)]
                else:  # not read (its weights are 0) or the member sits out
                    pooled.append(m.new_zeros(m.shape[0], 2 * self.kd))
        return self._read_out(torch.cat(pooled, 1), self.mean, self.scale, self.weight, self.bias, ref)

    def compute_loss(self, out: dict, target: torch.Tensor, mask: torch.Tensor) -> dict:
        """Nothing to train: the fit is closed-form."""
        return {"total": out["score"].new_zeros(())}
