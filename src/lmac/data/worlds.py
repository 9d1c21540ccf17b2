"""Independent synthetic worlds: `lmac benchmark --suite worlds` (`--worlds NAME,...` picks some).

One generator (`lmac synth`) is one yardstick, and a model can be shaped to it without anyone
meaning to. So each world here is designed from a different judging rule, shows it through the
features in a different way, and differs in feature dims, length, number of elements, noise, the
"backbone" that maps latents to features (linear or a random ReLU network), and the label law
(RG: D + E - P; Fis-V: TES and PCS). docs/worlds.md states each world's rule and what each
modality shows. A draw (`seed`) draws a whole new world -- backbones, element tables -- and new
routines.

Development worlds (models and recipes may be chosen on their *validation* splits):
  rg         today's RG-like world (docs/synthetic.md): timing of element climaxes on music highlights
  amplitude  skating jumps: an element's points are execution (RGB) x amplitude (flow) at the same moment
  energy     the movement's energy (flow) should match the music's intensity (audio) at each element
  execution  only execution counts; a weak cue spread over many dims, many look-alike distractor moments,
             flow and audio structured but irrelevant: extra modalities must not hurt

Held-out worlds (`held_out=True`): written with the development worlds, designed the same way, and
generated and run once, at the end, after the default model and its recipe were fixed. Nothing may be
chosen on them. `lmac benchmark --suite worlds` refuses them unless `--held-out` is given.
  landing    skating: jumps earn a bonus when they land on the music's strong beat; PCS rewards movement
             energy that follows the music's intensity across the whole programme
  catch      RG clubs: a throw's value counts only if its catch (RGB) follows the throw (flow); artistry is
             the movement's tempo (flow) matching the music's tempo (audio)
The first two were run once on 2026-12-04 and are spent. A second round, written on 2026-12-04 before any
model was run on it and before any further default was chosen, waits for the next fixed default:
  phrasing   RG: the movement (flow) should change character where the music (audio) changes phrase, and end
             with the music
  spins      skating: spins earn points for a held position (RGB) times a steady rotation (flow's spread over
             the spin); jumps late in the programme earn a 10% bonus; PCS: music accents (audio) marked by
             movement accents (flow)
Those two were run once on 2026-12-04 and are spent. A third round, written on 2026-12-04 before any model was
run on it, waits for the next fixed default:
  combos     skating: a jump combination counts in full only when the second jump leaves straight from the first
             one's landing (flow), and a repeated solo jump (RGB looks compared across the programme) earns 70%
  pauses     RG: a stop of the movement (flow) is a fault unless it falls on a rest of the music (audio)
Those two were run once on 2026-12-04 and are spent. A fourth round, written on 2026-12-04 before any model was
run on it, was run once for the default with aligned pairs the same day and is spent too:
  drops      RG: E loses 0.7 for each drop of the ball: empty hands (RGB) at a bounce (flow, audio); legal bounces
             and balances look alike in each stream alone
  character  skating: PCS rewards a movement style (RGB) that fits the music's character (audio), section by section
A fifth round, written on 2026-12-04 with the sixteenth candidate's rule, before its screen ran and before any
model was run on it, was run once for the default that rule left (the ridge at double weight) and is spent too:
  articulation  RG: E loses 0.4 for each jump (RGB) on legato music and each balance on staccato music (audio)
  consistency   skating, RGB only: PCS marks down an uneven programme (the spread of the elements' execution);
                flow and audio carry nothing scored
A sixth round, written on 2026-12-04 with the seventeenth candidate's rule, before its screen ran and before any
model was run on it, was run once for the default with shared moments (the eighteenth) and is spent too:
  tempo      RG: E loses 0.2 per level that an element's pace (flow) is off the music's tempo (audio) under it
  counting   RG, RGB only: an element with a major fault is not recognised, and D counts only the 8 highest
             values; flow and audio carry nothing scored
Those two were run once on 2026-12-04 and are spent. A seventh round, written on 2026-12-04 with the nineteenth
candidate's rule, before its screen ran and before any model was run on it, was run once for today's default (the
eighteenth; the nineteenth missed its rule) the same day and is spent too:
  climax     skating: PCS rewards a programme whose movement climax (flow) meets the music's climax (audio)
  balances   RG: E loses 0.8 x the sway (flow) of each balance (RGB); jumps and rotations move a lot by nature
An eighth round, written on 2026-12-05 with the twentieth candidate's rule, before its screen ran and before any model
was run on it, waits for the next fixed default:
  motifs     RG: E loses 0.6 for each statement of the music's theme (audio) that the gymnast's motif (RGB, flow)
             does not answer; theme and motif are drawn anew for every routine
  glide      skating: PCS is speed and glide over the ice (flow) minus stumbles; TES jumps (RGB); no score needs two
             streams
Those two were run once on 2026-12-05 for today's default and are spent. A ninth round, written on 2026-12-06 with the
twenty-second candidate's rule, before its screen ran and before any model was run on it, was run once for that
candidate (the gated default) the same day and is spent too:
  edges      skating: PCS is deep edges at speed, how closely the body's lean (RGB) and the speed (flow) move together
             over the programme; TES jumps (RGB)
  cuts       RG: E loses 0.7 for each abrupt cut in the music (audio alone shows it)
A tenth round, written on 2026-12-06 before any model was run on it and before any next candidate was named, was run
once for today's default the same day (the twenty-third candidate missed its rule) and is spent too:
  entries    skating: a jump entered straight from footwork (flow, the two segments before take-off) earns 30% of its
             base value; footwork elsewhere counts for nothing, so only the order in time is scored; PCS: the share of
             jumps so entered
  space      RG: E loses 0.6 for each level (RGB: floor, standing, air) and 0.45 for each direction of travel (flow)
             that none of the elements uses
An eleventh round, written on 2026-12-06 while the tenth was run once for today's default, before any model was run
on it and before any next candidate was named, was run once for the twenty-fifth candidate (gated pretraining, the
default since) the same day and is spent too:
  stamina    skating: PCS loses 8 x the fade of a skater who goes out too fast (flow: speed falling in a line over the
             programme, the same mean whatever the fade), so where in the programme the speed is high is scored
  rotations  RG: D gains 0.2 for each rotation of the body (flow) under the apparatus's flight (RGB: the apparatus
             up); as many turns on the floor elsewhere earn nothing
A twelfth round, written on 2026-12-06 after the eleventh was run and before any model was run on it or any next
candidate was named, was run once for the twenty-sixth candidate and is spent:
  lag        RG: every gymnast marks each of the music's accents (audio) with a movement accent (flow), some late; E
             loses 0.1 for each segment of lateness, so the size of a delay between two streams is scored
  falls      skating: a fallen jump earns half its base value less 1; the fall shows weakly in RGB (the skater down)
             and weakly in flow (her stop), each beside its own look-alikes, so either stream alone shows it
A thirteenth round, written on 2026-12-06 after the twelfth was run and before any model was run on it or any next
candidate was named, was run once for the twenty-seventh candidate (key pooling, the default since) and is spent:
  contour    RG: E loses 0.3 for each element whose movement (flow: up or down) goes against the melody's line (audio:
             rising or falling under the element, a change over time that no single moment shows)
  coverage   skating: PCS rewards a path that covers the rink; flow shows only the velocity each segment, at one
             speed for every skater, so where she is is a sum over time
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import scipy.stats

from lmac.data.features import write_native_manifest, write_native_video
from lmac.utils import atomic_write_json, atomic_write_text

SEGMENT_SECONDS = 32 / 25


@dataclass
class WorldConfig:
    world: str
    seed: int = 0
    n_train: int = 200
    n_test: int = 200
    dims: dict = field(default_factory=lambda: {"rgb": 128, "flow": 128, "audio": 96})
    t_range: tuple = (66, 76)  # segments, inclusive
    n_elements: tuple = (4, 6)  # inclusive
    backbone: dict = field(default_factory=lambda: {"rgb": "linear", "flow": "linear", "audio": "linear"})
    feature_noise: float = 0.5
    latent_noise: float = 0.3


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bump(t, centre, height, width):
    return height * np.exp(-((t - centre) ** 2) / (2 * width**2))


class Backbone:
    """A frozen stand-in for a pretrained network: latent (T, n) -> features (T, D). `linear`: one random
    projection; `relu`: a random two-layer ReLU network (features that no linear read-out inverts)."""

    def __init__(self, rng, latent: int, dim: int, kind: str):
        if kind not in ("linear", "relu"):
            raise ValueError(f"backbone must be linear or relu, got {kind!r}")
        self.kind = kind
        if kind == "linear":
            self.w = rng.standard_normal((latent, dim)).astype(np.float32) / np.sqrt(latent)
        else:
            self.w1 = rng.standard_normal((latent, 2 * latent)).astype(np.float32) / np.sqrt(latent)
            self.w2 = rng.standard_normal((2 * latent, dim)).astype(np.float32) * np.sqrt(2.0 / (2 * latent))

    def __call__(self, z):
        z = z.astype(np.float32)
        if self.kind == "linear":
            return z @ self.w
        return np.maximum(z @ self.w1, 0.0) @ self.w2


def _fisv_labels(tes: float, pcs: float, falls: int = 0) -> dict:
    """Fis-V label columns: TES and PCS within the dataset's 0-45 range, to 0.01 as published, and the falls."""
    return {"tes": round(float(np.clip(tes, 0, 45)), 2), "pcs": round(float(np.clip(pcs, 0, 45)), 2), "falls": falls}


def _correlated(rng, x: float, r: float = 0.4) -> float:
    """A standard-normal trait correlated r with the standard-normal `x` (a skill of its own, partly shared)."""
    return r * x + float(np.sqrt(1 - r ** 2)) * rng.standard_normal()


def _rg_labels(difficulty: float, execution: float, penalty: float, T: int) -> dict:
    """RG label columns: D and E rounded to 0.05 as judges do, Total = D + E - P."""
    D, E = round(difficulty * 20) / 20, round(execution * 20) / 20
    return {"difficulty": D, "execution": E, "total": round(D + E - penalty, 2), "penalty": penalty,
            "length": int(round(T * SEGMENT_SECONDS))}


def _passages(rng, T: int, dims: int, length: int, height: float = 1.5) -> np.ndarray:
    """Music as passages of `length` segments, each a random texture over `dims` latent values: (T, dims)."""
    return height * np.repeat(rng.standard_normal((T // length + 1, dims)), length, 0)[:T]


def _unscored_music(rng, z: dict, T: int) -> None:
    """Music that judges do not score, written into z["audio"]: passages of 8 segments (latent 10-15) and 4-7
    highlights (latent 16). It makes the audio stream rich, so that a model must learn to ignore it."""
    z["audio"][:, 10:16] = _passages(rng, T, 6, 8)
    z["audio"][rng.choice(T, int(rng.integers(4, 8)), replace=False), 16] = 3.0


def _spans(rng, T: int, length: tuple[int, int]) -> list[tuple[int, int]]:
    """(start, end) of consecutive spans covering T segments, each of `length` (lo, hi) segments drawn in turn; a
    last span shorter than lo // 2 is joined to the one before (the music's sections or phrases)."""
    out, s = [], 0
    while s < T:
        n = int(rng.integers(length[0], length[1] + 1))
        out.append((s, min(s + n, T)))
        s += n
    if len(out) > 1 and out[-1][1] - out[-1][0] < length[0] // 2:
        out[-2:] = [(out[-2][0], T)]
    return out


def _slots(rng, T: int, n: int, length=(2, 4), margin: float = 0.0):
    """n elements in temporal order, one per equal slot of the timeline: (start, end, centre) each."""
    edges = np.linspace(1, T - 1, n + 1)
    out = []
    for e in range(n):
        L = int(rng.integers(length[0], length[1] + 1))
        lo = edges[e] + margin
        hi = max(lo, edges[e + 1] - L - margin)
        start = int(np.clip(round(rng.uniform(lo, hi)), 0, T - 1))
        end = min(start + L, T)
        out.append((start, end, (start + end - 1) / 2))
    return out


class World:
    """What a draw fixes (backbones, element tables) and how one routine is made. Subclasses set
    LATENT (latent size per modality), LAW (rg | fisv), DEFAULTS and implement `routine`."""

    LATENT: dict = {"rgb": 64, "flow": 48, "audio": 48}
    LAW = "rg"
    CLASS = "Ball"  # RG-law worlds: the id prefix, so the RG task of that class reads them
    DEFAULTS: dict = {}
    held_out = False

    def __init__(self, cfg: WorldConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.backbones = {m: Backbone(rng, self.LATENT[m], cfg.dims[m], cfg.backbone[m]) for m in cfg.dims}
        self.setup(rng)

    def setup(self, rng):
        pass

    def routine(self, rng) -> tuple[dict, dict, dict]:
        """-> (latents {modality: (T, LATENT[m])}, labels, truth)."""
        raise NotImplementedError

    def features(self, z: dict, rng) -> dict:
        out = {}
        for m, zm in z.items():
            zm = zm + self.cfg.latent_noise * rng.standard_normal(zm.shape)
            x = self.backbones[m](zm) + self.cfg.feature_noise * rng.standard_normal((len(zm), self.cfg.dims[m]))
            out[m] = x.astype(np.float32)
        return out

    def nuisance(self, z, rng, T):
        """Per-routine constants that never enter the score: appearance and camera (RGB, flow), music
        style (audio); written into the first dims of each latent."""
        z["rgb"][:, 0:12] = rng.standard_normal(12) + 0.2 * rng.standard_normal((T, 12))
        z["flow"][:, 0:6] = rng.standard_normal(6)
        z["audio"][:, 0:10] = rng.standard_normal(10)

    def begin_musical(self, rng):
        """How a routine starts in the worlds whose judges reward musicality: its length T, the skater's skill, a
        musicality correlated with skill, and the latents with the nuisance written in."""
        T = int(rng.integers(self.cfg.t_range[0], self.cfg.t_range[1] + 1))
        skill = rng.standard_normal()
        musical = 0.5 * skill + 0.9 * rng.standard_normal()
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        return T, skill, musical, z

    def valued_elements(self, rng, z, T: int, skill: float, length: tuple, centre: float):
        """RG-law elements in the first T segments (phrasing, pauses): each shows its value (a look, and a value
        cue around `centre`) and its quality q in RGB. Returns (D: the values' sum, technical deductions
        0.4 (1 - q) summed, the elements)."""
        difficulty, tech, elements = 0.0, 0.0, []
        n = int(rng.integers(self.cfg.n_elements[0], self.cfg.n_elements[1] + 1))
        for start, end, _ in _slots(rng, T, n, length=length):
            typ = int(rng.integers(0, len(self.value)))
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
            difficulty += self.value[typ]
            tech += 0.4 * (1 - q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 3.0 * (self.value[typ] - centre)
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q})
        return difficulty, tech, elements

    def jumps(self, rng, z, T: int, skill: float):
        """Fis-V-law TES from `n_elements[0]` jumps (climax, glide), one per slot: base value (`jump_value`) x (0.5 +
        q), q the execution; RGB shows each jump's look, quality and value, flow its take-off and flight. Returns
        (TES, the elements)."""
        tes, elements = 0.0, []
        for start, end, _ in _slots(rng, T, int(self.cfg.n_elements[0]), length=(2, 3), margin=1):
            typ = int(rng.integers(0, len(self.jump_value)))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            pts = self.jump_value[typ] * (0.5 + q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 0.8 * (self.jump_value[typ] - 2.75)
            z["flow"][start:end, 7] = 3.0  # take-off and flight
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.jump_value[typ]), "q": q,
                             "points": float(pts)})
            tes += pts
        return tes, elements

    def fill_noise(self, z, rng, used: dict):
        """Unstructured latent dims after the last used one of each modality."""
        for m, n in used.items():
            z[m][:, n:] = rng.standard_normal((len(z[m]), self.LATENT[m] - n))


# ------------------------------------------------------------------------------------------------
# (a) rg: today's generator, one apparatus


class RGWorld(World):
    """docs/synthetic.md, Ball only: D (RGB look; dance steps credited only in time with the music),
    E (RGB quality; artistry = climaxes on the music's highlights), P (drops)."""

    LAW = "rg"
    CLASS = "Ball"
    DEFAULTS = dict(dims={"rgb": 128, "flow": 128, "audio": 96}, t_range=(66, 76), n_elements=(4, 6))

    def setup(self, rng):
        from lmac.data.synthetic import SynthConfig, _World

        self.synth_cfg = SynthConfig(seed=self.cfg.seed, classes=(self.CLASS,), t_min=self.cfg.t_range[0],
                                     t_max=self.cfg.t_range[1], dims=dict(self.cfg.dims),
                                     n_elements=tuple(self.cfg.n_elements), feature_noise=self.cfg.feature_noise,
                                     latent_noise=self.cfg.latent_noise)
        self.synth_world = _World(self.synth_cfg, rng)

    def make(self, rng):
        from lmac.data.synthetic import _routine

        return _routine(self.synth_cfg, self.synth_world, self.CLASS, rng)


# ------------------------------------------------------------------------------------------------
# (b) amplitude: skating jumps, execution x amplitude


class AmplitudeWorld(World):
    """Fis-V law. TES = sum over 7-11 elements of base value x (0.3 + 1.4 q a), with q the execution
    (landing, posture: RGB, during the element) and a the amplitude (height and distance: flow, during the
    element). A big jump badly landed and a clean small jump both earn little: the points are an
    interaction of two modalities at the same moment. A fall (RGB and flow event) scores 0.3 of the base
    value. PCS (skating skills, composition) is a routine-level trait seen all along: the glide's steadiness
    in flow and the posture in RGB, both noisy. Audio is music with no bearing on the score."""

    LAW = "fisv"
    LATENT = {"rgb": 72, "flow": 56, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 1024, "flow": 1024, "audio": 768}, t_range=(120, 140), n_elements=(7, 11),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.6)

    def setup(self, rng):
        self.n_types = 12
        self.value = np.round(rng.uniform(1.5, 6.0, self.n_types), 1)
        self.look = rng.standard_normal((self.n_types, 12))
        self.q_dir = rng.standard_normal(4)
        self.q_dir /= np.linalg.norm(self.q_dir)
        self.a_dir = rng.standard_normal(4)
        self.a_dir /= np.linalg.norm(self.a_dir)

    def make(self, rng):
        cfg = self.cfg
        T = int(rng.integers(cfg.t_range[0], cfg.t_range[1] + 1))
        skill, power = rng.standard_normal(2)
        skating = 0.6 * skill + 0.8 * rng.standard_normal()
        n_el = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        t = np.arange(T)
        # transitions: crossovers and steps; their look and motion are not scored
        z["rgb"][:, 12:24] = 0.7 * rng.standard_normal((T, 12))
        z["rgb"][:, 24:28] = rng.normal(0, 0.7, (T, 1)) * self.q_dir  # transition "quality": unscored
        z["flow"][:, 6:10] = rng.normal(0, 0.5, (T, 1)) * self.a_dir
        # skating skills: steadiness of the glide (flow jitter) and posture (RGB), all along
        z["flow"][:, 10] = 0.5 * skating + rng.normal(0, 1.0, T)
        z["rgb"][:, 28] = 0.3 * skating + rng.normal(0, 1.0, T)
        elements, tes, falls = [], 0.0, 0
        p = _sigmoid(0.8 * skill * (self.value - self.value.mean()) / self.value.std())
        p = p / p.sum()
        for start, end, centre in _slots(rng, T, n_el, length=(2, 3)):
            typ = int(rng.choice(self.n_types, p=p))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.9)))
            a = float(_sigmoid(0.8 * power + 0.3 * skill + rng.normal(0, 0.9)))
            fell = bool(rng.random() < 0.25 * (1.0 - q))
            pts = self.value[typ] * (0.3 if fell else 0.3 + 1.4 * q * a)
            tes += pts
            falls += fell
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24:28] = 6.0 * (q - 0.5) * self.q_dir
            z["rgb"][sl, 29] = 0.8 * (self.value[typ] - 3.7)
            z["flow"][sl, 6:10] = (1.0 + 6.0 * a) * self.a_dir
            if fell:
                z["rgb"][end - 1, 30] = 3.0
                z["flow"][end - 1, 11] = 3.0
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q,
                             "a": a, "fell": fell, "points": float(pts)})
        # the music: sections of a style-specific texture, unrelated to the score
        sec = 0
        while sec < T:
            n = int(rng.integers(8, 20))
            z["audio"][sec:sec + n, 10:16] = 2.0 * rng.standard_normal(6)
            sec += n
        z["audio"][:, 16] = _bump(t, rng.uniform(0, T), 3.0, 6.0)  # a crescendo somewhere
        # PCS: skating skills, and performance judged partly on how the elements came off; judges disagree
        pcs = 20.0 + 8.0 * _sigmoid(skating) + 12.0 * np.mean([e["q"] * e["a"] for e in elements]) + rng.normal(0, 1.2)
        self.fill_noise(z, rng, {"rgb": 31, "flow": 12, "audio": 17})
        labels = _fisv_labels(tes, pcs, falls)
        return z, labels, {"T": T, "skill": float(skill), "power": float(power), "skating": float(skating),
                           "elements": elements}


