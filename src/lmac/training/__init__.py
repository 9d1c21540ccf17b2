from lmac.training.trainer import train, load_run_model, prepare_data

__all__ = ["train", "load_run_model", "prepare_data"]
