"""`lmac benchmark`: train every (task, model, seed) and write the paper-style table.

The table has a column per class and the Fisher-z average; each cell is mean +- std over seeds.
Three protocols are reported side by side: best epoch on test (the peers'), last epoch, and the
epoch chosen on a validation split carved from train. Runs that already finished (summary.json
present) are reused, so an interrupted benchmark continues where it stopped.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import numpy as np

from lmac.config import TrainConfig
from lmac.data.tasks import SUITES, TASKS, get_task
from lmac.evaluation.metrics import fisher_z_mean
from lmac.utils import atomic_write_text

PROTOCOLS = {
    "test_srcc_val": "val-selected (honest)",
    "test_srcc_last": "last epoch (honest)",
    "test_srcc_best": "best test epoch (peers' protocol)",
}


def job_dir(out_dir, task: str, model: str, seed: int) -> Path:
    """The run folder of one (task, model, seed) job of a benchmark folder."""
    return Path(out_dir) / "runs" / f"{task}-{model}-s{seed}"


def run_benchmark(base: TrainConfig, suite: str, models: list[str], seeds: list[int], out_dir, tasks=None,
                  log=print, shard: tuple[int, int] = (0, 1), data_for=None) -> list[dict]:
    """Train all jobs (this process takes every `shard[1]`-th job from `shard[0]`) and return their summaries.

    Under torchrun the CLI passes shard=(rank, world size): each rank trains its own jobs alone,
    writing their run folders; `gather_results` then brings every summary to rank 0.
    `data_for(task, seed)` -> a dataset folder (labels + features/) gives each (task, seed) its own data
    (fresh synthetic data per seed; a world's draw per seed); by default every job trains on
    `base.features`/`base.labels`."""
    from lmac.training.trainer import train

    out_dir = Path(out_dir)
    tasks = tasks or SUITES[suite]
    jobs = [(t, m, s) for t in tasks for m in models for s in seeds]
    results = []
    for j, (task, model, seed) in enumerate(jobs):
        run_dir = job_dir(out_dir, task, model, seed)
        if j % shard[1] != shard[0]:
            continue
        if (run_dir / "summary.json").is_file():
            results.append(json.loads((run_dir / "summary.json").read_text()))
            continue
        cfg = dataclasses.replace(base, task=task, model=model, seed=seed)
        if data_for is not None:
            data = Path(data_for(task, seed))
            cfg = dataclasses.replace(cfg, features=str(data / "features"), labels=str(data))
        log(f"[{j + 1}/{len(jobs)}] {task} {model} seed {seed}")
        resume = (run_dir / "config.yaml").is_file()
        results.append(train(cfg, run_dir, resume=resume, log=log, distributed=False))  # one job, one process
    return results


def auto_jobs(device: str, n_jobs: int) -> int:
    """How many job processes `--jobs auto` runs: one per CPU core on a CPU (at most 8, at most the number of
    jobs), one on a GPU. Small models use a core far better alone than split over threads: two one-thread
    processes train about twice as many runs an hour on 2 cores as one two-thread process."""
    import os

    from lmac.utils import resolve_device

    if resolve_device(device).type != "cpu":
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, 8, n_jobs))


def _job_worker(index: int, jobs: int, threads: int, args: tuple, kwargs: dict) -> list[dict]:
    import torch

    torch.set_num_threads(threads)
    prefix = f"[worker {index + 1}/{jobs}] "
    return run_benchmark(*args, log=lambda msg: print(prefix + msg, flush=True), shard=(index, jobs), **kwargs)


def run_benchmark_parallel(base: TrainConfig, suite: str, models: list[str], seeds: list[int], out_dir, jobs: int,
                           tasks=None, log=print, data_for=None) -> list[dict]:
    """run_benchmark over `jobs` worker processes (spawned; job j goes to worker j % jobs), sharing this
    process's torch threads between them. Each run is what it is alone, up to the thread count's float
    rounding. A failing job stops the other workers and raises its error (an interrupted benchmark continues
    where it stopped). `data_for` must be picklable (a module-level function or a functools.partial of one)."""
    if jobs <= 1:
        return run_benchmark(base, suite, models, seeds, out_dir, tasks=tasks, log=log, data_for=data_for)
    import concurrent.futures
    import multiprocessing

    import torch

    threads = max(1, torch.get_num_threads() // jobs)
    log(f"{jobs} job processes, {threads} torch thread(s) each")
    base = dataclasses.replace(base, progress=False)  # interleaved progress bars would be unreadable
    args = (base, suite, models, seeds, str(out_dir))
    kwargs = {"tasks": tasks, "data_for": data_for}
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch's thread pools
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = [pool.submit(_job_worker, i, jobs, threads, args, kwargs) for i in range(jobs)]
        done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
        failed = [f.exception() for f in done if f.exception() is not None]
        if failed:  # stop the other workers now; their runs resume from their last resume point next time
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            raise failed[0]
        return [r for f in futures for r in f.result()]


def gather_results(results: list[dict]) -> list[dict]:
    """Every rank's summaries on every rank, rank by rank (waits for the slowest rank; needs no
    shared file system). One process: `results` unchanged."""
    from lmac.distributed import all_gather_objects

    parts = all_gather_objects(results)
    if len(parts) == 1:
        return results
    merged = [r for part in parts for r in part]
    order = {}
    for r in merged:
        order.setdefault((r["task"], r["model"], r["seed"]), r)
    return list(order.values())


def collect(out_dir) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(Path(out_dir).glob("runs/*/summary.json"))]


def _cell(cell) -> str:
    mean, std, n = cell
    return f"{mean:.3f}" if n == 1 else f"{mean:.3f} ± {std:.3f}"


def expand_scores(results: list[dict]) -> list[dict]:
    """A multi-score run becomes one row per score (task `TASK/SCORE`), so the table shows each score's rho
    next to the single-score models' (one model per score)."""
    out = []
    for r in results:
        if not r.get("per_score"):
            out.append(r)
            continue
        for key, protos in r["per_score"].items():
            row = {**r, "task": f"{r['task']}/{key}", **protos}
            row.pop("per_score")
            out.append(row)
    return out


