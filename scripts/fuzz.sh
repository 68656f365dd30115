#!/usr/bin/env bash
# Builds one libFuzzer harness with the Swift toolchain (-sanitize=fuzzer,address)
# and runs it, seeded from the fixtures.
#
#   scripts/fuzz.sh TARGET SECONDS [RUNS]      TARGET: pickle | checkpoint | bin | image | safetensors
#
# FUZZ_TIMEOUT (seconds, default 10) is how long one input may run before it
# counts as a hang; raise it on a machine loaded by other work. ASAN_OPTIONS
# defaults to malloc_context_size=0: AddressSanitizer still catches every
# error, but no longer records a stack trace at each allocation, which took a
# fifth of the pickle harness's time (rerun a crashing input with
# ASAN_OPTIONS= to see where its memory came from).
#
# Stops after SECONDS, or after RUNS executions when given, whichever comes
# first. Each target has an input size cap (-max_len) and is seeded only from
# fixture files below it, so executions stay fast. Exits 0 when nothing crashed, leaked or hung; prints the executions run and
# the coverage reached. A crashing input is saved as out/fuzz/TARGET/crash-*:
# turn it into a fixture and a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh pickle|checkpoint|bin|image|safetensors SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS [RUNS]}
runs=${3:--1}
scripts/install-deps.sh
build=.build-fuzz
mkdir -p "$build"
flags=(-parse-as-library -sanitize=fuzzer,address -O -g -I "$build" -package-name crnn_swift)

buildlog=$build/build-$target.log
: >"$buildlog"
quiet() {  # runs a build step, keeping its output in the build log unless it fails
    "$@" >>"$buildlog" 2>&1 || { cat "$buildlog" >&2; exit 1; }
}
# The product targets build with InternalImportsByDefault (Package.swift, productFace): so must they here.
products=" TensorCore TorchCheckpoint CRNNFormat CRNNRuntime Inspection Conversion "
module() {  # module NAME SOURCES... : a static library and its module, instrumented
    local name=$1; shift
    local face=()
    [[ "$products" == *" $name "* ]] && face=(-enable-upcoming-feature InternalImportsByDefault)
    quiet swiftc "${flags[@]}" "${extra[@]}" "${face[@]}" -emit-library -static -emit-module -module-name "$name" \
        -emit-module-path "$build/$name.swiftmodule" -o "$build/lib$name.a" "$@"
}

extra=(-I Sources/System/CZip -I Sources/System/CZlib -I Sources/System/CDeflate -I Sources/System/CPNG -I Sources/System/CJPEG
       -Xcc -I/usr/include/libpng16 -I "$build/CImageDecoders")