# ------------------------------------------------------------------------------------------------
# (c) energy: movement energy should match the music's intensity at each element


class EnergyWorld(World):
    """RG law. The music moves between soft and loud passages (audio: an intensity level). At each of 6-9
    elements, the judges want the movement's energy (flow) to match the music's intensity at that moment:
    artistry deductions 8 x mean |energy - intensity| over elements (energy and intensity in [0, 1]). Neither modality shows the mismatch
    alone: a loud passage wants a powerful element, a soft one a restrained one. D is the sum of the
    elements' values (RGB look and amplitude), E also loses technical deductions (RGB quality), P drops."""

    LAW = "rg"
    CLASS = "Clubs"
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 256, "audio": 128}, t_range=(60, 80), n_elements=(6, 9),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.4)

    def setup(self, rng):
        self.n_types = 14
        self.value = np.round(rng.uniform(0.8, 1.4, self.n_types), 1)
        self.look = rng.standard_normal((self.n_types, 12))

    def make(self, rng):
        cfg = self.cfg
        T = int(rng.integers(cfg.t_range[0], cfg.t_range[1] + 1))
        skill = rng.standard_normal()
        interpretation = 0.4 * skill + 0.9 * rng.standard_normal()  # how well energy follows the music
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        # the music's intensity: passages of 6-14 segments at levels in [0, 1], smoothed
        level = np.zeros(T)
        s = 0
        while s < T:
            n = int(rng.integers(6, 15))
            level[s:s + n] = rng.uniform(0, 1)
            s += n
        kernel = np.exp(-0.5 * (np.arange(-3, 4) / 1.2) ** 2)
        level = np.convolve(np.pad(level, 3, mode="edge"), kernel / kernel.sum(), mode="valid")
        z["audio"][:, 10] = 4.0 * (level - 0.5)
        z["audio"][:, 11:15] = 1.5 * rng.standard_normal((T, 4))  # beat texture, unscored
        # transitions: moderate, random energy
        z["flow"][:, 6] = rng.uniform(-1.0, 1.0, T)
        z["rgb"][:, 12:24] = 0.7 * rng.standard_normal((T, 12))
        z["rgb"][:, 24] = rng.normal(0, 0.6, T)
        n_el = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
        p = np.exp(0.8 * skill * (self.value - self.value.mean()) / self.value.std())
        p /= p.sum()
        elements, mism = [], []
        difficulty, tech = 0.0, 0.0
        for start, end, centre in _slots(rng, T, n_el, length=(2, 4)):
            typ = int(rng.choice(self.n_types, p=p))
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
            want = float(level[start:end].mean())
            energy = float(np.clip(want + 0.45 * (1.0 - 0.8 * np.tanh(interpretation)) * rng.normal(), 0, 1))
            mism.append(abs(energy - want))
            difficulty += self.value[typ]
            tech += 0.5 * (1 - q)
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24] = 7.0 * (q - 0.5)
            z["rgb"][sl, 25] = 3.0 * (self.value[typ] - 1.3)
            z["flow"][sl, 6] = 5.0 * (energy - 0.5)
            z["flow"][sl, 7] = 2.0  # key elements move more than transitions
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q,
                             "energy": energy, "intensity": want})
        E = float(np.clip(10.0 - tech - 8.0 * np.mean(mism), 0, 10))
        penalty, drop = 0.0, None
        if rng.random() < 0.12:
            penalty, drop = float(rng.choice([0.3, 0.6])), int(rng.integers(0, T))
            z["rgb"][drop, 26] = 3.0
            z["flow"][drop, 8] = 3.0
        self.fill_noise(z, rng, {"rgb": 27, "flow": 9, "audio": 15})
        labels = _rg_labels(difficulty, E, penalty, T)
        return z, labels, {"T": T, "skill": float(skill), "interpretation": float(interpretation),
                           "elements": elements, "drop_segment": drop}


# ------------------------------------------------------------------------------------------------
# (d) execution: only execution counts; weak cue, many distractors, irrelevant extra modalities


class ExecutionWorld(World):
    """RG layout, score = E only (D and P are written as 0). 8-12 elements; each element's quality shows in
    RGB as a weak cue spread over 8 latent dims (per dim, under a third of the noise). Distractors: as many
    warm-up moves as elements, which look like elements (same looks), show the same quality cue with
    random, unscored quality, and are told apart only by a weak RGB marker. Flow and audio are rich --
    motion bursts at elements *and* distractors, music with highlights -- but say nothing about the score:
    a model that reads them must learn to ignore them."""

    LAW = "rg"
    CLASS = "Hoop"
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 256, "flow": 512, "audio": 128}, t_range=(80, 100), n_elements=(8, 12),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "linear"}, feature_noise=0.7)

    def setup(self, rng):
        self.look = rng.standard_normal((10, 12))
        d = rng.standard_normal(8)
        self.q_dir = d / np.linalg.norm(d)

    def make(self, rng):
        cfg = self.cfg
        T = int(rng.integers(cfg.t_range[0], cfg.t_range[1] + 1))
        skill = rng.standard_normal()
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        t = np.arange(T)
        n_el = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
        # 2 n moments: half are scored elements, half distractors, shuffled in time
        moments = _slots(rng, T, 2 * n_el, length=(2, 3))
        scored = np.zeros(2 * n_el, bool)
        scored[rng.choice(2 * n_el, n_el, replace=False)] = True
        z["rgb"][:, 12:24] = 0.5 * rng.standard_normal((T, 12))
        deductions, elements = [], []
        for (start, end, centre), is_el in zip(moments, scored):
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8))) if is_el else float(rng.uniform(0, 1))
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[rng.integers(0, len(self.look))]
            z["rgb"][sl, 24:32] = 2.4 * (q - 0.5) * self.q_dir * np.sqrt(8) / 2  # weak per dim
            z["rgb"][sl, 32] = 1.0 if is_el else 0.0  # the only mark of a scored element: weak
            z["flow"][sl, 6] = rng.uniform(1.5, 3.0)  # every moment moves: motion says nothing
            if is_el:
                deductions.append(1 - q)
                elements.append({"start": start, "end": end, "q": q})
        z["audio"][:, 10:14] = 1.5 * np.repeat(rng.choice([-1.0, 1.0], (T // 4 + 1, 4)), 4, 0)[:T]
        for c in rng.uniform(0, T, int(rng.integers(4, 9))):
            z["audio"][:, 14] = np.maximum(z["audio"][:, 14], _bump(t, c, 4.0, 0.8))  # highlights: unscored
        self.fill_noise(z, rng, {"rgb": 33, "flow": 7, "audio": 15})
        # judges deduct per element, and the routine's length is set by the rules: a mean, so that the
        # number of moments (which flow shows) does not tell the score
        labels = _rg_labels(0.0, float(np.clip(10.0 - 7.0 * np.mean(deductions), 0, 10)), 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "elements": elements}


# ------------------------------------------------------------------------------------------------
# Held-out worlds: designed with the others, generated and run once at the end.


class LandingWorld(World):
    """Fis-V law, held out. The music has a beat with a strong beat every 4 (audio). Each of 8-12 jumps earns
    base value x (0.5 + q), q its execution (RGB, a nonlinear backbone), plus a bonus of 0.6 x base value
    when its landing (a flow burst) falls on a strong beat -- a cross-modal timing rule on a discrete grid.
    PCS (interpretation): how closely the movement's energy (flow) follows the music's intensity (audio)
    over the whole programme, as a correlation over time, plus a skating-skill trait."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 48, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 1024, "audio": 128}, t_range=(125, 150), n_elements=(8, 12),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "linear"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(rng.uniform(1.0, 4.0, 10), 1)
        self.look = rng.standard_normal((10, 12))

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        t = np.arange(T)
        phase = int(rng.integers(0, 4))
        strong = (t + phase) % 4 == 0
        z["audio"][:, 10] = np.where(strong, 3.0, 1.0) * ((t + phase) % 2 == 0)
        intensity = np.convolve(rng.uniform(0, 1, T // 10 + 2).repeat(10)[:T], np.ones(5) / 5, mode="same")
        z["audio"][:, 11] = 4.0 * (intensity - 0.5)
        follow = float(_sigmoid(musical))
        energy = follow * intensity + (1 - follow) * rng.uniform(0, 1, T // 10 + 2).repeat(10)[:T]
        z["flow"][:, 6] = 4.0 * (energy - 0.5)
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = 0.0, []
        for start, end, centre in _slots(rng, T, int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1)),
                                          length=(2, 3), margin=1):
            typ = int(rng.integers(0, len(self.value)))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            landing = int(min(end, T - 1))
            if rng.random() < _sigmoid(1.5 * musical):  # musical skaters aim their landings at the strong beat
                landing = int(min(T - 1, landing + (-(landing + phase)) % 4))
            on_beat = bool(strong[landing])
            tes += self.value[typ] * (0.5 + q + (0.6 if on_beat else 0.0))
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["flow"][landing, 7] = 4.0
            elements.append({"start": start, "end": end, "type": typ, "q": q, "landing": landing, "on_beat": on_beat})
        corr = float(np.corrcoef(energy, intensity)[0, 1]) if np.std(energy) > 0 else 0.0
        pcs = 18.0 + 8.0 * _sigmoid(skill) + 8.0 * max(corr, 0.0) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 25, "flow": 8, "audio": 12})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "corr": corr, "elements": elements}


class CatchWorld(World):
    """RG law, held out. 5-8 apparatus throws: each shows as an upward motion burst (flow) and, 1-3 segments
    later, a catch (RGB) that is clean or not. A throw's value counts only if caught cleanly, so D needs the
    throw (flow) and the catch (RGB) together. Artistry: the movement's tempo (flow: the period of a
    repeating motion pattern) should match the music's tempo (audio: the beat period); E loses
    2.5 x |log2(movement tempo / music tempo)|."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 1024, "flow": 128, "audio": 512}, t_range=(62, 78), n_elements=(5, 8),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.8, 8), 1)
        self.look = rng.standard_normal((8, 10))

    def make(self, rng):
        cfg = self.cfg
        T = int(rng.integers(cfg.t_range[0], cfg.t_range[1] + 1))
        skill = rng.standard_normal()
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        t = np.arange(T)
        music_period = float(rng.choice([2.0, 3.0, 4.0, 6.0]))
        move_period = music_period * float(2.0 ** (rng.normal(0, 0.5) * (1.2 - 0.5 * np.tanh(skill))))
        z["audio"][:, 10] = 2.0 * np.cos(2 * np.pi * t / music_period)
        z["audio"][:, 11] = 2.0 * np.sin(2 * np.pi * t / music_period)
        z["flow"][:, 6] = 2.0 * np.cos(2 * np.pi * t / move_period)
        z["flow"][:, 7] = 2.0 * np.sin(2 * np.pi * t / move_period)
        z["rgb"][:, 12:22] = 0.6 * rng.standard_normal((T, 10))
        difficulty, tech, elements = 0.0, 0.0, []
        for start, end, centre in _slots(rng, T, int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1)),
                                          length=(3, 4)):
            typ = int(rng.integers(0, len(self.value)))
            caught = bool(rng.random() < _sigmoid(1.2 * skill + 0.8))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            catch = min(end - 1, start + int(rng.integers(1, 3)))
            z["flow"][start, 8] = 4.0  # the throw
            z["rgb"][start:end, 12:22] = 2.0 * self.look[typ]
            z["rgb"][catch, 22] = 4.0 if caught else -4.0  # clean catch or a bobble
            z["rgb"][start:end, 23] = 6.0 * (q - 0.5)
            # a catch-like bobble sometimes appears without a throw: only the pair counts
            difficulty += self.value[typ] * caught
            tech += 0.5 * (1 - q)
            elements.append({"start": start, "end": end, "type": typ, "caught": caught, "catch": catch, "q": q})
        for s in rng.choice(T, 3, replace=False):
            z["rgb"][s, 22] = 4.0
        mismatch = abs(np.log2(move_period / music_period))
        E = float(np.clip(10.0 - tech - 2.5 * mismatch, 0, 10))
        self.fill_noise(z, rng, {"rgb": 24, "flow": 9, "audio": 12})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "music_period": music_period,
                           "move_period": move_period, "elements": elements}


# ------------------------------------------------------------------------------------------------
# The second round of held-out worlds (written 2026-12-04, after `landing` and `catch` were run and spent,
# and before any model was run on these or any further default was chosen; see docs/worlds.md).


class PhrasingWorld(World):
    """RG law, held out (second round). The music is built of phrases (audio: each phrase has its own timbre);
    a musical gymnast changes the character of her movement (flow: a movement-style vector) where the music
    changes phrase. E loses 0.4 for each phrase boundary that no movement change marks within one segment,
    and 0.3 when the movement does not end with the music (the FIG's artistic fault "lack of synchronisation
    between the end of the movement and the end of the music"). Movement also changes where the music does
    not (no fault), so counting changes in flow does not tell the score. D: the elements' values (RGB look);
    E also loses technical deductions (RGB quality)."""

    LAW = "rg"
    CLASS = "Hoop"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 768, "audio": 256}, t_range=(70, 90), n_elements=(5, 8),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.6)

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.6, 1.3, 10), 1)
        self.look = rng.standard_normal((10, 12))

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        # the ending: the movement stops (a held final pose) `move_end` segments before the video ends, the music
        # `music_end` segments before; in time when they differ by at most one segment
        move_end = int(rng.integers(1, 5))
        in_time = rng.random() < _sigmoid(1.2 * musical + 0.8)
        music_end = move_end if in_time else int(np.clip(move_end + rng.choice([-3, -2, 2, 3]), 0, 7))
        music_T, move_T = T - music_end, T - move_end
        # the music's phrases: 8-16 segments, each with its own timbre; silence after the music ends
        bounds, s = [], 0
        while True:
            n = int(rng.integers(8, 17))
            z["audio"][s:min(s + n, music_T), 10:18] = 2.0 * rng.standard_normal(8)
            s += n
            if s >= music_T - 2:
                break
            bounds.append(s)
        z["audio"][:, 18:22] = 1.2 * rng.standard_normal((T, 4))  # beat texture, unscored
        z["audio"][music_T:, 10:22] = 0.0
        z["audio"][music_T:, 22] = 3.0  # silence
        # the movement's changes of character: near each boundary (sd and misses shrink with musicality), and a
        # few where the music does not change
        sd = 2.2 * (1.0 - 0.6 * np.tanh(musical))
        changes = []
        for b in bounds:
            if rng.random() < 0.15 + 0.35 * _sigmoid(-1.5 * musical):
                continue  # the boundary passes without a change
            changes.append(int(np.clip(b + round(rng.normal(0, sd)), 1, move_T - 1)))
        changes += [int(c) for c in rng.integers(1, max(2, move_T - 1), int(rng.integers(1, 4)))]
        changes = sorted(set(changes))
        edges = [0] + changes + [move_T]
        for a, b in zip(edges[:-1], edges[1:]):
            z["flow"][a:b, 6:12] = 2.0 * rng.standard_normal(6)
        z["flow"][:move_T, 12] = rng.uniform(0.5, 1.5, move_T)  # moving
        z["rgb"][move_T:, 26] = 3.0  # the final pose
        unmarked = sum(1 for b in bounds if not any(abs(c - b) <= 1 for c in changes))
        late_end = abs(music_end - move_end) > 1
        # elements: RGB look (value) and quality
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, move_T, skill, (2, 4), 0.95)
        E = float(np.clip(10.0 - tech - 0.4 * unmarked - 0.3 * late_end, 0, 10))
        self.fill_noise(z, rng, {"rgb": 27, "flow": 13, "audio": 23})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "boundaries": bounds,
                           "changes": changes, "unmarked": unmarked, "music_end": music_end,
                           "move_end": move_end, "late_end": bool(late_end), "elements": elements}


