"""The Predictor: a trained run (rebuilt through lmac.training.run.RunFolder, never the trainer), ready to
score videos (extracting features with the run's own preset, cached) or features."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from lmac import MODALITIES
from lmac.inference.cache import FeatureCache, cache_key
from lmac.inference.provenance import _describe_dims, feature_mismatch
from lmac.inference.results import (FPS, SEGMENT_FRAMES, FeatureMismatchError, Prediction, PredictError,
                                    build_stages)


# ----------------------------------------------------------------------------- the predictor
class Predictor:
    """A trained run, ready to score videos or features. Build it with `lmac.load(run_dir)`."""

    def __init__(self, run_dir, checkpoint: str = "last", device="auto", weights: dict | None = None):
        import torch

        from lmac.data.tasks import get_task
        from lmac.training.run import RunFolder
        from lmac.utils import resolve_device

        run = RunFolder(run_dir)
        ckpt = run.checkpoint(checkpoint)  # last, best_val or best_test; anything else is a one-line error
        self.run_dir = run.path
        if not self.run_dir.is_dir():
            raise FileNotFoundError(f"{self.run_dir}: run folder not found (written by lmac train --out)")
        if not ckpt.is_file():
            have = sorted(p.stem for p in (self.run_dir / "checkpoints").glob("*.safetensors"))
            raise FileNotFoundError(f"{ckpt}: checkpoint not found (the run has: {', '.join(have) or 'none'})")
        self.checkpoint = checkpoint
        self.device = resolve_device(device) if isinstance(device, str) else torch.device(device)
        self.model, self.meta = run.load_model(checkpoint, device=self.device)  # weights read on CPU
        self.task = get_task(self.meta["task"])
        if self.task.n_scores > 1:
            raise ValueError(f"{self.run_dir}: a multi-score run ({self.task.name}: {', '.join(self.task.score_keys)}); "
                             f"lmac predict scores single-score runs for now: train one per score (e.g. --task "
                             f"{self.task.name.rsplit('_', 1)[0]}_{self.task.score_key}) to score videos")
        self.score_range = float(self.meta.get("score_range", self.task.score_range))
        self.model_name = self.meta["model"]
        self.dims = {m: int(d) for m, d in self.meta["dims"].items()}
        self.feature_info = dict(self.meta.get("feature_info") or {})
        self.preset = self.feature_info.get("preset")
        self.weights = dict(weights or {})
        self._extractors = None  # built on first use, then reused
        self.run_quality = run_quality(self.run_dir, checkpoint)

    def __repr__(self) -> str:
        return (f"Predictor(run={str(self.run_dir)!r}, model={self.model_name!r}, task={self.task.name!r}, "
                f"preset={self.preset!r}, checkpoint={self.checkpoint!r}, device={str(self.device)!r})")

    # --- features -----------------------------------------------------------------------------
    def check_features(self, info: dict, dims: dict, source: str) -> None:
        """Raise FeatureMismatchError (one line) when these features are not what the run was trained on."""
        diffs = feature_mismatch(self.feature_info, self.dims, info, dims,
                                 optional=getattr(self.model, "accepts_missing_modalities", False))
        if diffs:
            want = f"preset {self.preset!r}, " if self.preset else ""
            fix = (f"extract them with `lmac extract --preset {self.preset}` (same settings as the run) or score the video itself"
                   if self.preset else "use features made like the run's training features")
            raise FeatureMismatchError(
                f"{source}: cannot score these features with run {self.run_dir}: {'; '.join(diffs)}; "
                f"the run was trained on {want}{_describe_dims(self.dims)}; {fix}"
            )

    def extract_settings(self, allow_silent: bool = False):
        """The run's extraction recipe as ExtractSettings (raises when the run has none)."""
        from lmac.features.extract import ExtractSettings
        from lmac.features.presets import get_preset

        if not self.preset:
            src = ", ".join(f"{k}: {v}" for k, v in self.feature_info.items() if isinstance(v, (str, int, float))) or "no provenance"
            raise FeatureMismatchError(
                f"run {self.run_dir} was trained on features not made by `lmac extract` ({src}); it cannot score a "
                f"video directly: pass --features with features made like its training features"
            )
        get_preset(self.preset)  # unknown preset -> KeyError listing the valid ones
        s = self.feature_info.get("settings") or {}
        flow = s.get("flow") or {}
        return ExtractSettings(
            preset=self.preset, fps=float(s.get("fps", FPS)), seg_len=int(s.get("segment_frames", SEGMENT_FRAMES)),
            resize=s.get("resize_short_side"), crop=s.get("crop"), flow_method=flow.get("method"),
            allow_silent=allow_silent, **({"audio_rate": int(s["audio_rate"])} if s.get("audio_rate") else {}),
        )

    def cache_key(self) -> str:
        """Folder name for cached features: the preset plus a hash of the run's whole recipe."""
        return cache_key(self.preset, self.feature_info)

    def _get_extractors(self):
        if self._extractors is None:
            from lmac.features.extract import build_extractors

            self._extractors = build_extractors(self.preset, self.weights, self.device)
        return self._extractors

    def extract(self, video, cache_dir, allow_silent: bool = False) -> Path:
        """Features of `video` in `cache_dir` (native layout), extracted once: a cached file is reused
        while the video's size and modification time are unchanged. Returns the feature file."""
        import torch

        from lmac.data.features import NativeStore
        from lmac.features.extract import run_extraction, video_id_for

        video = Path(video)
        settings = self.extract_settings(allow_silent)
        if not video.is_file():
            raise PredictError(f"{video}: file not found")
        cache_dir = Path(cache_dir)
        vid = video_id_for(video)
        cache = FeatureCache(cache_dir)
        cached = cache.lookup(video, vid)
        if cached is not None:
            return cached
        target = cache_dir / f"{vid}.safetensors"
        messages = []
        with torch.no_grad():  # extraction needs no autograd
            summary = run_extraction(
                [video], cache_dir, preset=self.preset, device=str(self.device), settings=settings, progress=False,
                log=messages.append, extractors=self._get_extractors(),
            )
        if summary.failed:
            raise PredictError(summary.failed[0][1])
        if not target.exists():
            raise PredictError(f"{video}: extraction wrote no features ({'; '.join(messages) or 'no message'})")
        store = NativeStore(cache_dir)
        self.check_features(store.info, store.dims, str(cache_dir))
        cache.record(video, vid)
        return target

    # --- scoring ------------------------------------------------------------------------------
    def predict(self, video, cache_dir=None, allow_silent: bool = False) -> Prediction:
        """Score a video file. Features are extracted with the run's preset into `cache_dir` (kept,
        reused next time) or, when it is None, a temporary folder."""
        import tempfile

        video = Path(video)
        if cache_dir is None:
            with tempfile.TemporaryDirectory(prefix="lmac-predict-") as tmp:
                feat = self.extract(video, tmp, allow_silent)
                pred = self.predict_features(feat, source=str(video))
                pred.features = ""  # the temporary folder is gone
                return pred
        feat = self.extract(video, Path(cache_dir), allow_silent)
        return self.predict_features(feat, source=str(video))

    def predict_features(self, features, video_id: str | None = None, source: str | None = None,
                         meta: dict | None = None) -> Prediction:
        """Score extracted features: a native `<id>.safetensors` file, a feature folder plus
        `video_id`, or a dict {modality: (T, D) array} (then `meta` may give skip_start_frames,
        fps and duration_s)."""
        from lmac.data.features import NativeStore, check_video_arrays, open_feature_store

        if isinstance(features, dict):
            arrays = check_video_arrays(features, source or "<arrays>", None)
            self.check_features({}, {m: a.shape[1] for m, a in arrays.items()}, source or "<arrays>")
            return self._score(arrays, video_id or "video", source or "<arrays>", meta or {}, None, "<arrays>")
        path = Path(features)
        if path.is_file():
            if path.suffix != ".safetensors":
                raise ValueError(f"{path}: expected a native <video_id>.safetensors file or a feature folder")
            store, video_id = NativeStore(path.parent), path.stem
        else:
            store = open_feature_store(path)
            if video_id is None:
                ids = store.ids()
                if len(ids) != 1:
                    raise ValueError(f"{path}: holds {len(ids)} videos; pass video_id")
                video_id = ids[0]
        return self.predict_store(store, video_id, source=source)

    def predict_store(self, store, video_id: str, source: str | None = None, checked: bool = False) -> Prediction:
        """Score one video of an open feature store (checked against the run unless `checked`)."""
        root = str(getattr(store, "root", store))
        info = getattr(store, "info", {}) or {}
        if not checked:
            self.check_features(info, store.dims, root)
        if video_id not in store:
            raise PredictError(f"{root}: no features for video {video_id!r}")
        arrays = store.load(video_id)
        meta = store.meta(video_id) if hasattr(store, "meta") else {}
        feat_path = Path(root) / f"{video_id}.safetensors" if hasattr(store, "meta") else Path(root)
        return self._score(arrays, video_id, source or str(feat_path), meta, info.get("preset"), str(feat_path))

    def _score(self, arrays: dict, video_id: str, source: str, meta: dict, preset, feat_path: str) -> Prediction:
        import torch

        import lmac

        T = next(iter(arrays.values())).shape[0]
        fps = float(meta.get("fps") or FPS)
        seg_s = SEGMENT_FRAMES / fps
        offset = float(meta.get("skip_start_frames") or 0) / fps
        duration = max(float(meta.get("duration_s") or 0.0), offset + T * seg_s)
        silent = ["audio"] if meta.get("silent") and "audio" in self.dims else []
        absent = [m for m in self.dims if m not in arrays]
        tolerant = getattr(self.model, "accepts_missing_modalities", False)
        if absent and not tolerant:
            raise ValueError(f"{source}: has no {', '.join(absent)} features, and this run's model ({self.model_name}) "
                             f"needs them; a model trained with modality dropout (e.g. lmac_aligned_md) scores without them")
        # a model trained with modality dropout scores a silent video without its (zero) audio
        withheld = absent + (silent if tolerant else [])
        feats = {m: torch.from_numpy(np.ascontiguousarray(arrays[m]))[None].to(self.device)
                 for m in self.dims if m not in withheld}  # (1, T, D)
        mask = torch.ones(1, T, dtype=torch.bool, device=self.device)  # (1, T)
        self.model.eval()
        with torch.no_grad():
            out = self.model(feats, mask)
        raw = out["score"].float().cpu()[0]  # a task with parts (RG's D, E, P): one number per part
        score = float(self.task.compose(raw)) * self.score_range  # points = target * score_range
        parts = {c: float(v) * self.score_range for (c, _), v in zip(self.task.parts, raw.reshape(-1).tolist())}
        stages, attention = [], {}
        if "stage_scores" in out and "attn" in out:
            ss = self.task.compose(out["stage_scores"].float().cpu()[0]).numpy() * self.score_range  # (K,) points
            sw = out["stage_weights"].float().cpu()[0].numpy()  # (K,)
            order = [m for m in MODALITIES if m in out["attn"]] + [m for m in out["attn"] if m not in MODALITIES]
            attn = {m: out["attn"][m].float().cpu()[0].numpy() for m in order}  # {m: (K, T)}, rgb, flow, audio
            stages = build_stages(ss, sw, attn, seg_s, offset, duration)
            attention = {m: np.round(a.astype(np.float64), 6).tolist() for m, a in attn.items()}
            # stage scores and weights are rounded nowhere, so score == sum(weight * score) holds to float precision
        loss = {m: self.run_quality.get("missing_modality", {}).get(m) for m in withheld}
        full = self.run_quality.get("test_srcc_last")
        warnings = [f"{m}: the video has none; the model scores without it (trained with modality dropout)"
                    + (f"; on its test videos that moves rho from {full:.2f} to {loss[m]:.2f}" if loss[m] is not None and full is not None else "")
                    for m in withheld]
        warnings += [f"{m}: the video has none; its features are zeros, so the score ignores it and its attention "
                     f"centres mean nothing" for m in silent if m not in withheld]
        rho = self.run_quality.get("test_srcc")
        if rho is not None and rho < LOW_RHO:
            warnings.append(f"this run ranks its own test videos poorly (Spearman rho {rho:.2f} with the judges); "
                            f"treat the score with caution")
        return Prediction(
            silent=silent, run_quality=dict(self.run_quality), warnings=warnings,
            video=str(source), video_id=video_id, score=score, score_range=self.score_range, task=self.task.name, parts=parts,
            model=self.model_name, run=str(self.run_dir.resolve()), checkpoint=self.checkpoint,
            preset=preset if preset is not None else self.preset, n_segments=int(T), segment_s=seg_s, offset_s=offset,
            duration_s=duration, modalities=list(attention) or [m for m in MODALITIES if m in self.dims], stages=stages, attention=attention,
            features=feat_path, lmac_version=lmac.__version__, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )


