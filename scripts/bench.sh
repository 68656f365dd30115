#!/usr/bin/env bash
# The benchmark: builds with -c release and runs crnn-bench on the bundled
# trained model, side by side with PyTorch and ONNX Runtime when python3 can
# import them. Results: a table on stdout and out/bench/results.json (not tracked;
# bench/results.json is the snapshot the README names, with its CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product crnn-convert >/dev/null
swift build -c release --product crnn-predict >/dev/null
swift build -c release --product crnn-bench >/dev/null
"$(swift build -c release --show-bin-path)/crnn-bench" "$@"
