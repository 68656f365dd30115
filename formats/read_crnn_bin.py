#!/usr/bin/env python3
"""Reads a CRNN-BIN weight file (formats/CRNN-BIN.md) with NumPy only.

Written from the spec alone, as a second, independent implementation of it.

    python3 formats/read_crnn_bin.py FILE.bin          # metadata and a summary per tensor
    python3 formats/read_crnn_bin.py --json FILE.bin   # everything, values included, as JSON

As a module: ``read(path) -> (metadata: dict, tensors: {name: np.ndarray})``.
Every check of the spec's "What a reader checks" runs before any tensor is
returned; a broken file raises ``CRNNBinError`` with a one-line reason.
"""

import json
import math
import struct
import sys
import zlib

import numpy as np

MAGIC = b"CRNN-BIN"
SUPPORTED_MAJOR = 1
HEADER_SIZE = 64
CHECKSUM_AT = 24  # u32 at bytes [24, 28), left out of the CRC
MIN_METADATA, MAX_METADATA = 2, 1 << 20
MAX_NAME, MAX_RANK, ALIGNMENT = 1024, 8, 64
LIMIT = 1 << 63  # every u64 size, offset or dimension must be below this

# code -> (dtype name, numpy little-endian dtype); bfloat16 is widened on read.
DTYPES = {
    1: ("float32", "<f4"),
    2: ("float16", "<f2"),
    3: ("bfloat16", "<u2"),
    4: ("float64", "<f8"),
    5: ("int64", "<i8"),
    6: ("int32", "<i4"),
    7: ("int16", "<i2"),
    8: ("int8", "i1"),
    9: ("uint8", "u1"),
    10: ("bool", "u1"),
}
FLOAT_TYPES = {"float32", "float16", "bfloat16", "float64"}

REQUIRED_KEYS = {
    "architecture": str, "hidden_size": int, "vocabulary_size": int, "trunk_widths": list,
    "rnn_input_size": int, "feature_rows": int, "alphabet": str, "blank_index": int,
    "nominal_input_height": int, "min_input_height": int, "max_input_height": int,
    "source_file_name": str, "source_sha256": str, "converter_name": str,
    "converter_version": str, "stored_float_type": str,
}


class CRNNBinError(Exception):
    """The file breaks the CRNN-BIN format; the message says how."""


def checksum(data):
    """CRC-32 of every byte except the checksum field [24, 28)."""
    return zlib.crc32(data[CHECKSUM_AT + 4:], zlib.crc32(data[:CHECKSUM_AT]))


def _check_header(data, name):
    """Steps 1-6: magic, version, size, checksum. Returns the header fields."""
    size = len(data)
    lead = bytes(data[:8])
    if lead != MAGIC[:len(lead)]:
        raise CRNNBinError(f"{name}: not a CRNN-BIN file (first bytes {lead.hex(' ')})")
    if size < 12:
        raise CRNNBinError(f"{name}: truncated: {size} bytes present, {HEADER_SIZE} expected")
    major, minor = struct.unpack_from("<HH", data, 8)
    if major != SUPPORTED_MAJOR:
        raise CRNNBinError(f"{name}: format version {major}.{minor} is not supported "
                           f"(this reader reads major version {SUPPORTED_MAJOR})")
    if size < HEADER_SIZE:
        raise CRNNBinError(f"{name}: truncated: {size} bytes present, {HEADER_SIZE} expected")
    (_reserved, file_size, stored_crc, tensor_count, metadata_offset, metadata_length,
     directory_offset, directory_length) = struct.unpack_from("<IQIIQQQQ", data, 12)
    if file_size > size:
        raise CRNNBinError(f"{name}: truncated: {size} bytes present, {file_size} expected")
    if file_size < size:
        raise CRNNBinError(f"{name}: {size} bytes present but the header declares {file_size}")
    computed = checksum(data)
    if computed != stored_crc:
        raise CRNNBinError(f"{name}: checksum mismatch: stored {stored_crc:#010x}, computed {computed:#010x}")
    return dict(major=major, minor=minor, file_size=file_size, tensor_count=tensor_count,
                metadata_offset=metadata_offset, metadata_length=metadata_length,
                directory_offset=directory_offset, directory_length=directory_length)


