"""The dataset registry: one module per public benchmark, each holding its label reader, its tasks
(score columns, ranges, windows, recipe), its splits and its feature layout.

    from lmac.data.datasets import DATASETS, get_dataset
    get_dataset("fs1000").records(Path("FS1000"), "train")   # -> [LabelRecord, ...]

Adding a dataset is one file here that registers a `DatasetSpec` (and, if its release has its own
folder layout, `register_layout`); tasks, suites, `--format auto` and `lmac models --tasks` pick it
up from the registry.
"""
import importlib
import pkgutil

from lmac.data.datasets.base import DATASETS, DatasetSpec, get_dataset

# every module of this package registers its dataset: a new dataset is a new file, nothing else
for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_") and _m.name != "base":
        importlib.import_module(f"{__name__}.{_m.name}")



def dataset_names() -> list[str]:
    """Registered datasets, the public benchmarks first in the order the field met them."""
    first = ("rg", "fisv", "fs1000", "finefs", "logo")
    return [*(n for n in first if n in DATASETS), *(n for n in DATASETS.names() if n not in first)]


__all__ = ["DATASETS", "DatasetSpec", "get_dataset", "dataset_names"]