class SpinsWorld(World):
    """Fis-V law, held out (second round). Jumps and spins. A jump earns base value x (0.5 + q), q its execution
    (RGB), x 1.1 when it starts in the programme's second half (the ISU bonus for jumps late in the programme,
    when the skater is tired). A free skate's layout: 7 jumps and 3 spins, in any order. A spin earns base value
    x (0.3 + 2.0 h c): h how well the position is held (RGB)
    and c its centring, which shows as a steady rotation rate (flow: the rate jitters from segment to segment
    by (1 - c)), so a spin's points need the spread of flow over its segments together with RGB. PCS
    (interpretation): the music has accents (audio hits); a skater marks an accent with a movement accent
    (a flow spike) within one segment of it. PCS = 20 + 7 sigmoid(skill) + 10 x the share of accents marked,
    plus the judges' noise; movement accents also fall where the music has none."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 1024, "flow": 512, "audio": 768}, t_range=(110, 130), n_elements=(10, 10),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.spin_value = np.round(rng.uniform(2.0, 4.0, 3), 1)
        self.look = rng.standard_normal((10, 12))  # 7 jump looks, then 3 spin positions

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        t = np.arange(T)
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["flow"][:, 6] = rng.normal(0, 0.4, T)  # rotation rate: none outside spins
        tes, elements = 0.0, []
        n_el = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
        is_spin = np.zeros(n_el, bool)
        is_spin[rng.choice(n_el, 3, replace=False)] = True
        for (start, end, centre), spin in zip(_slots(rng, T, n_el, length=(4, 6), margin=1), is_spin):
            if spin:  # spins last 4-6 segments, jumps 2-3
                typ = int(rng.integers(0, 3))
                h = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
                c = float(_sigmoid(0.8 * skill + rng.normal(0, 0.9)))
                pts = self.spin_value[typ] * (0.3 + 2.0 * h * c)
                z["rgb"][start:end, 12:24] = 2.0 * self.look[7 + typ]
                z["rgb"][start:end, 24] = 6.0 * (h - 0.5)
                z["flow"][start:end, 6] = 3.0 + 3.0 * (1.0 - c) * rng.standard_normal(end - start)
                elements.append({"start": start, "end": end, "kind": "spin", "type": typ,
                                 "value": float(self.spin_value[typ]), "h": h, "c": c, "points": float(pts)})
            else:
                end = start + int(rng.integers(2, 4))
                typ = int(rng.integers(0, 7))
                q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
                late = start >= T / 2
                pts = self.jump_value[typ] * (0.5 + q) * (1.1 if late else 1.0)
                z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
                z["rgb"][start:end, 25] = 6.0 * (q - 0.5)
                z["rgb"][start:end, 26] = 0.8 * (self.jump_value[typ] - 5.0)
                z["flow"][start:end, 7] = 3.0  # take-off and flight
                elements.append({"start": start, "end": end, "kind": "jump", "type": typ,
                                 "value": float(self.jump_value[typ]), "q": q, "second_half": bool(late),
                                 "points": float(pts)})
            tes += pts
        # the music's accents, and the skater's movement accents (flow spikes)
        accents = sorted(int(a) for a in rng.choice(np.arange(2, T - 2), int(rng.integers(5, 10)), replace=False))
        for a in accents:
            z["audio"][:, 10] = np.maximum(z["audio"][:, 10], _bump(t, a, 4.0, 0.6))
        z["audio"][:, 11:17] = _passages(rng, T, 6, 12)  # sections
        spikes = []
        for a in accents:
            if rng.random() < _sigmoid(1.5 * musical):
                spikes.append(int(np.clip(a + rng.integers(-1, 2), 0, T - 1)))
        spikes += [int(s) for s in rng.integers(0, T, int(rng.integers(2, 6)))]
        for s in spikes:
            z["flow"][s, 8] = 4.0
        marked = float(np.mean([any(abs(s - a) <= 1 for s in spikes) for a in accents]))
        pcs = 20.0 + 7.0 * _sigmoid(skill) + 10.0 * marked + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 27, "flow": 9, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "accents": accents,
                           "spikes": sorted(spikes), "marked": marked, "elements": elements}


# ------------------------------------------------------------------------------------------------
# The third round of held-out worlds (written 2026-12-04, after the second round was run and spent, and before
# any model was run on these; see docs/worlds.md). Designed from two further judging rules: the ISU's rules on
# jump combinations and repeated jumps, and the FIG's artistic fault of stops without purpose.


class CombosWorld(World):
    """Fis-V law, held out (third round). A free skate's 7 jumping passes: 4 solo jumps and 3 two-jump combinations
    (the ISU's limits; the order varies). A jump
    earns base value x (0.8 + 0.4 q), q its execution (RGB). A combination counts in full only when the second jump
    takes off straight out of the first one's landing (flow: the second flight burst follows the first with no
    glide between); with steps between it is a jump sequence, worth 0.8 of its jumps. A solo jump of a type already
    done as a solo earns 0.7 of its points (the ISU's rule on repeated jumps): telling which jumps repeat needs the
    jumps' looks (RGB) compared across the whole programme. PCS: skating skills (the glide's speed and steadiness,
    flow, all along) and transitions (the variety of the linking moves between passes, RGB), plus the judges' noise.
    Audio is music with no bearing on the score."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 256, "audio": 512}, t_range=(115, 135), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(np.sort(rng.uniform(2.0, 3.0, 6)), 1)  # six jump types (senior triples, scaled)
        self.look = rng.standard_normal((6, 12))
        self.moves = rng.standard_normal((8, 8))  # linking moves between passes

    def make(self, rng):
        cfg = self.cfg
        T = int(rng.integers(cfg.t_range[0], cfg.t_range[1] + 1))
        skill = rng.standard_normal()
        skating = 0.6 * skill + 0.8 * rng.standard_normal()
        z = {m: np.zeros((T, self.LATENT[m])) for m in self.LATENT}
        self.nuisance(z, rng, T)
        t = np.arange(T)
        z["flow"][:, 9] = 0.8 * skating + rng.normal(0, 1.0, T)  # the glide: speed and steadiness, all along
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        n_pass = int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1))
        p = np.exp(0.3 * skill * (self.value - self.value.mean()) / self.value.std())
        p /= p.sum()
        tes, passes, solos = 0.0, [], set()
        slots = _slots(rng, T, n_pass, length=(5, 7), margin=1)
        is_combo = np.zeros(n_pass, bool)
        is_combo[rng.choice(n_pass, 3, replace=False)] = True  # the free skate's three combinations or sequences
        for (start, end, centre), combo in zip(slots, is_combo.tolist()):
            jumps, pts = [], []
            if combo:
                first, second = (int(x) for x in rng.choice(6, 2, p=p))
                gap = 0 if rng.random() < _sigmoid(1.2 * skill - 0.5) else int(rng.integers(2, 4))
                times = [start, start + 2 + gap]
                kinds = [first, second]
            else:
                typ = int(rng.choice(6, p=p))
                if typ in solos and rng.random() < _sigmoid(skill - 1.0):  # planned layouts avoid repeats
                    fresh = [k for k in range(6) if k not in solos]
                    if fresh:
                        typ = int(fresh[np.argmax(p[fresh])])
                gap, times, kinds = None, [start], [typ]
            for typ, at in zip(kinds, times):
                q = float(_sigmoid(0.5 * skill + rng.normal(0, 0.8)))
                sl = slice(at, min(at + 2, T))
                z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
                z["rgb"][sl, 24] = 6.0 * (q - 0.5)
                z["flow"][sl, 6] = 3.0  # flight
                jumps.append({"type": typ, "start": at, "value": float(self.value[typ]), "q": q})
                pts.append(self.value[typ] * (0.8 + 0.4 * q))
            if combo:
                if gap:
                    z["flow"][start + 2:start + 2 + gap, 7] = 2.0  # steps between the jumps
                total = sum(pts) * (1.0 if gap == 0 else 0.8)
                repeated = False
            else:
                repeated = kinds[0] in solos
                total = pts[0] * (0.7 if repeated else 1.0)
                solos.add(kinds[0])
            tes += total
            passes.append({"start": start, "combo": combo, "gap": gap, "repeated": repeated, "jumps": jumps,
                           "points": float(total)})
        # transitions: between passes the skater links with moves from her repertoire; judges reward variety
        repertoire = int(np.clip(round(3 + 2.0 * skill + rng.normal(0, 1.0)), 1, 8))
        kinds = rng.permutation(8)[:repertoire]
        used = []
        bounds = [0] + [s for s, _, _ in slots] + [T]
        ends = [0] + [min(T, s + 7) for s, _, _ in slots]
        for a, b in zip(ends, bounds[1:]):
            for c in range(a + 1, b - 1, 4):
                k = int(rng.choice(kinds))
                used.append(k)
                z["rgb"][c:c + 2, 25:33] = 2.0 * self.moves[k]
        variety = len(set(used)) / 8.0
        # the music: sections and a crescendo, unrelated to the score
        sec = 0
        while sec < T:
            n = int(rng.integers(8, 20))
            z["audio"][sec:sec + n, 10:16] = 2.0 * rng.standard_normal(6)
            sec += n
        z["audio"][:, 16] = _bump(t, rng.uniform(0, T), 3.0, 6.0)
        pcs = 20.0 + 7.0 * _sigmoid(skating) + 8.0 * variety + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 33, "flow": 10, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "skating": float(skating), "variety": float(variety),
                           "passes": passes}


class PausesWorld(World):
    """RG law, held out (third round). The music has 2-4 rests (fermatas: 2-3 segments of silence, audio). The FIG
    deducts for stops without purpose: E loses 0.3 for each stop of the movement (flow: motion falls to nothing for
    2-3 segments) that does not fall on a rest of the music. A stop on a rest is the choreography's (no
    deduction), so neither the stops (flow) nor the rests (audio) tell the fault alone. D: the elements' values
    (RGB look); E also loses technical deductions (RGB quality)."""

    LAW = "rg"
    CLASS = "Clubs"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 256, "flow": 1024, "audio": 768}, t_range=(64, 84), n_elements=(6, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.8, 1.2, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        z["audio"][:, 10:18] = _passages(rng, T, 8, 10)  # the music
        z["audio"][:, 18] = 2.0 * (np.arange(T) % 2 == 0)  # its beat
        # the rests: 2-4, away from the ends and from each other
        n_rest = int(rng.integers(2, 5))
        centres = np.sort(rng.choice(np.arange(6, T - 6), n_rest, replace=False))
        rests = []
        for c in centres:
            if rests and c - rests[-1][1] < 4:
                continue
            L = int(rng.integers(2, 4))
            rests.append((int(c), int(min(c + L, T - 4))))
        for a, b in rests:
            z["audio"][a:b, 10:19] = 0.0
            z["audio"][a:b, 19] = 3.0  # silence
        z["flow"][:, 6] = rng.uniform(1.0, 2.0, T)  # moving
        z["flow"][:, 7:11] = 1.2 * rng.standard_normal((T, 4))  # movement texture, unscored
        # stops: on rests (the choreography's: held poses where the music holds) and without purpose
        stops = []
        for a, b in rests:
            if rng.random() < _sigmoid(1.5 * musical + 0.5):
                stops.append((a, b, True))
        n_bad = int(rng.poisson(2.2 * _sigmoid(-1.2 * musical)))
        on_rest = np.zeros(T, bool)
        for a, b in rests:
            on_rest[max(0, a - 1):b + 1] = True
        for _ in range(n_bad):
            L = int(rng.integers(2, 4))
            free = [s for s in range(2, T - L - 2) if not on_rest[s:s + L].any()
                    and all(s + L <= a - 1 or s >= b + 1 for a, b, _ in stops)]
            if not free:
                break
            s = int(rng.choice(free))
            stops.append((s, s + L, False))
        for a, b, _ in stops:
            z["flow"][a:b, 6] = 0.0
            z["flow"][a:b, 7:11] = 0.0
        faults = sum(1 for _, _, purpose in stops if not purpose)
        # elements (a held balance may fall in a stop)
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        E = float(np.clip(10.0 - tech - 0.3 * faults, 0, 10))
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 20})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "rests": rests,
                           "stops": [[a, b, purpose] for a, b, purpose in stops], "faults": faults,
                           "elements": elements}


# ------------------------------------------------------------------------------------------------
# The fourth round of held-out worlds (written 2026-12-04, after the third round was run and spent, before any model
# was run on these and before the fifteenth candidate's test rhos were read; see docs/worlds.md). Designed from two
# further judging rules: the FIG's deduction for losing the apparatus, and the ISU's interpretation of the music.


class DropsWorld(World):
    """RG law, held out (fourth round). Ball. The FIG deducts 0.7 from E for each loss of the apparatus. A drop
    shows at one moment in three streams, each weakly and each with look-alikes: the gymnast's hands are empty
    (RGB; also during legal moves with the ball balanced on the body), the ball bounces (flow: its motion breaks;
    also in legal bounces, a ball element), and the ball hits the floor (audio: a thud; also in legal bounces, and
    the music's percussion looks alike). A legal bounce is played with the hands (RGB: a controlling hand), a drop
    is not. So the fault is where empty hands (RGB) coincide with a bounce (flow, audio): no stream tells it
    alone. D: the elements' values (RGB look); E also loses technical deductions (RGB quality)."""

    LAW = "rg"
    CLASS = "Ball"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 512, "audio": 256}, t_range=(62, 82), n_elements=(5, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.8, 1.2, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        z["audio"][:, 10:18] = _passages(rng, T, 8, 8)  # the music
        z["audio"][:, 18] = rng.binomial(1, 0.12, T) * 2.0  # percussion: thud look-alikes
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["flow"][:, 6] = rng.uniform(1.0, 2.0, T)  # the ball moving with the body
        z["flow"][:, 7:10] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        busy = np.zeros(T, bool)
        for e in elements:
            busy[e["start"]:e["end"]] = True
        events = []  # (segment, kind): "drop", "bounce" (legal, hands on the ball), "balance" (legal, hands free)
        n_drop = int(rng.poisson(2.0 * _sigmoid(-1.3 * skill - 0.3)))
        n_bounce = int(rng.integers(2, 5))
        n_balance = int(rng.integers(2, 5))
        for kind, n in (("drop", n_drop), ("bounce", n_bounce), ("balance", n_balance)):
            for _ in range(n):
                free = [t for t in range(2, T - 2) if not busy[t - 1:t + 2].any()]
                if not free:
                    break
                t = int(rng.choice(free))
                busy[t] = True
                events.append((t, kind))
        for t, kind in events:
            if kind in ("drop", "balance"):
                z["rgb"][t, 26] = 1.5  # empty hands
            else:
                z["rgb"][t, 27] = 1.5  # a hand playing the ball
            if kind in ("drop", "bounce"):
                z["flow"][t, 6] = 0.0  # the ball's motion breaks
                z["flow"][t, 10] = 1.5  # and it rebounds
                z["audio"][t, 19] = 2.0  # the thud
        drops = sum(1 for _, kind in events if kind == "drop")
        E = float(np.clip(10.0 - tech - 0.7 * drops, 0, 10))
        self.fill_noise(z, rng, {"rgb": 28, "flow": 11, "audio": 20})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "events": [[t, kind] for t, kind in sorted(events)],
                           "drops": drops, "elements": elements}


class CharacterWorld(World):
    """Fis-V law, held out (fourth round). The music has 3-5 sections, each of one of three characters (lyrical,
    dramatic, playful: audio, a section-long texture). The skater moves in one of three styles in each section
    (RGB: the lines of arms and body). PCS rewards the interpretation of the music: the share of the programme whose
    style fits the music's character there, plus skating skills (flow, all along) and the judges' noise. A style
    or a character alone says nothing; only the two together. TES: 7 jumps, base value x (0.5 + q), q in RGB, a
    fall (RGB and flow) scoring 0.3 of the base value."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 1024, "flow": 384, "audio": 768}, t_range=(118, 140), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.6)

    def setup(self, rng):
        self.value = np.round(rng.uniform(1.5, 4.5, 6), 1)
        self.look = rng.standard_normal((6, 12))
        self.style = rng.standard_normal((3, 6))
        self.character = rng.standard_normal((3, 6))

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        skating = 0.6 * skill + 0.8 * rng.standard_normal()
        z["flow"][:, 9] = 0.8 * skating + rng.normal(0, 1.0, T)
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["audio"][:, 16:20] = 1.2 * rng.standard_normal((T, 4))  # the beat's texture, unscored
        # the music's sections and the skater's style in each
        n_sec = int(rng.integers(3, 6))
        bounds = np.sort(rng.choice(np.arange(15, T - 15), n_sec - 1, replace=False)) if n_sec > 1 else []
        edges = [0, *[int(b) for b in bounds], T]
        sections, fit = [], 0.0
        for a, b in zip(edges[:-1], edges[1:]):
            char = int(rng.integers(0, 3))
            style = char if rng.random() < _sigmoid(1.5 * musical + 0.3) else int(rng.choice([k for k in range(3)
                                                                                             if k != char]))
            z["audio"][a:b, 10:16] = 1.5 * self.character[char]
            z["rgb"][a:b, 25:31] = 1.2 * self.style[style]
            fit += (b - a) * (style == char)
            sections.append([a, b, char, style])
        fit /= T
        tes, jumps = 0.0, []
        for start, end, _ in _slots(rng, T, int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1)),
                                    length=(2, 3), margin=1):
            typ = int(rng.integers(0, 6))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            fell = bool(rng.random() < 0.25 * (1 - q))
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24] = 6.0 * (q - 0.5)
            z["flow"][sl, 6] = 3.0  # flight
            if fell:
                z["rgb"][end - 1, 31] = 3.0
                z["flow"][end - 1, 7] = 3.0
            pts = self.value[typ] * (0.3 if fell else 0.5 + q)
            tes += pts
            jumps.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q,
                          "fell": fell, "points": float(pts)})
        pcs = 20.0 + 6.0 * _sigmoid(skating) + 6.0 * fit + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 32, "flow": 10, "audio": 20})
        labels = _fisv_labels(tes, pcs, int(sum(j["fell"] for j in jumps)))
        return z, labels, {"T": T, "skill": float(skill), "skating": float(skating), "musical": float(musical),
                           "sections": sections, "fit": float(fit), "jumps": jumps}


# ------------------------------------------------------------------------------------------------
# The fifth round of held-out worlds (written 2026-12-04, after the fourth was run and spent, with the sixteenth
# candidate's rule and before its screen ran; see docs/worlds.md).


class ArticulationWorld(World):
    """RG law, held out (fifth round). Ribbon. The music alternates staccato and legato passages (audio: its
    articulation, 5-10 segments each). The body difficulties are jumps, balances and rotations (RGB: each type's
    look and its group's look). Choreography should fit the music's articulation: a jump on a staccato passage, a
    balance on a legato one; E loses 0.4 for each jump performed on legato music and each balance on staccato
    music (rotations fit both). A jump or a staccato passage alone says nothing; only what is performed where.
    D: the elements' values (RGB look); E also loses technical deductions (RGB quality)."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 256, "audio": 512}, t_range=(66, 86), n_elements=(7, 9),
                    backbone={"rgb": "relu", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    GROUPS = ("jump", "balance", "rotation")

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.6, 1.4, 12), 1)
        self.look = rng.standard_normal((12, 12))
        self.group = np.arange(12) % 3  # types 0, 3, ... are jumps; 1, 4, ... balances; 2, 5, ... rotations
        self.group_look = rng.standard_normal((3, 4))

    def make(self, rng):
        cfg = self.cfg
        T, skill, musical, z = self.begin_musical(rng)
        staccato = np.zeros(T, bool)
        s = 0
        while s < T:
            n = int(rng.integers(5, 11))
            staccato[s:s + n] = rng.random() < 0.5
            s += n
        z["audio"][:, 10] = np.where(staccato, 1.8, -1.8)  # articulation
        z["audio"][:, 11:17] = _passages(rng, T, 6, 7)  # the music's texture, unscored
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # movement all along
        z["flow"][:, 7:10] = 1.0 * rng.standard_normal((T, 3))
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, misfits, elements = 0.0, 0.0, 0, []
        for start, end, _ in _slots(rng, T, int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1)),
                                    length=(2, 3)):
            stacc = bool(staccato[start:end].mean() >= 0.5)
            if rng.random() < 1 / 3:
                group = 2  # a rotation fits any music
            elif rng.random() < _sigmoid(1.2 * musical + 0.2):
                group = 0 if stacc else 1  # the musical choice
            else:
                group = 1 if stacc else 0
            typ = int(rng.choice(np.flatnonzero(self.group == group)))
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
            misfit = (group == 0 and not stacc) or (group == 1 and stacc)
            misfits += misfit
            difficulty += self.value[typ]
            tech += 0.4 * (1 - q)
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24] = 6.0 * (q - 0.5)
            z["rgb"][sl, 25] = 3.0 * (self.value[typ] - 1.0)
            z["rgb"][sl, 26:30] = 1.5 * self.group_look[group]
            z["flow"][sl, 10] = 2.0  # an element moves more than the linking movement
            elements.append({"start": start, "end": end, "type": typ, "group": self.GROUPS[group], "q": q,
                             "value": float(self.value[typ]), "staccato": stacc, "misfit": bool(misfit)})
        E = float(np.clip(10.0 - tech - 0.4 * misfits, 0, 10))
        self.fill_noise(z, rng, {"rgb": 30, "flow": 11, "audio": 17})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "misfits": int(misfits),
                           "staccato": staccato.astype(int).tolist(), "elements": elements}


