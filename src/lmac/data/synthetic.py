"""The embedded synthetic benchmark: `lmac synth OUT_DIR`.

No real benchmark features can be shipped, so the default data is generated. It poses RG's
problem, built from what judges reward (see docs/synthetic.md for the full process):

* A routine is a long sequence of 1.28-s segments holding a few **key elements** at unknown times
  (4-6 per routine, 2-4 segments each) joined by transitions that judges do not score.
* **Difficulty** (D) is the sum of the values of the elements performed (visible in RGB as the
  element's look). Dance-step elements are credited only when danced in time with the music,
  as the RG code of points requires.
* **Execution** (E) loses points for poorly executed elements (visible in RGB only while the
  element lasts; transitions show the same cue with random, unscored quality) and for
  **artistry**: each element's climax is choreographed onto a highlight of the music; an athlete
  with poor timing lands it early or late. The movement accent (flow) lands where it lands, the
  highlight (audio) is where it should have been: timing is a relation between two modalities at
  the same moments, and neither shows it alone.
* **Penalties** (P) for apparatus drops, visible as events in RGB and flow.
* **Nuisance**: athlete appearance, camera (RGB offset, flow gain), music style and tempo change
  the features but never the score. A latent skill makes D, execution and timing correlated,
  as in real RG (corr(D, E) = 0.72 in the real labels).

Score = D + E - P, written as RG-format label files. Features are low-dimensional latents pushed
through fixed random projections (one per modality, like a frozen backbone) plus noise.
Deterministic by seed.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lmac.data.features import write_native_manifest, write_native_video
from lmac.utils import atomic_write_json, atomic_write_text

SEGMENT_SECONDS = 32 / 25  # 32-frame segments at 25 fps


@dataclass
class SynthConfig:
    seed: int = 0
    classes: tuple = ("Ball", "Clubs", "Hoop", "Ribbon")
    n_train: int = 200  # per class
    n_test: int = 50  # per class
    t_min: int = 66  # segments (RG videos give about 68-75)
    t_max: int = 76
    dims: dict = field(default_factory=lambda: {"rgb": 1024, "flow": 1024, "audio": 768})
    n_elements: tuple = (4, 6)  # key elements per routine, inclusive range
    n_types: int = 16  # element types per apparatus
    beat_dim: int = 4  # dims of the music's rhythm pattern (texture, not scored)
    max_offset: float = 2.5  # segments an athlete with timing 0 lands from the music's highlight
    accent_width: float = 0.8  # segments: spread of a music highlight / movement accent around its peak
    highlight_amp: float = 5.0  # latent height of a music highlight (audio)
    accent_amp: float = 5.0  # latent height of an element's movement accent (flow)
    feature_noise: float = 0.5  # isotropic noise added in feature space
    latent_noise: float = 0.3  # noise added to every latent before projection


LATENT = {"rgb": 64, "flow": 48, "audio": 48}
ACCENT_DIMS = slice(9, 12)  # flow latent dims of the movement accents


def highlight_dims(cfg: "SynthConfig") -> slice:
    """Audio latent dims of the music highlights: after style (12) and the rhythm pattern (beat_dim)."""
    return slice(12 + cfg.beat_dim, 15 + cfg.beat_dim)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bump(t, centre, height, width):
    """An accent in time: a Gaussian burst of `height` peaking at the (real-valued) `centre`."""
    return height * np.exp(-((t - centre) ** 2) / (2 * width**2))


class _World:
    """What is fixed across videos: the 'backbones' (projections) and each apparatus' element table."""

    def __init__(self, cfg: SynthConfig, rng: np.random.Generator):
        self.proj = {
            m: rng.standard_normal((LATENT[m], cfg.dims[m])).astype(np.float32) / np.sqrt(LATENT[m])
            for m in cfg.dims
        }
        self.types = {}
        for c in cfg.classes:
            self.types[c] = {
                "value": np.round(rng.uniform(1.0, 2.8, cfg.n_types), 1),  # difficulty value of each element
                "dance": rng.random(cfg.n_types) < 0.35,  # dance steps: credited only in time with music
                "look": rng.standard_normal((cfg.n_types, 16)).astype(np.float32),  # how each type looks
            }
        self.filler_looks = rng.standard_normal((6, 16)).astype(np.float32)


