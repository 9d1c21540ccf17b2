"""`lmac` command line: verbs as subcommands. Argument parsing only; work happens in the library.

Each command module in COMMANDS defines `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the default.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["synth", "convert", "train", "benchmark", "demo", "extract", "predict", "models"]


def build_parser() -> argparse.ArgumentParser:
    from lmac import __version__

    parser = argparse.ArgumentParser(prog="lmac", description="Long-term multimodal action quality assessment (LMAC-Net).")
    parser.add_argument("--version", action="version", version=f"lmac {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"lmac.cli.{name}").register(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `lmac models | head`: the reader left; nothing to report
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (ValueError, KeyError, FileNotFoundError, FileExistsError, NotADirectoryError, RuntimeError) as e:
        # Library errors carry one actionable line naming the file and the problem.
        if getattr(args, "debug", False) or __import__("os").environ.get("LMAC_DEBUG"):
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"lmac {args.command}: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