def summarise(results: list[dict], models: list[str] | None = None) -> tuple[str, str, dict]:
    """Returns (markdown, csv text, nested numbers) for the results of a benchmark."""
    results = expand_scores(results)
    order = SUITES["rg"] + SUITES["fisv"] + list(TASKS)
    tasks = sorted({r["task"] for r in results}, key=lambda t: order.index(t) if t in order else len(order))
    models = models or sorted({r["model"] for r in results})
    by = {}
    for r in results:
        by.setdefault((r["model"], r["task"]), []).append(r)
    table = {}
    for proto in PROTOCOLS:
        for m in models:
            per_seed: dict[int, dict] = {}
            for t in tasks:
                for r in by.get((m, t), []):
                    if r.get(proto) is not None:
                        per_seed.setdefault(r["seed"], {})[t] = r[proto]
            cells = {}
            for t in tasks:
                vals = [d[t] for d in per_seed.values() if t in d]
                if vals:
                    cells[t] = (float(np.mean(vals)), float(np.std(vals)), len(vals))
            avgs = [fisher_z_mean([d[t] for t in tasks]) for d in per_seed.values() if all(t in d for t in tasks)]
            if avgs:
                cells["avg"] = (float(np.mean(avgs)), float(np.std(avgs)), len(avgs))
            table[(proto, m)] = cells
    cols = tasks + ["avg"]
    names = [get_task(t).cls if t in SUITES["rg"] + SUITES["fisv"] else t for t in tasks] + ["Fisher-z avg"]
    md = []
    for proto, title in PROTOCOLS.items():
        if not any(table[(proto, m)] for m in models):
            continue
        md.append(f"### Spearman rho, {title} (mean ± std over seeds where there are several)\n")
        md.append("| model | " + " | ".join(names) + " |")
        md.append("|---" * (len(cols) + 1) + "|")
        for m in models:
            cells = table[(proto, m)]
            md.append(f"| {m} | " + " | ".join(
                _cell(cells[c]) if c in cells else "-" for c in cols) + " |")
        md.append("")
    mse_rows = []
    for m in models:
        vals = [f"{np.mean([r['test_mse'] for r in by.get((m, t), [])]):.2f}" if by.get((m, t)) else "-" for t in tasks]
        mse_rows.append(f"| {m} | " + " | ".join(vals) + " |")
    md.append("### Test MSE in points, last epoch (mean over seeds)\n")
    md.append("| model | " + " | ".join(names[:-1]) + " |")
    md.append("|---" * (len(tasks) + 1) + "|")
    md += mse_rows
    gaps = {m: [r["center_gap_last"] for r in results if r["model"] == m and r.get("center_gap_last") is not None] for m in models}
    if any(gaps.values()):
        md.append("\n### Mean attention-centre gap between modalities, last epoch (segments)\n")
        md.append("| model | gap |\n|---|---|")
        for m, g in gaps.items():
            if g:
                md.append(f"| {m} | {np.mean(g):.2f} ± {np.std(g):.2f} |")
    loc = {(m, t): [r["stage_localisation"] for r in by.get((m, t), []) if r.get("stage_localisation")]
           for m in models for t in tasks}
    if any(loc.values()):
        md.append("\n### Stage localisation, last epoch, test videos (mean over seeds): hit rate / tIoU "
                  "(evenly spread stages: hit rate / tIoU)\n")
        md.append("Hit rate: the share of annotated elements that some stage's centre falls inside; tIoU: each "
                  "element's best temporal IoU with a stage's span (centre +- one attention std) "
                  "(`lmac.evaluation.localisation`).\n")
        md.append("| model | " + " | ".join(names[:-1]) + " |")
        md.append("|---" * (len(tasks) + 1) + "|")
        for m in models:
            if not any(loc[(m, t)] for t in tasks):
                continue
            cells = []
            for t in tasks:
                ls = loc[(m, t)]
                f = lambda k: float(np.mean([x[k] for x in ls]))  # noqa: E731
                cells.append(f"{f('hit_rate'):.2f} / {f('tiou'):.2f} ({f('chance_hit_rate'):.2f} / "
                             f"{f('chance_tiou'):.2f})" if ls else "-")
            md.append(f"| {m} | " + " | ".join(cells) + " |")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["protocol", "model"] + [f"{c}_{s}" for c in cols for s in ("mean", "std", "n")])
    for (proto, m), cells in table.items():
        w.writerow([proto, m] + [x for c in cols for x in (cells.get(c, ("", "", 0)))])
    return "\n".join(md) + "\n", buf.getvalue(), table