def _routine(cfg: SynthConfig, world: _World, cls: str, rng: np.random.Generator) -> tuple[dict, dict, dict]:
    """One routine: returns (features per modality, label columns, ground truth)."""
    T = int(rng.integers(cfg.t_min, cfg.t_max + 1))
    skill = rng.standard_normal()
    # musicality: how well this athlete and choreography fit the music, a routine-level trait
    # only partly explained by skill (judges score artistry apart from technique)
    musicality = rng.normal(0, 1.0)
    table = world.types[cls]

    # --- nuisance: never enters the score
    appearance = rng.standard_normal(16)
    camera = rng.standard_normal(8)
    flow_gain = float(np.exp(rng.normal(0, 0.25)))
    style = rng.standard_normal(12)

    # --- the music: a rhythm pattern per phrase (3-6 segments), changing between phrases; it
    # gives the music its texture but says nothing about the score
    beats = np.zeros((T, cfg.beat_dim))
    t = 0
    while t < T:
        n = int(rng.integers(3, 7))
        beats[t : t + n] = rng.choice([-1.0, 1.0], size=cfg.beat_dim)
        t += n

    # --- key elements, one per slot of the timeline, in temporal order. The choreography puts each
    # element's climax (throw, catch, leap) on a highlight of the music; how far the athlete's
    # actual climax lands from it depends on the athlete's timing.
    n_el = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
    edges = np.linspace(1, T - 1, n_el + 1)
    logits = skill * 0.8 * (table["value"] - table["value"].mean()) / table["value"].std()
    p_type = np.exp(logits) / np.exp(logits).sum()  # skilled athletes attempt harder elements
    elements = []
    for e in range(n_el):
        length = int(rng.integers(2, 5))
        margin = cfg.max_offset + length / 2
        lo, hi = edges[e] + margin, max(edges[e] + margin, edges[e + 1] - margin)
        highlight = int(np.clip(round(rng.uniform(lo, hi)), 0, T - 1))  # where the music says "now"
        typ = int(rng.choice(cfg.n_types, p=p_type))
        quality = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))  # execution of this element
        timing = float(_sigmoid(0.6 * skill + musicality + rng.normal(0, 0.6)))  # keeps time with the music?
        offset = float(rng.choice([-1.0, 1.0]) * cfg.max_offset * (1.0 - timing))  # early or late, in segments
        # at default sizes the slot margin keeps the climax inside its slot; tiny test routines clip it
        climax = float(np.clip(highlight + offset, edges[e] + length / 2, max(edges[e] + length / 2, edges[e + 1] - length / 2)))
        start = int(np.clip(round(climax - length / 2), 0, T - 1))
        elements.append({"start": start, "end": min(start + length, T), "type": typ, "quality": quality,
                         "timing": timing, "highlight": highlight, "climax": climax})

    # --- the judges
    credit = [
        float(_sigmoid((el["timing"] - 0.45) / 0.08)) if table["dance"][el["type"]] else 1.0 for el in elements
    ]
    difficulty = sum(table["value"][el["type"]] * c for el, c in zip(elements, credit))
    exec_deduction = sum(0.6 * (1.0 - el["quality"]) for el in elements)
    artistry_deduction = 4.5 * (1.0 - np.mean([el["timing"] for el in elements]))
    execution = float(np.clip(10.0 - exec_deduction - artistry_deduction, 0.0, 10.0))
    drop_time = None
    penalty = 0.0
    if rng.random() < 0.14:
        penalty = float(rng.choice([0.3, 0.6]))
        drop_time = int(rng.integers(0, T))
    D = round(float(difficulty) * 20) / 20
    E = round(execution * 20) / 20
    total = round(D + E - penalty, 2)

    # --- what the sensors see
    z_rgb = np.zeros((T, LATENT["rgb"]))
    z_flow = np.zeros((T, LATENT["flow"]))
    z_audio = np.zeros((T, LATENT["audio"]))
    z_rgb[:, 0:16] = appearance + 0.2 * rng.standard_normal((T, 16))
    z_rgb[:, 16:24] = camera
    z_flow[:, 0:8] = camera
    z_audio[:, 0:12] = style
    z_audio[:, 12 : 12 + cfg.beat_dim] = 2.5 * beats
    # music highlights (an accent that stands out of the phrase: a crash, a hit); a highlight rings:
    # it has the same shape as the movement accent that should meet it
    t = np.arange(T)
    highlight = np.zeros(T)
    for el in elements:
        highlight = np.maximum(highlight, _bump(t, el["highlight"], cfg.highlight_amp, cfg.accent_width))
    z_audio[:, highlight_dims(cfg)] = highlight[:, None]
    # transitions: unscored movements with random quality; movement accents now and then
    filler = rng.integers(0, len(world.filler_looks), T)
    z_rgb[:, 24:40] = world.filler_looks[filler]
    z_rgb[:, 40] = rng.normal(0, 0.6, T)
    z_flow[:, 8] = 0.3  # motion energy of transitions
    accent = np.where(rng.random(T) < 0.15, rng.uniform(0.5, 1.5, T), 0.0)  # small accents of transitions
    for el in elements:
        sl = slice(el["start"], el["end"])
        z_rgb[sl, 24:40] = 2.0 * table["look"][el["type"]]
        z_rgb[sl, 40] = 8.0 * (el["quality"] - 0.5)
        value = table["value"][el["type"]]
        z_rgb[sl, 42] = 3.0 * (value - 1.9)  # harder elements look bigger: amplitude, rotations, throws
        z_flow[sl, 8] = 2.0 + 0.5 * value  # key elements are the high-motion moments; harder ones move more
        # the movement accent of the climax: a burst of motion centred on the (real-valued) climax time
        accent = np.maximum(accent, _bump(t, el["climax"], cfg.accent_amp, cfg.accent_width))
    z_flow[:, ACCENT_DIMS] = accent[:, None]
    z_flow[:, 8:12] *= flow_gain
    if drop_time is not None:
        z_rgb[drop_time, 41] = 3.0
        z_flow[drop_time, 12] = 3.0
    z_rgb[:, 43:] = rng.standard_normal((T, LATENT["rgb"] - 43))
    z_flow[:, 13:] = rng.standard_normal((T, LATENT["flow"] - 13))
    rest = highlight_dims(cfg).stop
    z_audio[:, rest:] = rng.standard_normal((T, LATENT["audio"] - rest))

    feats = {}
    for m, z in (("rgb", z_rgb), ("flow", z_flow), ("audio", z_audio)):
        if m not in cfg.dims:
            continue
        z = z + cfg.latent_noise * rng.standard_normal(z.shape)
        x = z.astype(np.float32) @ world.proj[m] + cfg.feature_noise * rng.standard_normal((T, cfg.dims[m])).astype(np.float32)
        feats[m] = x.astype(np.float32)
    labels = {"difficulty": D, "execution": E, "total": total, "penalty": penalty, "length": int(round(T * SEGMENT_SECONDS))}
    truth = {
        "T": T,
        "skill": float(skill),
        "musicality": float(musicality),
        "elements": [{**el, "value": float(table["value"][el["type"]]), "dance": bool(table["dance"][el["type"]])} for el in elements],
        "drop_segment": drop_time,
    }
    return feats, labels, truth