class ConsistencyWorld(World):
    """Fis-V law, held out (fifth round). Only what RGB shows counts. TES: 8-10 elements, base value x (0.5 + q),
    q the execution (RGB), a fall (RGB and flow) scoring 0.3 of the base value. PCS marks presence (a trait seen
    weakly in RGB all along) and marks down an uneven programme: 20 + 7 sigmoid(presence) - 12 x the spread (std)
    of the elements' execution + judges' noise. A skater's steadiness sets that spread. Flow (skating, flight) and
    audio (music with highlights) are rich and carry nothing the judges score beyond the falls: extra modalities
    must not hurt."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 384, "flow": 768, "audio": 256}, t_range=(110, 132), n_elements=(8, 10),
                    backbone={"rgb": "linear", "flow": "linear", "audio": "relu"}, feature_noise=0.6)

    def setup(self, rng):
        self.value = np.round(rng.uniform(1.5, 5.0, 8), 1)
        self.look = rng.standard_normal((8, 12))

    def make(self, rng):
        cfg = self.cfg
        T, skill, _, z = self.begin_musical(rng)
        presence = 0.5 * skill + 0.9 * rng.standard_normal()
        spread = float(np.exp(rng.normal(-0.2, 0.5)))  # the skater's unsteadiness
        z["rgb"][:, 30] = 0.4 * presence + rng.normal(0, 1.0, T)
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # skating
        z["flow"][:, 8:12] = 1.0 * rng.standard_normal((T, 4))
        z["audio"][:, 10:16] = _passages(rng, T, 6, 9)  # the music
        hl = rng.choice(T, int(rng.integers(4, 8)), replace=False)
        z["audio"][hl, 16] = 3.0  # its highlights
        tes, qs, els = 0.0, [], []
        for start, end, _ in _slots(rng, T, int(rng.integers(cfg.n_elements[0], cfg.n_elements[1] + 1)),
                                    length=(2, 3), margin=1):
            typ = int(rng.integers(0, len(self.value)))
            q = float(_sigmoid(0.8 * skill + 0.2 + spread * rng.normal()))
            fell = bool(rng.random() < 0.2 * (1 - q))
            sl = slice(start, end)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24] = 6.0 * (q - 0.5)
            z["flow"][sl, 7] = 3.0  # flight or spin
            if fell:
                z["rgb"][end - 1, 25] = 3.0
                z["flow"][end - 1, 12] = 3.0
            pts = self.value[typ] * (0.3 if fell else 0.5 + q)
            tes += pts
            qs.append(q)
            els.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q,
                        "fell": fell, "points": float(pts)})
        unevenness = float(np.std(qs))
        pcs = 20.0 + 7.0 * _sigmoid(presence) - 12.0 * unevenness + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 31, "flow": 13, "audio": 17})
        labels = _fisv_labels(tes, pcs, int(sum(e["fell"] for e in els)))
        return z, labels, {"T": T, "skill": float(skill), "presence": float(presence), "spread": spread,
                           "unevenness": unevenness, "elements": els}


# ------------------------------------------------------------------------------------------------
# The sixth round of held-out worlds (written 2026-12-04, after the fifth was run and spent, with the seventeenth
# candidate's rule and before its screen ran; see docs/worlds.md).


class TempoWorld(World):
    """RG law, held out (sixth round). Hoop. The music is built of sections at one of three tempi (slow, moderate,
    fast; audio: the tempo, 6-12 segments a section, plus an unscored texture). Each element is performed at a pace
    (flow: slow, moderate or fast movement; the linking movement's pace is random). The FIG asks the movement's
    character and tempo to follow the music's: E loses 0.2 per level that an element's pace is off the tempo of the
    music under it (0.4 for a fast element on slow music). A musical gymnast paces her elements to the music. D: the
    elements' values (RGB look); E also loses technical deductions (RGB quality). Neither a pace nor a tempo alone
    tells a deduction: only the two at the same element."""

    LAW = "rg"
    CLASS = "Hoop"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 384, "flow": 512, "audio": 384}, t_range=(64, 84), n_elements=(6, 8),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.6, 1.4, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        tempo = np.zeros(T, int)  # 0 slow, 1 moderate, 2 fast
        s = 0
        while s < T:
            n = int(rng.integers(6, 13))
            tempo[s:s + n] = int(rng.integers(0, 3))
            s += n
        z["audio"][:, 10] = 1.6 * (tempo - 1.0)  # the tempo
        z["audio"][:, 11:17] = _passages(rng, T, 6, 9)  # the music's texture, unscored
        z["flow"][:, 6] = rng.uniform(-1.6, 1.6, T)  # the linking movement's pace, random
        z["flow"][:, 7:10] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        off = 0
        for e in elements:
            want = int(np.round(tempo[e["start"]:e["end"]].mean()))  # the music under the element
            if rng.random() < _sigmoid(1.2 * musical + 0.8):
                pace = want
            else:
                pace = int(rng.choice([p for p in range(3) if p != want]))
            z["flow"][e["start"]:e["end"], 6] = 1.6 * (pace - 1.0)
            z["flow"][e["start"]:e["end"], 10] = 2.0  # an element moves more than the linking movement
            e.update(tempo=want, pace=pace)
            off += abs(pace - want)
        E = float(np.clip(10.0 - tech - 0.2 * off, 0, 10))
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "off": int(off),
                           "tempo": tempo.tolist(), "elements": elements}


class CountingWorld(World):
    """RG law, held out (sixth round). Ball. Only what RGB shows counts, through the FIG's counting rules: of 9-12
    body difficulties attempted, one performed with a major fault (quality under 0.3) is not recognised and earns
    nothing, and D counts only the 8 highest values of those recognised. E loses 0.3 (1 - q) per element. RGB shows
    each element's look, value and quality. Flow (movement bursts at the elements and at as many linking moves) and
    audio (music passages with highlights) are rich and carry nothing the judges score: extra modalities must not
    hurt, and the rules make D a non-linear function of what RGB shows (a cap, a threshold)."""

    LAW = "rg"
    CLASS = "Ball"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 384, "audio": 256}, t_range=(70, 90), n_elements=(9, 12),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.6)
    COUNTED = 8
    RECOGNISED = 0.3

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.3, 1.0, 14), 1)
        self.look = rng.standard_normal((14, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # movement all along
        z["flow"][:, 8:11] = 1.0 * rng.standard_normal((T, 3))
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        n = int(rng.integers(self.cfg.n_elements[0], self.cfg.n_elements[1] + 1))
        slots = _slots(rng, T, 2 * n, length=(2, 3))
        kinds = rng.permutation(np.r_[np.ones(n, bool), np.zeros(n, bool)])  # elements and linking moves, shuffled
        tech, elements = 0.0, []
        for (start, end, _), is_element in zip(slots, kinds):
            z["flow"][start:end, 7] = 2.5  # a burst of movement at both
            if not is_element:
                continue
            typ = int(rng.integers(0, len(self.value)))
            q = float(_sigmoid(0.9 * skill + 0.6 + rng.normal(0, 1.0)))
            tech += 0.3 * (1 - q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 3.0 * (self.value[typ] - 0.65)
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.value[typ]), "q": q,
                             "recognised": bool(q >= self.RECOGNISED)})
        counted = sorted((e["value"] for e in elements if e["recognised"]), reverse=True)[:self.COUNTED]
        difficulty = float(sum(counted))
        E = float(np.clip(10.0 - tech, 0, 10))
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "counted": len(counted), "elements": elements}


# ------------------------------------------------------------------------------------------------
# The seventh round of held-out worlds (written 2026-12-04/05 with the nineteenth candidate's rule, before its screen
# ran and before any model was run on these; see docs/worlds.md). Designed from two further judging rules: the
# ISU's interpretation criterion of a programme built to the music's climax, and the FIG's fault of a balance whose
# shape is not held.


class ClimaxWorld(World):
    """Fis-V law, held out (seventh round). A programme is built to its music: the music rises to one climax (audio:
    an intensity that swells over about 16 segments around a moment in the middle 60% of the programme, over an
    unscored texture of passages), and the skater builds the movement to a climax of her own (flow: movement
    intensity that swells the same way around the moment she chose; an unscored movement texture beside it). The
    ISU's interpretation and composition marks reward a programme whose movement climax meets the music's: PCS = 20
    + 7 sigmoid(skill) + 3 exp(-|t_move - t_music| / 10) + the judges' noise N(0, 1). A musical skater places her
    climax within a few segments of the music's; others anywhere. Neither stream's climax alone says anything: only
    where the two are, together. TES: 7 jumps, base value x (0.5 + q), q the execution (RGB look and quality)."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 384, "audio": 512}, t_range=(110, 130), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    WIDTH = 10.0  # segments: how fast the climax bonus falls off with the distance between the two climaxes

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        t = np.arange(T)
        t_music = int(rng.integers(int(0.2 * T), int(0.8 * T) + 1))
        if rng.random() < _sigmoid(1.5 * musical + 0.3):
            t_move = int(np.clip(t_music + rng.integers(-3, 4), 0, T - 1))
        else:
            t_move = int(rng.integers(int(0.1 * T), int(0.9 * T) + 1))
        z["audio"][:, 10] = _bump(t, t_music, 3.5, 8.0) - 1.0  # the music's intensity, swelling to its climax
        z["audio"][:, 11:17] = _passages(rng, T, 6, 10)  # its texture, unscored
        z["flow"][:, 6] = _bump(t, t_move, 3.0, 8.0) - 1.0 + 0.3 * rng.standard_normal(T)  # movement intensity
        z["flow"][:, 8:11] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        match = float(np.exp(-abs(t_move - t_music) / self.WIDTH))
        pcs = 20.0 + 7.0 * _sigmoid(skill) + 3.0 * match + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "t_music": t_music,
                           "t_move": t_move, "match": match, "elements": elements}


class BalancesWorld(World):
    """RG law, held out (seventh round). Ribbon. Of 8-10 body difficulties, each a balance, a jump or a rotation
    (RGB: the element's look, its value and its quality), a balance must hold its shape: the body stays still while
    the ribbon moves. Flow shows how much the body sways during a balance (0 held, 1 a large sway); jumps and
    rotations move a lot by nature, so much movement is a fault at a balance only. E loses 0.8 x sway for each
    balance (the FIG's deductions for a shape not held), and 0.4 (1 - q) for each element's technique. D: the
    values. The music (audio) has passages and highlights and carries nothing scored. Flow alone cannot tell a sway
    from a jump, nor RGB alone a held balance from a swaying one: only the two at the same element."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 256, "audio": 384}, t_range=(66, 86), n_elements=(8, 10),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    SWAY = 0.8

    def setup(self, rng):
        self.kind = np.array(["balance"] * 5 + ["jump"] * 4 + ["rotation"] * 4)
        self.value = np.round(rng.uniform(0.4, 1.2, len(self.kind)), 1)
        self.look = rng.standard_normal((len(self.kind), 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = rng.uniform(0.3, 1.2, T)  # the body's movement between elements
        z["flow"][:, 8:11] = 1.0 * rng.standard_normal((T, 3))  # the ribbon's patterns, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        n = int(rng.integers(self.cfg.n_elements[0], self.cfg.n_elements[1] + 1))
        difficulty, tech, swaying, elements = 0.0, 0.0, 0.0, []
        for start, end, _ in _slots(rng, T, n, length=(2, 4)):
            typ = int(rng.integers(0, len(self.kind)))
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
            difficulty += self.value[typ]
            tech += 0.4 * (1 - q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 3.0 * (self.value[typ] - 0.8)
            e = {"start": start, "end": end, "type": typ, "kind": str(self.kind[typ]),
                 "value": float(self.value[typ]), "q": q}
            if self.kind[typ] == "balance":
                sway = float(_sigmoid(-0.6 * skill + rng.normal(-0.5, 1.2)))
                swaying += sway
                z["flow"][start:end, 6] = 3.0 * sway + 0.2 * rng.standard_normal(end - start)
                e["sway"] = sway
            else:  # a jump or a rotation: much movement, no fault
                z["flow"][start:end, 6] = rng.uniform(2.0, 3.0)
            z["flow"][start:end, 7] = 2.0  # an element: the body's effort shows in flow too
            elements.append(e)
        E = float(np.clip(10.0 - tech - self.SWAY * swaying, 0, 10))
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "swaying": swaying, "elements": elements}



class MotifsWorld(World):
    """RG law, held out (eighth round). Hoop. Choreography should reflect the music's structure: the music states a
    theme (audio: a texture of its own, 6 segments long) three times among other passages, and the gymnast has a
    movement motif of her own (RGB: a look; flow: a movement pattern; 5 segments) that she performs three times. Each
    statement of the theme that the motif does not answer (the motif starting within a segment of it) costs 0.6 in
    E. Theme and motif are drawn anew for every routine, and both are always there three times: neither stream says
    anything alone, only whether the two repeat together. D: 5-7 body difficulties' values (RGB look); E also loses
    technical deductions 0.4 (1 - q) (RGB quality)."""

    LAW = "rg"
    CLASS = "Hoop"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 384, "flow": 384, "audio": 256}, t_range=(70, 90), n_elements=(5, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)
    THEME, MOTIF, UNANSWERED = 6, 5, 0.6

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        z["audio"][:, 10:16] = _passages(rng, T, 6, self.THEME)  # the music: passages of 6 segments
        starts = [s for s, _, _ in _slots(rng, T - self.THEME, 3, length=(self.THEME, self.THEME))]
        theme = 1.5 * rng.standard_normal((self.THEME, 6))
        for s in starts:
            z["audio"][s:s + self.THEME, 10:16] = theme
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # linking movement
        z["flow"][:, 8:12] = 0.8 * rng.standard_normal((T, 4))  # movement texture
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["rgb"][:, 26:32] = 0.6 * rng.standard_normal((T, 6))  # dance steps between motifs
        motif_rgb, motif_flow = 2.0 * rng.standard_normal((self.MOTIF, 6)), 2.0 * rng.standard_normal((self.MOTIF, 4))
        answer = _sigmoid(1.5 * musical + 0.3)
        placed, answered = [], 0
        for s in starts:
            if rng.random() < answer:
                m = int(np.clip(s + rng.integers(-1, 2), 0, T - self.MOTIF))
                answered += 1
            else:  # elsewhere: at least 8 segments from every statement of the theme
                free = [t for t in range(T - self.MOTIF + 1) if min(abs(t - u) for u in starts) >= 8]
                m = int(rng.choice(free)) if free else int(rng.integers(0, T - self.MOTIF + 1))
            z["rgb"][m:m + self.MOTIF, 26:32] = motif_rgb
            z["flow"][m:m + self.MOTIF, 8:12] = motif_flow
            placed.append(m)
        unanswered = sum(1 for s in starts if not any(abs(m - s) <= 1 for m in placed))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        E = float(np.clip(10.0 - tech - self.UNANSWERED * unanswered, 0, 10))
        self.fill_noise(z, rng, {"rgb": 32, "flow": 12, "audio": 16})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "theme_starts": starts,
                           "motif_starts": placed, "unanswered": int(unanswered), "elements": elements}


class GlideWorld(World):
    """Fis-V law, held out (eighth round). Only flow carries PCS. The ISU's skating skills reward speed and glide over
    the ice: PCS = 20 + 8 sigmoid(glide) - 0.5 x the stumbles + the judges' noise N(0, 1), where flow shows the
    skater's speed between elements (a level set by her glide, with noise) and each stumble (a sudden drop of speed,
    0-4 a programme, fewer for a better glider). TES: 7 jumps, base value x (0.5 + q), seen in RGB (look, value cue,
    quality). Glide correlates 0.4 with jumping skill. The music (audio: passages, highlights) carries nothing scored:
    RGB reads TES, flow PCS, and no score needs two streams at once."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 768, "audio": 384}, t_range=(115, 135), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    STUMBLE = 0.5

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        glide = _correlated(rng, skill)
        _unscored_music(rng, z, T)
        speed = 1.2 * glide + 0.5 * rng.standard_normal(T)  # flow: speed over the ice
        stumbles = min(int(rng.poisson(3.0 * _sigmoid(-1.2 * glide))), 4)
        at = rng.choice(np.arange(2, T - 2), stumbles, replace=False) if stumbles else []
        for t0 in at:
            speed[t0:t0 + 2] -= 3.0
        z["flow"][:, 6] = speed
        z["flow"][:, 8:11] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 20.0 + 8.0 * _sigmoid(glide) - self.STUMBLE * stumbles + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "glide": float(glide), "stumbles": stumbles,
                           "stumble_at": [int(t) for t in at], "elements": elements}