def write_results(out_dir, results: list[dict], models=None) -> str:
    md, csv_text, _ = summarise(results, models)
    atomic_write_text(Path(out_dir) / "results.md", md)
    atomic_write_text(Path(out_dir) / "results.csv", csv_text)
    return md


def world_of(task: str) -> str:
    """The world a worlds-suite task belongs to (world_amplitude_tes -> amplitude); other tasks: themselves."""
    from lmac.data.worlds import WORLDS

    return next((n for n in WORLDS if task == f"world_{n}" or task.startswith(f"world_{n}_")), task)


def validation_curves(out_dir, seeds=None) -> dict[tuple[str, str, int], list[float]]:
    """(model, task, seed) -> the validation rho of each epoch, for every finished run (one with a summary.json)
    under OUT/runs that has a validation split. Reads no test number: for choosing on validation only."""
    curves = {}
    for run in sorted((Path(out_dir) / "runs").glob("*/")):
        if not (run / "summary.json").is_file():
            continue
        s = json.loads((run / "summary.json").read_text())
        if seeds is not None and s["seed"] not in seeds:
            continue
        with open(run / "metrics.csv", newline="") as f:
            v = [float(r["val_srcc"]) for r in csv.DictReader(f) if r.get("val_srcc")]
        if v:
            curves[(s["model"], s["task"], s["seed"])] = v
    return curves