links=()
seeds=()
dict=()
max_len=0  # 0: libFuzzer picks it from the corpus
case "$target" in
  pickle)
    # The real checkpoint policy lives in TorchCheckpoint (internal), so that module is built
    # with testing enabled for the harness's @testable import.
    module SystemShim Sources/Core/SystemShim/*.swift
    module TensorCore Sources/Core/TensorCore/*.swift
    module Pickle Sources/Reader/Pickle/*.swift
    extra+=(-enable-testing)
    module TorchCheckpoint Sources/Reader/TorchCheckpoint/*.swift
    links=(-lTorchCheckpoint -lPickle -lTensorCore -lSystemShim -lzip -ldeflate); seeds=(fixtures/pickle); dict=(-dict=fuzz/pickle.dict) ;;
  checkpoint)
    module SystemShim Sources/Core/SystemShim/*.swift
    module TensorCore Sources/Core/TensorCore/*.swift
    module Pickle Sources/Reader/Pickle/*.swift
    module TorchCheckpoint Sources/Reader/TorchCheckpoint/*.swift
    links=(-lTorchCheckpoint -lPickle -lTensorCore -lSystemShim -lzip -ldeflate)
    # Small checkpoints only: the CRNN ones (up to 650 KB each) made every execution slow.
    seeds=(fixtures/checkpoints fixtures/checkpoints/hostile fixtures/checkpoints/handmade
           fixtures/checkpoints/torchscript fixtures/checkpoints/torchscript/hostile); dict=(-dict=fuzz/zip.dict)
    max_len=16384 ;;
  safetensors)
    module SystemShim Sources/Core/SystemShim/*.swift
    module TensorCore Sources/Core/TensorCore/*.swift
    module Pickle Sources/Reader/Pickle/*.swift
    module TorchCheckpoint Sources/Reader/TorchCheckpoint/*.swift
    links=(-lTorchCheckpoint -lPickle -lTensorCore -lSystemShim -lzip -ldeflate)
    seeds=(fixtures/safetensors fixtures/safetensors/hostile); dict=(-dict=fuzz/safetensors.dict)
    max_len=16384 ;;
  bin)
    module SystemShim Sources/Core/SystemShim/*.swift
    module TensorCore Sources/Core/TensorCore/*.swift
    module CRNNFormat Sources/Format/CRNNFormat/*.swift
    links=(-lCRNNFormat -lTensorCore -lSystemShim -ldeflate -lz -lFoundationEssentials); seeds=(formats) ;;
  image)
    mkdir -p "$build/CImageDecoders"
    printf 'module CImageDecoders {\n    header "%s/Sources/Images/CImageDecoders/include/image_decoders.h"\n    export *\n}\n' "$PWD" \
        > "$build/CImageDecoders/module.modulemap"
    for c in Sources/Images/CImageDecoders/*.c; do
        quiet clang -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/Images/CImageDecoders/include -I/usr/include/libpng16 \
            -c "$c" -o "$build/$(basename "$c" .c).o"
    done
    quiet ar rcs "$build/libCImageDecoders.a" "$build"/png_decoder.o "$build"/jpeg_decoder.o
    module SystemShim Sources/Core/SystemShim/*.swift
    module TensorCore Sources/Core/TensorCore/*.swift
    module ImageDecoding Sources/Images/ImageDecoding/*.swift
    links=(-lImageDecoding -lTensorCore -lSystemShim -lCImageDecoders -lpng16 -ljpeg); seeds=(fixtures/images fixtures/samples) ;;
  *) echo "unknown target '$target'; expected pickle, checkpoint, bin, image or safetensors" >&2; exit 2 ;;
esac
# -lswiftGlibc (and -lFoundationEssentials for bin): internal imports no longer autolink the overlays they need into the harness.
quiet swiftc "${flags[@]}" "${extra[@]}" -L "$build" "fuzz/$target.swift" "${links[@]}" -lswiftGlibc -o "$build/fuzz-$target"

seed_limit=2M
[ "$max_len" -gt 0 ] && seed_limit=$((max_len + 1))c
corpus=out/fuzz/$target/corpus
mkdir -p "$corpus"
for folder in "${seeds[@]}"; do
    find "$folder" -maxdepth 1 -type f ! -name '*.json' ! -name '*.md' -size -"$seed_limit" -exec cp -n {} "$corpus/" \;
done
log=out/fuzz/$target/last-run.log
export ASAN_OPTIONS=${ASAN_OPTIONS-malloc_context_size=0}
set +e
start=$SECONDS
"$build/fuzz-$target" "${dict[@]}" -max_total_time="$seconds" -runs="$runs" -max_len="$max_len" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="out/fuzz/$target/" "$corpus" >"$log" 2>&1
status=$?
set -e
echo "fuzzing time: $((SECONDS - start)) s"
grep -E "^#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb" "$log" || true
grep -oE "cov: [0-9]+ ft: [0-9]+" "$log" | tail -1 | sed 's/^/final coverage: /' || true
if [ $status -ne 0 ]; then
    echo "fuzz-$target FAILED (status $status): see $log" >&2
    grep -E "ERROR|SUMMARY|==[0-9]+==" "$log" | head -5 >&2
    exit 1
fi
echo "fuzz-$target: no crash, leak or hang"
