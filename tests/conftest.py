import os
import socket

import pytest


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs `-n auto`), each worker takes its share of the cores:
    two workers each running torch on every core oversubscribe them, and OpenMP's spinning threads
    then made the suite 2x slower than running it in one process. Results do not depend on it: every
    numeric check holds at any thread count (OMP_NUM_THREADS unset, 1 or 2)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


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


# Test files that take the longest (seconds on one core, 2-core AMD EPYC): run first, so that under
# pytest-xdist (one file per worker at a time) no long file starts last while the other worker idles.
LONG_FILES = ("test_torchrun.py", "test_roundtrip.py", "test_i3d_kinetics.py", "test_predict.py", "test_models.py",
              "test_extract.py", "test_distributed.py", "test_extract_backbones.py", "test_pamfn.py", "test_bad_input.py",
              "test_datasets.py", "test_ensemble.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))  # stable: order within a file kept
