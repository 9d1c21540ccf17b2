"""lmac: long-term multimodal action quality assessment (LMAC-Net)."""

__version__ = "0.1.0"

MODALITIES = ("rgb", "flow", "audio")


def load(run_dir, checkpoint: str = "last", device="auto", weights: dict | None = None):
    """Load a trained run for scoring videos: `lmac.load("runs/ball").predict("routine.mp4")`.

    Returns an `lmac.predict.Predictor`; torch is imported only here, not by `import lmac`.
    `checkpoint`: last, best_val or best_test; `weights`: {extractor: path} for presets that need them."""
    from lmac.predict import load as _load

    return _load(run_dir, checkpoint=checkpoint, device=device, weights=weights)