class EdgesWorld(World):
    """Fis-V law, held out (ninth round). The ISU's skating skills reward deep edges *at speed*: a skater who leans
    into her edges only when she is slow, or is fast only on flat edges, earns little. RGB shows the lean of the
    body over the edge and flow the speed, both moving all through the programme and each of the same spread for
    every skater (standardised over the programme): only how closely they move together is scored. PCS = 20 + 8 x
    (their correlation over the programme) + the judges' noise N(0, 1); the coupling is a skill of its own,
    correlated 0.4 with jumping skill. TES: 8 jumps, base value x (0.5 + q), seen in RGB (look, value cue,
    quality). The music (passages, highlights) is unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 1024, "flow": 256, "audio": 128}, t_range=(120, 140), n_elements=(8, 8),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "linear"}, feature_noise=0.6)
    SMOOTH = 5  # segments: lean and speed change over a few segments, not at every one

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 8), 1)
        self.look = rng.standard_normal((8, 12))

    def _course(self, rng, T: int) -> np.ndarray:
        """A smooth random course over the programme, standardised: (T,)."""
        x = np.convolve(rng.standard_normal(T + self.SMOOTH - 1), np.ones(self.SMOOTH) / self.SMOOTH, "valid")
        return (x - x.mean()) / x.std()

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        edges = _correlated(rng, skill)
        coupling = float(np.tanh(0.8 * edges + 0.4))
        _unscored_music(rng, z, T)
        lean = self._course(rng, T)
        speed = coupling * lean + np.sqrt(1 - coupling ** 2) * self._course(rng, T)
        speed = (speed - speed.mean()) / speed.std()
        together = float(np.corrcoef(lean, speed)[0, 1])
        z["rgb"][:, 26] = 1.5 * lean
        z["flow"][:, 6] = 1.5 * speed
        z["flow"][:, 8:11] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 20.0 + 8.0 * together + rng.normal(0, 1.0)
        self.fill_noise(z, rng, {"rgb": 27, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "edges": float(edges), "coupling": coupling,
                           "together": together, "elements": elements}


class CutsWorld(World):
    """RG law, held out (ninth round). Ball. The FIG's artistic rules ask for music that is a unity; a piece edited
    together from others is marked down. Each abrupt cut in the music (audio: the key changes at once, with a dip
    in loudness at the splice) costs 0.7 in E, 0-4 cuts a routine, fewer for a more musical gymnast (who chooses her
    music better). Only the music shows the cuts: movement goes on through them. D: 6-9 body difficulties' values
    (RGB look); E also loses technical deductions 0.4 (1 - q) (RGB quality)."""

    LAW = "rg"
    CLASS = "Ball"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 48}
    DEFAULTS = dict(dims={"rgb": 256, "flow": 128, "audio": 512}, t_range=(60, 75), n_elements=(6, 9),
                    backbone={"rgb": "linear", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    CUT = 0.7

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        z["audio"][:, 10:16] = _passages(rng, T, 6, 8)  # the music's passages
        cuts = min(int(rng.poisson(3.0 * _sigmoid(-1.2 * musical))), 4)
        at = sorted(int(t) for t in rng.choice(np.arange(6, T - 6), cuts, replace=False)) if cuts else []
        key = 1.5 * rng.standard_normal(4)
        z["audio"][:, 16:20] = key  # the piece's key
        z["audio"][:, 20] = 1.0 + 0.2 * rng.standard_normal(T)  # loudness
        for t0 in at:
            z["audio"][t0:, 16:20] = 1.5 * rng.standard_normal(4)  # another piece from here on
            z["audio"][t0, 20] = 0.0  # the splice
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # movement goes on through the cuts
        z["flow"][:, 8:12] = 0.8 * rng.standard_normal((T, 4))
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        E = float(np.clip(10.0 - tech - self.CUT * cuts, 0, 10))
        self.fill_noise(z, rng, {"rgb": 26, "flow": 12, "audio": 21})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "cuts": cuts, "cut_at": at,
                           "elements": elements}


class EntriesWorld(World):
    """Fis-V law, held out (tenth round). The ISU's grade of execution rewards a jump entered straight from difficult
    footwork: a jump whose two segments before take-off are footwork (flow: quick turns, a rotation back and forth)
    earns 30% of its base value on top. Every skater does 7-9 bouts of footwork; those that do not enter a jump come
    elsewhere in her transitions (never right before a jump), so how much footwork flow shows says nothing: only
    footwork *just before* a jump counts, an order in time. Each jump is entered so with probability sigmoid(1.5 transitions), transitions a skill correlated
    0.4 with jumping skill. TES: 7 jumps, base value x (0.5 + q) + the entry bonuses, RGB showing each jump's look,
    value and quality, flow its take-off. PCS (the transitions component) = 20 + 8 x the share of jumps so entered +
    the judges' noise N(0, 0.8). The music (passages, highlights) is unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 640, "flow": 896, "audio": 192}, t_range=(116, 136), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    BONUS = 0.3  # of the jump's base value

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    @staticmethod
    def _footwork(z, t0: int) -> None:
        z["flow"][t0:t0 + 2, 8] = 2.5  # quick turns
        z["flow"][t0:t0 + 2, 9] = [2.0, -2.0]  # the rotation goes back and forth

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        transitions = _correlated(rng, skill)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.8 + 0.5 * rng.standard_normal(T)  # skating between elements, unscored
        z["flow"][:, 10:13] = 1.0 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        busy = np.zeros(T, bool)  # segments that footwork elsewhere must not touch
        entered = 0
        for e in elements:
            busy[max(e["start"] - 3, 0):e["end"] + 1] = True
            e["entry"] = bool(rng.random() < _sigmoid(1.5 * transitions))
            if e["entry"]:
                self._footwork(z, e["start"] - 2)
                tes += self.BONUS * e["value"]
                entered += 1
        free = [t for t in range(1, T - 2) if not busy[t:t + 2].any() and not busy[t + 2]]
        bouts, elsewhere = [], int(rng.integers(7, 10)) - entered
        for t0 in rng.permutation(free):
            if len(bouts) == elsewhere:
                break
            if not busy[t0:t0 + 3].any():
                self._footwork(z, int(t0))
                busy[t0:t0 + 3] = True
                bouts.append(int(t0))
        pcs = 20.0 + 8.0 * entered / len(elements) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 13, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "transitions": float(transitions), "entered": entered,
                           "footwork_elsewhere": sorted(bouts), "elements": elements}


class SpaceWorld(World):
    """RG law, held out (tenth round). Hoop. The FIG's artistic rules ask a routine to use the space: its elements
    at every level (on the floor, standing, in the air) and travelling in every direction (forward, back, left,
    right). E loses 0.6 for each level and 0.45 for each direction that none of the 6-9 elements uses: a question of
    whether something happens at all in the routine, not how often. RGB shows each element's level (the body's
    height), flow its direction of travel. A gymnast keeps to her favourite level and direction for each element
    with probability 0.3 + 0.6 sigmoid(-1.5 composition) (composition correlated 0.4 with skill), otherwise picks at
    random. D: the elements' values (RGB look); E also loses technical deductions 0.4 (1 - q) (RGB quality). The
    music (passages, highlights) is unscored."""

    LAW = "rg"
    CLASS = "Hoop"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 384, "flow": 640, "audio": 256}, t_range=(62, 80), n_elements=(6, 9),
                    backbone={"rgb": "relu", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    LEVEL, DIRECTION = 0.6, 0.45
    LEVELS, DIRECTIONS = 3, 4

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        composition = _correlated(rng, skill)
        keep = 0.3 + 0.6 * _sigmoid(-1.5 * composition)
        _unscored_music(rng, z, T)
        z["flow"][:, 6:10] = 0.4 * rng.standard_normal((T, 4))  # drifting between elements
        z["flow"][:, 10:13] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["rgb"][:, 26:29] = 0.3 * rng.standard_normal((T, 3))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        favourite = int(rng.integers(self.LEVELS)), int(rng.integers(self.DIRECTIONS))
        for e in elements:
            e["level"] = favourite[0] if rng.random() < keep else int(rng.integers(self.LEVELS))
            e["direction"] = favourite[1] if rng.random() < keep else int(rng.integers(self.DIRECTIONS))
            z["rgb"][e["start"]:e["end"], 26 + e["level"]] = 2.5
            z["flow"][e["start"]:e["end"], 6 + e["direction"]] = 2.5
        missing_levels = self.LEVELS - len({e["level"] for e in elements})
        missing_directions = self.DIRECTIONS - len({e["direction"] for e in elements})
        E = float(np.clip(10.0 - tech - self.LEVEL * missing_levels - self.DIRECTION * missing_directions, 0, 10))
        self.fill_noise(z, rng, {"rgb": 29, "flow": 13, "audio": 17})
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "composition": float(composition),
                           "missing_levels": missing_levels, "missing_directions": missing_directions,
                           "elements": elements}


class StaminaWorld(World):
    """Fis-V law, held out (eleventh round). The ISU's skating skills ask for speed *maintained throughout* the
    programme. A skater paces herself: one who goes out too fast fades, so her speed (flow) falls in a straight line
    from `level + fade` at the start to `level - fade` at the end, and her mean speed is her level whatever she
    fades: only where in the programme the speed is high says how much she faded. level = 0.5 + 0.2 skating, fade =
    0.6 sigmoid(-1.5 stamina + N(0, 0.5)) (skating and stamina: skills correlated 0.4 with jumping skill). PCS =
    20 + 6 sigmoid(1.5 skating) - 8 fade + the judges' noise N(0, 0.8). TES: 7 jumps, base value x (0.5 + q), RGB
    showing each jump's look, value and quality, flow its take-off. The music (passages, highlights) is unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 512, "flow": 384, "audio": 640}, t_range=(118, 138), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    FADE = 8.0  # PCS points for a fade of 1 (the fastest start over the slowest finish, in speed units)

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        skating, stamina = _correlated(rng, skill), _correlated(rng, skill)
        level = 0.5 + 0.2 * skating
        fade = float(0.6 * _sigmoid(-1.5 * stamina + rng.normal(0, 0.5)))
        speed = level + fade * (1.0 - 2.0 * np.arange(T) / (T - 1))
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 3.0 * speed + 0.5 * rng.standard_normal(T)
        z["flow"][:, 8:11] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 20.0 + 6.0 * _sigmoid(1.5 * skating) - self.FADE * fade + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "skating": float(skating), "stamina": float(stamina),
                           "level": float(level), "fade": fade, "elements": elements}


class RotationsWorld(World):
    """RG law, held out (eleventh round). Clubs. The FIG's dynamic elements with rotation (R): a throw of the
    apparatus, rotations of the body while it is in the air, the catch. An R earns 0.2 for each rotation made
    *under the flight*: RGB shows the apparatus up (2-4 segments after the throw, whose impulse flow shows), flow a
    rotation as a turn of the body (one a segment at most). Gymnasts also turn on the floor (pivots) where nothing
    is in the air, which earns nothing here: every gymnast makes 9-12 rotations in all (more only when her flights
    hold more), so how much she turns says little and only rotations inside a flight count. 2-4 risks, each with 0-4
    rotations under its flight (how many: binomial, `sigmoid(1.2 daring)` each, daring correlated 0.4 with skill),
    beside 5-7 valued body elements (RGB look, value, quality). D = the elements' values + 0.2 x the rotations under flights; E = 10 - 0.4 (1 - q)
    summed. The music (passages, highlights) is unscored."""

    LAW = "rg"
    CLASS = "Clubs"
    held_out = True
    LATENT = {"rgb": 56, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 192, "audio": 320}, t_range=(64, 80), n_elements=(5, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)
    ROTATION = 0.2  # D for each rotation under a flight

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        daring = _correlated(rng, skill)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel between elements, unscored
        z["flow"][:, 10:13] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["rgb"][:, 26] = 0.3 * rng.standard_normal(T)
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 3), 1.0)
        busy = np.zeros(T, bool)
        for e in elements:
            busy[e["start"]:e["end"]] = True
        risks, under = [], 0
        for _ in range(int(rng.integers(2, 5))):
            flight = int(rng.integers(2, 5))
            free = [t for t in range(1, T - flight - 1) if not busy[t - 1:t + flight + 1].any()]
            if not free:
                break
            t0 = int(rng.choice(free))
            busy[t0 - 1:t0 + flight + 1] = True
            n_rot = min(int(rng.binomial(4, _sigmoid(1.2 * daring))), flight)
            spins = sorted(int(t) for t in rng.choice(np.arange(t0, t0 + flight), n_rot, replace=False))
            z["flow"][t0, 7] = 3.0  # the throw's impulse
            z["rgb"][t0:t0 + flight, 26] = 2.5  # the apparatus up
            for t in spins:
                z["flow"][t, 8:10] = [3.0, 2.0]  # a turn of the body
            risks.append({"start": t0, "end": t0 + flight, "rotations": spins})
            under += n_rot
        pivots, in_all = [], int(rng.integers(9, 13))
        for t in rng.permutation(np.flatnonzero(~busy)):
            if under + len(pivots) >= in_all:
                break
            z["flow"][t, 8:10] = [3.0, 2.0]
            pivots.append(int(t))
        difficulty += self.ROTATION * under
        self.fill_noise(z, rng, {"rgb": 27, "flow": 13, "audio": 17})
        labels = _rg_labels(difficulty, float(np.clip(10.0 - tech, 0, 10)), 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "daring": float(daring), "under_flight": under,
                           "pivots": sorted(pivots), "risks": risks, "elements": elements}


# ------------------------------------------------------------------------------------------------
# The twelfth round of held-out worlds (written 2026-12-06, after the eleventh was run once and spent, and before
# any model was run on these; see docs/worlds.md).


class LagWorld(World):
    """RG law, held out (twelfth round). Ribbon. The FIG's artistry asks for movement in harmony with the music's
    accents; a movement after the accent is out of harmony. Every gymnast marks each of the music's 6-10 accents
    (audio) with a movement accent (flow), so how many she marks says nothing; a gymnast's timing sets how late: her
    lag d = clip(round(1.5 - 1.2 musicality + N(0, 0.5)), 0, 3) segments, and each accent is marked at a + d + j, j
    in {-1, 0, +1} with probabilities 0.15, 0.7, 0.15, never before the accent. E loses 0.1 for each segment of
    lateness over all accents; 2-4 movement accents fall where the music has none (unscored). D: 5-7 valued elements
    (RGB look, value, quality); E = 10 - sum 0.4 (1 - q) - 0.1 x the lateness. The music's other texture (passages,
    highlights) is unscored."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 640, "flow": 320, "audio": 512}, t_range=(66, 82), n_elements=(5, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    LATE = 0.1  # E for each segment an accent is marked late

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        t = np.arange(T)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel between elements, unscored
        z["flow"][:, 9:12] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        lag = int(np.clip(round(1.5 - 1.2 * musical + rng.normal(0, 0.5)), 0, 3))
        accents = sorted(int(a) for a in rng.choice(np.arange(2, T - 6), int(rng.integers(6, 11)), replace=False))
        marks, late = [], 0
        for a in accents:
            z["audio"][:, 17] = np.maximum(z["audio"][:, 17], _bump(t, a, 3.5, 0.6))
            m = a + max(0, lag + int(rng.choice([-1, 0, 1], p=[0.15, 0.7, 0.15])))
            z["flow"][m, 8] = 3.5
            marks.append(m)
            late += m - a
        extra = [int(u) for u in rng.integers(0, T, int(rng.integers(2, 5)))]
        for u in extra:
            z["flow"][u, 8] = 3.5
        self.fill_noise(z, rng, {"rgb": 26, "flow": 12, "audio": 18})
        E = float(np.clip(10.0 - tech - self.LATE * late, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "lag": lag,
                           "accents": accents, "marks": marks, "lateness": late, "unscored_marks": sorted(extra),
                           "elements": elements}


class FallsWorld(World):
    """Fis-V law, held out (twelfth round). The ISU's rule for a fall: the jump's GOE is the lowest (here half its base
    value) and 1 point is deducted. 7 jumps, base value x (0.5 + q) each, or base value x 0.5 - 1 when the skater
    falls (probability sigmoid(-2 - skill + N(0, 0.7)) a jump). The fall shows weakly in two streams at once: in RGB
    the skater down for the segment after the jump, in flow her stop there; and each stream has look-alikes of its
    own (low poses of spins and spirals in RGB, 2-4; choreographed stops in flow, 2-4), so either stream alone shows
    a fall dimly and both together surely. A fall does not change the jump's look in RGB. PCS = 20 + 7 sigmoid(1.2
    skill) - 1.5 x the falls (a fall breaks the programme's flow) + the judges' noise N(0, 0.8). The music is
    unscored. The labels' `falls` column counts them, as Fis-V's does."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 768, "flow": 512, "audio": 256}, t_range=(120, 140), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    FALL = 1.0  # the deduction for a fall (TES here), beside the lowest GOE
    FALL_PCS = 1.5

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed, unscored
        z["flow"][:, 10:13] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements, busy = 0.0, [], np.zeros(T, bool)
        for start, end, _ in _slots(rng, T, int(self.cfg.n_elements[0]), length=(2, 3), margin=2):
            typ = int(rng.integers(0, len(self.jump_value)))
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            fell = bool(rng.random() < _sigmoid(-2.0 - skill + rng.normal(0, 0.7)))
            pts = self.jump_value[typ] * 0.5 - self.FALL if fell else self.jump_value[typ] * (0.5 + q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 0.8 * (self.jump_value[typ] - 2.75)
            z["flow"][start:end, 7] = 3.0  # take-off and flight
            if fell:  # the segment after the jump: down (RGB) and stopped (flow), each weakly
                after = min(end, T - 1)
                z["rgb"][after, 26] = 1.2
                z["flow"][after, 6] = -0.7
            busy[max(0, start - 1):min(T, end + 2)] = True
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.jump_value[typ]),
                             "q": q, "fell": fell, "points": float(pts)})
            tes += pts
        free = np.flatnonzero(~busy)
        low = sorted(int(u) for u in rng.choice(free, int(rng.integers(2, 5)), replace=False))
        stops = sorted(int(u) for u in rng.choice(free, int(rng.integers(2, 5)), replace=False))
        z["rgb"][low, 26] = 1.2  # low poses (spins, spirals)
        z["flow"][stops, 6] = -0.7  # choreographed stops
        falls = sum(e["fell"] for e in elements)
        pcs = 20.0 + 7.0 * _sigmoid(1.2 * skill) - self.FALL_PCS * falls + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 27, "flow": 13, "audio": 17})
        labels = _fisv_labels(tes, pcs, falls)
        return z, labels, {"T": T, "skill": float(skill), "falls": falls, "low_poses": low, "stops": stops,
                           "elements": elements}


class ContourWorld(World):
    """RG law, held out (thirteenth round). Ball. The FIG's artistry asks the movement to express the music's
    character and dynamics; a choreographer's plainest way is to follow the melody's line: rise as it rises, sink as
    it falls. The melody (audio) is a pitch line that wanders between elements and, under each of 5-8 elements, rises
    or falls steadily (chosen at random, continuing from where it is, so its level does not tell its direction). In
    each element the gymnast moves up or down (flow: vertical direction), with the melody with probability
    sigmoid(0.6 + 1.3 musicality), against it otherwise. E loses 0.3 for each element that moves against the
    melody's line. Between elements the movement goes up and down at random, unscored. D: 5-8 valued elements (RGB
    look, value, quality); E = 10 - sum 0.4 (1 - q) - 0.3 x the elements against the melody. The music's other
    texture (passages, highlights) is unscored."""

    LAW = "rg"
    CLASS = "Ball"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 384, "flow": 768, "audio": 320}, t_range=(68, 86), n_elements=(5, 8),
                    backbone={"rgb": "relu", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    AGAINST = 0.3  # E for each element that moves against the melody's line
    SLOPE = 0.7  # the melody's rise or fall per segment under an element

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.8 * rng.standard_normal(T)  # up and down between elements, unscored
        z["flow"][:, 8:11] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (3, 4), 1.0)
        line = np.zeros(T, int)  # the melody's direction under each element, 0 elsewhere
        for e in elements:
            e["melody"] = int(rng.choice([-1, 1]))
            e["with_melody"] = bool(rng.random() < _sigmoid(0.6 + 1.3 * musical))
            e["move"] = e["melody"] if e["with_melody"] else -e["melody"]
            line[e["start"]:e["end"]] = e["melody"]
            z["flow"][e["start"]:e["end"], 6] = 2.5 * e["move"]
            z["flow"][e["start"]:e["end"], 7] = 2.0  # elements move more than the transitions
        pitch = np.zeros(T)
        for t in range(1, T):  # a wandering line that returns towards the middle, steady under the elements
            pitch[t] = pitch[t - 1] + self.SLOPE * line[t] if line[t] else 0.85 * pitch[t - 1] + rng.normal(0, 0.35)
        z["audio"][:, 17] = pitch - pitch.mean()
        against = sum(not e["with_melody"] for e in elements)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 18})
        E = float(np.clip(10.0 - tech - self.AGAINST * against, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "against": against,
                           "elements": elements, "pitch": [round(float(v), 4) for v in z["audio"][:, 17]]}


class CoverageWorld(World):
    """Fis-V law, held out (thirteenth round). The ISU's Composition asks for a programme that uses the whole ice
    ("pattern and ice coverage"). Flow shows the skater's velocity over the ice in each segment (two directions), at
    a speed that is the same for every skater; where she is, and so how much of the rink her path covers, is the sum
    of her velocities up to then. A skater's composition c (correlated 0.5 with skill) sets the part of the rink she
    uses: she skates one step a segment at a steady speed towards waypoints drawn in a box whose size grows with c,
    turning to the next once she reaches one. Coverage is the share of the rink's 8 x 4 cells her path passes through. PCS = 18 + 6 sigmoid(1.2
    skill) + 6 (coverage - 0.5) + the judges' noise N(0, 0.8); TES 7 jumps (RGB), base value x (0.5 + q). The music
    is unscored: only flow's path over the whole programme tells PCS's new term."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 896, "flow": 384, "audio": 448}, t_range=(116, 136), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    RINK = (1.0, 0.5)  # half-length and half-width (60 m x 30 m)
    SPEED = 0.12  # rink half-lengths a segment
    COVER = 6.0  # PCS points per unit of coverage

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    def path(self, rng, T: int, composition: float):
        """(velocity (T, 2), positions (T + 1, 2), coverage): one step a segment at the same speed, each towards the
        current waypoint (drawn in a box of the rink that grows with composition; the next one once it is passed)."""
        half = np.array(self.RINK) * (0.3 + 0.7 * _sigmoid(1.5 * composition))
        centre = (np.array(self.RINK) - half) * rng.uniform(-1, 1, 2)
        pos = centre + half * rng.uniform(-1, 1, 2)
        target = centre + half * rng.uniform(-1, 1, 2)
        vel, track = np.zeros((T, 2)), [pos.copy()]
        for t in range(T):
            while np.linalg.norm(target - pos) < self.SPEED / 2:  # reached: the next waypoint
                target = centre + half * rng.uniform(-1, 1, 2)
            vel[t] = (target - pos) / np.linalg.norm(target - pos) * self.SPEED
            pos = np.clip(pos + vel[t], -np.array(self.RINK), self.RINK)
            track.append(pos.copy())
        track = np.array(track)
        fine = np.concatenate([track[:-1] + f * np.diff(track, axis=0) for f in np.linspace(0, 1, 5)])
        cells = np.floor((fine + self.RINK) / (2 * np.array(self.RINK)) * [8, 4]).clip(0, [7, 3])
        coverage = len({(int(a), int(b)) for a, b in cells}) / 32
        return vel, track, coverage

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        composition = 0.5 * skill + float(np.sqrt(0.75)) * rng.standard_normal()
        vel, track, coverage = self.path(rng, T, composition)
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed: the same for every skater
        z["flow"][:, 8:10] = 12.0 * vel  # the velocity over the ice, two directions
        z["flow"][:, 10:13] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.COVER * (coverage - 0.5) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 13, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "composition": float(composition),
                           "coverage": float(coverage), "elements": elements, "track": track.round(5).tolist()}