def worlds_table(out_dir, results: list[dict], models: list[str], reference: str, resamples: int = 1000,
                 by_task: bool = False) -> str:
    """The worlds suite's verdict table: per world (its tasks' Fisher-z average) and over all worlds,
    each model's rho (mean over draws) and `reference` minus each model with its paired-bootstrap
    standard error, under the two honest protocols. The error of a mean over D draws is
    sqrt(sum of per-draw squared errors) / D; "k/D" counts the draws where the reference is ahead.
    `by_task`: one column per task instead of per world, so that a Fis-V world's TES and PCS are each
    judged alone (a world's average can hide a score on which the reference is behind)."""
    from lmac.data.worlds import WORLDS
    from lmac.evaluation.bootstrap import COLUMN, paired_arrays, paired_bootstrap

    by = {(r["task"], r["model"], r["seed"]): r for r in results}
    tasks = sorted({r["task"] for r in results})
    worlds = [w for w in WORLDS if any(world_of(t) == w for t in tasks)]
    groups = {t: [t] for t in tasks} if by_task else {w: [t for t in tasks if world_of(t) == w] for w in worlds}
    groups["all worlds"] = tasks
    seeds = sorted({r["seed"] for r in results if r["model"] == reference})
    rng = np.random.default_rng(0)
    held = [w for w in worlds if WORLDS[w].held_out]
    md = [f"## {'Scores' if by_task else 'Worlds'}: `{reference}` against each model (draws {', '.join(map(str, seeds))})\n"]
    if held:
        md.append(f"Held-out worlds in this table: {', '.join(held)} (generated and run once, after the model "
                  "and recipe were fixed).\n")
    for proto, title in (("val", "val-selected (honest)"), ("last", "last epoch (honest)")):
        md.append(f"### {title}: rho (mean over draws), and `{reference}` − model ± paired-bootstrap SE [draws ahead]\n")
        md.append("| model | " + " | ".join(groups) + " |")
        md.append("|---" * (len(groups) + 1) + "|")
        for m in models:
            cells = []
            for g, ts in groups.items():
                rhos, diffs, ses, ahead = [], [], [], 0
                for s in seeds:
                    if not all((t, m, s) in by and (t, reference, s) in by for t in ts):
                        continue
                    arrays = [paired_arrays(job_dir(out_dir, t, reference, s), job_dir(out_dir, t, m, s), COLUMN[proto])
                              for t in ts]
                    b = paired_bootstrap(arrays, resamples if m != reference else 1, rng)
                    rhos.append(b["rho_b"])
                    diffs.append(b["diff"])
                    ses.append(b["diff_se"])
                    ahead += b["diff"] > 0
                if not rhos:
                    cells.append("-")
                elif m == reference:
                    cells.append(f"**{np.mean(rhos):.3f}**")
                else:
                    d, se = float(np.mean(diffs)), float(np.sqrt(np.sum(np.square(ses))) / len(ses))
                    mark = " ✔" if d > 2 * se else (" ✘" if d < -2 * se else "")
                    cells.append(f"{np.mean(rhos):.3f}; {d:+.3f} ± {se:.3f} [{ahead}/{len(diffs)}]{mark}")
            md.append(f"| {m} | " + " | ".join(cells) + " |")
        md.append("")
    md.append(f"✔: `{reference}` ahead by more than two standard errors; ✘: behind by more than two.\n")
    missing = [(r["task"], r["seed"], k, v) for r in results if r["model"] == reference
               for k, v in (r.get("missing_modality") or {}).items()]
    if missing:
        md.append(f"### `{reference}` with a modality missing at test time (last epoch, mean over draws)\n")
        md.append("| missing | " + " | ".join(groups) + " |")
        md.append("|---" * (len(groups) + 1) + "|")
        for mod in sorted({k for _, _, k, _ in missing}):
            cells = []
            for g, ts in groups.items():
                full, lost = [], []
                for s in seeds:
                    vals = {t: v for t, ss, k, v in missing if ss == s and k == mod and t in ts}
                    if len(vals) == len(ts) and all((t, reference, s) in by for t in ts):
                        lost.append(fisher_z_mean(vals[t] for t in ts))
                        full.append(fisher_z_mean(by[(t, reference, s)]["test_srcc_last"] for t in ts))
                cells.append(f"{np.mean(lost):.3f} ({np.mean(lost) - np.mean(full):+.3f})" if lost else "-")
            md.append(f"| {mod} | " + " | ".join(cells) + " |")
        md.append("")
    return "\n".join(md) + "\n"
