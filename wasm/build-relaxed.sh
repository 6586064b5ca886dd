#!/usr/bin/env bash
# Compiles and links a wasm program with relaxed SIMD: the toolchain of wasm/gru_simd-relaxed.wasm
# (called by wasm/build.sh) and of the relaxed build of the kernel tests (scripts/test-kernels.mjs).
#
# Why not emcc: Emscripten 3.1.6 (Debian's) bundles clang 14, which has no relaxed-SIMD
# intrinsics and encodes the proposal's old opcodes, and its post-link wasm-opt (binaryen 108)
# rejects the final ones. So the sources are compiled by Debian's clang-19 for the same target
# (wasm32-unknown-emscripten, against Emscripten's own headers and with the defines and
# -mllvm options emcc passes), and linked by wasm-ld-19 against the libraries the emscripten
# package ships prebuilt (libc, emmalloc, the standalone-wasm runtime): the same link line emcc
# runs for -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sMALLOC=emmalloc, without the binaryen
# passes that follow it (finalize changes nothing a standalone module needs; wasm-opt only
# shrinks). The result imports what the emcc modules import, so ts/backends/wasm.ts loads it
# the same way.
#
# Usage:
#   bash wasm/build-relaxed.sh -o OUT.wasm --reactor EXPORTS [-- CXXFLAGS...] -- SOURCES...
#       a library module: entry _initialize, exports the comma-separated EXPORTS (C names)
#   bash wasm/build-relaxed.sh -o OUT.wasm --command [-- CXXFLAGS...] -- SOURCES...
#       a WASI command (main): the kernel tests, run by scripts/run-wasi.mjs
# Options before the first `--`:
#   --no-relaxed  SIMD128 only (-msimd128 without -mrelaxed-simd): the wasm-simd variant
#   --threads     a threaded module (gru_simd-*-mt.wasm): -matomics -mbulk-memory and
#                 -DGRU_WASM_THREADS (native/core/thread_pool_wasm.h), linked against
#                 Emscripten's -mt libraries with one shared, imported memory of a fixed
#                 maximum (a shared memory cannot be grown past the maximum it was made with)
# Flags between the first `--` and the second are added to every compile (include dirs,
# warnings). Sources (and include dirs) are relative to the repository root. Objects go to a temporary directory; two compiles run at a time. The output is
# byte-for-byte reproducible (no paths, no dates: wasm/check-reproducible.sh checks it).
#
# Needs: clang-19, wasm-ld-19 (Debian: apt-get install -y clang-19 lld-19) and emscripten (for
# its sysroot). A missing tool is an error, never a skip.
set -euo pipefail

export LC_ALL=C
export TZ=UTC
export SOURCE_DATE_EPOCH=0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
  echo "wasm/build-relaxed.sh: error: $*" >&2
  exit 1
}

CLANG=clang++-19
LINKER=wasm-ld-19
command -v "$CLANG" >/dev/null 2>&1 ||
  die "$CLANG not found. The relaxed-SIMD module needs clang 19 (Debian: apt-get install -y clang-19 lld-19). Not skipping."
command -v "$LINKER" >/dev/null 2>&1 ||
  die "$LINKER not found (Debian: apt-get install -y lld-19). Not skipping."
command -v em-config >/dev/null 2>&1 ||
  die "em-config not found. The relaxed-SIMD module links Emscripten's libraries (Debian: apt-get install -y emscripten). Not skipping."

OUT=""
MODE=""
EXPORTS=""
RELAXED=1
THREADS=0
while (($#)); do
  case "$1" in
    -o)
      OUT="$2"
      shift 2
      ;;
    --reactor)
      MODE=reactor
      EXPORTS="$2"
      shift 2
      ;;
    --command)
      MODE=command
      shift
      ;;
    --no-relaxed)
      RELAXED=0
      shift
      ;;
    --threads)
      THREADS=1
      shift
      ;;
    --)
      shift
      break
      ;;
    *) die "unknown argument $1" ;;
  esac
