#!/usr/bin/env bash
# A/B of the wasm GEMM and step kernels of two revisions, in one Node process per ISA (a shared
# machine's load then hits both alike; separate bench runs there differ by more than the
# change): builds harness.cpp against native/ of REV (git archive) and of the working tree, for
# SIMD128 and relaxed SIMD, with the flags of wasm/build-relaxed.sh, and runs ab.mjs on each
# pair. It also checks that both give the same bits (a change of blocking must not change sums).
#
#   bash scripts/wasm-kernel-ab/run.sh [REV]      (REV defaults to HEAD~1)
#
# Needs clang++-19, wasm-ld-19 and Emscripten's prebuilt libraries (see wasm/build-relaxed.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/wasm-kernel-ab"
REV="${1:-HEAD~1}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/rev"
git -C "$ROOT" archive "$REV" native | tar -x -C "$TMP/rev"

SYSROOT="$(em-config CACHE)/sysroot"
LIBDIR="$SYSROOT/lib/wasm32-emscripten"
build() { # SOURCE_ROOT OUT [FLAGS...]
  local src="$1" out="$2"
  shift 2
  clang++-19 --target=wasm32-unknown-emscripten "--sysroot=$SYSROOT" \
    -Xclang -iwithsysroot/include/compat -DEMSCRIPTEN -D_LIBCPP_ABI_VERSION=2 \
    -fno-threadsafe-statics -mllvm -combiner-global-alias-analysis=false -mllvm -disable-lsr \
    -mcpu=mvp -msimd128 -mrelaxed-simd -msign-ext -mmutable-globals -ffp-contract=off \
    -O3 -DNDEBUG -fno-exceptions -fno-rtti -std=c++17 "-I$src/native/include" "-I$src/native" \
    "$@" -c "$HERE/harness.cpp" -o "$out.o"
  wasm-ld-19 -o "$out" "$out.o" "-L$LIBDIR" -lstandalonewasm-memgrow -lstubs -lnoexit -lc \
    -lemmalloc -lcompiler_rt --import-undefined -z stack-size=1048576 \
    --initial-memory=67108864 --max-memory=2147483648 "$LIBDIR/crt1_reactor.o" --entry=_initialize
}
build "$TMP/rev" "$TMP/simd-rev.wasm"
build "$ROOT" "$TMP/simd-tree.wasm"
build "$TMP/rev" "$TMP/relaxed-rev.wasm" -DRELAXED
build "$ROOT" "$TMP/relaxed-tree.wasm" -DRELAXED
echo "SIMD128 ($REV vs working tree)"
node "$HERE/ab.mjs" "$TMP/simd-rev.wasm" "$TMP/simd-tree.wasm"
echo "relaxed SIMD ($REV vs working tree)"
node --experimental-wasm-relaxed-simd "$HERE/ab.mjs" "$TMP/relaxed-rev.wasm" "$TMP/relaxed-tree.wasm"
