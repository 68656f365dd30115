#!/usr/bin/env python3
"""Checks crnn-convert's safetensors output against Python's safetensors and
torch, and shows what Python's safetensors makes of the hostile headers.

    swift build && python3 scripts/check_safetensors.py [--bin PATH/TO/crnn-convert]

1. Converts checkpoints of every kind (zip and legacy layouts, strided views,
   shared storages, every dtype, a DataParallel prefix, a wrapper dict, a whole
   pickled module, a safetensors file, a .bin) with `crnn-convert IN
   OUT.safetensors`, loads each output with safetensors.torch.load_file and
   requires exactly what torch.load gives: the same names, dtypes, shapes and
   bytes (NaN payloads included), and __metadata__ naming the source file
   and its SHA-256.
2. Opens every file of fixtures/safetensors/hostile with safetensors.safe_open
   and prints its verdict beside the one manifest.json requires of our reader.

Needs torch and safetensors; CI has none, so the Swift tests compare against
the committed expectations these same libraries produced. Exits 1 on any
mismatch in part 1.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "fixtures")
WRAPPER_KEYS = ["state_dict", "model_state_dict", "model", "net", "network", "module", "weights", "params"]

# (source, how torch gives its state_dict)
SOURCES = [
    ("safetensors/views_source.pt", "dict"),
    ("checkpoints/dtypes_zip.pt", "dict"),
    ("checkpoints/dtypes_legacy.pt", "dict"),
    ("checkpoints/views_zip.pt", "dict"),
    ("checkpoints/views_legacy.pt", "dict"),
    ("checkpoints/dataparallel_prefix.pt", "dict"),
    ("checkpoints/wrapper_state_dict.pt", "wrapper"),
    ("checkpoints/crnn/narrow_zip.pt", "dict"),
    ("checkpoints/crnn/narrow_bfloat16.pt", "dict"),
    ("checkpoints/crnn/narrow_whole_module.pt", "module"),
    ("safetensors/dtypes.safetensors", "safetensors"),
    ("safetensors/dtypes_wide.safetensors", "safetensors"),
    ("checkpoints/training_checkpoint.pt", "wrapper"),
    ("model/crnn.pt", "dict"),
]


def torch_state_dict(path, kind):
    if kind == "safetensors":
        return load_file(path)
    if kind == "module":
        sys.path.insert(0, FIX)
        return torch.load(path, weights_only=False).state_dict()
    loaded = torch.load(path, weights_only=True)
    if kind == "wrapper":
        key = next(k for k in WRAPPER_KEYS if k in loaded)
        return loaded[key]
    return loaded


def raw_bytes(tensor):
    return tensor.detach().contiguous().reshape(-1).view(torch.uint8).tolist() if tensor.numel() else []


def compare(name, expected, got, metadata, source):
    problems = []
    if set(expected) != set(got):
        problems.append("names differ: only torch %s, only file %s" % (sorted(set(expected) - set(got)), sorted(set(got) - set(expected))))
    for key in expected:
        if key not in got:
            continue
        a, b = expected[key], got[key]
        if a.dtype != b.dtype or tuple(a.shape) != tuple(b.shape):
            problems.append("%s: %s %s vs %s %s" % (key, a.dtype, tuple(a.shape), b.dtype, tuple(b.shape)))
        elif raw_bytes(a) != raw_bytes(b):
            problems.append("%s: bytes differ" % key)
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if metadata.get("source_sha256") != digest:
        problems.append("source_sha256 %r, expected %s" % (metadata.get("source_sha256"), digest))
    if metadata.get("source_file") != os.path.basename(source):
        problems.append("source_file %r" % metadata.get("source_file"))
    status = "ok" if not problems else "MISMATCH"
    print("%-45s %4d tensors  %s" % (name, len(expected), status))
    for problem in problems:
        print("    " + problem)
    return not problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "debug", "crnn-convert"))
    args = parser.parse_args()
    ok = True
    print("1. crnn-convert IN OUT.safetensors, read back by safetensors %s, against torch %s" %
          (__import__("safetensors").__version__, torch.__version__))
    with tempfile.TemporaryDirectory() as out:
        sources = list(SOURCES)
        # A .bin source: converted first, its state_dict compared with the CRNNFile's own tensors as torch reads the .pt.
        binary = os.path.join(out, "narrow_zip.bin")
        subprocess.run([args.bin, os.path.join(FIX, "checkpoints/crnn/narrow_zip.pt"), binary], check=True, capture_output=True)
        for relative, kind in sources + [(binary, "bin")]:
            source = relative if os.path.isabs(relative) else os.path.join(FIX, relative)
            target = os.path.join(out, os.path.basename(source) + ".safetensors")
            run = subprocess.run([args.bin, source, target], capture_output=True, text=True)
            if run.returncode != 0:
                print("%-45s crnn-convert failed: %s" % (relative, run.stderr.strip()))
                ok = False
                continue
            with safe_open(target, "pt") as f:
                metadata = f.metadata() or {}
            expected = torch_state_dict(os.path.join(FIX, "checkpoints/crnn/narrow_zip.pt") if kind == "bin" else source,
                                        "dict" if kind == "bin" else kind)
            ok &= compare(os.path.basename(relative), expected, load_file(target), metadata, source)

    print("\n2. hostile headers: Python's safetensors beside what our reader must do")
    with open(os.path.join(FIX, "safetensors", "hostile", "manifest.json")) as f:
        cases = json.load(f)["cases"]
    differ = 0
    for case in cases:
        path = os.path.join(FIX, "safetensors", "hostile", case["file"])
        try:
            with safe_open(path, "pt") as f:
                for key in f.keys():
                    f.get_tensor(key)
            python = "accepts"
        except Exception as error:  # noqa: BLE001 (any refusal counts)
            python = "refuses (%s)" % str(error).split("\n")[0][:70]
        ours = "accepts" if case["expect"] == "ok" else "refuses (%s)" % case["expect"]
        same = python.split()[0] == ours.split()[0]
        differ += not same
        print("%-34s ours %-32s python %s%s" % (case["file"], ours, python, "" if same else "   <- differs"))
    print("\n%d of %d hostile cases judged differently (where the format's rules are stricter than Python's parser)" % (differ, len(cases)))
    print("part 1:", "all equal" if ok else "MISMATCHES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