class StaticWorld(World):
    """RG law, held out (fourteenth round). Clubs. Judges deduct for an apparatus held static too long: clubs are
    meant to be in motion. Every gymnast holds her clubs still now and then (a catch, a pose), and the same share of
    the routine still whatever her mastery: S = 13-18 still segments, none during an element. Her mastery (correlated
    0.5 with skill) sets how many of them come in long holds: L ~ Binomial(3, sigmoid(-0.2 - 1.3 mastery)) holds of 3-4
    segments, the rest in short stills of 1-2 segments, every still apart from the next (and from the elements) by at
    least one moving segment. E loses 0.6 for each long hold. Flow shows the clubs' motion (moving, or still); how long each still lasts
    is an order in time that no count of still segments shows (given S, more long holds mean fewer stills). D: 5-7
    valued elements (RGB look, value, quality); E = 10 - sum 0.4 (1 - q) - 0.6 x the long holds. The music is
    unscored."""

    LAW = "rg"
    CLASS = "Clubs"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 448, "flow": 640, "audio": 256}, t_range=(64, 82), n_elements=(5, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    HOLD = 0.6  # E for each long hold
    LONG = 3  # segments from which a still is a long hold

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    def stills(self, rng, free: np.ndarray, mastery: float) -> list[tuple[int, int]]:
        """(start, length) of each still, placed in the segments `free` marks (no element), apart from each other."""
        S = int(rng.integers(13, 19))
        holds = [int(rng.integers(self.LONG, 5)) for _ in range(rng.binomial(3, _sigmoid(-0.2 - 1.3 * mastery)))]
        rest, short = S - sum(holds), []
        while rest > 0:
            short.append(min(rest, int(rng.integers(1, 3))))
            rest -= short[-1]
        runs = holds + short  # the long holds placed first, so that none is lost for want of room
        taken = ~free.copy()
        out = []
        for length in runs:  # a place whose segments and both neighbours are free of stills and elements
            ok = [t for t in range(len(free) - length + 1) if not taken[max(0, t - 1):t + length + 1].any()
                  and free[t:t + length].all()]
            if not ok:
                continue
            t = int(rng.choice(ok))
            taken[t:t + length] = True
            out.append((t, length))
        return sorted(out)

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel, unscored
        z["flow"][:, 9:12] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        free = np.ones(T, bool)
        for e in elements:
            free[e["start"]:e["end"]] = False
        mastery = 0.5 * skill + float(np.sqrt(0.75)) * rng.standard_normal()
        stills = self.stills(rng, free, mastery)
        z["flow"][:, 8] = 1.5 + 0.4 * rng.standard_normal(T)  # the clubs in motion
        for t, length in stills:
            z["flow"][t:t + length, 8] = -1.5 + 0.2 * rng.standard_normal(length)
        holds = sum(length >= self.LONG for _, length in stills)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 12, "audio": 17})
        E = float(np.clip(10.0 - tech - self.HOLD * holds, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "mastery": float(mastery), "holds": int(holds),
                           "stills": [list(r) for r in stills], "elements": elements}


class UnisonWorld(World):
    """Fis-V law, held out (fourteenth round). Pairs skating: the ISU's Presentation asks the two partners to move in
    unison. RGB shows each partner's movement (four values each, drifting smoothly), the same amount of it for every
    pair; how closely the second partner's follows the first's at the same moment is the pair's unison u = 0.2 + 0.75
    sigmoid(1.5 x), x a trait correlated 0.5 with skill. Neither partner's movement alone, nor its mean or its spread,
    shows u: only the two together, moment by moment, inside one stream. PCS = 18 + 6 sigmoid(1.2 skill) + 5 (u - 0.575)
    + the judges' noise N(0, 0.8); TES 7 side-by-side jumps (RGB), base value x (0.5 + q). Flow shows the pair's
    speed and texture, the music is unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 704, "flow": 448, "audio": 320}, t_range=(112, 132), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)
    UNISON = 5.0  # PCS points per unit of unison
    SCALE = 1.5  # each partner's movement in RGB

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    @staticmethod
    def drift(rng, T: int, n: int = 4) -> np.ndarray:
        """(T, n) smooth movement of unit variance: an AR(1) at 0.7 a segment."""
        x = np.zeros((T, n))
        x[0] = rng.standard_normal(n)
        for t in range(1, T):
            x[t] = 0.7 * x[t - 1] + float(np.sqrt(1 - 0.49)) * rng.standard_normal(n)
        return x

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        unison = float(0.2 + 0.75 * _sigmoid(1.5 * (0.5 * skill + float(np.sqrt(0.75)) * rng.standard_normal())))
        first = self.drift(rng, T)
        second = unison * first + float(np.sqrt(1 - unison ** 2)) * self.drift(rng, T)
        z["rgb"][:, 26:30] = self.SCALE * first
        z["rgb"][:, 30:34] = self.SCALE * second
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # the pair's speed, unscored
        z["flow"][:, 8:11] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.UNISON * (unison - 0.575) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 34, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "unison": unison, "elements": elements}


def _rank_correlation(x, y) -> float:
    """Spearman's rho of two short sequences (ties get their average rank); 0 when either is constant."""
    if np.ptp(np.asarray(x, float)) == 0 or np.ptp(np.asarray(y, float)) == 0:
        return 0.0
    return float(scipy.stats.spearmanr(x, y).statistic)


class SeamsWorld(World):
    """RG law, held out (fifteenth round). Ribbon. The FIG's artistry asks the composition to follow the music's
    phrasing: an element begun in one musical phrase and finished in the next cuts across the seam between them
    instead of fitting the phrase. The music is built of phrases of 6-10 segments (audio: each its own timbre). Each of
    6-8 body difficulties lasts 4 segments (RGB look, value, quality), one in each equal slot of the timeline; a
    musical gymnast fits each inside a phrase (probability sigmoid(0.3 + 1.4 musicality) an element), others place it
    anywhere in its slot. E loses 0.5 for each element with a phrase boundary inside it. Every element lasts as long
    and the phrases are as long for all, so neither the elements' times nor the music's phrases say anything alone:
    only whether a boundary of one stream falls inside the span the other marks. D: the elements' values; E = 10 -
    sum 0.4 (1 - q) - 0.5 x the elements across a seam. Flow shows unscored movement."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 576, "flow": 224, "audio": 832}, t_range=(62, 84), n_elements=(6, 8),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    SEAM = 0.5  # E for each element across a phrase boundary
    LENGTH = 4  # segments of every element

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    @staticmethod
    def across(start: int, length: int, bounds) -> bool:
        """Whether a phrase begins inside the element (after its first segment, up to its last)."""
        return any(start < b < start + length for b in bounds)

    def make(self, rng):
        T, skill, musical, z = self.begin_musical(rng)
        bounds, s = [], 0
        while s < T:  # the music's phrases, each with its own timbre; a boundary is the first segment of a phrase
            n = int(rng.integers(6, 11))
            z["audio"][s:s + n, 10:18] = 2.0 * rng.standard_normal(8)
            s += n
            if s < T:
                bounds.append(s)
        z["audio"][:, 18:22] = 1.0 * rng.standard_normal((T, 4))  # beat texture, unscored
        z["flow"][:, 6] = rng.uniform(0.5, 1.5, T)  # movement all along, unscored
        z["flow"][:, 7:10] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        L, n = self.LENGTH, int(rng.integers(self.cfg.n_elements[0], self.cfg.n_elements[1] + 1))
        edges = np.linspace(1, T - 1, n + 1)
        difficulty, tech, elements = 0.0, 0.0, []
        for e in range(n):
            starts = np.arange(int(np.ceil(edges[e])), int(edges[e + 1]) - L + 1)
            fits = [int(t) for t in starts if not self.across(int(t), L, bounds)]
            fitted = bool(fits) and bool(rng.random() < _sigmoid(0.3 + 1.4 * musical))
            start = int(rng.choice(fits if fitted else starts))
            typ = int(rng.integers(0, len(self.value)))
            q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
            difficulty += self.value[typ]
            tech += 0.4 * (1 - q)
            sl = slice(start, start + L)
            z["rgb"][sl, 12:24] = 2.0 * self.look[typ]
            z["rgb"][sl, 24] = 6.0 * (q - 0.5)
            z["rgb"][sl, 25] = 3.0 * (self.value[typ] - 1.0)
            z["flow"][sl, 10] = 2.0  # an element moves more than the linking movement
            elements.append({"start": start, "end": start + L, "type": typ, "value": float(self.value[typ]), "q": q,
                             "fitted": fitted, "across": self.across(start, L, bounds)})
        seams = sum(e["across"] for e in elements)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 22})
        E = float(np.clip(10.0 - tech - self.SEAM * seams, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "musical": float(musical), "boundaries": bounds,
                           "seams": int(seams), "elements": elements}


class PlacementWorld(World):
    """Fis-V law, held out (fifteenth round). The ISU's Composition (phrase and form: a programme built on its music)
    asks for the programme's highlights where the music's are: its biggest jumps where the music is strongest, the
    easier ones in the quiet passages. The music moves between passages of 8-16 segments, each at an intensity of
    its own (audio); 8 jumps, one per equal slot (RGB look, quality, value; flow take-off), earn base value x (0.5 +
    q) each whatever their order. The skater arranges them over the slots: the jump with the highest key where the
    music under its slot is strongest, and so on down, the key a x the jump's standardised base value + N(0, 1), a =
    2.5 sigmoid(1.5 c), c her composition (a trait correlated 0.5 with skill). PCS = 18 + 6 sigmoid(1.2 skill) + 2.5 x
    the rank correlation of the jumps' base values with the music's intensity under them + the judges' noise N(0,
    0.8). The same jumps and the same music score the same TES in any order: only which jump comes with which music
    counts, what RGB shows at the moments audio is strong. Flow shows her speed and texture, unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 960, "flow": 416, "audio": 544}, t_range=(114, 136), n_elements=(8, 8),
                    backbone={"rgb": "relu", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    PLACE = 2.5  # PCS points per unit of rank correlation between the jumps' values and the music under them

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 8), 1)
        self.look = rng.standard_normal((8, 12))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        level, s = np.zeros(T), 0
        while s < T:  # passages at an intensity of their own, joined smoothly
            n = int(rng.integers(8, 17))
            level[s:s + n] = rng.uniform(0, 1)
            s += n
        intensity = np.convolve(np.pad(level, 2, mode="edge"), np.ones(5) / 5, mode="valid")
        z["audio"][:, 17] = 3.0 * (intensity - 0.5)
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed, unscored
        z["flow"][:, 8:11] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        n = int(self.cfg.n_elements[0])
        slots = _slots(rng, T, n, length=(2, 3), margin=1)
        under = np.array([intensity[start:end].mean() for start, end, _ in slots])
        types = rng.integers(0, len(self.jump_value), n)
        values = self.jump_value[types]
        composition = 0.5 * skill + float(np.sqrt(0.75)) * rng.standard_normal()
        standard = (values - values.mean()) / values.std() if values.std() > 0 else np.zeros(n)
        key = 2.5 * _sigmoid(1.5 * composition) * standard + rng.standard_normal(n)
        placed = np.empty(n, int)  # the slot each jump goes to: the highest key where the music is strongest
        placed[np.argsort(-under, kind="stable")] = np.argsort(-key, kind="stable")
        tes, elements = 0.0, []
        for (start, end, _), j in zip(slots, placed):
            typ = int(types[j])
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            pts = self.jump_value[typ] * (0.5 + q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 0.8 * (self.jump_value[typ] - 2.75)
            z["flow"][start:end, 7] = 3.0  # take-off and flight
            elements.append({"start": start, "end": end, "type": typ, "value": float(self.jump_value[typ]), "q": q,
                             "points": float(pts), "key": float(key[j]),
                             "intensity": float(intensity[start:end].mean())})
            tes += pts
        match = _rank_correlation([e["value"] for e in elements], [e["intensity"] for e in elements])
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.PLACE * match + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 18})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "composition": float(composition), "match": match,
                           "intensity": [round(float(v), 5) for v in intensity], "elements": elements}


class FlightsWorld(World):
    """RG law, held out (sixteenth round). Hoop. The FIG's dynamic elements with rotation (R): the gymnast throws the
    apparatus, rotates under its flight, and catches it; an R is valid with at least 2 rotations made under the flight
    and is worth more for each further one, while a rotation made before the throw or after the catch earns nothing.
    Flow shows each flight (the hoop's high motion, 3-4 segments); RGB shows each rotation of the body, one a segment,
    in a series of 2-5 around each throw, and not the hoop. Every gymnast makes 3-4 throws and 11-12 rotations in all;
    her daring (correlated 0.4 with skill) sets how closely she times each series inside its flight (the offset from
    the series centred in the flight has SD 0.5 + 4 sigmoid(-1.5 daring), and the series always meets the flight or
    touches its edge), so only which RGB events fall inside the spans flow marks says what she earns. D = 5-7 valued
    body elements (RGB look, value, quality) + for each R with u >= 2 rotations under its flight 0.2 u; E = 10 - sum
    0.4 (1 - q). The music is unscored."""

    LAW = "rg"
    CLASS = "Hoop"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 448, "flow": 320, "audio": 704}, t_range=(66, 84), n_elements=(5, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "linear"}, feature_noise=0.5)
    ROTATION = 0.2  # D for each rotation under the flight of a valid R
    MIN_ROTATIONS = 2  # an R with fewer rotations under its flight is not valid

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    @classmethod
    def risk_value(cls, under: int) -> float:
        """D for one R with `under` rotations inside its flight: nothing below MIN_ROTATIONS."""
        return cls.ROTATION * under if under >= cls.MIN_ROTATIONS else 0.0

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        daring = _correlated(rng, skill)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel, unscored
        z["flow"][:, 7] = 0.3 * rng.standard_normal(T)  # the hoop in her hands
        z["flow"][:, 8:11] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        z["rgb"][:, 26:28] = 0.3 * rng.standard_normal((T, 2))  # the body between rotations
        n_el = int(rng.integers(self.cfg.n_elements[0], self.cfg.n_elements[1] + 1))
        body = [(int(rng.integers(0, len(self.value))), int(rng.integers(2, 4))) for _ in range(n_el)]
        K, N = int(rng.integers(3, 5)), int(rng.integers(11, 13))
        counts = np.full(K, 2)  # the rotations of each series: 2-5, N in all
        for _ in range(N - 2 * K):
            counts[rng.choice(np.flatnonzero(counts < 5))] += 1
        sigma = 0.5 + 4.0 * _sigmoid(-1.5 * daring)
        plans = []  # (flight length, rotations, the series' start from the throw)
        for n in counts:
            F = int(rng.integers(3, 5))
            plans.append((F, int(n), int(np.clip(np.rint((F - n) / 2 + rng.normal(0, sigma)), -n, F))))
        lengths = [L for _, L in body] + [max(F, s + n) - min(0, s) for F, n, s in plans]
        order = rng.permutation(len(lengths))  # body elements and throws in an order of her own
        extra = T - sum(lengths) - (len(lengths) + 1)
        gaps = 1 + rng.multinomial(extra, np.full(len(lengths) + 1, 1 / (len(lengths) + 1)))
        t, difficulty, tech, elements, risks = int(gaps[0]), 0.0, 0.0, [], []
        for j, i in enumerate(order):
            if i < n_el:  # a body element
                typ, L = body[i]
                q = float(_sigmoid(0.9 * skill + rng.normal(0, 0.8)))
                difficulty += self.value[typ]
                tech += 0.4 * (1 - q)
                z["rgb"][t:t + L, 12:24] = 2.0 * self.look[typ]
                z["rgb"][t:t + L, 24] = 6.0 * (q - 0.5)
                z["rgb"][t:t + L, 25] = 3.0 * (self.value[typ] - 1.0)
                elements.append({"start": t, "end": t + L, "type": typ, "value": float(self.value[typ]), "q": q})
            else:  # a throw: the flight in flow, the series of rotations in RGB
                F, n, s = plans[i - n_el]
                throw = t - min(0, s)
                spins = list(range(throw + s, throw + s + n))
                z["flow"][throw:throw + F, 7] = 3.0
                z["rgb"][spins, 26:28] = [3.0, 2.0]
                under = sum(throw <= r < throw + F for r in spins)
                value = self.risk_value(under)
                difficulty += value
                risks.append({"start": throw, "end": throw + F, "rotations": spins, "under": int(under),
                              "value": float(value)})
            t += lengths[i] + int(gaps[j + 1])
        elements.sort(key=lambda e: e["start"])
        risks.sort(key=lambda k: k["start"])
        self.fill_noise(z, rng, {"rgb": 28, "flow": 11, "audio": 17})
        labels = _rg_labels(difficulty, float(np.clip(10.0 - tech, 0, 10)), 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "daring": float(daring),
                           "under_flight": int(sum(k["under"] for k in risks)),
                           "risk_value": float(sum(k["value"] for k in risks)), "risks": risks, "elements": elements}


