"""Scoring many videos (`lmac predict DIR`): a progress bar, bad videos reported and skipped, a CSV."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lmac.inference.predictor import Predictor
from lmac.inference.results import FeatureMismatchError, Prediction, PredictError, annotate, parse_elements


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
                  progress: bool = True, report: bool = True, log=None, elements=None) -> list[BatchItem]:
    """Score videos (files or folders) or, with `features`, the videos of a feature folder (all, or
    the ids in `inputs`). Each is written to `out_dir/<video_id>/`; a bad one is recorded and the
    rest go on. Features of videos are cached in `out_dir/features/<preset>-<hash>/`. `elements`:
    (parsed JSON, its source) of annotated elements (`parse_elements`), drawn under the stages."""
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
    if elements is not None:  # checked before any video is scored
        per_video = isinstance(elements[0], dict) and "executed_element" not in elements[0]
        if len(jobs) > 1 and not per_video:
            raise ValueError(f"{elements[1]}: one video's elements for {len(jobs)} videos; give {{video_id: [elements]}}")
        for vid in ([v for _, v in jobs] if per_video else [None]):
            parse_elements(elements[0], elements[1], vid)
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
                if elements is not None:  # --elements: the annotated elements, drawn under the stages
                    annotate(pred, parse_elements(elements[0], elements[1], vid))
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