def _check_regions(h, name):
    """Step 7: metadata and directory inside the file, in order."""
    size = h["file_size"]
    mo, ml, do, dl = (h["metadata_offset"], h["metadata_length"],
                      h["directory_offset"], h["directory_length"])
    if not HEADER_SIZE <= mo <= size:
        raise CRNNBinError(f"{name}: metadata_offset {mo} is outside {HEADER_SIZE}..{size}")
    if not MIN_METADATA <= ml <= MAX_METADATA or ml > size - mo:
        raise CRNNBinError(f"{name}: metadata_length {ml} is out of range")
    if not mo + ml <= do <= size:
        raise CRNNBinError(f"{name}: directory_offset {do} overlaps the metadata or lies past the end")
    if dl > size - do:
        raise CRNNBinError(f"{name}: directory_length {dl} reaches past the end of the file")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_metadata(raw, name):
    """Step 8: a UTF-8 JSON object with every required key and constraint."""
    try:
        text = bytes(raw).decode("utf-8")
        meta = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise CRNNBinError(f"{name}: bad metadata: {error}") from None
    if not isinstance(meta, dict):
        raise CRNNBinError(f"{name}: bad metadata: not a JSON object")

    def bad(reason):
        return CRNNBinError(f"{name}: bad metadata: {reason}")

    for key, kind in REQUIRED_KEYS.items():
        if key not in meta:
            raise bad(f"required key '{key}' is missing")
        value = meta[key]
        if not (_is_int(value) if kind is int else isinstance(value, kind)):
            raise bad(f"key '{key}' has the wrong type")
    m = meta
    if not m["architecture"]:
        raise bad("architecture is empty")
    for key in ("hidden_size", "rnn_input_size", "feature_rows"):
        if m[key] <= 0:
            raise bad(f"{key} is not positive")
    vocabulary = m["vocabulary_size"]
    if vocabulary < 2:
        raise bad("vocabulary_size is below 2")
    widths = m["trunk_widths"]
    if not widths or not all(_is_int(w) and w > 0 for w in widths):
        raise bad("trunk_widths must be a non-empty list of positive integers")
    alphabet = m["alphabet"]
    if len(alphabet) != vocabulary - 1:  # Python counts code points, as the spec does
        raise bad(f"alphabet has {len(alphabet)} characters, vocabulary_size needs {vocabulary - 1}")
    if len(set(alphabet)) != len(alphabet):
        raise bad("alphabet repeats a character")
    if not 0 <= m["blank_index"] < vocabulary:
        raise bad("blank_index is outside the vocabulary")
    if not 0 < m["min_input_height"] <= m["nominal_input_height"] <= m["max_input_height"]:
        raise bad("input heights must satisfy 0 < min <= nominal <= max")
    sha = m["source_sha256"]
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise bad("source_sha256 must be 64 lowercase hex digits")
    if not m["converter_name"]:
        raise bad("converter_name is empty")
    if m["stored_float_type"] not in ("float32", "float16"):
        raise bad("stored_float_type must be float32 or float16")
    return meta


def _read_directory(data, h, meta, name):
    """Step 9: every entry, with all bounds. Returns [(name, dtype, shape, offset, length)]."""
    start, length = h["directory_offset"], h["directory_length"]
    directory = bytes(data[start:start + length])
    position = 0

    def take(count, what):
        nonlocal position
        if count > len(directory) - position:
            raise CRNNBinError(f"{name}: bad tensor directory: {what} reaches past its end")
        chunk = directory[position:position + count]
        position += count
        return chunk

    entries, seen = [], set()
    data_end = start + length
    for index in range(h["tensor_count"]):
        (name_length,) = struct.unpack("<I", take(4, f"entry {index}"))
        if not 1 <= name_length <= MAX_NAME:
            raise CRNNBinError(f"{name}: bad tensor directory: entry {index} name length {name_length}")
        try:
            tensor = take(name_length, f"entry {index} name").decode("utf-8")
        except UnicodeDecodeError:
            raise CRNNBinError(f"{name}: bad tensor directory: entry {index} name is not UTF-8") from None
        code, rank = struct.unpack("<HH", take(4, f"entry {index} dtype"))
        if code not in DTYPES:
            raise CRNNBinError(f"{name}: tensor '{tensor}' has unknown dtype code {code}")
        if rank > MAX_RANK:
            raise CRNNBinError(f"{name}: tensor '{tensor}' has rank {rank} above {MAX_RANK}")
        shape = list(struct.unpack(f"<{rank}Q", take(8 * rank, f"tensor '{tensor}' shape")))
        offset, byte_length = struct.unpack("<QQ", take(16, f"tensor '{tensor}' offset"))
        dtype_name, numpy_type = DTYPES[code]
        if any(d >= LIMIT for d in shape) or offset >= LIMIT or byte_length >= LIMIT:
            raise CRNNBinError(f"{name}: tensor '{tensor}' has a size or offset of 2^63 or more")
        expected = np.dtype(numpy_type).itemsize * math.prod(shape)  # Python ints: no overflow
        if expected != byte_length:
            raise CRNNBinError(f"{name}: tensor '{tensor}' shape {shape} needs {expected} bytes, "
                               f"byte_length is {byte_length}")
        if tensor in seen:
            raise CRNNBinError(f"{name}: tensor name '{tensor}' appears twice")
        seen.add(tensor)
        if dtype_name in FLOAT_TYPES and dtype_name != meta["stored_float_type"]:
            raise CRNNBinError(f"{name}: tensor '{tensor}' is {dtype_name} but the metadata says "
                               f"{meta['stored_float_type']}")
        if offset % ALIGNMENT:
            raise CRNNBinError(f"{name}: tensor '{tensor}' data offset {offset} is not a multiple of {ALIGNMENT}")
        if offset < data_end:
            raise CRNNBinError(f"{name}: tensor '{tensor}' data at {offset} starts before byte {data_end}")
        if offset + byte_length > h["file_size"]:
            raise CRNNBinError(f"{name}: tensor '{tensor}' data reaches past the end of the file")
        data_end = offset + byte_length
        entries.append((tensor, dtype_name, shape, offset, byte_length))
    if position != len(directory):
        raise CRNNBinError(f"{name}: bad tensor directory: {len(directory) - position} bytes left over")
    return entries


