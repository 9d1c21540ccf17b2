"""Score a performance video with a trained run and explain the score.

    import lmac
    model = lmac.load("runs/ball-lmac")            # a run folder written by `lmac train`
    result = model.predict("routine.mp4")          # -> Prediction
    result.score, result.stages[0].start_s         # points; seconds into the video
    result.save("out/routine")                     # prediction.json, report.html, timeline.png

The video is turned into features with the extraction preset and settings recorded in the run
(`feature_info` of the features it was trained on), so a run only ever sees features made the way
it was trained; features made otherwise are refused with a one-line message.

Times. Segment t (1-based) of a video covers [offset + (t-1) L, offset + t L] seconds, with L =
32 frames / 25 fps = 1.28 s and `offset` the frames extraction trimmed at the start. A stage's
attention alpha[k, :] is a distribution over segments; spreading each segment's mass uniformly over
its seconds gives centre_s = offset + (c - 0.5) L (c = sum_t t alpha_t, the model's attention centre)
and spread sd_s = L sqrt(var_t + 1/12). A stage spans centre_s -/+ sd_s, clipped to the video.
The fused span uses the mean of the modalities' attention (its centre is the mean of their centres;
its spread grows when the modalities disagree). `center_gap_s` is the mean distance between the
modalities' centres for that stage: small when motion and music peak together.

Nothing here imports torch at module level: `import lmac` stays light.
"""
from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lmac import MODALITIES
from lmac.utils import atomic_write_json

SCHEMA = "lmac-prediction"
SCHEMA_VERSION = 2  # 2: silent, run_quality, warnings (version 1 files still read)
SEGMENT_FRAMES = 32
FPS = 25.0


class FeatureMismatchError(ValueError):
    """Features that the run cannot score (other preset, dims or extraction settings)."""


class PredictError(ValueError):
    """One video could not be scored; the message names it and the reason."""


# ----------------------------------------------------------------------------- result types
@dataclass(frozen=True)
class Span:
    """Where one modality (or the fusion) looked for one stage, in seconds of the video."""

    center_s: float
    start_s: float
    end_s: float
    center_segment: float  # the model's attention centre, 1-based segment units


@dataclass(frozen=True)
class Stage:
    """One query of the model = one stage of the performance (query k of every modality)."""

    index: int  # 1-based query index; the ranking loss orders queries in time
    score: float  # stage score s_k in points
    weight: float  # softmax(w)_k; the overall score is sum_k weight_k * score_k
    center_s: float  # fused span (mean attention over modalities)
    start_s: float
    end_s: float
    center_gap_s: float | None  # mean |centre_m - centre_m'| over modality pairs, seconds; None with one modality
    modalities: dict  # {modality: Span}

    @property
    def contribution(self) -> float:
        """Points this stage adds to the overall score (weight * score)."""
        return self.weight * self.score