def video_rng(cfg: SynthConfig, cls: str, i: int) -> np.random.Generator:
    """The random stream of video `i` of class `cls`: its own, so a video does not change when sizes change."""
    return np.random.default_rng([cfg.seed, cfg.classes.index(cls), i])


def generate(out_dir, cfg: SynthConfig | None = None, layout: str = "native", progress: bool = True,
             replace_unfinished: bool = False) -> dict:
    """Write a synthetic benchmark to `out_dir`: `train.txt`/`test.txt` (RG format), features in
    `features/` (native layout, or PAMFN layout with `layout="pamfn"`), `truth.json` (the latent
    ground truth: element times, qualities, timing) and `synth.json` (the config)."""
    from tqdm import tqdm

    cfg = cfg or SynthConfig()
    if layout not in ("native", "pamfn"):
        raise ValueError(f"unknown layout {layout!r}; use native or pamfn")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: is a file; give a folder to write the synthetic benchmark to")
    if replace_unfinished and out_dir.is_dir() and not (out_dir / "synth.json").exists():
        import shutil

        shutil.rmtree(out_dir / "features", ignore_errors=True)  # a generation cut short: start it again
        for name in ("train.txt", "test.txt", "truth.json"):
            (out_dir / name).unlink(missing_ok=True)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir}: is not empty (its labels and features would be overwritten or mixed "
                              f"with other dims); choose a new folder or remove it first")
    feat_dir = out_dir / "features"
    feat_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(cfg.seed)
    world = _World(cfg, rng)
    rows = {"train": [], "test": []}
    truth = {}
    if layout == "native":
        write_native_manifest(feat_dir, cfg.dims, {"synthetic": asdict(cfg)})
    n_per = cfg.n_train + cfg.n_test
    bar = tqdm(total=n_per * len(cfg.classes), desc="synth", unit="video", disable=not progress)
    for cls in cfg.classes:
        split = np.array(["train"] * cfg.n_train + ["test"] * cfg.n_test)
        rng.shuffle(split)
        tables = {m: {} for m in cfg.dims}
        for i in range(n_per):
            vid = f"{cls}_{i + 1:03d}"
            vrng = video_rng(cfg, cls, i)
            feats, labels, tr = _routine(cfg, world, cls, vrng)
            rows[split[i]].append((vid, labels))
            truth[vid] = tr
            if layout == "native":
                write_native_video(feat_dir, vid, feats, {"synthetic": True})
            else:
                for m, x in feats.items():
                    # PAMFN stores RGB as (T, k, D) crops; write two slightly different crops
                    if m == "rgb":
                        x = np.stack([x, x + 0.01 * vrng.standard_normal(x.shape).astype(np.float32)], axis=1)
                    tables[m][vid] = x
            bar.update()
        if layout == "pamfn":
            names = {"rgb": "VST", "flow": "I3D", "audio": "AST"}
            for m, table in tables.items():
                tmp = feat_dir / f".{cls}_{m}_{names[m]}.tmp.npy"
                np.save(tmp, table, allow_pickle=True)
                tmp.replace(feat_dir / f"{cls}_{m}_{names[m]}.npy")
    bar.close()
    header = "Video_Name\tDifficulty_Score\tExecution_Score\tTotal_Score\tPenalty\tVideo_length\n"
    for split, items in rows.items():
        lines = [
            f"{vid}\t{l['difficulty']:.2f}\t{l['execution']:.2f}\t{l['total']:.2f}\t{l['penalty']:.2f}\t{l['length']}\n"
            for vid, l in items
        ]
        atomic_write_text(out_dir / f"{split}.txt", header + "".join(lines))
    atomic_write_json(out_dir / "truth.json", truth)
    atomic_write_json(out_dir / "synth.json", {"layout": layout, **asdict(cfg)})
    return {"videos": len(truth), "train": len(rows["train"]), "test": len(rows["test"]), "features": str(feat_dir)}


def ensure_generated(out_dir, cfg: SynthConfig, layout: str = "native", progress: bool = False) -> Path:
    """Generate `cfg` into `out_dir` unless it is already there (its synth.json, written last, is the
    mark of a finished folder). A folder made with a different config is an error, not silently reused:
    its numbers would not be the ones asked for."""
    out_dir = Path(out_dir)
    marker = out_dir / "synth.json"
    if marker.is_file():
        want = json.loads(json.dumps({"layout": layout, **asdict(cfg)}))  # tuples -> lists, as stored
        have = json.loads(marker.read_text())
        diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
        if diff:
            raise ValueError(f"{out_dir} holds synthetic data made with other settings ({', '.join(diff)} differ); "
                             "use another folder or delete it")
        return out_dir
    generate(out_dir, cfg, layout=layout, progress=progress, replace_unfinished=True)
    return out_dir
