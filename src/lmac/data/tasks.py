"""The benchmark tasks as a table of specs, looked up by name (no if-chains on dataset names): every
registered dataset's tasks (lmac.data.datasets) and the synthetic worlds'.

A task is one regression problem: which label format, which rows (class), which score column,
the score range that maps points to [0, 1] targets, the training window, and the paper's recipe.
"""
from __future__ import annotations

from lmac.data.datasets import dataset_names, get_dataset
from lmac.data.taskspec import TaskSpec


def _world_tasks():
    """One task per RG-law world, TES and PCS per Fis-V-law world (lmac.data.worlds); each with its law's
    recipe and a window that holds its longest routine."""
    from lmac.data.datasets.rg import RG_PARTS
    from lmac.data.worlds import WORLDS

    out = []
    for name, w in WORLDS.items():
        window = w.DEFAULTS["t_range"][1]
        if w.LAW == "fisv":
            out += [TaskSpec(f"world_{name}_{col}", "fisv", "FISV", col, 45.0, window, 9e-5, 0.2, "FISV")
                    for col in ("tes", "pcs")]
            # both scores from one model (not in the worlds suite: `--tasks` or lmac train)
            out.append(TaskSpec(f"world_{name}_tes_pcs", "fisv", "FISV", "tes", 45.0, window, 9e-5, 0.2, "FISV",
                                extra_scores=(("pcs", 45.0),)))
        else:
            score_range = 10.0 if name == "execution" else 25.0  # its score is E alone
            out.append(TaskSpec(f"world_{name}", "rg", w.CLASS, "total", score_range, window, 9e-4, 0.1, w.CLASS))
            # trained on the judges' D, E and P, scored on their signed sum (not in the suite: `--tasks`)
            out.append(TaskSpec(f"world_{name}_parts", "rg", w.CLASS, "total", score_range, window, 9e-4, 0.1, w.CLASS,
                                parts=RG_PARTS))
    return out


def _held_out(task: str) -> bool:
    from lmac.data.worlds import WORLDS

    return any(w.held_out and task.startswith(f"world_{n}") for n, w in WORLDS.items())


TASKS: dict[str, TaskSpec] = {t.name: t for d in dataset_names() for t in get_dataset(d).tasks}
TASKS.update({t.name: t for t in _world_tasks()})
SUITES = {
    # one suite per dataset; tasks trained on part scores (`*_parts`) are asked for by name
    **{d: [t.name for t in get_dataset(d).tasks if not t.parts] for d in dataset_names()},
    # The synthetic benchmark is written in the RG format, so it runs the RG tasks.
    "synth": ["rg_ball", "rg_clubs", "rg_hoop", "rg_ribbon"],
    # independent synthetic worlds (lmac.data.worlds), development worlds only: the held-out ones are
    # asked for by name with --held-out
    "worlds": [t.name for t in TASKS.values() if t.name.startswith("world_") and not _held_out(t.name)
               and t.n_scores == 1 and not t.parts],
}
ALIASES = {"ball": "rg_ball", "clubs": "rg_clubs", "hoop": "rg_hoop", "ribbon": "rg_ribbon", "tes": "fisv_tes", "pcs": "fisv_pcs"}


def get_task(name: str) -> TaskSpec:
    key = ALIASES.get(name.lower(), name.lower())
    if key not in TASKS:
        raise KeyError(f"unknown task {name!r}; valid: {', '.join(TASKS)} (or {', '.join(ALIASES)})")
    return TASKS[key]
