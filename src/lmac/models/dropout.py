"""Dropout whose mask is cheap to draw on a CPU.

At the demo's dims, drawing dropout masks took 13-18% of a training step's forward and backward time on a CPU
(benchmarks/train_profile.py): torch draws one number from its Mersenne Twister per element. Here one 64-bit draw
gives four 16-bit lanes, each compared with p * 65536, so the mask costs a quarter of the draws. Every element is
still kept independently with probability 1 - p (p rounded to a multiple of 1/65536) and scaled by 1 / (1 - p),
from torch's seeded CPU generator, drawn serially: the same for any number of threads. Off the CPU (CUDA has a
fused dropout) and outside training it is nn.Dropout.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn


def dropout_mask(shape, p: float, dtype=torch.float32, generator: torch.Generator | None = None) -> torch.Tensor:
    """(shape) tensor of 0 and 1 / (1 - p): each element kept with probability 1 - p, independently."""
    n = math.prod(shape)
    words = torch.randint(-2**63, 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, generator=generator)
    lanes = words.view(torch.int16)[:n].view(shape)  # 4 uniform 16-bit lanes per draw
    keep = lanes >= round(p * 65536) - 32768
    return keep.to(dtype).mul_(1.0 / (1.0 - p))


class FastDropout(nn.Dropout):
    # False: torch's own masks (benchmarks/train_profile.py --compare-dropout times both)
    enabled: bool = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.enabled and self.training) or self.p == 0.0 or self.p >= 1.0 or x.device.type != "cpu":
            return super().forward(x)
        mask = dropout_mask(x.shape, self.p, x.dtype)
        return x.mul_(mask) if self.inplace else x * mask


def use_fast_dropout(model: nn.Module) -> nn.Module:
    """Swap every nn.Dropout in the model (torch's transformer layers' included) for FastDropout, in place.
    Dropout holds no weights, so state dicts and checkpoints are unchanged."""
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, FastDropout(child.p, child.inplace))
    return model
