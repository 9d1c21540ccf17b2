"""The dataset registry: one module per public benchmark, each holding its label reader, its tasks
(score columns, ranges, windows, recipe), its splits and its feature layout.

    from lmac.data.datasets import DATASETS, get_dataset
    get_dataset("fs1000").records(Path("FS1000"), "train")   # -> [LabelRecord, ...]

Adding a dataset is one file here that registers a `DatasetSpec`; tasks, suites, `--format` and the
CLI pick it up from the registry.
"""
from lmac.data.datasets.base import DATASETS, DatasetSpec, get_dataset
from lmac.data.datasets import rg, fisv, fs1000, finefs, logo  # noqa: F401  (register)



def dataset_names() -> list[str]:
    """Registered datasets, the public benchmarks first in the order the field met them."""
    first = ("rg", "fisv", "fs1000", "finefs", "logo")
    return [*first, *(n for n in DATASETS.names() if n not in first)]


__all__ = ["DATASETS", "DatasetSpec", "get_dataset", "dataset_names"]
