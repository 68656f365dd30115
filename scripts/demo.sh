#!/usr/bin/env bash
# The demo on the bundled trained model: convert it, inspect it, predict the
# bundled captchas, and verify the Swift model against PyTorch's recorded
# outputs (batch of one, and PyTorch batches of 8). Installs what the build
# needs first. Output files go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product crnn-convert >/dev/null
swift build -c release --product crnn-inspect >/dev/null
swift build -c release --product crnn-predict >/dev/null
bin=$(swift build -c release --show-bin-path)
mkdir -p out

step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
step "convert the trained PyTorch model" "$bin/crnn-convert" fixtures/model/crnn.pt out/crnn.bin
step "inspect the converted file" "$bin/crnn-inspect" out/crnn.bin
step "read the bundled captchas" "$bin/crnn-predict" out/crnn.bin fixtures/samples --report out/samples.html \
    | tee out/samples.tsv
# The samples' file names are their labels (5bdbx.jpg holds "5bdbx").
tally=$(awk -F'\t' 'NF == 2 { n = split($1, part, "/"); label = part[n]; sub(/\..*$/, "", label); total++; if (label == $2) right++ }
                    END { printf "%d/%d", right, total }' out/samples.tsv)
echo "bundled samples: $tally read as labelled (held-out accuracy: fixtures/model/TRAINING.md); report: out/samples.html"
step "verify against PyTorch, each image its own batch" \
    "$bin/crnn-predict" out/crnn.bin --verify fixtures/model/reference-batch1.json
step "verify against PyTorch, batches of 8 (GRU over the batch axis)" \
    "$bin/crnn-predict" out/crnn.bin --verify fixtures/model/reference-batch8.json
