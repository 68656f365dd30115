#!/usr/bin/env bash
# Builds and runs the Examples package (a program that imports only
# CRNNRuntime) on the bundled model and samples, then checks what its binary
# links: no libzip, no full Foundation, no cryptography, and none of the
# PyTorch reader's code (the deployed path links nothing it does not run).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product crnn-convert >/dev/null
bin=$(swift build --show-bin-path)
mkdir -p out
"$bin/crnn-convert" fixtures/model/crnn.pt out/example-crnn.bin >/dev/null
(cd Examples && swift build >/dev/null)
example=Examples/.build/debug/recognize-captchas
output=$("$example" out/example-crnn.bin fixtures/samples)
printf '%s\n' "$output" | tail -3
printf '%s\n' "$output" | grep -q '^files: [0-9]*/32 read as their names$' || { echo "example: unexpected output" >&2; exit 1; }
printf '%s\n' "$output" | grep -q '^pixels in memory (200x50 RGBA' || { echo "example: no result from pixels" >&2; exit 1; }
failed=0
libraries=$(ldd "$example")
for library in libzip libFoundation.so libcrypto libssl libopenblas; do
    if printf '%s\n' "$libraries" | grep -q "$library"; then echo "example links $library" >&2; failed=1; fi
done
# Symbols of the reader, the pickle machine, the converter or swift-crypto (Swift mangles
# module names into every symbol: 15TorchCheckpoint, 6Pickle, 10Conversion, 6Crypto).
if nm "$example" | grep -E -q '15TorchCheckpoint|6Pickle[A-Z0-9]|10Conversion|6Crypto[A-Z0-9]|zip_open'; then
    echo "example contains code of the PyTorch reader or the converter" >&2; failed=1
fi
[ $failed -eq 0 ] && echo "example: links only the runtime (no libzip, no full Foundation, no crypto, no reader)"
exit $failed
