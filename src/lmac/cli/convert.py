"""`lmac convert SRC --out DIR`: turn a PAMFN or GDLT feature package into the native layout."""
from __future__ import annotations

import sys


def parse_names(text: str | None) -> dict:
    """`rgb=VST,flow=I3D,audio=AST` -> {"rgb": "VST", ...}: which PAMFN file to read per modality."""
    from lmac import MODALITIES

    if not text:
        return {}
    out = {}
    for part in text.split(","):
        mod, sep, name = part.strip().partition("=")
        if not sep or not name or mod not in MODALITIES:
            raise ValueError(f"--names takes MODALITY=NAME pairs with MODALITY in {', '.join(MODALITIES)}, got {part!r}")
        if mod in out:
            raise ValueError(f"--names gives {mod} twice")
        out[mod] = name
    return out


def parse_classes(text: str | None) -> list[str] | None:
    if not text:
        return None
    classes = [c.strip() for c in text.split(",") if c.strip()]
    if not classes:
        raise ValueError(f"--classes takes comma-separated class names such as Ball,Clubs, got {text!r}")
    return classes


def register(sub):
    p = sub.add_parser(
        "convert",
        help="convert a PAMFN or GDLT feature package into the native layout",
        description="Read a PAMFN package ({Ball,...,FISV}_{rgb,flow,audio}_NAME.npy, read without running "
        "pickle code) or a GDLT package (one (T, D) .npy per video) and write one .safetensors file per "
        "video plus features.json into --out.",
    )
    p.add_argument("src", help="feature package folder (PAMFN: the folder or its features/; GDLT: the folder "
                               "holding swintx_avg_fps25_clip32/ or the .npy files)")
    p.add_argument("--out", required=True, help="output folder for the native layout")
    p.add_argument("--format", choices=["auto", "pamfn", "gdlt"], default="auto", help="source layout (default auto)")
    p.add_argument("--classes", default=None,
                   help="comma-separated classes to convert, e.g. Ball,Clubs (PAMFN file prefixes; for GDLT the "
                        "video id prefix); default all")
    p.add_argument("--names", default=None,
                   help="PAMFN feature name per modality when a package holds several, e.g. rgb=VST,flow=I3D,audio=AST")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from lmac.data.features import convert_to_native, detect_layout, open_feature_store

    classes = parse_classes(args.classes)
    names = parse_names(args.names)
    fmt = detect_layout(args.src) if args.format == "auto" else args.format
    if fmt == "native":
        raise ValueError(f"{args.src}: already in the native layout; nothing to convert")
    if names and fmt != "pamfn":
        raise ValueError(f"--names applies to PAMFN packages only; {args.src} is a {fmt} package")
    store = open_feature_store(args.src, fmt, prefixes=classes if fmt == "pamfn" else None, names=names or None)
    ids = None
    if classes and fmt != "pamfn":
        ids = [v for v in store.ids() if v.split("_", 1)[0] in classes]
        if not ids:
            raise ValueError(f"{args.src}: no videos whose id starts with {', '.join(c + '_' for c in classes)}")
    incomplete = getattr(store, "incomplete", {})
    if incomplete:
        shown = ", ".join(f"{v} (no {'/'.join(m)})" for v, m in sorted(incomplete.items())[:10])
        more = f" and {len(incomplete) - 10} more" if len(incomplete) > 10 else ""
        print(f"lmac convert: warning: skipping {len(incomplete)} videos missing a modality: {shown}{more}",
              file=sys.stderr)
    n = convert_to_native(store, args.out, info={"source": str(args.src)}, progress=not args.no_progress, ids=ids)
    dims = ", ".join(f"{m}={d}" for m, d in store.dims.items())
    print(f"wrote {n} videos ({dims}) from the {fmt} package {args.src} to {args.out} (native layout)")
    return 0
