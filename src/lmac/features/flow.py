"""Dense optical flow per segment with OpenCV: TV-L1 (what the public I3D-flow features used, from
opencv-contrib) and two fast CPU options, DIS and Farneback.

`segment_flow(frames, method)` takes one segment of T RGB frames (T, H, W, 3) uint8 and returns T
flow fields (T, H, W, 2) float32 in pixels per frame, (dx, dy): field t is the motion from frame t
to frame t+1; the last field repeats the one before it, so segments stay independent and keep T
steps (I3D-flow expects as many flow frames as RGB frames).
"""
from __future__ import annotations

import numpy as np

FLOW_METHODS = ("tvl1", "dis", "farneback")


def _require_cv2():
    try:
        import cv2
    except ImportError:
        raise RuntimeError(
            "optical flow needs OpenCV: pip install 'lmac[extract]' (opencv-contrib-python-headless)"
        ) from None
    return cv2


class FlowComputer:
    def __init__(self, method: str = "tvl1"):
        if method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}")
        cv2 = _require_cv2()
        self.method = method
        self.cv2 = cv2
        if method == "tvl1":
            if not hasattr(cv2, "optflow"):
                raise RuntimeError(
                    "TV-L1 flow needs opencv-contrib (cv2.optflow); install opencv-contrib-python-headless "
                    "instead of opencv-python, or use --flow-method dis"
                )
            # OpenCV defaults (tau 0.25, lambda 0.15, theta 0.3, 5 scales, 5 warps), as the
            # denseflow tools behind the public features.
            self.algo = cv2.optflow.DualTVL1OpticalFlow_create()
        elif method == "dis":
            self.algo = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        else:
            self.algo = None

    def settings(self) -> dict:
        d = {"method": self.method, "pairs": "t -> t+1, last repeated", "units": "pixels/frame at crop size"}
        if self.method == "tvl1":
            d["params"] = "OpenCV DualTVL1 defaults"
        elif self.method == "dis":
            d["params"] = "DIS preset MEDIUM"
        else:
            d["params"] = "pyr_scale 0.5, levels 3, winsize 15, iterations 3, poly_n 5, poly_sigma 1.2"
        return d

    def pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.method == "farneback":
            return self.cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        return self.algo.calc(a, b, None)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """(T, H, W, 3) uint8 -> (T, H, W, 2) float32."""
        gray = [self.cv2.cvtColor(np.ascontiguousarray(f), self.cv2.COLOR_RGB2GRAY) for f in frames]
        t = len(gray)
        out = np.zeros((t, *gray[0].shape, 2), np.float32)
        for i in range(t - 1):
            out[i] = self.pair(gray[i], gray[i + 1])
        if t > 1:
            out[t - 1] = out[t - 2]
        return out
