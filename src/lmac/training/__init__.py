"""Training. `train`, `load_run_model` and `prepare_data` load lazily, so reading a run folder
(lmac.training.run, which inference uses) does not import the trainer."""

__all__ = ["train", "load_run_model", "prepare_data"]


def __getattr__(name):
    if name in __all__:
        from lmac.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'lmac.training' has no attribute {name!r}")