def read_with_layout(path):
    """Like ``read`` but also returns the header fields and each tensor's
    (dtype, shape, offset, byte_length)."""
    with open(path, "rb") as handle:
        data = memoryview(handle.read())
    header = _check_header(data, path)
    _check_regions(header, path)
    mo, ml = header["metadata_offset"], header["metadata_length"]
    meta = _check_metadata(data[mo:mo + ml], path)
    entries = _read_directory(data, header, meta, path)
    tensors, layout = {}, {}
    for tensor, dtype_name, shape, offset, byte_length in entries:
        numpy_type = next(t for n, t in DTYPES.values() if n == dtype_name)
        array = np.frombuffer(data, dtype=numpy_type, count=math.prod(shape), offset=offset).reshape(shape)
        if dtype_name == "bfloat16":  # NumPy has no bfloat16: widen the bits to float32 exactly
            array = (array.astype(np.uint32) << 16).view(np.float32)
        elif dtype_name == "bool":
            array = array != 0
        tensors[tensor] = array
        layout[tensor] = dict(dtype=dtype_name, shape=shape, offset=offset, byte_length=byte_length)
    return header, meta, tensors, layout


def read(path):
    """(metadata dict, {name: np.ndarray}) of the CRNN-BIN file at ``path``.
    Raises ``CRNNBinError`` when the file breaks the format."""
    _, meta, tensors, _ = read_with_layout(path)
    return meta, tensors


def _json_value(value):
    """A JSON-safe scalar: non-finite floats become the strings nan/inf/-inf."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def as_json(path):
    """Everything in the file as a JSON-ready dict, values flattened row-major."""
    header, meta, tensors, layout = read_with_layout(path)
    return {
        "format_version": [header["major"], header["minor"]],
        "file_size": header["file_size"],
        "metadata": meta,
        "tensors": [
            dict(name=name, **layout[name],
                 values=[_json_value(v) for v in array.reshape(-1).tolist()])
            for name, array in tensors.items()
        ],
    }


def main(argv):
    args = [a for a in argv if a != "--json"]
    if len(args) != 1:
        print("usage: read_crnn_bin.py [--json] FILE.bin", file=sys.stderr)
        return 2
    try:
        if "--json" in argv:
            print(json.dumps(as_json(args[0]), indent=1, ensure_ascii=False))
            return 0
        header, meta, tensors, layout = read_with_layout(args[0])
    except (CRNNBinError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args[0]}: CRNN-BIN {header['major']}.{header['minor']}, {header['file_size']} bytes, "
          f"{len(tensors)} tensors, {sum(a.size for a in tensors.values())} parameters")
    for key, value in meta.items():
        print(f"  {key}: {value!r}")
    for name, array in tensors.items():
        where = layout[name]
        preview = np.array2string(array.reshape(-1)[:4], precision=6, separator=", ")
        print(f"  {name}: {where['dtype']} {list(array.shape)} at {where['offset']} {preview}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
