#!/usr/bin/env bash
# Proves the NEON variant compiles for aarch64 by cross-compiling with clang (no arm machine
# needed, nothing is run):
#   1. native/kernels/isa_neon.cpp freestanding (-ffreestanding: only the compiler's own
#      headers, arm_neon.h, stdint.h, stddef.h), and checks the object holds NEON code;
#   2. native/core/*.cpp and the other kernel TUs, hosted, when aarch64 C/C++ headers are
#      installed (isa_neon.cpp through the front end only: its code was generated in step 1)
#      (Debian: libc6-dev-arm64-cross libstdc++-12-dev-arm64-cross); otherwise
#      says that only the kernel TU was checked.
# CLANG overrides the compiler (default clang-14, then clang).
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG=${CLANG:-$(command -v clang-14 || command -v clang || true)}
if [[ -z "$CLANG" ]]; then
  echo "check-neon: clang-14 not found (Debian: apt-get install clang-14, or the emscripten package)" >&2
  # A missing tool is a failure in CI; elsewhere the check is skipped, visibly.
  if [ "${CI:-}" = "true" ]; then exit 1; fi
  echo "check-neon: SKIPPED (not CI)" >&2
  exit 0
fi
OBJDUMP=$(command -v llvm-objdump-14 || command -v llvm-objdump || true)
TARGET=aarch64-linux-gnu
FLAGS=(--target=$TARGET -O2 -std=c++17 -fno-exceptions -fno-rtti -Wall -Inative/include -Inative)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

kernel=native/kernels/isa_neon.cpp
if [[ ! -f $kernel ]]; then
  echo "check-neon: $kernel does not exist" >&2
  exit 1
fi
"$CLANG" "${FLAGS[@]}" -ffreestanding -c "$kernel" -o "$tmp/isa_neon.o"
if [[ -n "$OBJDUMP" ]]; then
  # A NEON body that its own #if guard compiled away would pass the compile: look for vector
  # instructions (fmla/fmul/fadd on .4s lanes) in the object.
  n=$("$OBJDUMP" -d "$tmp/isa_neon.o" | grep -cE '\bv[0-9]+\.4s' || true)
  if [[ "$n" -eq 0 ]]; then
    echo "check-neon: $kernel compiled for $TARGET but holds no NEON instructions" >&2
    exit 1
  fi
  echo "check-neon: $kernel OK for $TARGET (freestanding, $n NEON instructions)"
else
  echo "check-neon: $kernel OK for $TARGET (freestanding; no llvm-objdump to count NEON instructions)"
fi

# Hosted TUs need aarch64 libc/libstdc++ headers.
printf '#include <cmath>\n#include <cstdlib>\n#include <vector>\n#include <thread>\n' >"$tmp/probe.cpp"
if ! "$CLANG" "${FLAGS[@]}" -fsyntax-only "$tmp/probe.cpp" 2>/dev/null; then
  echo "check-neon: native/core/*.cpp NOT checked: no aarch64 C/C++ headers" \
    "(apt-get install libc6-dev-arm64-cross libstdc++-12-dev-arm64-cross); only $kernel was compiled"
  exit 0
fi
count=0
for f in native/core/*.cpp native/kernels/isa_*.cpp; do
  [[ -f $f ]] || continue
  if [[ $f == "$kernel" ]]; then
    # Its code generation at -O2 was checked above (about 25 s of CPU, a third of this check);
    # hosted, only whether the C/C++ headers change its meaning: the front end is enough.
    "$CLANG" "${FLAGS[@]}" -fsyntax-only "$f"
  else
    "$CLANG" "${FLAGS[@]}" -c "$f" -o "$tmp/$(basename "$f").o"
  fi
  count=$((count + 1))
done
echo "check-neon: $count core and kernel TUs compile for $TARGET (hosted; $kernel's code once, above)"
