#!/usr/bin/env bash
# Installs what the build needs, then builds and runs the whole test suite,
# then the kernel and model tests again with the AVX2 unit preferred (what
# x86-64 CPUs with AVX2 but no AVX-512 run), on the portable vector unit
# (what CPUs without either run) and with the OpenBLAS settings some hosts put in
# the environment (OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=512) and without
# OpenBLAS at all (CRNN_BLAS=builtin, as on a machine that lacks it), so that
# the suite is known to pass on every kind of x86-64 host this runs on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
swift test --skip-build --parallel
units='KernelsTests\.|CRNNTests\.'
echo "== kernel and model tests with the AVX2 unit preferred (CRNN_VECTOR_UNIT=avx2; portable where the CPU lacks it)"
CRNN_VECTOR_UNIT=avx2 swift test --skip-build --parallel --filter "$units"
echo "== kernel and model tests on the portable unit (CRNN_VECTOR_UNIT=portable)"
CRNN_VECTOR_UNIT=portable swift test --skip-build --parallel --filter "$units"
echo "== kernel and model tests with OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512, on the portable unit"
CRNN_VECTOR_UNIT=portable OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512 swift test --skip-build --parallel --filter "$units"
echo "== kernel and model tests on the portable unit without OpenBLAS (CRNN_BLAS=builtin: the built-in product; the library is never opened)"
CRNN_VECTOR_UNIT=portable CRNN_BLAS=builtin swift test --skip-build --parallel --filter "$units"
echo "== the example program (Examples/, CRNNRuntime only): builds, reads the samples, links only the runtime"
scripts/example-check.sh
echo "== documentation: the runtime's and the converter's DocC catalogues build with no warnings"
for target in CRNNRuntime Conversion; do
    swift package generate-documentation --target "$target" --warnings-as-errors >/dev/null
    echo "documentation: $target builds with no warnings"
done
