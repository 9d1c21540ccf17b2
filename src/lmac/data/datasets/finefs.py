"""FineFS (Ji et al., "Localization-assisted Uncertainty Score Disentanglement Network", ACM MM 2023):
1167 figure-skating programmes with element-level annotation. Samples 0-728 are short programmes (SP),
729-1166 free skates (FS).

Per sample `i`: `annotation/<i>.json` and `video_features/<i>.pkl`, a torch-saved (T, C) tensor of
Video Swin features, read with `torch.load(weights_only=True)` (a restricted unpickler: no code runs).
FineFS releases no audio and no flow.

JSON: `total_element_score` (TES), `total_program_component_score(factored)`, `factor` (PCS target:
the factored total / factor), `deductions`, `program_component{skating_skills, ...}.score_of_pannel`
(sic), and `executed_element{element1..N}`, each with `element`, `coarse_class`, `bv`, `goe`,
`score_of_pannel` and `time` ("M-S,M-S" in whole seconds: "0-25,0-29" is 0:25 to 0:29).

Split: the release gives only counts (SP 583 / 146, FS 350 / 88). Ours is QGVL's rule, so results
compare: numpy's legacy generator seeded 42 shuffles 0..728, the first 583 train; seeded 42 again, it
shuffles 729..1166, the first 350 train. It ships as lmac/resources/splits/finefs.json
(`finefs.write_split()` rewrites it; a test checks the two agree).
"""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import numpy as np

from lmac.data.datasets.base import DatasetSpec
from lmac.data.features import FeatureDataError, SingleModalityFileStore, _visible, register_layout
from lmac.data.labels import LabelFormatError, LabelRecord
from lmac.data.taskspec import TaskSpec

N_SP, N_ALL = 729, 1167
TRAIN = {"SP": 583, "FS": 350}
SEED = 42
COMPONENTS = {"skating_skills": "ss", "transitions": "tr", "performance": "pe", "composition": "co",
              "interpretation": "in"}
_TIME = re.compile(r"^\s*(\d+)-(\d+)\s*,\s*(\d+)-(\d+)\s*$")


def programme(i: int) -> str:
    return "SP" if i < N_SP else "FS"


def make_split() -> dict[str, list[int]]:
    """QGVL's rule (see the module docstring): {"train": [...], "test": [...]}, each sorted."""
    out = {"train": [], "test": []}
    for lo, hi, n_train in ((0, N_SP, TRAIN["SP"]), (N_SP, N_ALL, TRAIN["FS"])):
        ids = np.arange(lo, hi)
        np.random.RandomState(SEED).shuffle(ids)
        out["train"] += sorted(int(i) for i in ids[:n_train])
        out["test"] += sorted(int(i) for i in ids[n_train:])
    return out


def shipped_split() -> dict[str, list[int]]:
    return json.loads(resources.files("lmac").joinpath("resources", "splits", "finefs.json").read_text())


def parse_time(text: str, source: str) -> tuple[int, int]:
    """"M-S,M-S" -> (start, end) in seconds."""
    m = _TIME.match(str(text))
    if not m:
        raise LabelFormatError(f"{source}: element time {text!r} is not 'M-S,M-S' (e.g. '0-25,0-29')")
    a, b, c, d = map(int, m.groups())
    if b > 59 or d > 59 or 60 * c + d < 60 * a + b:
        raise LabelFormatError(f"{source}: element time {text!r} is not a valid interval")
    return 60 * a + b, 60 * c + d