@dataclass
class Prediction:
    """The score of one video and its explanation; `to_dict()` is `prediction.json`."""

    video: str  # the video file (or feature file) scored
    video_id: str
    score: float  # overall score in points
    score_range: float  # targets were score / score_range
    task: str
    model: str
    run: str
    checkpoint: str
    preset: str | None  # extraction preset of the features (None: unknown provenance)
    n_segments: int
    segment_s: float  # 1.28 s
    offset_s: float  # seconds trimmed before segment 1
    duration_s: float
    modalities: list
    stages: list = field(default_factory=list)  # [Stage]; empty for models without stages
    attention: dict = field(default_factory=dict)  # {modality: K x T list}, last decoder layer
    features: str = ""  # where the features came from (cache file or --features path)
    lmac_version: str = ""
    created: str = ""
    silent: list = field(default_factory=list)  # modalities whose features are zeros (no audio: --allow-silent)
    run_quality: dict = field(default_factory=dict)  # the run's own rho on its validation and test videos
    warnings: list = field(default_factory=list)  # what a reader of this score must know (low rho, silence)

    def to_dict(self) -> dict:
        d = asdict(self)  # Stage/Span dataclasses become dicts
        return {"schema": SCHEMA, "version": SCHEMA_VERSION, **d}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> "Prediction":
        check_prediction(d)
        d = {k: v for k, v in d.items() if k not in ("schema", "version")}
        stages = [
            Stage(**{**s, "modalities": {m: Span(**sp) for m, sp in s["modalities"].items()}}) for s in d.pop("stages")
        ]
        return cls(stages=stages, **d)

    @classmethod
    def load(cls, path) -> "Prediction":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def save(self, out_dir, report: bool = True) -> dict:
        """Write `prediction.json` (and `report.html` + `timeline.png`) into `out_dir`; returns the paths."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {"json": out_dir / "prediction.json"}
        atomic_write_json(paths["json"], self.to_dict())
        if report:
            from lmac.report import write_report

            paths.update(write_report(self, out_dir))
        return paths

    def summary(self) -> str:
        """A short text table: the score, then one row per stage."""
        lines = [
            f"{self.video}: {self.score:.2f} / {self.score_range:g} points "
            f"({self.model}, {self.task}, {self.n_segments} segments, {_clock(self.duration_s)})"
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        if not self.stages:
            lines.append("  (this model gives no stages)")
            return "\n".join(lines)
        mods = list(self.modalities)
        head = f"  {'stage':>5} {'score':>6} {'weight':>6} {'time (fused)':>17} " + " ".join(f"{m:>6}" for m in mods)
        if len(mods) > 1:
            head += f" {'gap':>5}"
        lines.append(head)
        for s in self.stages:
            row = f"  {s.index:>5} {s.score:>6.2f} {s.weight:>6.3f} {_clock(s.start_s):>8}-{_clock(s.end_s):<8} "
            row += " ".join(f"{'silent' if m in self.silent else _clock(s.modalities[m].center_s):>6}" for m in mods)
            if s.center_gap_s is not None:
                row += f" {s.center_gap_s:>4.1f}s"
            lines.append(row)
        lines.append("  (modality columns: attention centre; gap: mean distance between the modalities' centres)")
        return "\n".join(lines)


def _clock(s: float) -> str:
    """Seconds -> m:ss.s"""
    m, sec = divmod(max(0.0, float(s)), 60.0)
    return f"{int(m)}:{sec:04.1f}"


# ----------------------------------------------------------------------------- schema check
_NUM = (int, float)
_TOP = {
    "schema": str, "version": int, "video": str, "video_id": str, "score": _NUM, "score_range": _NUM, "task": str,
    "model": str, "run": str, "checkpoint": str, "preset": (str, type(None)), "n_segments": int, "segment_s": _NUM,
    "offset_s": _NUM, "duration_s": _NUM, "modalities": list, "stages": list, "attention": dict, "features": str,
    "lmac_version": str, "created": str, "silent": list, "run_quality": dict, "warnings": list,
}
_NEW_IN_V2 = ("silent", "run_quality", "warnings")
_STAGE = {"index": int, "score": _NUM, "weight": _NUM, "center_s": _NUM, "start_s": _NUM, "end_s": _NUM,
          "center_gap_s": (*_NUM, type(None)), "modalities": dict}
_SPAN = {"center_s": _NUM, "start_s": _NUM, "end_s": _NUM, "center_segment": _NUM}


def _check_keys(obj, spec: dict, where: str, errors: list) -> bool:
    """Append problems of `obj` against {key: type} to `errors`; True when there were none."""
    n = len(errors)
    if not isinstance(obj, dict):
        errors.append(f"{where}: expected an object, got {type(obj).__name__}")
        return False
    for key, typ in spec.items():
        if key not in obj:
            errors.append(f"{where}: missing '{key}'")
        elif isinstance(obj[key], bool) or not isinstance(obj[key], typ):
            errors.append(f"{where}.{key}: wrong type {type(obj[key]).__name__}")
        elif isinstance(obj[key], float) and not math.isfinite(obj[key]):
            errors.append(f"{where}.{key}: not finite")
    extra = sorted(set(obj) - set(spec))
    if extra:
        errors.append(f"{where}: unknown key(s) {extra}")
    return len(errors) == n


def prediction_errors(d: dict, tol: float = 1e-4) -> list[str]:
    """Everything wrong with a `prediction.json` object (empty list = valid): keys and types, then
    invariants: times inside the video and ordered, weights summing to 1, the overall score equal
    to the weighted stage scores, one attention row per stage and segment summing to 1."""
    errors: list[str] = []
    top = _TOP if not (isinstance(d, dict) and d.get("version") == 1) else {k: t for k, t in _TOP.items() if k not in _NEW_IN_V2}
    if not _check_keys(d, top, "prediction", errors):
        if isinstance(d, dict) and isinstance(d.get("stages"), list):  # still report what is wrong in the stages
            for i, s in enumerate(d["stages"]):
                _check_keys(s, _STAGE, f"stages[{i}]", errors)
        return errors
    if d["schema"] != SCHEMA or d["version"] not in (1, SCHEMA_VERSION):
        errors.append(f"prediction: schema {d['schema']!r} v{d['version']}, expected {SCHEMA!r} v{SCHEMA_VERSION}")
    dur, T, mods = d["duration_s"], d["n_segments"], d["modalities"]
    if T < 1 or dur <= 0:
        errors.append(f"prediction: n_segments {T} and duration_s {dur} must be positive")
    if not (0 <= d["offset_s"] and d["offset_s"] + T * d["segment_s"] <= dur + tol):
        errors.append(f"prediction: segments [{d['offset_s']}, +{T} x {d['segment_s']}] exceed the video ({dur} s)")

    def span_ok(sp, where):
        if not (-tol <= sp["start_s"] <= sp["center_s"] + tol and sp["center_s"] <= sp["end_s"] + tol and sp["end_s"] <= dur + tol):
            errors.append(f"{where}: times {sp['start_s']:.3f} <= {sp['center_s']:.3f} <= {sp['end_s']:.3f} not within [0, {dur}]")

    stages = d["stages"]
    for i, s in enumerate(stages):
        where = f"stages[{i}]"
        if not _check_keys(s, _STAGE, where, errors):
            continue
        if s["index"] != i + 1:
            errors.append(f"{where}: index {s['index']}, expected {i + 1}")
        span_ok(s, where)
        if sorted(s["modalities"]) != sorted(mods):
            errors.append(f"{where}: modalities {sorted(s['modalities'])}, expected {sorted(mods)}")
        for m, sp in s["modalities"].items():
            if _check_keys(sp, _SPAN, f"{where}.{m}", errors):
                span_ok(sp, f"{where}.{m}")
                if not 1 - tol <= sp["center_segment"] <= T + tol:
                    errors.append(f"{where}.{m}: centre segment {sp['center_segment']} outside 1..{T}")
    if errors:
        return errors
    if stages:
        w = sum(s["weight"] for s in stages)
        if abs(w - 1) > tol:
            errors.append(f"stages: weights sum to {w}, not 1")
        ws = sum(s["weight"] * s["score"] for s in stages)
        if abs(ws - d["score"]) > tol * max(1.0, abs(d["score"])):
            errors.append(f"score {d['score']} != weighted stage scores {ws}")
        if sorted(d["attention"]) != sorted(mods):
            errors.append(f"attention: modalities {sorted(d['attention'])}, expected {sorted(mods)}")
        for m, rows in d["attention"].items():
            a = np.asarray(rows, dtype=float)
            if a.shape != (len(stages), T):
                errors.append(f"attention.{m}: shape {a.shape}, expected ({len(stages)}, {T})")
            elif not np.allclose(a.sum(1), 1.0, atol=1e-3) or (a < 0).any():
                errors.append(f"attention.{m}: rows must be distributions over segments")
    return errors


def check_prediction(d: dict) -> None:
    errors = prediction_errors(d)
    if errors:
        raise ValueError("invalid prediction: " + "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))


# ----------------------------------------------------------------------------- attention -> time
def attention_span(alpha, segment_s: float, offset_s: float, duration_s: float) -> Span:
    """Centre and spread (seconds) of one attention row alpha (T,) over segments (see module doc)."""
    a = np.asarray(alpha, dtype=np.float64)
    a = a / a.sum()
    t = np.arange(1, len(a) + 1, dtype=np.float64)
    c = float((a * t).sum())  # 1-based segment units, as the model's `centers`
    var = float((a * (t - c) ** 2).sum()) + 1.0 / 12.0  # + uniform spread inside a segment
    center = offset_s + (c - 0.5) * segment_s
    sd = segment_s * math.sqrt(var)
    center = min(max(center, 0.0), duration_s)
    return Span(center_s=center, start_s=max(0.0, center - sd), end_s=min(duration_s, center + sd), center_segment=c)


def build_stages(stage_scores, stage_weights, attn: dict, segment_s: float, offset_s: float, duration_s: float) -> list[Stage]:
    """Stages from one video's model outputs: stage_scores (K,) in points, stage_weights (K,),
    attn {modality: (K, T)}."""
    mods = list(attn)
    stages = []
    for k in range(len(stage_scores)):
        spans = {m: attention_span(attn[m][k], segment_s, offset_s, duration_s) for m in mods}
        fused = attention_span(np.mean([np.asarray(attn[m][k], np.float64) for m in mods], 0), segment_s, offset_s, duration_s)
        pairs = [(a, b) for i, a in enumerate(mods) for b in mods[i + 1 :]]
        gap = (float(np.mean([abs(spans[a].center_segment - spans[b].center_segment) for a, b in pairs])) * segment_s
               if pairs else None)
        stages.append(Stage(
            index=k + 1, score=float(stage_scores[k]), weight=float(stage_weights[k]), center_s=fused.center_s,
            start_s=fused.start_s, end_s=fused.end_s, center_gap_s=gap, modalities=spans,
        ))
    return stages


# ----------------------------------------------------------------------------- feature checks
def _sha(extr: dict | None):
    w = (extr or {}).get("weights") or {}
    return w.get("sha256")


def feature_mismatch(run_info: dict, run_dims: dict, info: dict, dims: dict, optional: bool = False) -> list[str]:
    """Why features described by (`info`, `dims`) cannot be scored by a run trained on features
    described by (`run_info`, `run_dims`); empty when they can. Provenance missing on either side
    is not held against the features; dims are always checked. `optional`: the run's model scores
    without some modalities (modality dropout), so features need only one of them."""
    diffs = []
    missing = [m for m in run_dims if m not in dims]
    if missing and not (optional and len(missing) < len(run_dims)):
        diffs.append(f"no {', '.join(missing)} features")
    bad = [f"{m} {dims[m]}-d (run: {d}-d)" for m, d in run_dims.items() if m in dims and int(dims[m]) != int(d)]
    if bad:
        diffs.append("dims " + ", ".join(bad))
    rp, fp = (run_info or {}).get("preset"), (info or {}).get("preset")
    if rp and fp and rp != fp:
        diffs.insert(0, f"preset {fp!r} (run: {rp!r})")
    elif rp and fp:
        rs, fs = dict(run_info.get("settings") or {}), dict(info.get("settings") or {})
        keys = sorted(k for k in set(rs) | set(fs) if rs.get(k) != fs.get(k))
        if keys:
            diffs.append("extraction settings " + ", ".join(f"{k} {fs.get(k)!r} (run: {rs.get(k)!r})" for k in keys))
        for m in (m for m in run_dims if m in dims):
            re_, fe = (run_info.get("extractors") or {}).get(m), (info.get("extractors") or {}).get(m)
            if re_ and fe and re_.get("extractor") != fe.get("extractor"):
                diffs.append(f"{m} extractor {fe.get('extractor')!r} (run: {re_.get('extractor')!r})")
            elif re_ and fe and _sha(re_) != _sha(fe):
                diffs.append(f"{m} weights sha256 {str(_sha(fe))[:12]} (run: {str(_sha(re_))[:12]})")
            elif re_ and fe and re_.get("settings") != fe.get("settings"):
                diffs.append(f"{m} extractor settings {fe.get('settings')!r} (run: {re_.get('settings')!r})")
    return diffs


def _describe_dims(dims: dict) -> str:
    return ", ".join(f"{m} {d}" for m, d in dims.items())


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
        blob = json.dumps(self.feature_info, sort_keys=True, default=str).encode()
        return f"{self.preset or 'features'}-{hashlib.sha256(blob).hexdigest()[:10]}"

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
        target = cache_dir / f"{vid}.safetensors"
        index_path = cache_dir / "sources.json"
        st = video.stat()
        stamp = {"path": str(video.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        index = {}
        if index_path.is_file():
            try:
                index = json.loads(index_path.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                index = {}
        if target.exists() and index.get(vid) == stamp:
            return target
        if target.exists():
            target.unlink()  # another file of that name, or the video changed: extract again
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
        index = json.loads(index_path.read_text()) if index_path.is_file() else {}
        index[vid] = stamp
        atomic_write_json(index_path, index)
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
        score = float(out["score"].float().cpu()[0]) * self.score_range  # points = target * score_range
        stages, attention = [], {}
        if "stage_scores" in out and "attn" in out:
            ss = out["stage_scores"].float().cpu()[0].numpy() * self.score_range  # (K,) points
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
            video=str(source), video_id=video_id, score=score, score_range=self.score_range, task=self.task.name,
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


# ----------------------------------------------------------------------------- batches (CLI)
@dataclass
class BatchItem:
    input: str
    video_id: str
    prediction: Prediction | None = None
    error: str | None = None
    out_dir: str | None = None
    seconds: float = 0.0


def predict_batch(predictor: Predictor, inputs, out_dir, features=None, allow_silent: bool = False,
                  progress: bool = True, report: bool = True, log=None) -> list[BatchItem]:
    """Score videos (files or folders) or, with `features`, the videos of a feature folder (all, or
    the ids in `inputs`). Each is written to `out_dir/<video_id>/`; a bad one is recorded and the
    rest go on. Features of videos are cached in `out_dir/features/<preset>-<hash>/`."""
    from tqdm import tqdm

    log = log or (lambda msg: tqdm.write(msg, file=sys.stderr))
    out_dir = Path(out_dir)
    items: list[BatchItem] = []
    if features is not None:
        from lmac.data.features import NativeStore, open_feature_store

        fpath = Path(features)
        if fpath.is_file():
            if fpath.suffix != ".safetensors":
                raise ValueError(f"{fpath}: --features expects a feature folder or a native <video_id>.safetensors file")
            store, ids = NativeStore(fpath.parent), [fpath.stem]
        else:
            store = open_feature_store(fpath)
            ids = [str(i) for i in inputs] if inputs else store.ids()
            if not inputs:  # a run scores its own class: a Ball run is no judge of Hoop routines
                prefix = f"{predictor.task.cls}_"
                own = [i for i in ids if i.startswith(prefix)]
                if own and len(own) < len(ids):
                    log(f"{fpath}: scoring the {len(own)} {predictor.task.cls} videos (the run's task is "
                        f"{predictor.task.name}); {len(ids) - len(own)} of other classes skipped (name them to score them)")
                    ids = own
        predictor.check_features(getattr(store, "info", {}) or {}, store.dims, str(fpath))  # refuse before any work
        jobs = [(vid, vid) for vid in ids]
    else:
        from lmac.features.extract import collect_videos, video_id_for

        if not inputs:
            raise ValueError("give at least one video file or folder (or --features PATH)")
        predictor.extract_settings(allow_silent)  # refuse a run without an extraction recipe before any work
        jobs = [(str(p), video_id_for(p)) for p in collect_videos(inputs)]
        cache = out_dir / "features" / predictor.cache_key()
    seen: dict[str, str] = {}
    bar = tqdm(total=len(jobs), desc="predict", unit="video", disable=not progress or len(jobs) < 2, file=sys.stderr)
    try:
        for i, (inp, vid) in enumerate(jobs, 1):
            item = BatchItem(input=inp, video_id=vid)
            items.append(item)
            t0 = time.perf_counter()
            try:
                if vid in seen:
                    raise PredictError(f"{inp}: video id {vid!r} already used by {seen[vid]}; rename one of them")
                seen[vid] = inp
                if features is not None:
                    pred = predictor.predict_store(store, vid, checked=True)
                else:
                    pred = predictor.predict(inp, cache_dir=cache, allow_silent=allow_silent)
                item.prediction = pred
                item.out_dir = str(out_dir / vid)
                pred.save(item.out_dir, report=report)
            except (ValueError, RuntimeError, OSError, KeyError) as e:
                if isinstance(e, FeatureMismatchError):
                    raise  # the run and the features disagree: every other video would fail the same way
                msg = str(e.args[0] if isinstance(e, KeyError) and e.args else e).splitlines()[0] or type(e).__name__
                if not msg.startswith(inp):
                    msg = f"{inp}: {msg}"
                item.error = msg
                log(f"[{i}/{len(jobs)}] FAILED {msg}")
            item.seconds = time.perf_counter() - t0
            bar.update(1)
    finally:
        bar.close()
    return items


CSV_FIELDS = ["video", "video_id", "status", "score", "score_range", "n_segments", "duration_s", "model", "task",
              "preset", "checkpoint", "out_dir", "error"]


def write_batch_csv(path, items: list[BatchItem]) -> None:
    """One row per input: score in points, then stage{k}_{score,weight,start_s,end_s}; failed rows keep the error."""
    import csv
    import io

    from lmac.utils import atomic_write_text

    k = max((len(it.prediction.stages) for it in items if it.prediction), default=0)
    stage_fields = [f"stage{j}_{f}" for j in range(1, k + 1) for f in ("score", "weight", "start_s", "end_s")]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS + stage_fields)
    w.writeheader()
    for it in items:
        p = it.prediction
        row = {"video": it.input, "video_id": it.video_id, "status": "ok" if p else "failed", "error": it.error or ""}
        if p:
            row.update(score=f"{p.score:.4f}", score_range=p.score_range, n_segments=p.n_segments,
                       duration_s=f"{p.duration_s:.3f}", model=p.model, task=p.task, preset=p.preset or "",
                       checkpoint=p.checkpoint, out_dir=it.out_dir or "")
            for s in p.stages:
                row.update({f"stage{s.index}_score": f"{s.score:.4f}", f"stage{s.index}_weight": f"{s.weight:.4f}",
                            f"stage{s.index}_start_s": f"{s.start_s:.2f}", f"stage{s.index}_end_s": f"{s.end_s:.2f}"})
        w.writerow(row)
    atomic_write_text(path, buf.getvalue())
