"""Presets: which extractor makes each modality, and the decoding settings they share."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    extractors: dict  # modality -> extractor name
    flow_method: str = "tvl1"
    resize: int = 256  # short side before the centre crop
    crop: int = 224
    notes: str = ""
    dims: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, Preset] = {
    "pamfn": Preset(
        name="pamfn",
        description="The public PAMFN package's recipe: Video Swin B RGB + I3D flow (TV-L1) + AST audio",
        extractors={"rgb": "vst", "flow": "i3d-flow", "audio": "ast"},
        flow_method="tvl1",
        dims={"rgb": 1024, "flow": 1024, "audio": 768},
        notes="needs the user's checkpoints: --weights vst=... i3d-flow=... ast=... (docs/extraction.md)",
    ),
    "offline": Preset(
        name="offline",
        description="Runs with nothing downloaded: I3D RGB (packaged DeepMind Kinetics-400 weights) + "
        "flow-hof descriptor (DIS flow) + musicnn audio (packaged MagnaTagATune weights, 3 s around each segment)",
        extractors={"rgb": "i3d-rgb", "flow": "flow-hof", "audio": "musicnn"},
        flow_method="dis",
        dims={"rgb": 1024, "flow": 104, "audio": 200},
        notes="not interchangeable with the public features; train and predict on the same preset",
    ),
}


# the offline preset as it was before musicnn: the same but for a hand-made audio descriptor
PRESETS["offline-stats"] = replace(
    PRESETS["offline"], name="offline-stats",
    description="The offline preset with a hand-made audio descriptor instead of musicnn: I3D RGB + "
    "flow-hof descriptor (DIS flow) + audio-stats descriptor (log-mel, chroma, onset statistics)",
    extractors={**PRESETS["offline"].extractors, "audio": "audio-stats"},
    dims={**PRESETS["offline"].dims, "audio": 149},
    notes="the offline preset before musicnn; not interchangeable with it",
)


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        import difflib

        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise KeyError(f"unknown preset '{name}'. Valid: {', '.join(sorted(PRESETS))}.{hint}")
    return PRESETS[name]