def read_annotation(path) -> LabelRecord:
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelFormatError(f"{path}: annotation file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LabelFormatError(f"{path}: not valid JSON ({e})") from None
    need = ("total_element_score", "total_program_component_score(factored)", "factor", "executed_element")
    missing = [k for k in need if k not in d]
    if missing:
        raise LabelFormatError(f"{path}: FineFS annotation without {', '.join(missing)}")
    try:
        tes, pcs_f, factor = (float(d[k]) for k in need[:3])
        ded = float(d.get("deductions", 0) or 0)
    except (TypeError, ValueError) as e:
        raise LabelFormatError(f"{path}: a score is not a number ({e})") from None
    if factor <= 0 or not all(np.isfinite([tes, pcs_f, factor])):
        raise LabelFormatError(f"{path}: scores must be finite and factor > 0 (TES {tes}, PCS {pcs_f}, factor {factor})")
    scores = {"tes": tes, "pcs": pcs_f / factor, "pcs_factored": pcs_f, "factor": factor, "deductions": ded}
    for key, short in COMPONENTS.items():
        comp = (d.get("program_component") or {}).get(key)
        if isinstance(comp, dict) and "score_of_pannel" in comp:
            scores[short] = float(comp["score_of_pannel"])
    elements = []
    if not isinstance(d["executed_element"], dict):
        raise LabelFormatError(f"{path}: executed_element must be a dict element1..N")
    for key in sorted(d["executed_element"], key=lambda k: int(re.sub(r"\D", "", k) or 0)):
        e = d["executed_element"][key]
        start, end = parse_time(e.get("time"), f"{path} {key}")
        elements.append({"name": str(e.get("element", "")), "coarse_class": str(e.get("coarse_class", "")),
                         "bv": float(e.get("bv", 0) or 0), "goe": float(e.get("goe", 0) or 0),
                         "score": float(e.get("score_of_pannel", 0) or 0), "start_s": start, "end_s": end})
    vid = path.stem
    cls = programme(int(vid)) if vid.isdigit() else "FS"
    return LabelRecord(vid, cls, scores, tuple(elements))


def _read(root, split):
    folder = root / "annotation"
    if not folder.is_dir():
        raise FileNotFoundError(f"{root}: no annotation/ folder (FineFS: annotation/<i>.json)")
    wanted = shipped_split()[split]
    have = {p.stem for p in _visible(folder, "*.json")}
    rows = [read_annotation(folder / f"{i}.json") for i in wanted if str(i) in have]
    if not rows:
        raise FileNotFoundError(f"{folder}: none of FineFS's {split} samples (lmac's split, docs) has an annotation")
    return rows


def _load_tensor(path: Path) -> np.ndarray:
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # unpickling refused (not weights-only data), truncated or not a torch file
        raise FeatureDataError(f"{path}: not a readable weights-only torch file ({type(e).__name__}: "
                               f"{str(e).splitlines()[0][:160]})") from None
    if isinstance(obj, torch.Tensor):
        return obj.detach().float().numpy()
    if isinstance(obj, np.ndarray):
        return obj
    raise FeatureDataError(f"{path}: holds a {type(obj).__name__}, expected a (T, C) tensor")


class FineFSStore(SingleModalityFileStore):
    layout = "finefs"
    suffix = ".pkl"

    def __init__(self, root):
        folder = Path(root) / "video_features"
        if not folder.is_dir():
            raise FeatureDataError(f"{root}: no video_features/ folder (FineFS: video_features/<i>.pkl)")
        super().__init__(root, folder, "video_features/<i>.pkl")

    def read(self, path: Path) -> np.ndarray:
        return _load_tensor(path)


register_layout("finefs", lambda root: (root / "video_features").is_dir() and (root / "annotation").is_dir(),
                FineFSStore)

# Seconds per row of video_features/<i>.pkl: not stated by the release (its README gives 25 fps and "VST
# pretrained on Kinetics-600"). 1.28 s assumes GDLT's VST extraction, which QGVL's features follow: 32-frame
# clips without overlap at 25 fps, one row each. It only places the annotated elements for the stage-
# localisation figures; scores do not depend on it. Check on the real data: skeleton frames / rows = 32.
SEGMENT_S = 32 / 25

# recipe: Fis-V's (skating), not tuned on FineFS
SPEC = DatasetSpec(
    name="finefs", title="FineFS (ACM MM 2023): short programmes and free skates, TES and PCS, element times",
    tasks=tuple(TaskSpec(f"finefs_{p.lower()}_{c}", "finefs", p, c, r, 128, 9e-5, 0.2, "")
                for p in ("SP", "FS") for c, r in (("tes", 130.0), ("pcs", 60.0))),
    read_split=_read, labels_hint="the FineFS folder (annotation/<i>.json)", labels_in_features=True, layout="finefs",
    segment_s=SEGMENT_S,
).register()


def write_split() -> Path:
    """Rewrite the shipped split file from the rule."""
    out = Path(__file__).resolve().parents[2] / "resources" / "splits" / "finefs.json"
    out.write_text(json.dumps(make_split()) + "\n")
    return out
