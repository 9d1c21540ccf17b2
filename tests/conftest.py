import os
import socket

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never touch the network: any attempt to connect outside loopback fails loudly."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
            raise RuntimeError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    yield


@pytest.fixture(autouse=True)
def _grad_enabled():
    """Each test starts with autograd on, and a test that leaves it off fails loudly."""
    import torch

    torch.set_grad_enabled(True)
    yield
    assert torch.is_grad_enabled(), "the code under test left autograd switched off"


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    """A small synthetic benchmark (2 classes, 24/8 videos each, small dims), native layout."""
    from lmac.data.synthetic import SynthConfig, generate

    out = tmp_path_factory.mktemp("synth")
    cfg = SynthConfig(seed=3, classes=("Ball", "Hoop"), n_train=24, n_test=8, t_min=20, t_max=30,
                      dims={"rgb": 24, "flow": 20, "audio": 12})
    generate(out, cfg, progress=False)
    return out
