"""An average of the weights along training (--weight-average), evaluated and saved instead of the last step's.

Why: with 150-200 training videos every model here overfits within a few epochs (train MSE far below test MSE),
and the last step's weights carry the noise of the last batches. Averaging the weights over the later part of
training (Polyak averaging, SWA, timm's model EMA) is the usual remedy in that regime: the average sits nearer the
middle of the flat region that the noisy steps wander around.

The average is the running mean of every step's weights until `window` steps have been seen, then an exponential
moving average with decay 1 - 1/window: no bias towards the initial weights, and a time constant of `window` steps.
Only floating-point parameters are averaged; buffers (a closed-form member's fitted read-out, normalisation
statistics) are the model's own.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch


class WeightAverage:
    def __init__(self, model: torch.nn.Module, window: float):
        if window < 1:
            raise ValueError(f"the weight average's window must be at least one step, got {window}")
        self.window = float(window)
        self.steps = 0
        self.shadow = {n: p.detach().clone() for n, p in self._params(model)}

    @staticmethod
    def _params(model):
        return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.is_floating_point()]

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """After each optimiser step: the running mean while fewer than `window` steps were seen, then the EMA."""
        self.steps += 1
        weight = 1.0 / min(self.steps, self.window)  # the new step's share
        for n, p in self._params(model):
            self.shadow[n].lerp_(p.detach(), weight)

    @contextmanager
    def applied(self, model: torch.nn.Module):
        """The averaged weights in `model` for the block (evaluation, checkpoints); the trained ones back after."""
        params = dict(self._params(model))
        raw = {n: p.detach().clone() for n, p in params.items()}
        with torch.no_grad():
            for n, p in params.items():
                p.copy_(self.shadow[n])
        try:
            yield model
        finally:
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(raw[n])

    def state_dict(self) -> dict:
        return {"steps": self.steps, "window": self.window,
                "shadow": {n: t.detach().cpu() for n, t in self.shadow.items()}}

    def load_state_dict(self, state: dict, source) -> None:
        """A resumed run's average; `source` names the file in errors."""
        if set(state["shadow"]) != set(self.shadow):
            raise ValueError(f"{source}: its weight average holds other parameters than this model's; "
                             "it was written by another model or version")
        self.steps, self.window = int(state["steps"]), float(state["window"])
        for n, t in state["shadow"].items():
            self.shadow[n].copy_(t)
