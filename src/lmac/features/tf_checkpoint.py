"""Read a TensorFlow checkpoint (the "tensor bundle" V2 format) without TensorFlow and without pickle.

A bundle is `PREFIX.index` and `PREFIX.data-00000-of-0000N`. The index is a LevelDB-style sorted
table (the same format as LevelDB's SSTable): data blocks of prefix-compressed key/value entries, an
index block pointing at them, and a 48-byte footer ending in a magic number. Each key is a variable name;
its value is a serialized `BundleEntryProto` (dtype, shape, shard, offset, size, crc32c); the empty key
holds the `BundleHeaderProto`. A tensor's bytes are the little-endian array at `offset` in its shard.
Only the protobuf wire format is decoded here (varints and length-delimited fields), by hand: the
messages are tiny and fixed, and this keeps `protobuf` and TensorFlow out of the dependencies.
Specs: tensorflow/core/util/tensor_bundle/tensor_bundle.{h,cc}, .../protobuf/tensor_bundle.proto,
tensorflow/core/lib/io/{table,block,format}.cc.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

TABLE_MAGIC = 0xDB4775248B80FB57
# tensorflow/core/framework/types.proto: DataType enum -> numpy little-endian dtype
DTYPES = {1: "<f4", 2: "<f8", 3: "<i4", 4: "u1", 5: "<i2", 6: "i1", 9: "<i8", 10: "?", 17: "<u2", 19: "<f2",
          22: "<u4", 23: "<u8"}


class CheckpointFormatError(ValueError):
    """A file that is not a readable TensorFlow tensor bundle; the message names the file and the problem."""


def _varint(buf: bytes, i: int, path) -> tuple[int, int]:
    result = shift = 0
    while True:
        if i >= len(buf):
            raise CheckpointFormatError(f"{path}: truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i
        if shift > 63:
            raise CheckpointFormatError(f"{path}: malformed varint")


def _block(buf: bytes, offset: int, size: int, path) -> list[tuple[bytes, bytes]]:
    """The entries of one table block (each followed by a 5-byte trailer: compression type, crc)."""
    if offset + size + 5 > len(buf):
        raise CheckpointFormatError(f"{path}: block at {offset} (+{size}) runs past the end of the file")
    if buf[offset + size] != 0:
        raise CheckpointFormatError(f"{path}: compressed table blocks (type {buf[offset + size]}) are not supported")
    data = buf[offset : offset + size]
    (n_restarts,) = struct.unpack_from("<I", data, len(data) - 4)
    end = len(data) - 4 - 4 * n_restarts
    if end < 0:
        raise CheckpointFormatError(f"{path}: corrupt block at {offset}")
    out, key, i = [], b"", 0
    while i < end:
        shared, i = _varint(data, i, path)
        unshared, i = _varint(data, i, path)
        vlen, i = _varint(data, i, path)
        key = key[:shared] + data[i : i + unshared]
        i += unshared
        out.append((key, data[i : i + vlen]))
        i += vlen
    return out


def _fields(msg: bytes, path) -> dict[int, list]:
    """Protobuf wire format -> {field number: [values]} (varints as int, length-delimited as bytes)."""
    out: dict[int, list] = {}
    i = 0
    while i < len(msg):
        tag, i = _varint(msg, i, path)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _varint(msg, i, path)
        elif wire == 1:
            value = msg[i : i + 8]
            i += 8
        elif wire == 2:
            n, i = _varint(msg, i, path)
            value = msg[i : i + n]
            i += n
        elif wire == 5:
            value = msg[i : i + 4]
            i += 4
        else:
            raise CheckpointFormatError(f"{path}: unsupported protobuf wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def read_index(prefix) -> dict[str, dict]:
    """{variable name: {"dtype", "shape", "shard", "offset", "size"}} from `PREFIX.index`."""
    path = Path(str(prefix) + ".index")
    if not path.is_file():
        raise CheckpointFormatError(f"{path}: checkpoint index not found")
    buf = path.read_bytes()
    if len(buf) < 48 or struct.unpack("<Q", buf[-8:])[0] != TABLE_MAGIC:
        raise CheckpointFormatError(f"{path}: not a TensorFlow checkpoint index (bad table footer)")
    footer = buf[-48:]
    _, i = _varint(footer, 0, path)  # metaindex handle (unused)
    _, i = _varint(footer, i, path)
    index_off, i = _varint(footer, i, path)
    index_size, i = _varint(footer, i, path)
    entries = {}
    for _, handle in _block(buf, index_off, index_size, path):
        off, j = _varint(handle, 0, path)
        size, _ = _varint(handle, j, path)
        for key, value in _block(buf, off, size, path):
            if not key:
                continue  # the bundle header
            f = _fields(value, path)
            shape = [_fields(d, path).get(1, [0])[0] for d in _fields(f[2][0], path).get(2, [])] if 2 in f else []
            if 7 in f:
                raise CheckpointFormatError(f"{path}: {key.decode()} is stored in slices, which are not supported")
            entries[key.decode()] = {"dtype": f.get(1, [0])[0], "shape": shape, "shard": f.get(3, [0])[0],
                                     "offset": f.get(4, [0])[0], "size": f.get(5, [0])[0]}
    return entries


def read_checkpoint(prefix, skip=("/Adam", "beta1_power", "beta2_power")) -> dict[str, np.ndarray]:
    """Every variable of a TF checkpoint as a numpy array; names containing one of `skip` (optimizer
    slots by default) are left out. `prefix` is the path without `.index` (a folder's bare prefix is
    `folder/`, as musicnn ships them)."""
    entries = read_index(prefix)
    n_shards = 1 + max((e["shard"] for e in entries.values()), default=0)
    shards = {}
    out = {}
    for name, e in entries.items():
        if any(s in name for s in skip):
            continue
        if e["dtype"] not in DTYPES:
            raise CheckpointFormatError(f"{prefix}.index: {name} has an unsupported dtype (enum {e['dtype']})")
        if e["shard"] not in shards:
            path = Path(f"{prefix}.data-{e['shard']:05d}-of-{n_shards:05d}")
            if not path.is_file():
                raise CheckpointFormatError(f"{path}: checkpoint data shard not found")
            shards[e["shard"]] = np.memmap(path, dtype=np.uint8, mode="r")
        data = shards[e["shard"]]
        dtype = np.dtype(DTYPES[e["dtype"]])
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        if e["size"] != count * dtype.itemsize or e["offset"] + e["size"] > len(data):
            raise CheckpointFormatError(f"{prefix}: {name} has {e['size']} bytes at {e['offset']}, which does not fit "
                                        f"shape {e['shape']} of {dtype} in a shard of {len(data)} bytes")
        raw = np.asarray(data[e["offset"] : e["offset"] + e["size"]])
        out[name] = raw.view(dtype).reshape(e["shape"]).astype(dtype.newbyteorder("="), copy=True)
    return out
