"""PyTorch and ONNX Runtime figures for the benchmark (crnn-bench runs this).

    python3 scripts/bench_reference.py --model fixtures/model/crnn.pt --images fixtures/samples \
        --threads 2 --runs 100 --warmup 10 [--predict-process]

Prints one JSON object. Everything is measured on the reference model in eval
mode, each image as its own batch of one (the faithful mode), with
`--threads` intra-op threads:
  torch.latency_ms     single-image forward, median and 10th/90th percentiles
  torch.throughput     images/s over 64 images, one image per forward
  torch.load_seconds   a fresh `python3 -c "import torch; torch.load(MODEL)"`, start to exit
                       (median of three)
  torch.process        a fresh process predicting 32 images, start to exit: seconds, peak RSS
  onnxruntime.*        the same for ONNX Runtime on the model exported by torch.onnx
                       (when onnxruntime is importable)
Missing packages give {"available": false, "reason": ...} for that engine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'fixtures'))

PREDICT_TORCH = r'''
import sys, os, torch
sys.path.insert(0, {fixtures!r})
import crnn_reference as ref
torch.set_num_threads({threads})
model = ref.CRNN()
model.load_state_dict(torch.load({model!r}, map_location='cpu'))
model.eval()
with torch.no_grad():
    for path in {files!r}:
        ref.greedy_ctc_decode(model(ref.load_image(path))[:, 0, :])
'''

PREDICT_ORT = r'''
import sys, numpy as np, onnxruntime as ort
from PIL import Image
options = ort.SessionOptions()
options.intra_op_num_threads = {threads}
options.inter_op_num_threads = 1
session = ort.InferenceSession({onnx!r}, options, providers=['CPUExecutionProvider'])
for path in {files!r}:
    array = np.asarray(Image.open(path).convert('RGB')) / 255.
    x = array.transpose(2, 0, 1)[None].astype(np.float32)
    session.run(None, {{'image': x}})[0].argmax(-1)
'''


def percentiles(samples):
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {'median': statistics.median(ordered), 'p10': pick(0.1), 'p90': pick(0.9), 'runs': len(ordered)}


def timed(function, runs, warmup):
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def process_figures(code):
    """Runs `code` in a fresh python3; wall seconds from start to exit and the
    child's own peak RSS (MB), which it prints last. VmHWM, not ru_maxrss:
    subprocess may start the child with vfork, and ru_maxrss then includes
    this (large) parent's memory at the time of the fork."""
    report = ('\nprint(next(int(l.split()[1]) for l in open("/proc/self/status") '
              'if l.startswith("VmHWM:")))\n')
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-c', code + report], check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    return {'seconds': seconds, 'peak_rss_mb': int(done.stdout.strip().splitlines()[-1]) / 1024}


def image_files(folder, count):
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith(('.png', '.jpg', '.jpeg')))
    files = [os.path.join(folder, n) for n in names]
    return (files * (count // len(files) + 1))[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True)
    parser.add_argument('--images', required=True)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--runs', type=int, default=100)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--torch-only', action='store_true',
                        help='PyTorch only (the AVX2 peer: run with ATEN_CPU_CAPABILITY=avx2 in the environment)')
    args = parser.parse_args()
    result = {}
    try:
        import torch
        import crnn_reference as ref
    except ImportError as error:
        print(json.dumps({'torch': {'available': False, 'reason': str(error)},
                          'onnxruntime': {'available': False, 'reason': 'needs torch to export'}}))
        return
    torch.set_num_threads(args.threads)
    model = ref.CRNN()
    model.load_state_dict(torch.load(args.model, map_location='cpu'))
    model.eval()
    files64 = image_files(args.images, 64)
    files32 = files64[:32]
    inputs = [ref.load_image(f) for f in files64]
    with torch.no_grad():
        latency = timed(lambda: model(inputs[0]), args.runs, args.warmup)
        start = time.perf_counter()
        for x in inputs:
            model(x)
        throughput = len(inputs) / (time.perf_counter() - start)
    # The median of three fresh processes, as crnn-bench takes the median of its conversions.
    loads = sorted((process_figures(f'import torch; torch.load({args.model!r}, map_location="cpu")')
                    for _ in range(3)), key=lambda run: run['seconds'])
    load = loads[1]
    predict = process_figures(PREDICT_TORCH.format(fixtures=os.path.join(HERE, '..', 'fixtures'),
                                                   threads=args.threads, model=args.model, files=files32))
    result['torch'] = {'available': True, 'version': torch.__version__, 'threads': args.threads,
                       'cpu_capability': torch.backends.cpu.get_cpu_capability(),
                       'latency_ms': latency, 'throughput_images_per_s': throughput,
                       'load_seconds': load['seconds'], 'process_32_images': predict}
    if args.torch_only:
        print(json.dumps(result))
        return
    try:
        import onnxruntime as ort
        import numpy as np
    except ImportError as error:
        result['onnxruntime'] = {'available': False, 'reason': str(error)}
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as folder:
        onnx_path = os.path.join(folder, 'crnn.onnx')
        torch.onnx.export(model, inputs[0], onnx_path, input_names=['image'], output_names=['logits'],
                          opset_version=17, dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(onnx_path, options, providers=['CPUExecutionProvider'])
        arrays = [x.numpy() for x in inputs]
        latency = timed(lambda: session.run(None, {'image': arrays[0]}), args.runs, args.warmup)
        start = time.perf_counter()
        for x in arrays:
            session.run(None, {'image': x})
        throughput = len(arrays) / (time.perf_counter() - start)
        predict = process_figures(PREDICT_ORT.format(threads=args.threads, onnx=onnx_path, files=files32))
        result['onnxruntime'] = {'available': True, 'version': ort.__version__, 'threads': args.threads,
                                 'latency_ms': latency, 'throughput_images_per_s': throughput,
                                 'process_32_images': predict}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
