#!/usr/bin/env bash
# Makes a checkpoint over 4 GiB in zip64 form (no PyTorch needed), runs
# crnn-inspect (release) on it under /usr/bin/time -v and prints the peak
# resident memory next to the file size. Fails when inspect fails, misses the
# big tensor, or peaks above LIMIT_MB (default 200): without --stats no tensor
# data is read, so memory must not grow with the file.
#
#   scripts/zip64-check.sh [GIB]        GIB: size of the big storage, default 4.5
#
# Not part of `swift test`: it writes GIB GiB to a temporary folder (removed on
# exit) and takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-4.5}
limit_mb=${LIMIT_MB:-200}
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

swift build -c release --product crnn-inspect --scratch-path .build >/dev/null
inspect=$(swift build -c release --scratch-path .build --show-bin-path)/crnn-inspect

work=$(mktemp -d "${TMPDIR:-/tmp}/zip64-check.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
file=$work/zip64_big.pt
read -r size numel < <(python3 scripts/make_zip64_checkpoint.py "$file" "$gib")
[ "$size" -gt $((4 << 30)) ] || { echo "the file is only $size bytes; expected over 4 GiB" >&2; exit 1; }

/usr/bin/time -v "$inspect" --json "$file" >"$work/report.json" 2>"$work/time.txt" \
    || { cat "$work/time.txt" >&2; exit 1; }
grep -q "\"elements\" : $numel" "$work/report.json" \
    || { echo "crnn-inspect did not report big.weight with $numel elements:" >&2; head -40 "$work/report.json" >&2; exit 1; }
peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
echo "file: $size bytes ($(awk "BEGIN {printf \"%.2f\", $size / 1073741824}") GiB, zip64), big.weight: $numel float32"
echo "crnn-inspect --json: peak RSS $((peak_kb / 1024)) MB ($peak_kb kB), wall $seconds"
if [ $((peak_kb / 1024)) -gt "$limit_mb" ]; then
    echo "FAILED: peak RSS over $limit_mb MB" >&2
    exit 1
fi
echo "zip64 check: ok (peak RSS under $limit_mb MB)"
