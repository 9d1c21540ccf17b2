"""Load a script of benchmarks/ as a module, so tests call the very code the benchmarks run."""
import functools
import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@functools.cache
def load(name: str):
    """benchmarks/NAME.py as a module (loaded once)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
