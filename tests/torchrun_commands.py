"""Run several `lmac` commands in one torchrun job: `torchrun ... tests/torchrun_commands.py COMMANDS.json OUT`.

Each rank joins the process group once, as a user's own torchrun script does (every lmac command
then uses that group and leaves it running), and runs each argv list of COMMANDS.json through the
real CLI entry point, `lmac.cli.main.main`, with its stdout and stderr captured. OUT/rank{r}.json gets
[{"argv", "rc", "stdout", "stderr", "seconds"}, ...]. Starting torch costs about 4 s a process here, so the
distributed tests share one job instead of paying that for every command.
"""
import contextlib
import io
import json
import sys
import time
from pathlib import Path

from lmac import distributed as ddist
from lmac.cli.main import main


def say(line: str) -> None:
    """One line on the real stderr in one write (the ranks share the pipe), so that a rank killed by a
    signal, which leaves no Python error, still shows which step it was in."""
    sys.__stderr__.write(line + "\n")
    sys.__stderr__.flush()


def run(commands_file: str, out_dir: str) -> None:
    commands = json.loads(Path(commands_file).read_text())
    info = ddist.init_from_env(device="cpu", backend="gloo", timeout=ddist.LONG_TIMEOUT)
    results = []
    mine = Path(out_dir, f"rank{info.rank}.json")
    try:
        for i, argv in enumerate(commands):
            say(f"[rank {info.rank}] step {i + 1}/{len(commands)}: lmac {argv[0]}")
            out, err = io.StringIO(), io.StringIO()
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = main(argv)
            results.append({"argv": argv, "rc": rc, "stdout": out.getvalue(), "stderr": err.getvalue(),
                            "seconds": round(time.perf_counter() - t0, 2)})
            mine.write_text(json.dumps(results, indent=1))  # after every step: a crash keeps what ran
            ddist.barrier()  # the next command starts on every rank together
        say(f"[rank {info.rank}] all steps done; leaving the process group")
    finally:
        mine.write_text(json.dumps(results, indent=1))
        ddist.shutdown()
    say(f"[rank {info.rank}] left the process group")


if __name__ == "__main__":
    run(*sys.argv[1:3])
