"""Feature extraction over the ranks of a torchrun job: each video exactly once, on one rank.

    torchrun --nproc-per-node 4 -m lmac extract videos/ --out feats/

Rank 0 lists the videos and deals them out; the others take its list (a listing made while rank 0
is already writing could differ). Videos are dealt by video id, so files that would write the same
`<video_id>.safetensors` go to the same rank, where the driver's duplicate check reports them, and
no two ranks ever write the same file. Videos whose features are missing are dealt first and evenly,
so a second run after a crash shares out only the unfinished work; finished ones are skipped by the
driver as in a single-process run. Every rank writes the same `features.json` (atomically, same
content); the per-video files are atomic too. The ranks' summaries are gathered and merged, so every
rank reports (and exits with) the result of the whole job.
"""
from __future__ import annotations

import sys
from pathlib import Path

from lmac import distributed as ddist


def deal_videos(videos: list, out_dir, world: int) -> list[list[Path]]:
    """Split `videos` over `world` ranks: [files of rank 0, files of rank 1, ...].

    Files with the same video id stay together; ids without features in `out_dir` are dealt
    round-robin first, finished ids round-robin after them; each rank keeps the input order."""
    from lmac.features.extract import video_id_for

    groups: dict[str, list[int]] = {}
    for i, v in enumerate(videos):
        groups.setdefault(video_id_for(v), []).append(i)
    out_dir = Path(out_dir)
    pending = [vid for vid in groups if not (out_dir / f"{vid}.safetensors").exists()]
    done = [vid for vid in groups if (out_dir / f"{vid}.safetensors").exists()]
    owner = {vid: k % world for k, vid in enumerate(pending)}
    owner.update({vid: k % world for k, vid in enumerate(done)})
    shares: list[list[int]] = [[] for _ in range(world)]
    for vid, idx in groups.items():
        shares[owner[vid]].extend(idx)
    return [[Path(videos[i]) for i in sorted(s)] for s in shares]


def merge_summaries(parts: list):
    """One ExtractSummary from the ranks' summaries (lists concatenated in rank order)."""
    from lmac.features.extract import ExtractSummary

    out = ExtractSummary()
    for p in parts:
        out.written += p.written
        out.skipped += p.skipped
        out.failed += p.failed
        out.segments += p.segments
        out.video_s += p.video_s
    return out


def _rank_device(device: str) -> str:
    """`auto`/`cuda` -> this rank's GPU (set by lmac.distributed.init_from_env) when CUDA is
    present; an explicit `cuda:N` or `cpu` is kept."""
    import torch

    if device in ("auto", "cuda") and torch.cuda.is_available():
        return f"cuda:{torch.cuda.current_device()}"
    return device


def run_extraction(inputs, out_dir, **kwargs):
    """lmac.features.extract.run_extraction, sharded over the ranks when run under torchrun
    (WORLD_SIZE > 1); one process calls it unchanged. Returns the whole job's ExtractSummary."""
    from lmac.features import extract

    if ddist.env_world_size() <= 1:
        return extract.run_extraction(inputs, out_dir, **kwargs)
    # gloo: only small Python objects travel (file lists, summaries); long timeout: the final
    # gather waits for the slowest rank.
    with ddist.process_group(device="cpu", backend="gloo", timeout=ddist.LONG_TIMEOUT) as d:
        shares, error = None, None
        if d.is_main:
            try:
                shares = deal_videos(extract.collect_videos(inputs), out_dir, d.world)
            except Exception as e:  # an empty folder, say: every rank reports it
                error = e
        ddist.raise_if_any_failed(error)
        mine = ddist.broadcast_object(shares)[d.rank]
        kwargs["device"] = _rank_device(kwargs.get("device", "auto"))
        if not d.is_main:
            kwargs["progress"] = False
        if kwargs.get("log") is None:
            from tqdm import tqdm

            kwargs["log"] = lambda msg: tqdm.write(f"[rank {d.rank}] {msg}", file=sys.stderr)
        summary, error = None, None
        try:
            if mine:
                summary = extract.run_extraction(mine, out_dir, **kwargs)
            else:
                summary = extract.ExtractSummary()
        except Exception as e:  # e.g. the folder holds features made differently: all ranks see it
            error = e
        ddist.raise_if_any_failed(error)
        return merge_summaries(ddist.all_gather_objects(summary))