class BonusWorld(World):
    """Fis-V law, held out (sixteenth round). The ISU's bonus for jumps late in the free skating: a jump element
    started in the programme's second half earns its base value x 1.1 (the rule of Fis-V's seasons, before the ISU
    limited it to the last jump elements). 7 jumping passes, 3 big (the world's 4 big types, base values 4.5-6.5) and
    4 smaller (4 types, 1.5-3.5), the same content in distribution for every skater whatever her layout. Her plan (a
    trait apart from skill) sets which go after the halfway mark: each big pass with probability sigmoid(2.5 plan),
    each smaller one sigmoid(0.5 plan); the passes of each half fill that half in equal slots, in random order. A pass
    earns base value x (1.1 if it starts at or after T / 2, else 1) + a GOE of 0.6 (q - 0.5) x base value, q its
    execution (sigmoid(0.5 skill + N(0, 0.8))). RGB shows each jump where it is (look, quality, value): TES is read from
    RGB alone, where in time each jump starts included. PCS = 18 + 8 sigmoid(1.2 carriage) + the judges' noise N(0,
    0.8), the carriage (a trait correlated 0.6 with skill) shown in RGB all along. Flow (speed, texture; not even the
    jumps) and audio (the music) are rich and unscored: no score needs them, extra modalities must not help."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 64, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 640, "flow": 512, "audio": 256}, t_range=(116, 138), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "relu"}, feature_noise=0.5)
    BONUS = 1.1  # the base value's factor for a jump started in the second half
    BIG = 3  # big passes of the 7

    def setup(self, rng):
        self.jump_value = np.concatenate([np.round(rng.uniform(4.5, 6.5, 4), 1), np.round(rng.uniform(1.5, 3.5, 4), 1)])
        self.look = rng.standard_normal((8, 12))

    @staticmethod
    def second_half(start: int, T: int) -> bool:
        """Whether a jump started at segment `start` starts in the second half of a T-segment programme."""
        return start >= T / 2

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed, unscored
        z["flow"][:, 7:11] = 0.8 * rng.standard_normal((T, 4))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        plan = float(rng.standard_normal())  # her layout: apart from skill
        carriage = _correlated(rng, skill, 0.6)
        z["rgb"][:, 26] = 0.5 * carriage + rng.standard_normal(T)  # carriage and presence, all along
        n = int(self.cfg.n_elements[0])
        big = np.arange(n) < self.BIG
        types = np.where(big, rng.integers(0, 4, n), 4 + rng.integers(0, 4, n))
        late = rng.random(n) < np.where(big, _sigmoid(2.5 * plan), _sigmoid(0.5 * plan))
        h = int(np.ceil(T / 2))  # the first segment of the second half
        first = rng.permutation(np.flatnonzero(~late))
        second = rng.permutation(np.flatnonzero(late))
        placed = [(s, e, j) for (s, e, _), j in zip(_slots(rng, h + 1, len(first), length=(2, 3)), first)]
        placed += [(s + h - 1, e + h - 1, j) for (s, e, _), j in zip(_slots(rng, T - h + 1, len(second), length=(2, 3)),
                                                                    second)]
        tes, bonus, elements = 0.0, 0.0, []
        for start, end, j in sorted(placed):
            typ = int(types[j])
            value = float(self.jump_value[typ])
            q = float(_sigmoid(0.5 * skill + rng.normal(0, 0.8)))
            in_second = self.second_half(start, T)
            goe = 0.6 * (q - 0.5) * value
            pts = value * (self.BONUS if in_second else 1.0) + goe
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 0.8 * (value - 4.0)
            elements.append({"start": int(start), "end": int(end), "type": typ, "value": value, "big": bool(big[j]),
                             "q": q, "second_half": bool(in_second), "goe": float(goe), "points": float(pts)})
            tes += pts
            bonus += (self.BONUS - 1.0) * value if in_second else 0.0
        pcs = 18.0 + 8.0 * _sigmoid(1.2 * carriage) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 27, "flow": 11, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "plan": plan, "carriage": float(carriage),
                           "bonus": float(bonus), "elements": elements}


class ExpressionWorld(World):
    """RG law, held out (seventeenth round). Ball. The FIG's Artistry asks for body expression: the active
    participation of all body segments, not a routine danced with the arms alone. RGB shows the movement of four body
    segments (head and shoulders, trunk, arms, legs; two values each, drifting smoothly), as much movement in all for
    every gymnast; her expression (a trait correlated 0.5 with skill) sets how evenly it is shared among them: each
    segment's share of it is a softmax of s x N(0, 1) over the four, s = 0.3 + 2.2 sigmoid(-1.5 expression). E loses 0.6
    for each segment that, in effect, takes no part: 4 less the effective number of segments moving, 1 / sum(share^2)
    (4 when all move alike, 1 when one moves alone). How much she moves says nothing, nor does any one segment: only
    how the movement is shared among the parts of one stream. D: 6-8 valued elements (RGB look, value, quality); E =
    10 - sum 0.4 (1 - q) - 0.6 (4 - n_eff). Flow (travel, texture) and the music are unscored."""

    LAW = "rg"
    CLASS = "Ball"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 864, "flow": 288, "audio": 416}, t_range=(63, 87), n_elements=(6, 8),
                    backbone={"rgb": "linear", "flow": "linear", "audio": "relu"}, feature_noise=0.5)
    PARTS = 4  # body segments, two RGB values each
    EXPRESS = 0.6  # E for each body segment that, in effect, takes no part
    SCALE = 1.5  # the body's movement in RGB: each value of every segment at full share

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    @staticmethod
    def segments_moving(shares) -> float:
        """The effective number of body segments taking part: 1 / sum of the squared shares of the movement."""
        shares = np.asarray(shares, float)
        return float(1.0 / np.sum(shares ** 2))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel, unscored
        z["flow"][:, 7:10] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        expression = _correlated(rng, skill, 0.5)
        logits = (0.3 + 2.2 * _sigmoid(-1.5 * expression)) * rng.standard_normal(self.PARTS)
        shares = np.exp(logits - logits.max())
        shares /= shares.sum()
        moves = UnisonWorld.drift(rng, T, 2 * self.PARTS)  # smooth movement, each value set to unit variance
        moves = (moves - moves.mean(0)) / moves.std(0)
        z["rgb"][:, 26:26 + 2 * self.PARTS] = self.SCALE * moves * np.repeat(np.sqrt(shares), 2)
        n_eff = self.segments_moving(shares)
        self.fill_noise(z, rng, {"rgb": 26 + 2 * self.PARTS, "flow": 10, "audio": 17})
        E = float(np.clip(10.0 - tech - self.EXPRESS * (self.PARTS - n_eff), 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "expression": float(expression),
                           "shares": [round(float(s), 6) for s in shares], "segments_moving": n_eff,
                           "elements": elements}


class RepriseWorld(World):
    """Fis-V law, held out (seventeenth round). The ISU's Composition (phrase and form) asks the programme's structure
    to follow the music's: where the music brings back a section heard before (a reprise), the choreography brings back
    the movement it gave that section; where the music brings new material, new movement. The music is a run of
    sections of 11-17 segments, each a statement of one of up to 5 materials (audio: a texture drawn for the routine,
    varied a little at each statement); a section brings a new material with probability 0.4, otherwise returns to an
    earlier one, never the one just heard. The skater's movement (flow: a movement pattern drawn for the routine)
    changes at every section, and she has as many movement materials as the music has; her form (a trait correlated
    0.5 with skill) sets, section by section, with probability sigmoid(0.4 + 1.5 form), whether she follows the music's
    form there; where she does not, she gives the section the movement of another of the music's materials (not the
    one just before or after; kept where it is the only showing of its own). A section follows the form when, against
    every earlier section, its movement is the same exactly where its music is the same. PCS = 18 + 6 sigmoid(1.2
    skill) + 3 (share of sections 2.. following - 0.5) + the judges' noise N(0, 0.8). Neither stream's form alone says
    anything, nor which texture is which, nor how many of each: only the two partitions of the programme, read at the
    same moments, against each other. TES: a short programme's 7 elements (3 jumps, 3 spins, a step sequence, in an
    order of her own), base value x (0.5 + q) each (RGB look, quality, value; flow take-off, spin, footwork)."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 40, "flow": 48, "audio": 48}
    DEFAULTS = dict(dims={"rgb": 352, "flow": 928, "audio": 608}, t_range=(113, 139), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "relu", "audio": "relu"}, feature_noise=0.5)
    FORM = 3.0  # PCS points per unit of the share of sections that follow the music's form
    SECTION = (11, 17)  # segments of a section of the music
    MATERIALS = 5  # the most materials a piece has
    NEW = 0.4  # the odds that a section brings new material (while fewer than MATERIALS are heard)
    KINDS = ("jump",) * 3 + ("spin",) * 3 + ("steps",)

    def setup(self, rng):
        self.kind_types = {"jump": [0, 1, 2, 3], "spin": [4, 5, 6, 7], "steps": [8, 9]}
        self.base = np.concatenate([np.round(rng.uniform(4.0, 6.0, 4), 1), np.round(rng.uniform(1.7, 3.2, 4), 1),
                                    np.round(rng.uniform(2.6, 3.9, 2), 1)])
        self.look = rng.standard_normal((10, 12))

    @staticmethod
    def follows(music, movement, i: int) -> bool:
        """Whether section i follows the music's form: against every earlier section, the same movement exactly where
        the music is the same."""
        return all((music[i] == music[j]) == (movement[i] == movement[j]) for j in range(i))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        form = _correlated(rng, skill, 0.5)
        spans = _spans(rng, T, self.SECTION)  # the music's sections
        music = [0]  # each section's material
        for _ in spans[1:]:
            earlier = sorted(set(music) - {music[-1]})
            new = len(set(music)) < self.MATERIALS and rng.random() < self.NEW
            music.append(len(set(music)) if new or not earlier else int(rng.choice(earlier)))
        p = float(_sigmoid(0.4 + 1.5 * form))
        movement = list(music)  # following the form: each material of the music its own movement
        for i in range(1, len(spans)):
            if rng.random() < p or movement.count(movement[i]) < 2:
                continue  # she follows the form here (or this is the only showing of a movement: kept)
            near = {movement[i], movement[i - 1]} | ({movement[i + 1]} if i + 1 < len(spans) else set())
            other = [c for c in range(len(set(music))) if c not in near]
            if other:  # the movement of another of the music's materials, not the one just before or after
                movement[i] = int(rng.choice(other))
        sound = 1.8 * rng.standard_normal((max(music) + 1, 8))  # the materials, drawn for this routine
        moves = 1.8 * rng.standard_normal((max(music) + 1, 6))
        for (a, b), m, v in zip(spans, music, movement):  # each statement varied a little
            z["audio"][a:b, 17:25] = sound[m] + 0.3 * rng.standard_normal(8)
            z["flow"][a:b, 8:14] = moves[v] + 0.3 * rng.standard_normal(6)
        followed = [self.follows(music, movement, i) for i in range(1, len(spans))]
        share = float(np.mean(followed))
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed, unscored
        z["flow"][:, 14:17] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        kinds = rng.permutation(len(self.KINDS))
        tes, elements = 0.0, []
        for (start, end, _), k in zip(_slots(rng, T, len(self.KINDS), length=(2, 4), margin=1), kinds):
            kind = self.KINDS[k]
            typ = int(rng.choice(self.kind_types[kind]))
            value = float(self.base[typ])
            q = float(_sigmoid(0.8 * skill + rng.normal(0, 0.8)))
            pts = value * (0.5 + q)
            z["rgb"][start:end, 12:24] = 2.0 * self.look[typ]
            z["rgb"][start:end, 24] = 6.0 * (q - 0.5)
            z["rgb"][start:end, 25] = 0.8 * (value - 3.5)
            z["flow"][start:end, 7] = {"jump": 3.0, "spin": 2.0, "steps": 1.5}[kind]  # take-off, spin, footwork
            elements.append({"start": start, "end": end, "kind": kind, "type": typ, "value": value, "q": q,
                             "points": float(pts)})
            tes += pts
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.FORM * (share - 0.5) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 17, "audio": 25})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "form": float(form), "sections": [list(s) for s in spans],
                           "music": music, "movement": movement, "followed": followed, "share": share,
                           "elements": elements}


class FluencyWorld(World):
    """RG law, held out (eighteenth round). Ribbon. The FIG's Artistry (unity, connections) asks the movement to flow
    from one shape into the next, without abrupt, jerky changes. RGB shows the body's line (six values: arms, trunk,
    legs), and every gymnast of a routine's length passes through the very same values: each value's course is put,
    rank for rank, onto the normal quantiles of its length, so its mean, spread, range and every other summary that
    ignores order are the same for all. Only the order in time differs: her fluency (a trait correlated 0.5 with skill)
    sets how smoothly the line moves, each course an AR(1) at phi = 0.3 + 0.65 sigmoid(1.5 fluency) before it is put on
    the quantiles. E loses 3 x the jerkiness, half the mean squared change of the line from one segment to the next
    (near 1 - phi: 0 for a line that never changes, 1 for one that jumps at random). D: 6-8 valued elements (RGB look,
    value, quality); E = 10 - sum 0.4 (1 - q) - 3 jerkiness. Flow (travel, the ribbon's texture) and the music
    (passages, highlights) are rich and unscored: only RGB, read in order, counts."""

    LAW = "rg"
    CLASS = "Ribbon"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 992, "flow": 352, "audio": 224}, t_range=(62, 86), n_elements=(6, 8),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.6)
    LINE = 6  # values of the body's line in RGB
    JERK = 3.0  # E per unit of jerkiness
    SCALE = 1.5  # the line's values in RGB

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 12), 1)
        self.look = rng.standard_normal((12, 12))

    @staticmethod
    def same_values(course) -> np.ndarray:
        """Each column put, rank for rank, on the normal quantiles of its length: every course of T segments then holds
        the same values, and only their order in time tells one from another."""
        course = np.asarray(course, float)
        ranks = np.argsort(np.argsort(course, axis=0, kind="stable"), axis=0, kind="stable")
        return scipy.stats.norm.ppf((ranks + 0.5) / len(course))

    @staticmethod
    def jerkiness(line) -> float:
        """Half the mean squared change of the line from one segment to the next, over its values."""
        return float(np.mean(np.diff(np.asarray(line, float), axis=0) ** 2) / 2)

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel, unscored
        z["flow"][:, 7:10] = 0.8 * rng.standard_normal((T, 3))  # the ribbon's texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        fluency = _correlated(rng, skill, 0.5)
        phi = float(0.3 + 0.65 * _sigmoid(1.5 * fluency))
        course = np.zeros((T, self.LINE))
        course[0] = rng.standard_normal(self.LINE)
        for t in range(1, T):
            course[t] = phi * course[t - 1] + float(np.sqrt(1 - phi ** 2)) * rng.standard_normal(self.LINE)
        line = self.same_values(course)
        z["rgb"][:, 26:26 + self.LINE] = self.SCALE * line
        jerk = self.jerkiness(line)
        self.fill_noise(z, rng, {"rgb": 26 + self.LINE, "flow": 10, "audio": 17})
        E = float(np.clip(10.0 - tech - self.JERK * jerk, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "fluency": float(fluency), "smoothness": phi,
                           "jerkiness": jerk, "elements": elements}


class RubatoWorld(World):
    """Fis-V law, held out (eighteenth round). The ISU's Interpretation of the Music asks for movement in time with the
    music, and music breathes: its pulse slows and quickens (rubato). Audio shows the music's pulse (the cosine and sine
    of its phase: a base cycle of 4-6 segments a routine, its tempo wandering about the base as an AR(1) at 0.9, 0.35
    radians a segment, set to mean 0 and that SD exactly); flow shows the skater's (her strokes' cycle, the same base
    tempo). Her timing (a trait correlated 0.5 with skill) sets how far she follows the music's wander: hers is w x the
    music's + sqrt(1 - w^2) x one of her own, drawn alike and made orthogonal to it, w = sigmoid(0.5 + 1.5 timing), so
    her pulse alone has the same mean tempo and the same spread of tempo for every skater, and the music's too. Her
    phase starts at any offset from the music's (on the beat or off it, syncopated: any steady offset is in time). The
    judges mark each of the music's phrases (8-12 segments, a timbre each in audio) by how steady the relative phase is
    through it, |mean exp(i (movement - music))| (1: a fixed offset; towards 0: drifting in and out of time); PCS = 18 +
    6 sigmoid(1.2 skill) + 6 (the phrases' mean steadiness - 0.75) + the judges' noise N(0, 0.8). Neither pulse alone,
    nor their tempi, nor how they agree at the same moments (the offset is hers) says it: only how steadily the two
    phases keep together. TES: 7 jumps, base value x (0.5 + q) (RGB look, quality, value; flow take-off)."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 40, "flow": 40, "audio": 48}
    DEFAULTS = dict(dims={"rgb": 416, "flow": 736, "audio": 896}, t_range=(112, 136), n_elements=(7, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.45)
    TIMING = 6.0  # PCS points per unit of the phrases' mean steadiness
    PHRASE = (8, 12)  # segments of a phrase of the music
    PERIOD = (4.0, 6.0)  # segments per cycle of the pulse at the base tempo
    WANDER = (0.9, 0.35)  # the tempo's wander about the base, radians a segment: AR(1) coefficient, SD
    TEMPO = (0.1, 3.0)  # radians a segment, at the least and the most (under half a cycle: a phase a segment is read)
    JITTER = 0.2  # the skater's phase error at each segment, radians
    SCALE = 1.5  # each pulse's cosine and sine in the latents

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    @classmethod
    def wanders(cls, rng, T: int, follow: float) -> tuple[np.ndarray, np.ndarray]:
        """The music's tempo wander and hers, radians a segment about the base, (T,) each. The music's is an AR(1) set
        to mean 0 and the SD exactly; hers is `follow` x the music's + sqrt(1 - follow^2) x one of her own, drawn
        alike and made orthogonal to the music's, so that hers too has mean 0 and the SD exactly, whatever she follows."""
        rho, sd = cls.WANDER
        x = np.zeros((T, 2))
        x[0] = rng.standard_normal(2)
        for t in range(1, T):
            x[t] = rho * x[t - 1] + float(np.sqrt(1 - rho ** 2)) * rng.standard_normal(2)
        music, own = x[:, 0] - x[:, 0].mean(), x[:, 1] - x[:, 1].mean()
        music /= music.std()
        own -= (own @ music) / (music @ music) * music
        own /= own.std()
        return sd * music, sd * (follow * music + float(np.sqrt(1 - follow ** 2)) * own)

    @staticmethod
    def steadiness(movement, music) -> float:
        """How steady the relative phase of two pulses is over a stretch: |mean exp(i (movement - music))|."""
        return float(np.abs(np.mean(np.exp(1j * (np.asarray(movement) - np.asarray(music))))))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        timing = _correlated(rng, skill, 0.5)
        follow = float(_sigmoid(0.5 + 1.5 * timing))
        step = 2 * np.pi / rng.uniform(*self.PERIOD)  # radians a segment at the base tempo, both pulses
        music_wander, her_wander = self.wanders(rng, T, follow)
        offset = rng.uniform(0, 2 * np.pi)
        music = rng.uniform(0, 2 * np.pi) + np.cumsum(np.clip(step + music_wander, *self.TEMPO))
        movement = music[0] + offset + np.concatenate([[0.0], np.cumsum(np.clip(step + her_wander[1:], *self.TEMPO))])
        movement = movement + self.JITTER * rng.standard_normal(T)
        spans = _spans(rng, T, self.PHRASE)  # the music's phrases
        timbre = 1.5 * rng.standard_normal((len(spans), 6))
        for (a, b), tone in zip(spans, timbre):
            z["audio"][a:b, 19:25] = tone
        z["audio"][:, 17], z["audio"][:, 18] = self.SCALE * np.cos(music), self.SCALE * np.sin(music)
        z["flow"][:, 8], z["flow"][:, 9] = self.SCALE * np.cos(movement), self.SCALE * np.sin(movement)
        steady = [self.steadiness(movement[a:b], music[a:b]) for a, b in spans]
        z["flow"][:, 6] = 0.5 + 0.3 * rng.standard_normal(T)  # gliding speed, unscored
        z["flow"][:, 10:13] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.TIMING * (float(np.mean(steady)) - 0.75) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 13, "audio": 25})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "timing": float(timing), "follow": follow,
                           "period": float(2 * np.pi / step), "offset": float(offset),
                           "phrases": [list(s) for s in spans], "steadiness": steady,
                           "steady": float(np.mean(steady)), "elements": elements}


