"""Load a script of benchmarks/ as a module, so tests call the very code the benchmarks run."""
import functools
import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@functools.cache
def load(name: str):
    """benchmarks/NAME.py as a module (loaded once). benchmarks/ goes on the import path, as when a script is run
    from there, so a script can import its siblings (bench_model, worlds_energy_oracle)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
