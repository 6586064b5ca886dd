#!/usr/bin/env bash
# Exhaustive error of the kernels' sigmoid and tanh over all 2^32 float bit patterns, for every
# ISA variant this CPU runs (about 5 minutes on 1 core). The README's accuracy table comes from it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags="-O2 -std=c++17 -fno-exceptions -fno-rtti -Inative/include -Inative"
objs=()
for f in native/core/*.cpp native/kernels/isa_scalar.cpp; do
  g++ $flags -c "$f" -o "$out/$(basename "$f").o"; objs+=("$out/$(basename "$f").o")
done
if [ "$(uname -m)" = x86_64 ]; then
  g++ $flags -mavx2 -mfma -c native/kernels/isa_avx2.cpp -o "$out/avx2.o"
  g++ $flags -mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma \
    -c native/kernels/isa_avx512.cpp -o "$out/avx512.o"
  objs+=("$out/avx2.o" "$out/avx512.o")
else
  g++ $flags -c native/kernels/isa_neon.cpp -o "$out/neon.o"; objs+=("$out/neon.o")
fi
g++ $flags bench/tools/activation_error.cpp "${objs[@]}" -o "$out/activation_error"
"$out/activation_error"