class DynamicsWorld(World):
    """RG law, held out (nineteenth round). Clubs. The FIG's Artistry asks for dynamic changes, the speed and intensity
    of the movement changing with the music's dynamics, and in proportion to them: an outsize contrast on a gentle piece
    is overstated, a flat one on a dramatic piece understated. Audio shows the music's loudness, flow the intensity of
    her movement; both follow the same dynamic shape (sections of 6-12 segments, each a level and a hairpin, set to mean
    0 and SD 1 exactly over the routine), at the same moments, for every gymnast, each at a level of its own (the
    music's overall loudness, her own overall energy: free). Only the scale of the contrasts differs: the music's SD is
    exp(v - d / 2), hers exp(v + d / 2), v ~ N(0, 0.5) the piece's, d = +-m her disproportion (over- or understated alike),
    m = 0.5 sigmoid(-1.6 proportion), her proportion a trait correlated 0.5 with skill. E loses 3.5 x |log(her SD / the
    music's SD)| = 3.5 m. Neither stream's range alone says it, nor how closely the two agree at the same moments (the
    same for all), nor either level: only the one stream's contrasts measured against the other's. D: 5-7 valued
    elements (RGB look, value, quality); E = 10 - sum 0.4 (1 - q) - 3.5 m. Her travel and the clubs' texture in flow and
    the music's other texture (passages, highlights) are unscored."""

    LAW = "rg"
    CLASS = "Clubs"
    held_out = True
    LATENT = {"rgb": 40, "flow": 48, "audio": 40}
    DEFAULTS = dict(dims={"rgb": 288, "flow": 832, "audio": 480}, t_range=(66, 88), n_elements=(5, 7),
                    backbone={"rgb": "linear", "flow": "relu", "audio": "linear"}, feature_noise=0.5)
    SECTION = (6, 12)  # segments of a section of the music's dynamics
    PIECE = 0.5  # SD of the piece's log contrast, v, shared by the music and her
    REACH = 0.5  # the largest disproportion, |log(her contrast / the music's)|
    DISPROPORTION = 3.5  # E per unit of |log(her contrast / the music's)|

    def setup(self, rng):
        self.value = np.round(rng.uniform(0.5, 1.5, 10), 1)
        self.look = rng.standard_normal((10, 12))

    @staticmethod
    def shape(rng, spans) -> np.ndarray:
        """The music's dynamic shape: each section a level N(0, 1) and a hairpin (a slope N(0, 1.2) over the section,
        crescendo or diminuendo), set to mean 0 and SD 1 exactly over the routine: (T,)."""
        parts = []
        for a, b in spans:
            ramp = (np.arange(b - a) - (b - a - 1) / 2) / max(b - a, 1)
            parts.append(rng.standard_normal() + 1.2 * rng.standard_normal() * ramp)
        s = np.concatenate(parts)
        return (s - s.mean()) / s.std()

    @staticmethod
    def disproportion(movement, music) -> float:
        """|log(the SD of the movement's intensity / the SD of the music's loudness)| over a routine."""
        return float(abs(np.log(np.std(movement) / np.std(music))))

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        z["flow"][:, 6] = 0.6 * rng.standard_normal(T)  # travel, unscored
        z["flow"][:, 7:10] = 0.8 * rng.standard_normal((T, 3))  # the clubs' texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        difficulty, tech, elements = self.valued_elements(rng, z, T, skill, (2, 4), 1.0)
        proportion = _correlated(rng, skill, 0.5)
        m = float(self.REACH * _sigmoid(-1.6 * proportion))
        d = m if rng.random() < 0.5 else -m  # overstated (+) or understated (-)
        v = self.PIECE * rng.standard_normal()
        shape = self.shape(rng, _spans(rng, T, self.SECTION))
        music = 0.5 * rng.standard_normal() + np.exp(v - d / 2) * shape
        movement = 1.0 + 0.5 * rng.standard_normal() + np.exp(v + d / 2) * shape
        z["audio"][:, 17] = music
        z["flow"][:, 10] = movement
        self.fill_noise(z, rng, {"rgb": 26, "flow": 11, "audio": 18})
        E = float(np.clip(10.0 - tech - self.DISPROPORTION * m, 0, 10))
        labels = _rg_labels(difficulty, E, 0.0, T)
        return z, labels, {"T": T, "skill": float(skill), "proportion": float(proportion), "disproportion": m,
                           "gain": float(d), "piece": float(v), "music_range": float(np.exp(v - d / 2)),
                           "movement_range": float(np.exp(v + d / 2)), "elements": elements}


class PowerWorld(World):
    """Fis-V law, held out (nineteenth round). The ISU's Skating Skills ask for power and acceleration and for flow and
    glide: speed gained at once from a strong push and carried in a long glide. Flow shows her speed as a run of surges
    (5-9 segments each, their order reversed half the time, so that the one cut to fit the programme is as likely first
    as last): a push-and-glide surge rises in one segment and dies away slowly (h x [0, 1, r, r^2, ...], h 0.8-1.6 a
    surge, r the glide's decay, 0.6-0.8 a routine); a laboured one is the same surge played backwards, built up slowly
    and lost at once (scraping, braking). Her power (a trait correlated 0.5 with skill) sets the chance of each surge
    being a push and glide, sigmoid(1.8 power) (a half for the average skater). PCS = 18 + 6 sigmoid(1.2 skill) + 2.5
    (the share of push-and-glide surges - 0.5) + the judges' noise N(0, 0.8). A programme played backwards is one with
    the share 1 - p, drawn alike: so her speed's values, their spread, how much it changes from one segment to the
    next, its autocorrelation and spectrum (whatever a reversal of time leaves as it was) say nothing of the share;
    only the direction of time in one stream says it. TES: 7 jumps, base value x (0.5 + q) (RGB look, quality, value;
    flow take-off). Her cruising level and texture in flow and the music (passages, highlights) are unscored."""

    LAW = "fisv"
    held_out = True
    LATENT = {"rgb": 48, "flow": 40, "audio": 32}
    DEFAULTS = dict(dims={"rgb": 544, "flow": 1024, "audio": 160}, t_range=(114, 140), n_elements=(7, 7),
                    backbone={"rgb": "relu", "flow": "linear", "audio": "relu"}, feature_noise=0.55)
    SURGE = (5, 9)  # segments of a surge of speed
    HEIGHT = (0.8, 1.6)  # a surge's gain of speed
    DECAY = (0.6, 0.8)  # the glide's decay a segment, drawn per routine
    POWER = 2.5  # PCS points per unit of the share of push-and-glide surges
    SCALE = 1.5  # the speed in flow

    def setup(self, rng):
        self.jump_value = np.round(rng.uniform(1.0, 4.5, 7), 1)
        self.look = rng.standard_normal((7, 12))

    @staticmethod
    def surge(n: int, height: float, decay: float, glide: bool) -> np.ndarray:
        """A surge of speed over n segments: a push and glide, h x [0, 1, r, r^2, ...], or that played backwards."""
        k = height * np.concatenate([[0.0], decay ** np.arange(n - 1)])[:n]
        return k if glide else k[::-1]

    @classmethod
    def surges(cls, rng, T: int) -> list[tuple[int, int]]:
        """(start, end) of the surges: 5-9 segments each (`_spans`), their order reversed half the time, so that the
        one cut to fit the programme is as likely at its start as at its end and the layout reads alike either way."""
        spans = _spans(rng, T, cls.SURGE)
        if rng.random() < 0.5:
            lengths = [b - a for a, b in spans][::-1]
            ends = np.cumsum(lengths)
            spans = [(int(e - n), int(e)) for e, n in zip(ends, lengths)]
        return spans

    def make(self, rng):
        T, skill, _, z = self.begin_musical(rng)
        _unscored_music(rng, z, T)
        power = _correlated(rng, skill, 0.5)
        p = float(_sigmoid(1.8 * power))
        decay = float(rng.uniform(*self.DECAY))
        spans = self.surges(rng, T)
        glides = [bool(rng.random() < p) for _ in spans]
        heights = rng.uniform(*self.HEIGHT, len(spans))
        speed = np.concatenate([self.surge(b - a, h, decay, g) for (a, b), h, g in zip(spans, heights, glides)])
        level = 0.5 + 0.3 * rng.standard_normal()  # her cruising speed, unscored
        z["flow"][:, 8] = self.SCALE * (level + speed)
        z["flow"][:, 9:12] = 0.8 * rng.standard_normal((T, 3))  # movement texture, unscored
        z["rgb"][:, 12:24] = 0.6 * rng.standard_normal((T, 12))
        tes, elements = self.jumps(rng, z, T, skill)
        share = float(np.mean(glides))
        pcs = 18.0 + 6.0 * _sigmoid(1.2 * skill) + self.POWER * (share - 0.5) + rng.normal(0, 0.8)
        self.fill_noise(z, rng, {"rgb": 26, "flow": 12, "audio": 17})
        labels = _fisv_labels(tes, pcs)
        return z, labels, {"T": T, "skill": float(skill), "power": float(power), "p": p, "decay": decay,
                           "level": float(level), "surges": [list(s) for s in spans], "glides": glides,
                           "heights": [float(h) for h in heights], "share": share, "elements": elements}


WORLDS: dict[str, type[World]] = {
    "rg": RGWorld, "amplitude": AmplitudeWorld, "energy": EnergyWorld, "execution": ExecutionWorld,
    "landing": LandingWorld, "catch": CatchWorld, "phrasing": PhrasingWorld, "spins": SpinsWorld,
    "combos": CombosWorld, "pauses": PausesWorld, "drops": DropsWorld, "character": CharacterWorld,
    "articulation": ArticulationWorld, "consistency": ConsistencyWorld, "tempo": TempoWorld, "counting": CountingWorld,
    "climax": ClimaxWorld, "balances": BalancesWorld, "motifs": MotifsWorld, "glide": GlideWorld,
    "edges": EdgesWorld, "cuts": CutsWorld, "entries": EntriesWorld, "space": SpaceWorld,
    "stamina": StaminaWorld, "rotations": RotationsWorld, "lag": LagWorld, "falls": FallsWorld,
    "contour": ContourWorld, "coverage": CoverageWorld, "static": StaticWorld, "unison": UnisonWorld,
    "seams": SeamsWorld, "placement": PlacementWorld, "flights": FlightsWorld, "bonus": BonusWorld,
    "expression": ExpressionWorld, "reprise": RepriseWorld, "fluency": FluencyWorld, "rubato": RubatoWorld,
    "dynamics": DynamicsWorld, "power": PowerWorld,
}
DEV_WORLDS = [n for n, w in WORLDS.items() if not w.held_out]
HELD_OUT_WORLDS = [n for n, w in WORLDS.items() if w.held_out]


def world_config(name: str, seed: int = 0, **overrides) -> WorldConfig:
    if name not in WORLDS:
        raise KeyError(f"unknown world {name!r}; valid: {', '.join(WORLDS)}")
    return replace(WorldConfig(world=name, seed=seed, **WORLDS[name].DEFAULTS), **overrides)


def world_tasks(name: str, multi: bool = False) -> list[str]:
    """The task names a world's labels are trained on (see lmac.data.tasks); `multi` (tasks asked for by name):
    also the Fis-V-law worlds' two-score task (TES and PCS from one model) and the RG-law worlds' task trained on
    the judges' parts (D, E, P)."""
    w = WORLDS[name]
    if w.LAW == "fisv":
        return [f"world_{name}_tes", f"world_{name}_pcs"] + ([f"world_{name}_tes_pcs"] if multi else [])
    return [f"world_{name}"] + ([f"world_{name}_parts"] if multi else [])


def _world_seed(name: str) -> int:
    return sum((i + 1) * ord(c) for i, c in enumerate(name))  # stable across runs (str hash is salted)


def build_world(cfg: WorldConfig) -> World:
    """The draw's world with its fixed tables (element values, looks, backbones), as `generate_world` builds it:
    the same for a given config, so analyses of a generated folder can rebuild what its truth.json leaves out."""
    return WORLDS[cfg.world](cfg, np.random.default_rng([cfg.seed, _world_seed(cfg.world)]))


def generate_world(out_dir, cfg: WorldConfig, progress: bool = False) -> dict:
    """Write one draw of a world: native features, RG- or Fis-V-format train.txt/test.txt, truth.json
    (latent ground truth) and world.json (the config, written last: the mark of a finished folder)."""
    from tqdm import tqdm

    out_dir = Path(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir}: is not empty; choose a new folder or remove it first")
    wcls = WORLDS[cfg.world]
    world = build_world(cfg)
    feat_dir = out_dir / "features"
    feat_dir.mkdir(parents=True, exist_ok=True)
    write_native_manifest(feat_dir, cfg.dims, {"world": asdict(cfg)})
    n = cfg.n_train + cfg.n_test
    split = np.array(["train"] * cfg.n_train + ["test"] * cfg.n_test)
    np.random.default_rng([cfg.seed, _world_seed(cfg.world), 1]).shuffle(split)
    rows, truth = {"train": [], "test": []}, {}
    for i in tqdm(range(n), desc=cfg.world, unit="video", disable=not progress):
        rng = np.random.default_rng([cfg.seed, _world_seed(cfg.world), 2, i])
        if isinstance(world, RGWorld):
            feats, labels, tr = world.make(rng)
        else:
            z, labels, tr = world.make(rng)
            feats = world.features(z, rng)
        vid = f"{wcls.CLASS}_{i + 1:04d}" if wcls.LAW == "rg" else f"{i + 1}"
        write_native_video(feat_dir, vid, feats, {"world": cfg.world})
        rows[split[i]].append((vid, labels))
        truth[vid] = tr
    for s, items in rows.items():
        if wcls.LAW == "rg":
            text = "Video_Name\tDifficulty_Score\tExecution_Score\tTotal_Score\tPenalty\tVideo_length\n" + "".join(
                f"{v}\t{l['difficulty']:.2f}\t{l['execution']:.2f}\t{l['total']:.2f}\t{l['penalty']:.2f}\t{l['length']}\n"
                for v, l in items)
        else:
            text = "".join(f"{v} {l['tes']:.2f} {l['pcs']:.2f} {l['falls']}\n" for v, l in items)
        atomic_write_text(out_dir / f"{s}.txt", text)
    atomic_write_json(out_dir / "truth.json", truth)
    atomic_write_json(out_dir / "world.json", asdict(cfg))
    return {"videos": n, "train": cfg.n_train, "test": cfg.n_test, "features": str(feat_dir)}


def ensure_world(out_dir, cfg: WorldConfig) -> Path:
    """Generate unless already there with the same config; a folder made otherwise is an error."""
    import shutil

    out_dir = Path(out_dir)
    marker = out_dir / "world.json"
    if marker.is_file():
        have = json.loads(marker.read_text())
        want = json.loads(json.dumps(asdict(cfg)))
        diff = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
        if diff:
            raise ValueError(f"{out_dir} holds a world made with other settings ({', '.join(diff)} differ); "
                             "use another folder or delete it")
        return out_dir
    if out_dir.is_dir():  # a generation cut short: start it again
        shutil.rmtree(out_dir)
    generate_world(out_dir, cfg)
    return out_dir
