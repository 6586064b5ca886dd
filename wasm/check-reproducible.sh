#!/usr/bin/env bash
# Rebuilds the wasm modules into a temporary directory and compares them byte for byte with
# the ones in wasm/ (the committed ones). Fails if a module is missing or differs: either the
# sources changed without `npm run build:wasm`, or the build stopped being reproducible.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

die() {
  echo "wasm/check-reproducible.sh: error: $*" >&2
  exit 1
}

command -v emcc >/dev/null 2>&1 ||
  die "emcc not found. The check needs Emscripten (Debian: apt-get install -y emscripten). Not skipping."

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

bash wasm/build.sh "$TMP" >"$TMP/build.log" 2>&1 || {
  cat "$TMP/build.log" >&2
  die "the rebuild failed."
}

FAILED=0
for v in simd scalar relaxed relaxed-mt simd-mt; do
  present="wasm/gru_simd-$v.wasm"
  fresh="$TMP/gru_simd-$v.wasm"
  if [[ ! -f "$present" ]]; then
    echo "wasm/check-reproducible.sh: $present is missing; run 'npm run build:wasm' and commit it." >&2
    FAILED=1
  elif cmp -s "$present" "$fresh"; then
    echo "ok  $present  sha256 $(sha256sum "$present" | cut -d' ' -f1)"
  else
    echo "wasm/check-reproducible.sh: $present differs from a fresh build:" >&2
    echo "  present  $(stat -c %s "$present") bytes  sha256 $(sha256sum "$present" | cut -d' ' -f1)" >&2
    echo "  rebuilt  $(stat -c %s "$fresh") bytes  sha256 $(sha256sum "$fresh" | cut -d' ' -f1)" >&2
    FAILED=1
  fi
done

((FAILED == 0)) || die "wasm modules are not what the sources build to. Run 'npm run build:wasm' and commit wasm/*.wasm (or find what made the build non-reproducible)."
echo "wasm/check-reproducible.sh: the five modules match a fresh build."
