"""torch.distributed glue for jobs started by `torchrun`: process group, rank info, sharding.

    torchrun --nproc-per-node 2 -m lmac train ...     # one model, DistributedDataParallel
    torchrun --nproc-per-node 2 -m lmac extract ...   # videos sharded over the ranks
    torchrun --nproc-per-node 2 -m lmac benchmark ... # (task, model, seed) jobs spread over the ranks

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT; we join its job only
when WORLD_SIZE > 1, so a plain `lmac ...` (or torchrun with one process) starts nothing and runs
the single-process code unchanged. Backends: NCCL when the work runs on CUDA, gloo otherwise (and
for the control messages of extraction and benchmark, which move only small Python objects).

Training shards the *same* global batches a single process would make (see ShardedBatchSampler),
so an N-process run follows the 1-process run step for step; see docs/scaling.md.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

# Extraction and benchmark ranks meet only at the end, after hours of independent work; the
# collective that waits for the slowest rank must not time out (gloo's default is 30 minutes).
LONG_TIMEOUT = timedelta(days=7)


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def env_world_size() -> int:
    """WORLD_SIZE as torchrun sets it; 1 outside a torchrun job."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        raise ValueError(f"WORLD_SIZE={os.environ['WORLD_SIZE']!r} is not an integer") from None


def current() -> DistInfo:
    """This process's place in the job (rank 0 of 1 when no process group is running)."""
    if not (dist.is_available() and dist.is_initialized()):
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def init_from_env(device: str = "auto", backend: str | None = None, timeout: timedelta | None = None) -> DistInfo:
    """Join the torchrun job described by the environment, if WORLD_SIZE > 1.

    `backend` None: NCCL when `device` resolves to CUDA, else gloo. With CUDA present each rank
    uses GPU LOCAL_RANK (modulo the GPU count, for gloo jobs), set with torch.cuda.set_device, so
    `cuda`/`auto` mean "this rank's GPU"."""
    if env_world_size() <= 1:
        return DistInfo()
    if dist.is_initialized():
        return current()
    for key in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        if key not in os.environ:
            raise RuntimeError(f"WORLD_SIZE is {env_world_size()} but {key} is not set; start the job with torchrun")
    local_rank = int(os.environ["LOCAL_RANK"])
    wants_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if backend is None:
        backend = "nccl" if wants_cuda else "gloo"
    if torch.cuda.is_available():
        n_gpus = torch.cuda.device_count()
        if backend == "nccl" and local_rank >= n_gpus:  # NCCL cannot run two ranks on one GPU
            raise RuntimeError(f"LOCAL_RANK {local_rank} but this machine has {n_gpus} GPU(s); "
                               f"use --nproc-per-node <= {n_gpus} (or --device cpu)")
        torch.cuda.set_device(local_rank % n_gpus)  # extraction/benchmark ranks may share a GPU
    kwargs = {"timeout": timeout} if timeout is not None else {}
    if backend == "nccl":
        kwargs["device_id"] = torch.device("cuda", local_rank)
    dist.init_process_group(backend=backend, **kwargs)
    return current()


def shutdown() -> None:
    """Leave the job. Every rank first waits for the others: tearing gloo down while a peer is
    still in a collective aborts that peer ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        try:
            dist.barrier()
        finally:
            dist.destroy_process_group()


@contextlib.contextmanager
def process_group(device: str = "auto", backend: str | None = None, timeout: timedelta | None = None):
    """`with process_group() as d:` joins the torchrun job (if any) and leaves it on exit.

    A group that was already running (a caller's own torchrun script) is used and left running."""
    owned = env_world_size() > 1 and not (dist.is_available() and dist.is_initialized())
    info = init_from_env(device, backend, timeout)
    try:
        yield info
    finally:
        if owned:
            shutdown()


def rank_device(device: torch.device) -> torch.device:
    """`cuda` without an index -> this rank's GPU (cuda:LOCAL_RANK, set by init_from_env)."""
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


# ----------------------------------------------------------------------------- small collectives
def broadcast_object(obj, src: int = 0):
    """`obj` from rank `src` on every rank (pickled; for small things: configs, file lists, states)."""
    if not current().enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def all_gather_objects(obj) -> list:
    """[obj of rank 0, obj of rank 1, ...] on every rank."""
    info = current()
    if not info.enabled:
        return [obj]
    out = [None] * info.world
    dist.all_gather_object(out, obj)
    return out


def barrier() -> None:
    if current().enabled:
        dist.barrier()


def raise_if_any_failed(error: BaseException | None) -> None:
    """Collective: every rank raises when any rank failed, so no rank is left waiting in a
    collective for a peer that died. The first failure is re-raised with its rank named."""
    parts = all_gather_objects(None if error is None else (type(error).__name__, str(error)))
    for rank, part in enumerate(parts):
        if part is not None:
            if error is not None:
                raise error
            name, msg = part
            exc = {"ValueError": ValueError, "FileNotFoundError": FileNotFoundError,
                   "FileExistsError": FileExistsError, "KeyError": KeyError}.get(name, RuntimeError)
            raise exc(f"rank {rank} failed: {msg}")


# ----------------------------------------------------------------------------- data sharding
def shard_bounds(n: int, rank: int, world: int) -> tuple[int, int]:
    """Contiguous shard [lo, hi) of n items for `rank`; sizes differ by at most one, in rank order."""
    return n * rank // world, n * (rank + 1) // world


class ShardedBatchSampler(torch.utils.data.Sampler):
    """The batches a single process makes from `sampler` (BatchSampler, drop_last=False), each cut
    into `world` contiguous shards; yields this rank's shard of every global batch.

    Every rank therefore takes exactly one step per global batch, and the union of the ranks'
    shards of step s is the 1-process batch s. When a (last, short) global batch has fewer videos
    than ranks, a rank whose shard is empty gets the batch's first video to keep DDP's collectives
    in step; `share(step)` tells the loop to weight it 0.

    Use it in a DataLoader that is given the same `generator` as `sampler`: the DataLoader draws
    its base seed from that generator before the first index, exactly as a shuffling 1-process
    DataLoader does, so the order is identical."""

    def __init__(self, sampler, batch_size: int, rank: int, world: int):
        if batch_size < world:
            raise ValueError(f"batch size {batch_size} is smaller than the {world} processes it is split over; "
                             f"use --batch-size >= {world} (it is the global batch)")
        self.sampler, self.batch_size, self.rank, self.world = sampler, batch_size, rank, world

    def __len__(self) -> int:
        return -(-len(self.sampler) // self.batch_size)

    def global_size(self, step: int) -> int:
        return min(self.batch_size, len(self.sampler) - step * self.batch_size)

    def share(self, step: int) -> tuple[int, float]:
        """(videos of this rank in global batch `step`, their share of that global batch)."""
        g = self.global_size(step)
        lo, hi = shard_bounds(g, self.rank, self.world)
        return hi - lo, (hi - lo) / g

    def loss_weight(self, step: int) -> tuple[int, float]:
        """(videos of this rank in global batch `step`, the factor for its mean loss).

        compute_loss averages over the rank's own videos and DDP averages the ranks' gradients, so
        weighting each rank's loss by world * share makes the averaged gradient the gradient of the
        mean over the whole global batch, i.e. the 1-process gradient."""
        count, share = self.share(step)
        return count, self.world * share

    def __iter__(self):
        for batch in torch.utils.data.BatchSampler(self.sampler, self.batch_size, drop_last=False):
            lo, hi = shard_bounds(len(batch), self.rank, self.world)
            yield batch[lo:hi] if hi > lo else batch[:1]
