"""Provenance: may features made one way be scored, or added to, by what was made another way?

One comparison serves both places that ask: `lmac predict` (features against the run's training
features: `feature_mismatch`) and `lmac extract` into an existing folder (`manifest_differences`).
"""
from __future__ import annotations


def _differences(ref: dict, new: dict, modalities, label: str) -> list[str]:
    """Preset, extraction settings, and each modality's extractor, weights (sha256) and extractor settings
    of `new` against `ref`, each phrased "<new> (<label>: <ref>)". Provenance missing on either side is not
    held against the features."""
    diffs = []
    rp, fp = (ref or {}).get("preset"), (new or {}).get("preset")
    if rp and fp and rp != fp:
        return [f"preset {fp!r} ({label}: {rp!r})"]
    if not (rp and fp):
        return diffs
    rs, fs = dict(ref.get("settings") or {}), dict(new.get("settings") or {})
    keys = sorted(k for k in set(rs) | set(fs) if rs.get(k) != fs.get(k))
    if keys:
        diffs.append("extraction settings " + ", ".join(f"{k} {fs.get(k)!r} ({label}: {rs.get(k)!r})" for k in keys))
    for m in modalities:
        re_, fe = (ref.get("extractors") or {}).get(m), (new.get("extractors") or {}).get(m)
        if re_ and fe and re_.get("extractor") != fe.get("extractor"):
            diffs.append(f"{m} extractor {fe.get('extractor')!r} ({label}: {re_.get('extractor')!r})")
        elif re_ and fe and _sha(re_) != _sha(fe):
            diffs.append(f"{m} weights sha256 {str(_sha(fe))[:12]} ({label}: {str(_sha(re_))[:12]})")
        elif re_ and fe and re_.get("settings") != fe.get("settings"):
            diffs.append(f"{m} extractor settings {fe.get('settings')!r} ({label}: {re_.get('settings')!r})")
    return diffs


def manifest_differences(old_info: dict, new_info: dict) -> list[str]:
    """Why features about to be extracted (`new_info`) must not join a folder holding features made as
    `old_info` describes; empty when they may."""
    mods = sorted(set((old_info or {}).get("extractors") or {}) | set((new_info or {}).get("extractors") or {}))
    return _differences(old_info, new_info, mods, "existing")


def _sha(extr: dict | None):
    w = (extr or {}).get("weights") or {}
    return w.get("sha256")


def feature_mismatch(run_info: dict, run_dims: dict, info: dict, dims: dict, optional: bool = False) -> list[str]:
    """Why features described by (`info`, `dims`) cannot be scored by a run trained on features
    described by (`run_info`, `run_dims`); empty when they can. Provenance missing on either side
    is not held against the features; dims are always checked. `optional`: the run's model scores
    without some modalities (modality dropout), so features need only one of them."""
    diffs = []
    missing = [m for m in run_dims if m not in dims]
    if missing and not (optional and len(missing) < len(run_dims)):
        diffs.append(f"no {', '.join(missing)} features")
    bad = [f"{m} {dims[m]}-d (run: {d}-d)" for m, d in run_dims.items() if m in dims and int(dims[m]) != int(d)]
    if bad:
        diffs.append("dims " + ", ".join(bad))
    prov = _differences(run_info, info, [m for m in run_dims if m in dims], "run")
    if prov and prov[0].startswith("preset "):
        return prov + diffs
    return diffs + prov


def _describe_dims(dims: dict) -> str:
    return ", ".join(f"{m} {d}" for m, d in dims.items())


