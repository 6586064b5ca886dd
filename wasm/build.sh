#!/usr/bin/env bash
# Builds the five standalone WebAssembly modules of gru-simd from the same kernel sources as
# the native addon (native/core, native/kernels); there is no kernel code in wasm/.
#
#   wasm/gru_simd-relaxed.wasm -msimd128 -mrelaxed-simd: the wasm-relaxed variant (plus wasm128
#                              and scalar), for engines with relaxed SIMD (Chromium; Node 20
#                              with --experimental-wasm-relaxed-simd). Built by clang-19 and
#                              wasm-ld-19 (wasm/build-relaxed.sh says why not emcc).
#   wasm/gru_simd-simd.wasm    -msimd128: the wasm128 variant (plus scalar, compiled in)
#   wasm/gru_simd-scalar.wasm  no -msimd128: scalar only, for engines without wasm SIMD
#   wasm/gru_simd-relaxed-mt.wasm, wasm/gru_simd-simd-mt.wasm
#                              the same two with threads (-matomics, one shared imported
#                              memory; native/core/thread_pool_wasm.h), for runtimes with
#                              SharedArrayBuffer (Node; cross-origin isolated pages). Built by
#                              wasm/build-relaxed.sh --threads (clang-19, against Emscripten's
#                              -mt libraries).
#
# Usage: bash wasm/build.sh [OUT_DIR]      (OUT_DIR defaults to wasm/)
#
# The export list is generated from the GRU_API declarations of native/include/gru_simd.h
# (plus malloc and free), never kept by hand. After linking, each module is checked: it must
# export every one of those functions, and import nothing beyond what ts/backends/wasm.ts
# provides. Output is byte-for-byte reproducible (wasm/check-reproducible.sh checks it).
set -euo pipefail

export LC_ALL=C
export TZ=UTC
export SOURCE_DATE_EPOCH=0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$ROOT/wasm}"
mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
cd "$ROOT"

die() {
  echo "wasm/build.sh: error: $*" >&2
  exit 1
}

command -v emcc >/dev/null 2>&1 ||
  die "emcc not found. The wasm build needs Emscripten (Debian: apt-get install -y emscripten). Not skipping."
command -v node >/dev/null 2>&1 || die "node not found (needed to check the built modules)."

HEADER=native/include/gru_simd.h
[[ -f "$HEADER" ]] || die "$HEADER not found."

