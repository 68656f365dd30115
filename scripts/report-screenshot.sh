#!/usr/bin/env bash
# Renders crnn-predict's HTML report of the bundled samples (verified against
# PyTorch) in headless Chromium and saves a PNG of it, to look at the page as
# a person sees it. Not part of the tests. Installs Debian's chromium when
# missing.
#
#   scripts/report-screenshot.sh [OUT.png]      default: out/report.png
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/report.png}
scripts/install-deps.sh
if ! command -v chromium >/dev/null; then
    as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
swift build -c release --product crnn-convert >/dev/null
swift build -c release --product crnn-predict >/dev/null
bin=$(swift build -c release --show-bin-path)
mkdir -p out "$(dirname "$out")"
"$bin/crnn-convert" fixtures/model/crnn.pt out/crnn.bin >/dev/null
"$bin/crnn-predict" out/crnn.bin --verify fixtures/model/reference-batch1.json --report out/report.html >/dev/null || true
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,1000 \
    --screenshot="$PWD/$out" "file://$PWD/out/report.html" 2>/dev/null
echo "report: out/report.html, screenshot: $out"
