"""`lmac synth OUT_DIR`: write the embedded synthetic benchmark."""
from __future__ import annotations

# Feature dims of the synthetic benchmark as make demo and lmac benchmark train it: small enough for a CPU
SMALL_DIMS = "128,128,96"


def parse_dims(text: str) -> dict:
    parts = [int(x) for x in text.split(",")]
    if len(parts) != 3 or min(parts) < 1:
        raise ValueError(f"--dims takes three positive integers RGB,FLOW,AUDIO, got {text!r}")
    return dict(zip(("rgb", "flow", "audio"), parts))


def register(sub):
    p = sub.add_parser("synth", help="generate the synthetic benchmark (RG-format labels + features)",
                       description="Generate a synthetic RG-like benchmark: see docs/synthetic.md.")
    p.add_argument("out", help="output folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", choices=["native", "pamfn"], default="native")
    p.add_argument("--train", type=int, default=200, help="training videos per class (default 200)")
    p.add_argument("--test", type=int, default=50, help="test videos per class (default 50)")
    p.add_argument("--classes", default="Ball,Clubs,Hoop,Ribbon")
    p.add_argument("--dims", default="1024,1024,768", help="feature dims RGB,FLOW,AUDIO (default the real 1024,1024,768)")
    p.add_argument("--t-min", type=int, default=66)
    p.add_argument("--t-max", type=int, default=76)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args) -> int:
    from lmac.data.synthetic import SynthConfig, generate

    if args.t_min < 1 or args.t_max < args.t_min:
        raise ValueError(f"need 1 <= --t-min <= --t-max, got {args.t_min}, {args.t_max}")
    cfg = SynthConfig(seed=args.seed, classes=tuple(args.classes.split(",")), n_train=args.train, n_test=args.test,
                      t_min=args.t_min, t_max=args.t_max, dims=parse_dims(args.dims))
    info = generate(args.out, cfg, layout=args.layout, progress=not args.no_progress)
    print(f"wrote {info['videos']} videos ({info['train']} train / {info['test']} test) to {args.out}: "
          f"labels train.txt/test.txt, features in {info['features']} ({args.layout} layout)")
    return 0
