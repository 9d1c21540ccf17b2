"""Builders of tiny feature packages in the peers' published layouts (see shared docs, peers.md).

Odd feature dims (12/10/6) so that nothing can pass by assuming the real 1024/1024/768.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

DIMS = {"rgb": 12, "flow": 10, "audio": 6}
NAMES = {"rgb": "VST", "flow": "I3D", "audio": "AST"}


def pamfn_arrays(rng, t: int, crops: int = 3, dims=DIMS) -> dict[str, np.ndarray]:
    """One video as PAMFN stores it: rgb (T, k, D), flow (T, D), audio (T, D)."""
    return {
        "rgb": rng.standard_normal((t, crops, dims["rgb"])).astype(np.float32),
        "flow": rng.standard_normal((t, dims["flow"])).astype(np.float32),
        "audio": rng.standard_normal((t, dims["audio"])).astype(np.float32),
    }


def expected_features(arrays: dict) -> dict[str, np.ndarray]:
    """What a store must return: (T, k, D) averaged over k, float32."""
    return {m: (a.mean(axis=1) if a.ndim == 3 else a).astype(np.float32) for m, a in arrays.items()}


def save_pamfn_file(folder: Path, prefix: str, mod: str, table: dict, name: str | None = None) -> Path:
    path = Path(folder) / f"{prefix}_{mod}_{name or NAMES[mod]}.npy"
    np.save(path, table, allow_pickle=True)  # a pickled dict, exactly as PAMFN wrote its package
    return path


def make_pamfn(root, classes=("Ball", "Clubs", "Hoop"), per_class: int = 3, seed: int = 0, subdir: str = "features",
               edit=None) -> dict[str, dict[str, np.ndarray]]:
    """Write a PAMFN package; returns {video_id: expected features}. `edit(prefix, tables)` may alter
    the {mod: {video_id: array}} tables before they are written."""
    rng = np.random.default_rng(seed)
    folder = Path(root) / subdir if subdir else Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for prefix in classes:
        tables: dict[str, dict] = {m: {} for m in DIMS}
        for i in range(per_class):
            if prefix == "FISV":
                key = i + 1  # Fis-V: numeric ids (str or int keys in the published files)
                vid = str(key)
            else:
                key = vid = f"{prefix}_{i + 1:03d}"
            arrays = pamfn_arrays(rng, t=int(rng.integers(5, 9)))
            for m, a in arrays.items():
                tables[m][key] = a
            expected[vid] = expected_features(arrays)
        if edit is not None:
            edit(prefix, tables)
        for m, table in tables.items():
            save_pamfn_file(folder, prefix, m, table)
    return expected


def make_gdlt(root, ids=("Ball_001", "Ball_002", "Clubs_001", "Clubs_002"), dim: int = 12, seed: int = 1,
              subdir: str = "swintx_avg_fps25_clip32") -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    folder = Path(root) / subdir if subdir else Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for vid in ids:
        arr = rng.standard_normal((int(rng.integers(5, 9)), dim)).astype(np.float32)
        np.save(folder / f"{vid}.npy", arr)
        expected[vid] = {"rgb": arr}
    return expected


def assert_same_features(got: dict, want: dict, exact: bool = False):
    assert list(got) == list(want), (list(got), list(want))
    for m in want:
        assert got[m].dtype == np.float32 and got[m].shape == want[m].shape, (m, got[m].shape, want[m].shape)
        if exact:
            np.testing.assert_array_equal(got[m], want[m])
        else:
            np.testing.assert_allclose(got[m], want[m], rtol=1e-6, atol=1e-6)
