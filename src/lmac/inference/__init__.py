"""Inference: score videos or features with a trained run and explain the score.

    import lmac
    model = lmac.load("runs/ball-lmac")            # a run folder written by `lmac train`
    result = model.predict("routine.mp4")          # -> Prediction
    result.score, result.stages[0].start_s         # points; seconds into the video
    result.save("out/routine")                     # prediction.json, report.html, timeline.png

The video is turned into features with the extraction preset and settings recorded in the run
(`feature_info` of the features it was trained on), so a run only ever sees features made the way
it was trained; features made otherwise are refused with a one-line message.

- results.py: Prediction / Stage / Span, the JSON schema (derived from them), stage spans in seconds;
- provenance.py: whether features may be scored by a run (and added to a folder);
- cache.py: the feature cache (a folder per run recipe; a video's features reused while the file is unchanged);
- predictor.py: Predictor (rebuilds the model through the run folder, extracts features into the cache);
- batch.py: many videos, a CSV.

Nothing here imports torch at module level: `import lmac` stays light.
"""
from lmac.inference.batch import BatchItem, predict_batch, write_batch_csv
from lmac.inference.predictor import Predictor, load, run_quality
from lmac.inference.provenance import feature_mismatch, manifest_differences
from lmac.inference.results import (SCHEMA, SCHEMA_VERSION, FeatureMismatchError, Prediction, PredictError, Span, Stage,
                                    annotate, attention_span, build_stages, check_prediction, parse_elements,
                                    prediction_errors)

__all__ = ["BatchItem", "predict_batch", "write_batch_csv", "Predictor", "load", "run_quality", "feature_mismatch",
           "manifest_differences", "SCHEMA", "SCHEMA_VERSION", "FeatureMismatchError", "Prediction", "PredictError",
           "Span", "Stage", "annotate", "parse_elements", "attention_span", "build_stages", "check_prediction", "prediction_errors"]