# ---- export list, from the header -------------------------------------------------------
# Every declaration line that starts with GRU_API names one function: the identifier right
# before the first '('. The count of names must equal the count of such lines, so a
# declaration this parser cannot read fails the build instead of silently dropping out.
mapfile -t API_NAMES < <(grep -oP '^\s*GRU_API\b[^(;]*?\K\b[A-Za-z_]\w*(?=\s*\()' "$HEADER")
API_LINES=$(grep -cP '^\s*GRU_API\b' "$HEADER" || true)
((${#API_NAMES[@]} > 0)) || die "no GRU_API declarations found in $HEADER."
((${#API_NAMES[@]} == API_LINES)) ||
  die "$HEADER has $API_LINES GRU_API lines but only ${#API_NAMES[@]} function names were parsed; keep each GRU_API declaration's name and '(' on its first line."
EXPORTS=("${API_NAMES[@]}" malloc free)
EXPORTED_FUNCTIONS=$(printf '_%s,' "${EXPORTS[@]}")
EXPORTED_FUNCTIONS=${EXPORTED_FUNCTIONS%,}

# ---- sources ------------------------------------------------------------------------------
# All ISA translation units are compiled: each guards its body with its own arch macro
# (isa_wasm128.cpp with __wasm_simd128__, isa_avx2.cpp with __x86_64__, ...), so the ones
# for other targets compile to nothing. Sorted so the link order, and the bytes, are stable.
mapfile -t SOURCES < <(ls native/core/*.cpp native/kernels/isa_*.cpp 2>/dev/null | sort)
((${#SOURCES[@]} > 0)) || die "no sources in native/core/*.cpp or native/kernels/isa_*.cpp."
printf '%s\n' "${SOURCES[@]}" | grep -q '^native/kernels/isa_scalar\.cpp$' ||
  die "native/kernels/isa_scalar.cpp not found (the scalar module needs it)."
printf '%s\n' "${SOURCES[@]}" | grep -q '^native/kernels/isa_wasm128\.cpp$' ||
  die "native/kernels/isa_wasm128.cpp not found (the simd module needs it)."

CFLAGS=(
  -O3 -DNDEBUG -fno-exceptions -fno-rtti -std=c++17
  -Inative/include -Inative
  -g0 "-ffile-prefix-map=$ROOT=."
)
LDFLAGS=(
  --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sMALLOC=emmalloc
  "-sEXPORTED_FUNCTIONS=$EXPORTED_FUNCTIONS"
)

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# One emcc per variant, both at once (2 cores). Each writes to a temp name and is moved into
# place only after it passes the checks below, so a failed build leaves no half-made module.
build_variant() {
  local variant="$1"
  shift
  local log="$TMP/$variant.log"
  if ! emcc "${CFLAGS[@]}" "$@" "${SOURCES[@]}" "${LDFLAGS[@]}" \
    -o "$TMP/gru_simd-$variant.wasm" >"$log" 2>&1; then
    cat "$log" >&2
    echo "wasm/build.sh: error: emcc failed for the $variant module." >&2
    return 1
  fi
  # Warnings are worth seeing even when the build succeeds.
  [[ -s "$log" ]] && sed "s/^/[$variant] /" "$log" >&2
  return 0
}

START=$(date +%s.%N)
build_variant simd -msimd128 &
PID_SIMD=$!
build_variant scalar &
PID_SCALAR=$!
FAILED=0
wait "$PID_SIMD" || FAILED=1
wait "$PID_SCALAR" || FAILED=1
((FAILED == 0)) || die "build failed."
# Then the relaxed one and the threaded ones (each runs two compiles at a time itself).
EXPORT_LIST="$(IFS=,; echo "${EXPORTS[*]}")"
bash wasm/build-relaxed.sh -o "$TMP/gru_simd-relaxed.wasm" \
  --reactor "$EXPORT_LIST" -- -- "${SOURCES[@]}" ||
  die "the relaxed module failed to build."
bash wasm/build-relaxed.sh --threads -o "$TMP/gru_simd-relaxed-mt.wasm" \
  --reactor "$EXPORT_LIST" -- -- "${SOURCES[@]}" ||
  die "the relaxed-mt module failed to build."
bash wasm/build-relaxed.sh --threads --no-relaxed -o "$TMP/gru_simd-simd-mt.wasm" \
  --reactor "$EXPORT_LIST" -- -- "${SOURCES[@]}" ||
  die "the simd-mt module failed to build."
END=$(date +%s.%N)

# ---- checks: imports and exports ----------------------------------------------------------
# The loader (ts/backends/wasm.ts) provides exactly these imports; anything else (fd_write
# from stdio, a missing symbol turned into an import, ...) would fail at instantiation in
# the field, so it fails here.
# The threaded modules import their shared memory and what Emscripten's -mt libc calls
# (ts/backends/wasm-threads.ts provides them), and export the helpers' entry points.
ALLOWED_IMPORTS="env.emscripten_notify_memory_growth,wasi_snapshot_preview1.proc_exit"
MT_IMPORTS="$ALLOWED_IMPORTS,env.memory,env.__emscripten_init_main_thread_js,env.emscripten_unwind_to_js_event_loop,wasi_snapshot_preview1.clock_time_get"
MT_EXPORTS="gru_wasm_helper_main gru_wasm_helpers_running gru_wasm_helper_joins gru_wasm_regions gru_wasm_helpers_asleep gru_wasm_helper_chunks gru_wasm_phase_spin_for_test gru_wasm_helper_sleeps gru_wasm_stalls gru_wasm_force_helpers gru_wasm_tls_size gru_wasm_tls_align stackRestore __wasm_init_tls _emscripten_thread_init"
node --experimental-wasm-relaxed-simd --input-type=module - "$ALLOWED_IMPORTS" "${EXPORTS[*]}" \
  "$MT_IMPORTS" "$MT_EXPORTS" \
  "$TMP/gru_simd-simd.wasm" "$TMP/gru_simd-scalar.wasm" "$TMP/gru_simd-relaxed.wasm" \
  "$TMP/gru_simd-relaxed-mt.wasm" "$TMP/gru_simd-simd-mt.wasm" <<'EOF'
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
const [allowedArg, exportsArg, mtImportsArg, mtExportsArg, ...files] = process.argv.slice(2);
let bad = false;
for (const file of files) {
  // Compiled without instantiating: needs the engine to know relaxed SIMD for the relaxed module
  // (node runs this with --experimental-wasm-relaxed-simd, below).
  const mod = new WebAssembly.Module(readFileSync(file));
  const name = basename(file);
  const threaded = name.endsWith('-mt.wasm');
  const allowed = new Set((threaded ? mtImportsArg : allowedArg).split(','));
  const required = [...exportsArg.split(' '), '_initialize'];
  if (threaded) required.push(...mtExportsArg.split(' '));
  else required.push('memory');
  const extra = WebAssembly.Module.imports(mod)
    .map((i) => `${i.module}.${i.name}`)
    .filter((i) => !allowed.has(i));
  if (extra.length) {
    console.error(`wasm/build.sh: error: ${name} imports ${extra.join(', ')}; the loader provides only ${[...allowed].join(', ')}.`);
    bad = true;
  }
  const have = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = required.filter((e) => !have.has(e));
  if (missing.length) {
    console.error(`wasm/build.sh: error: ${name} does not export ${missing.join(', ')}.`);
    bad = true;
  }
}
process.exit(bad ? 1 : 0);
EOF

MODULES=(simd scalar relaxed relaxed-mt simd-mt)
for v in "${MODULES[@]}"; do mv "$TMP/gru_simd-$v.wasm" "$OUT_DIR/"; done
for v in "${MODULES[@]}"; do
  f="$OUT_DIR/gru_simd-$v.wasm"
  printf '%s  %8d bytes  sha256 %s\n' "${f#"$ROOT"/}" "$(stat -c %s "$f")" "$(sha256sum "$f" | cut -c1-16)"
done
printf 'wasm/build.sh: built %d sources, %d exports, in %.1f s\n' \
  "${#SOURCES[@]}" "${#EXPORTS[@]}" "$(awk -v a="$START" -v b="$END" 'BEGIN { print b - a }')"
