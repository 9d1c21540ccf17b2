"""Result types of scoring (Prediction, Stage, Span), their JSON schema (derived from the dataclasses),
and how stages and spans are built from a model's outputs.

Times. Segment t (1-based) of a video covers [offset + (t-1) L, offset + t L] seconds, with L =
32 frames / 25 fps = 1.28 s and `offset` the frames extraction trimmed at the start. A stage's
attention alpha[k, :] is a distribution over segments; spreading each segment's mass uniformly over
its seconds gives centre_s = offset + (c - 0.5) L (c = sum_t t alpha_t, the model's attention centre)
and spread sd_s = L sqrt(var_t + 1/12). A stage spans centre_s -/+ sd_s, clipped to the video.
The fused span uses the mean of the modalities' attention (its centre is the mean of their centres;
its spread grows when the modalities disagree). `center_gap_s` is the mean distance between the
modalities' centres for that stage: small when motion and music peak together.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from lmac.utils import atomic_write_json

SCHEMA = "lmac-prediction"
SCHEMA_VERSION = 4  # 2: silent, run_quality, warnings; 3: elements, localisation; 4: parts (versions 1-3 still read)
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
    elements: list = field(default_factory=list)  # annotated elements given with --elements: [{name, start_s, end_s}]
    localisation: dict = field(default_factory=dict)  # how the stages found them (lmac.evaluation.localisation)
    parts: dict = field(default_factory=dict)  # a run trained on the judges' parts: {column: points}, e.g. D, E, P

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
        if self.parts:
            lines.append("  parts: " + ", ".join(f"{c} {v:.2f}" for c, v in self.parts.items()))
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
        if self.localisation:
            lo = self.localisation
            lines.append(f"  annotated elements: {lo['elements']}; a stage centre inside {lo['hit_rate']:.0%} of them, "
                         f"mean best tIoU {lo['tiou']:.2f} (evenly spread stages: {lo['chance_hit_rate']:.0%}, "
                         f"{lo['chance_tiou']:.2f})")
        return "\n".join(lines)


def _clock(s: float) -> str:
    """Seconds -> m:ss.s"""
    m, sec = divmod(max(0.0, float(s)), 60.0)
    return f"{int(m)}:{sec:04.1f}"


# ----------------------------------------------------------------------------- schema check
_NUM = (int, float)
_NONE = type(None)
_TYPES = {"str": (str,), "int": (int,), "float": _NUM, "list": (list,), "dict": (dict,), "None": (_NONE,)}


def _spec(cls) -> dict:
    """{key: accepted types} of a result dataclass, from its field annotations (`float | None`, `list`,
    `dict`, ...): the JSON schema follows the dataclasses, so a new field is checked without a second list."""
    out = {}
    for f in fields(cls):
        kinds = [k.strip().split("[")[0] for k in str(f.type).split("|")]
        out[f.name] = tuple(t for k in kinds for t in _TYPES.get(k, (dict,)))  # nested dataclasses are objects
    return out


_TOP = {"schema": (str,), "version": (int,), **_spec(Prediction)}
_NEW_IN = {2: ("silent", "run_quality", "warnings"), 3: ("elements", "localisation"), 4: ("parts",)}
_STAGE = _spec(Stage)
_SPAN = _spec(Span)


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
    version = d.get("version") if isinstance(d, dict) else None
    later = {k for v, keys in _NEW_IN.items() if isinstance(version, int) and version < v for k in keys}
    top = {k: t for k, t in _TOP.items() if k not in later}
    if not _check_keys(d, top, "prediction", errors):
        if isinstance(d, dict) and isinstance(d.get("stages"), list):  # still report what is wrong in the stages
            for i, s in enumerate(d["stages"]):
                _check_keys(s, _STAGE, f"stages[{i}]", errors)
        return errors
    if d["schema"] != SCHEMA or d["version"] not in range(1, SCHEMA_VERSION + 1):
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


def parse_elements(obj, source: str, video_id: str | None = None) -> list[dict]:
    """Annotated elements from --elements: a FineFS annotation (executed_element{...}.time "M-S,M-S"), a list
    of {name, start_s, end_s}, or {video_id: such a list} (then `video_id` picks one; [] when absent)."""
    if isinstance(obj, dict) and "executed_element" in obj:
        from lmac.data.datasets.finefs import parse_time

        out = []
        for key, e in obj["executed_element"].items():
            start, end = parse_time(e.get("time"), f"{source} {key}")
            out.append({"name": str(e.get("element", key)), "start_s": float(start), "end_s": float(end)})
        return out
    if isinstance(obj, dict):
        return parse_elements(obj.get(video_id, []), source) if video_id is not None else []
    if not isinstance(obj, list):
        raise ValueError(f"{source}: elements must be a FineFS annotation, a list of {{name, start_s, end_s}} or "
                         f"{{video_id: list}}")
    out = []
    for i, e in enumerate(obj):
        try:
            item = {"name": str(e.get("name", f"element {i + 1}")), "start_s": float(e["start_s"]), "end_s": float(e["end_s"])}
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError(f"{source}: element {i} needs start_s and end_s in seconds, got {e!r:.80}") from None
        if not (math.isfinite(item["start_s"]) and math.isfinite(item["end_s"]) and item["start_s"] <= item["end_s"]):
            raise ValueError(f"{source}: element {i} has start_s {item['start_s']} after end_s {item['end_s']}")
        out.append(item)
    return out


def annotate(pred: "Prediction", elements: list[dict]) -> "Prediction":
    """The prediction with its annotated elements and how its stages found them: the share of elements that
    some stage's centre falls inside, each element's best temporal IoU with a stage's span, and both for
    evenly spread stages (lmac.evaluation.localisation, in seconds)."""
    from lmac.evaluation.localisation import localisation

    pred.elements = list(elements)
    if pred.stages and elements:
        spans = np.array([[s.start_s, s.end_s] for s in pred.stages])
        loc = localisation({"v": spans}, {"v": pred.duration_s}, {"v": [(e["start_s"], e["end_s"]) for e in elements]})
        pred.localisation = loc or {}
    return pred


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
