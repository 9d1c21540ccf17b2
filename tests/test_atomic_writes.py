"""A write that fails because the disk is full says so in one line naming the file, and loses nothing."""
import errno
import shutil
from collections import namedtuple

import pytest

from lmac.utils import atomic_path, atomic_write_bytes


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_full_disk_is_named_and_the_previous_file_kept(tmp_path):
    target = tmp_path / "last.safetensors"
    target.write_text("the previous checkpoint")
    with pytest.raises(OSError, match=r"last\.safetensors: could not be written, its disk is full") as info:
        with atomic_path(target) as tmp:
            tmp.write_text("half a checkpoint")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert info.value.errno == errno.ENOSPC and "\n" not in str(info.value)
    assert target.read_text() == "the previous checkpoint" and _leftovers(tmp_path) == []


def test_a_writers_own_error_on_a_nearly_full_disk_is_taken_for_a_full_disk(tmp_path, monkeypatch):
    """torch.save reports a short write as RuntimeError("... unexpected pos ..."); with under 64 MiB free it is
    reported as a full disk, with plenty free it is passed on as it is."""
    usage = namedtuple("usage", "total used free")
    target = tmp_path / "trainer_state.pt"
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10 << 30, 10 << 30, 1 << 20))
    with pytest.raises(OSError, match=r"trainer_state\.pt: could not be written, its disk is full, 1 MiB free"):
        with atomic_path(target):
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 178109440 vs 178109328")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10 << 30, 1 << 30, 9 << 30))
    with pytest.raises(RuntimeError, match="unexpected pos"):
        with atomic_path(target):
            raise RuntimeError("unexpected pos")
    with pytest.raises(TypeError):  # not a disk problem (text to a binary file): passed on as it is
        atomic_write_bytes(tmp_path / "x.txt", "text")
    assert not target.exists() and _leftovers(tmp_path) == []