done
[[ -n "$OUT" && -n "$MODE" ]] || die "usage: -o OUT.wasm (--reactor EXPORTS | --command) [-- CXXFLAGS...] -- SOURCES..."
OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")" # the sources are read from the root
EXTRA_FLAGS=()
while (($#)) && [[ "$1" != "--" ]]; do
  EXTRA_FLAGS+=("$1")
  shift
done
(($#)) || die "no '--' before the sources."
shift
SOURCES=("$@")
((${#SOURCES[@]} > 0)) || die "no sources."

SYSROOT="$(em-config CACHE)/sysroot"
LIBDIR="$SYSROOT/lib/wasm32-emscripten"
[[ -f "$LIBDIR/libc.a" && -f "$LIBDIR/crt1_reactor.o" ]] ||
  die "Emscripten's prebuilt libraries are not in $LIBDIR."
EM_VERSION="$(em-config EMSCRIPTEN_ROOT)/emscripten-version.txt"
[[ -f "$EM_VERSION" ]] || die "$EM_VERSION not found."
IFS=. read -r EM_MAJOR EM_MINOR EM_TINY <"$EM_VERSION"

# What emcc passes to its clang (EMCC_DEBUG=1 shows it), then the build's own flags.
# -mcpu=mvp plus the features: clang 19's default CPU would also turn on reference types and
# multivalue, which the emcc-built libraries do not use; SIMD128 + relaxed SIMD is the point.
# -ffp-contract=off: the only fused multiply-adds are the shim's explicit relaxed_madd; no
# other expression of the core is contracted, so everything outside the kernels rounds as in
# gru_simd-simd.wasm.
CXXFLAGS=(
  --target=wasm32-unknown-emscripten "--sysroot=$SYSROOT"
  -Xclang -iwithsysroot/include/compat
  -DEMSCRIPTEN "-D__EMSCRIPTEN_major__=$EM_MAJOR" "-D__EMSCRIPTEN_minor__=$EM_MINOR"
  "-D__EMSCRIPTEN_tiny__=$EM_TINY" -D_LIBCPP_ABI_VERSION=2 -Dunix -D__unix -D__unix__
  -fignore-exceptions -fvisibility=default -fno-threadsafe-statics
  -mllvm -combiner-global-alias-analysis=false -mllvm -disable-lsr
  -mcpu=mvp -msimd128 -msign-ext -mmutable-globals -ffp-contract=off
  -O3 -DNDEBUG -fno-exceptions -fno-rtti -std=c++17
  -Inative/include -Inative
  -g0 "-ffile-prefix-map=$ROOT=." -Wno-unused-command-line-argument
  "${EXTRA_FLAGS[@]}"
)
((RELAXED)) && CXXFLAGS+=(-mrelaxed-simd)
((THREADS)) && CXXFLAGS+=(-matomics -mbulk-memory -DGRU_WASM_THREADS)

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"

# One object per source, numbered so the link order is the order given; two compiles at a
# time (the machine may be shared). A failed compile leaves a .failed marker.
compile_one() {
  local obj="$1" source="$2"
  if "$CLANG" "${CXXFLAGS[@]}" -c "$source" -o "$obj" 2>"$obj.log"; then
    [[ -s "$obj.log" ]] && sed "s|^|[relaxed] |" "$obj.log" >&2
  else
    cat "$obj.log" >&2
    echo "wasm/build-relaxed.sh: error: $CLANG failed on $source" >&2
    touch "$obj.failed"
  fi
  return 0
}
OBJECTS=()
for i in "${!SOURCES[@]}"; do
  obj="$(printf '%s/%04d.o' "$TMP" "$i")"
  OBJECTS+=("$obj")
  compile_one "$obj" "${SOURCES[$i]}" &
  while (($(jobs -rp | wc -l) >= 2)); do wait -n || true; done
done
wait
ls "$TMP"/*.failed >/dev/null 2>&1 && die "compile failed."

# emcc's link line for -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sMALLOC=emmalloc, minus the
# libraries nothing here uses (GL, OpenAL, html5, sockets).
LDFLAGS=(
  "-L$LIBDIR" --import-undefined --strip-debug
  -z stack-size=5242880 --initial-memory=16777216 --max-memory=2147483648 --global-base=1024
)
if ((THREADS)); then
  # The -mt builds of libc, emmalloc (locked), compiler-rt and libc++; the standalone-wasm
  # runtime and the stubs have no -mt build and touch no shared state the helpers use, so the
  # link does not require every object to declare the atomics feature.
  LDFLAGS+=(-lstandalonewasm-memgrow -lstubs -lnoexit -lc-mt -lemmalloc-mt -lcompiler_rt-mt
    -lc++-mt-noexcept -lc++abi-mt-noexcept
    --shared-memory --import-memory --no-check-features
    --export=stackRestore --export=__wasm_init_tls --export=_emscripten_thread_init)
else
  LDFLAGS+=(-lstandalonewasm-memgrow -lstubs -lnoexit -lc -lemmalloc -lcompiler_rt
    -lc++-noexcept -lc++abi-noexcept)
fi
if [[ "$MODE" == reactor ]]; then
  LDFLAGS+=("$LIBDIR/crt1_reactor.o" --entry=_initialize)
  IFS=, read -r -a NAMES <<<"$EXPORTS"
  for name in "${NAMES[@]}"; do LDFLAGS+=("--export-if-defined=$name"); done
else
  LDFLAGS+=("$LIBDIR/crt1.o")
fi
"$LINKER" -o "$TMP/out.wasm" "${OBJECTS[@]}" "${LDFLAGS[@]}" || die "$LINKER failed."
mv "$TMP/out.wasm" "$OUT"