LOW_RHO = 0.3  # below this test rho a prediction carries a warning


def run_quality(run_dir: Path, checkpoint: str) -> dict:
    """The run's own figures from summary.json and metrics.csv: the test rho of this checkpoint's epoch,
    the last-epoch validation rho, and how many videos each is over. Empty for a run without summary."""
    import csv

    try:
        summ = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    key = {"last": "test_srcc_last", "best_val": "test_srcc_val", "best_test": "test_srcc_best"}[checkpoint]
    q = {"test_srcc": summ.get(key), "test_srcc_last": summ.get("test_srcc_last"), "test_videos": summ.get("test_videos"),
         **({"missing_modality": summ["missing_modality"]} if summ.get("missing_modality") else {}),
         "val_srcc_last": None, "val_videos": summ.get("val_videos"), "test_mse_last": summ.get("test_mse")}
    try:
        rows = list(csv.DictReader(open(run_dir / "metrics.csv")))
        if rows and rows[-1].get("val_srcc"):
            q["val_srcc_last"] = float(rows[-1]["val_srcc"])
    except (OSError, ValueError):
        pass
    if checkpoint == "best_test":
        q["note"] = "best_test was chosen on the test videos, so its test rho is optimistic"
    return q


def load(run_dir, checkpoint: str = "last", device="auto", weights: dict | None = None) -> Predictor:
    """Load a trained run for scoring: `lmac.load("runs/ball-lmac").predict("routine.mp4")`.

    `checkpoint`: last (default), best_val or best_test; `weights`: {extractor: path} for presets
    whose extractors need checkpoints (pamfn)."""
    return Predictor(run_dir, checkpoint=checkpoint, device=device, weights=weights)


