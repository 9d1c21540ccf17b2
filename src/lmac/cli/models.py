"""`lmac models [NAME]`: the model registry, and one model's options with their defaults."""
from __future__ import annotations

import dataclasses


def register(sub):
    p = sub.add_parser("models", help="list the registered models, or one model's options (for --set)")
    p.add_argument("name", nargs="?", help="a model: list its options, their types and defaults")
    p.add_argument("--tasks", action="store_true", help="list the datasets and their tasks instead")
    p.set_defaults(func=run)


def _tasks() -> int:
    from lmac.data.datasets import dataset_names, get_dataset

    for name in dataset_names():
        spec = get_dataset(name)
        print(f"{name}: {spec.title}")
        for t in spec.tasks:
            print(f"  {t.name:<16} {t.score_key:<6} range {t.score_range:g}, window {t.window}")
    print("worlds: the synthetic worlds' tasks (`lmac benchmark --suite worlds`, docs/worlds.md)")
    return 0


def run(args) -> int:
    from lmac.models import MODELS
    from lmac.models._builder import field_kind

    if getattr(args, "tasks", False):
        return _tasks()
    if not args.name:
        width = max(len(n) for n in MODELS.names())
        for n in MODELS.names():
            info = MODELS.info(n)
            mods = ",".join(info["modalities"]) if info.get("modalities") else "any"
            print(f"{n:<{width}}  [{mods}]  {info.get('doc', '')}")
        print("\n`lmac models NAME` lists a model's options; set them with `lmac train --set KEY=VALUE`.")
        return 0
    entry = MODELS.get(args.name)  # unknown name: one line with the valid ones
    info = MODELS.info(args.name)
    print(f"{args.name}: {info.get('doc', '')}")
    cls = info.get("config")
    if cls is None:
        print("(no options)")
        return 0
    # the registered preset's values, as the entry builds them
    dims = {m: 8 for m in (info.get("modalities") or ("rgb", "flow", "audio"))}
    defaults = dataclasses.asdict(entry(dims=dims).config)
    width = max(len(f.name) for f in dataclasses.fields(cls))
    for f in dataclasses.fields(cls):
        print(f"  {f.name:<{width}}  {field_kind(f):<5}  {defaults[f.name]!r}")
    return 0
