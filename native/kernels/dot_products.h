// Products with the AVX-512 dot-product instructions, for the avx512-dot variant
// (isa_avx512_dot.cpp): the input projection and the batched recurrent step of a net whose
// weights are bf16 or int8 (gru_net_set_precision): int8 always, bf16 where vdpbf16ps beats fp32
// FMA (AMD Zen 4 / 5; not on the Intel CPUs measured, whose vdpbf16ps ran ~80 GFLOP/s, below
// their FMA: there bf16 stays weight-only). Everything else of that variant is the avx512
// variant's.
//
// Why: bench/tools/lowp_peak.cpp measured one Zen 5 core at 216 GFLOP/s of fp32 FMA,
// 395 GFLOP/s of AVX512-BF16 vdpbf16ps (16 lanes x 2 bf16 products added to fp32) and
// 854 GOP/s of AVX512-VNNI vpdpbusd (16 lanes x 4 u8 x s8 products added to int32).
//
// The error contract differs from the widened path's (lowp_panels.h): the activations a (x for
// the projection, h and reset_before's r * h for the step) are rounded too.
//  - bf16: a~ = a rounded to bf16, to nearest even (vcvtneps2bf16, which flushes subnormals to
//    zero): |a~ - a| <= 2^-9 |a| (+ 2^-126), so a dot product sum_k a_k w~_k moves by at most
//    2^-9 sum_k |a_k w~_k| on top of its fp32 summation error (a product of two bf16s is exact
//    in fp32).
//  - int8: each row of activations is quantized as the weights' rows are (pack.cpp), per call:
//    s_a = max_k |a_k| / 127, q_k = round(a_k / s_a) in [-127, 127], a~_k = s_a q_k, so
//    |a~_k - a_k| <= s_a / 2 and a dot product moves by at most (s_a / 2) sum_k |w~_k|, PyTorch's
//    dynamic quantization with a symmetric range. The integer sum is exact; it is converted to
//    fp32 and multiplied by s_a and by the weight row's scale (three roundings).
// Tests: test/kernels/lowp_tests.cpp (the projection against float64 with the rounded
// activations, tight), step_tests.cpp (steps within the bounds above), test/lowp-weights.test.ts
// (whole nets).
//
// Layout: the instructions want, per lane, the weights of 2 (bf16) or 4 (int8) consecutive k
// side by side, so the net packs these panels in that order for this variant (pack.h
// pack_gate_panels_*_dot: [tile][k / D][gate][16 units][D]): one 64-byte load per gate and
// group of k is an operand. Reading the standard order [tile][k][gate][16 units] took 2 (bf16)
// to 5 (int8) shuffles per operand, which bounded batch 1 (measured on Zen 5, C at one thread:
// int8 18.0 ms, no faster than bf16; perf showed the step's block spilling and shuffling).
// int8 also finds each weight row's sum (the unsigned-activation compensation) packed beside
// its scales instead of summing it per call.
// The activations are rounded once per chunk of rows into a small per-thread buffer.
#pragma once
#include <immintrin.h>
#include <stdint.h>

#include <type_traits>
#include <vector>

#include "gru_step.h"

namespace {

// The products use the dot-product instructions at every batch size: a row's result must not
// depend on the rows around it (a stream's step equals its row of a batched forward, bitwise).
// int8: the int32 sums of u8 x s8 products stay exact up to gru::kDotMaxInt8K terms.

// Rows of activations rounded at once, `bytes` each once rounded: 64 (a batch's worth, in L1 /
// L2 while every tile uses them), fewer for very long rows so that the per-thread buffer stays
// near 1 MB, at least 8 (one register block).
inline int64_t chunk_rows(int64_t bytes) {
  const int64_t fit = (int64_t{1} << 20) / (bytes > 0 ? bytes : 1);
  return fit < 8 ? 8 : fit > 64 ? 64 : fit;
}

// The rounded activations row-major [rows][groups] (one dword = the 2 or 4 values a lane
// multiplies) in the order the blocks read them, [groups][rows]: a block's MR broadcasts per
// group are then at one pointer plus constant offsets (row-major, GCC kept MR row pointers and
// the accumulators on the stack, perf annotate of the projection). One row is both orders.
inline const uint32_t* group_major(const uint32_t* row_major, int64_t rows, int32_t groups,
                                   std::vector<uint32_t>& buf) {
  if (rows == 1) return row_major;
  if (buf.size() < static_cast<size_t>(rows * groups)) buf.resize(rows * groups);
  for (int64_t m = 0; m < rows; ++m)
    for (int32_t p = 0; p < groups; ++p) buf[p * rows + m] = row_major[m * groups + p];
  return buf.data();
}

// Walks rows [0, rows) x tiles [tile_begin, tile_end) in register blocks, calling
// f(MR, NT, first row, first tile) with MR and NT as std::integral_constant: blocks of up to 8
// rows (6 for 3 gates) by one tile when there are several rows; one or two rows by several tiles
// (batch 1: the accumulators of several tiles keep enough dot-product chains in flight to hide
// their latency). reverse walks the tiles (or groups of tiles) last to first.
template <int G, class F>
void walk_blocks(int64_t rows, int32_t tile_begin, int32_t tile_end, bool reverse, F&& f) {
  using std::integral_constant;
  if (rows <= 2) {
    // 12 to 16 accumulators for one row, 8 to 12 for two.
    constexpr int kOne = G == 1 ? 8 : 4;
    constexpr int kTwo = G == 1 ? 8 : G == 2 ? 4 : 2;
    const int32_t nt = rows == 1 ? kOne : kTwo;
    const int32_t groups = (tile_end - tile_begin + nt - 1) / nt;
    for (int32_t gi = 0; gi < groups; ++gi) {
      const int32_t t0 = tile_begin + (reverse ? groups - 1 - gi : gi) * nt;
      if (t0 + nt <= tile_end) {
        if (rows == 1)
          f(integral_constant<int, 1>{}, integral_constant<int, kOne>{}, 0, t0);
        else
          f(integral_constant<int, 2>{}, integral_constant<int, kTwo>{}, 0, t0);
        continue;
      }
      for (int32_t t = t0; t < tile_end; ++t) {
        if (rows == 1)
          f(integral_constant<int, 1>{}, integral_constant<int, 1>{}, 0, t);
        else
          f(integral_constant<int, 2>{}, integral_constant<int, 1>{}, 0, t);
      }
    }
    return;
  }
  for (int32_t i = tile_begin; i < tile_end; ++i) {
    const int32_t t = reverse ? tile_begin + tile_end - 1 - i : i;
    int64_t m = 0;
    // kRows rows by G gates: 8 x 3 accumulators made GCC spill them every k step (perf
    // annotate of the projection), 6 x 3 stay in registers.
    constexpr int kRows = G == 3 ? 6 : 8;
    for (; m + kRows <= rows; m += kRows)
      f(integral_constant<int, kRows>{}, integral_constant<int, 1>{}, m, t);
    switch (rows - m) {
      case 1:
        f(integral_constant<int, 1>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 2:
        f(integral_constant<int, 2>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 3:
        f(integral_constant<int, 3>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 4:
        f(integral_constant<int, 4>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 5:
        f(integral_constant<int, 5>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 6:
        f(integral_constant<int, 6>{}, integral_constant<int, 1>{}, m, t);
        break;
      case 7:
        f(integral_constant<int, 7>{}, integral_constant<int, 1>{}, m, t);
        break;
      default:
        break;
    }
  }
}

struct DotBf16 {
  static constexpr int W = 16;

  // Rounds rows [0, M) of A (row stride lda) to bf16 pairs, out[m * pairs + p] holding
  // a[2p] in its low half and a[2p + 1] in its high half; an odd K's last pair has a zero.
  static void round_rows(int64_t M, int32_t K, const float* A, int64_t lda, uint32_t* out) {
    const int32_t pairs = (K + 1) / 2;
    for (int64_t m = 0; m < M; ++m) {
      const float* a = A + m * lda;
      uint16_t* o = reinterpret_cast<uint16_t*>(out + m * pairs);
      int32_t k = 0;
      for (; k + W <= K; k += W)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + k),
                            (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(a + k)));
      if (k < 2 * pairs) {
        const __mmask16 in = static_cast<__mmask16>((1u << (K - k)) - 1);  // K - k < 16
        const __mmask16 outm = static_cast<__mmask16>((1u << (2 * pairs - k)) - 1);
        const __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(in, a + k));
        _mm256_mask_storeu_epi16(o + k, outm, v);
      }
    }
  }

  // acc[m][t][g] = sum_k a~(m, k) w~(k, g, lanes of tile t) for MR rows and NT tiles; the
  // panel holds, per pair p and gate g, 16 lanes x (w~(2p), w~(2p + 1)): one operand.
  // a: the block's first row in the [pairs][rows] order (group_major), a_step = rows.
  template <int MR, int NT, int G>
  static inline void block(const uint32_t* a, int64_t a_step, int32_t pairs, const uint16_t* panel,
                           int64_t panel_stride, __m512 (&acc)[MR][NT][G]) {
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g) acc[m][t][g] = _mm512_setzero_ps();
    constexpr int64_t kPair = static_cast<int64_t>(G) * W * 2;  // panel elements per pair
    for (int32_t p = 0; p < pairs; ++p) {
      __m512bh b[NT][G];
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g)
          b[t][g] = (__m512bh)_mm512_loadu_si512(panel + t * panel_stride + p * kPair + g * W * 2);
      for (int m = 0; m < MR; ++m) {
        const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[p * a_step + m]));
        for (int t = 0; t < NT; ++t)
          for (int g = 0; g < G; ++g) acc[m][t][g] = _mm512_dpbf16_ps(acc[m][t][g], av, b[t][g]);
      }
    }
  }

  // rows [0, M) x tiles [tile_begin, tile_end) of A (fp32, rounded here) times the bf16 panels
  // [tiles][K / 2][G][W][2]; the epilogue gets each (row block, tiles) as the fp32 kernels' do.
  template <int G, class Epi>
  static void run(int64_t M, int32_t K, const float* A, int64_t lda, const uint16_t* panels,
                  int32_t tile_begin, int32_t tile_end, Epi& epi, bool reverse) {
    static thread_local std::vector<uint32_t> rounded, by_pair;
    const int32_t pairs = (K + 1) / 2;
    const int64_t panel_stride = static_cast<int64_t>(pairs) * G * W * 2;
    const int64_t chunk = chunk_rows(pairs * 4);
    if (rounded.size() < static_cast<size_t>(chunk * pairs)) rounded.resize(chunk * pairs);
    for (int64_t c0 = 0; c0 < M; c0 += chunk) {
      const int64_t rows = M - c0 < chunk ? M - c0 : chunk;
      round_rows(rows, K, A + c0 * lda, lda, rounded.data());
      const uint32_t* a = group_major(rounded.data(), rows, pairs, by_pair);
      walk_blocks<G>(
          rows, tile_begin, tile_end, reverse, [&](auto mr, auto nt, int64_t m, int32_t t) {
            constexpr int MR = decltype(mr)::value, NT = decltype(nt)::value;
            __m512 acc[MR][NT][G];
            block<MR, NT, G>(a + m, rows, pairs, panels + t * panel_stride, panel_stride, acc);
            epi.template operator()<MR, NT>(c0 + m, t, acc);
          });
    }
  }
};

struct DotInt8 {
  static constexpr int W = 16;

  // Quantizes rows [0, M) of A: out[m * groups + g] holds u = q + 128 for k = 4g .. 4g + 3
  // (u8, q = 0 past K), scale[m] = s_a (NaN for a row with a NaN or an infinity, so that its
  // results are NaN as the fp32 path's would be).
  static void quantize_rows(int64_t M, int32_t K, const float* A, int64_t lda, uint32_t* out,
                            float* scale) {
    const int32_t groups = (K + 3) / 4;
    for (int64_t m = 0; m < M; ++m) {
      const float* a = A + m * lda;
      __m512 vmax = _mm512_setzero_ps();
      bool finite = true;
      for (int32_t k = 0; k < K; k += W) {
        const __mmask16 in = K - k >= W ? 0xffff : static_cast<__mmask16>((1u << (K - k)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(in, a + k);
        // An infinity or NaN has the all-ones exponent: then the scale is NaN.
        finite = finite && _mm512_cmp_ps_mask(_mm512_abs_ps(v), _mm512_set1_ps(3.4028235e38f),
                                              _CMP_NLE_UQ) == 0;
        vmax = _mm512_max_ps(vmax, _mm512_abs_ps(v));
      }
      const float maxabs = _mm512_reduce_max_ps(vmax);
      const float s = finite ? maxabs / 127.0f : __builtin_nanf("");
      scale[m] = s;
      uint8_t* o = reinterpret_cast<uint8_t*>(out + m * groups);
      const __m512 vs = _mm512_set1_ps(s > 0.0f ? s : 1.0f);  // all-zero row: q = 0
      const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
      for (int32_t k = 0; k < 4 * groups; k += W) {
        const __mmask16 in = K - k >= W ? 0xffff
                             : K > k    ? static_cast<__mmask16>((1u << (K - k)) - 1)
                                        : 0;
        const __mmask16 outm =
            4 * groups - k >= W ? 0xffff : static_cast<__mmask16>((1u << (4 * groups - k)) - 1);
        __m512 q = _mm512_div_ps(_mm512_maskz_loadu_ps(in, a + k), vs);
        q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
        // cvtps rounds to nearest even (the default rounding mode), as rintf in pack.cpp.
        const __m512i u = _mm512_add_epi32(_mm512_cvtps_epi32(q), _mm512_set1_epi32(128));
        _mm_mask_storeu_epi8(o + k, outm, _mm512_cvtepi32_epi8(u));
      }
    }
  }

  // acc[m][t][g] = s_a(m) s_w(t, g, lanes) sum_k q(m, k) q_w(k, g, lanes of tile t) for MR rows
  // and NT tiles; the panel holds, per group p of 4 k and gate g, 16 lanes x 4 q_w: one
  // operand. tile_scales: per tile, the G*W row scales then the G*W sums 128 sum_k q_w (int32).
  // a: the block's first row in the [groups][rows] order (group_major), a_step = rows.
  template <int MR, int NT, int G>
  static inline void block(const uint32_t* a, int64_t a_step, int32_t groups, const float* a_scale,
                           const int8_t* panel, int64_t panel_stride, const float* tile_scales,
                           __m512 (&acc)[MR][NT][G]) {
    __m512i sum[MR][NT][G];
    for (int m = 0; m < MR; ++m)
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g) sum[m][t][g] = _mm512_setzero_si512();
    constexpr int64_t kGroup = static_cast<int64_t>(G) * W * 4;  // panel bytes per group of k
    for (int32_t p = 0; p < groups; ++p) {
      __m512i b[NT][G];
      for (int t = 0; t < NT; ++t)
        for (int g = 0; g < G; ++g)
          b[t][g] = _mm512_loadu_si512(panel + t * panel_stride + p * kGroup + g * W * 4);
      for (int m = 0; m < MR; ++m) {
        const __m512i av = _mm512_set1_epi32(static_cast<int>(a[p * a_step + m]));
        for (int t = 0; t < NT; ++t)
          for (int g = 0; g < G; ++g) sum[m][t][g] = _mm512_dpbusd_epi32(sum[m][t][g], av, b[t][g]);
      }
    }
    // sum_k u w = sum_k q w + 128 sum_k w: subtracting the packed 128 sum_k w leaves sum_k q w,
    // exact in int32.
    constexpr int64_t kTileScales = static_cast<int64_t>(2) * G * W;
    for (int t = 0; t < NT; ++t)
      for (int g = 0; g < G; ++g) {
        const float* ts = tile_scales + t * kTileScales;
        const __m512 ws = _mm512_loadu_ps(ts + g * W);
        const __m512i comp = _mm512_loadu_si512(ts + G * W + g * W);
        for (int m = 0; m < MR; ++m) {
          const __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(sum[m][t][g], comp));
          acc[m][t][g] = _mm512_mul_ps(_mm512_mul_ps(dot, _mm512_set1_ps(a_scale[m])), ws);
        }
      }
  }

  // As DotBf16::run, over int8 panels [tiles][K / 4][G][W][4] with their scales and sums
  // [tiles][2][G][W].
  template <int G, class Epi>
  static void run(int64_t M, int32_t K, const float* A, int64_t lda, const int8_t* panels,
                  const float* scales, int32_t tile_begin, int32_t tile_end, Epi& epi,
                  bool reverse) {
    static thread_local std::vector<uint32_t> quantized, by_group;
    static thread_local std::vector<float> a_scale;
    const int32_t groups = (K + 3) / 4;
    const int64_t panel_stride = static_cast<int64_t>(groups) * G * W * 4;
    const int64_t chunk = chunk_rows(groups * 4);
    if (quantized.size() < static_cast<size_t>(chunk * groups)) quantized.resize(chunk * groups);
    if (a_scale.size() < static_cast<size_t>(chunk)) a_scale.resize(chunk);
    for (int64_t c0 = 0; c0 < M; c0 += chunk) {
      const int64_t rows = M - c0 < chunk ? M - c0 : chunk;
      quantize_rows(rows, K, A + c0 * lda, lda, quantized.data(), a_scale.data());
      const uint32_t* a = group_major(quantized.data(), rows, groups, by_group);
      walk_blocks<G>(
          rows, tile_begin, tile_end, reverse, [&](auto mr, auto nt, int64_t m, int32_t t) {
            constexpr int MR = decltype(mr)::value, NT = decltype(nt)::value;
            __m512 acc[MR][NT][G];
            block<MR, NT, G>(a + m, rows, groups, a_scale.data() + m, panels + t * panel_stride,
                             panel_stride, scales + static_cast<int64_t>(t) * 2 * G * W, acc);
            epi.template operator()<MR, NT>(c0 + m, t, acc);
          });
    }
  }
};

// Runs rows [0, M) x tiles of A times the step's or projection's reduced-precision panels with
// the matching dot product.
template <int G, class Epi>
void dot_run(int32_t format, int64_t M, int32_t K, const float* A, int64_t lda, const void* panels,
             const float* scales, int32_t tile_begin, int32_t tile_end, Epi& epi, bool reverse) {
  if (format == gru::kWeightsBf16)
    DotBf16::run<G>(M, K, A, lda, static_cast<const uint16_t*>(panels), tile_begin, tile_end, epi,
                    reverse);
  else
    DotInt8::run<G>(M, K, A, lda, static_cast<const int8_t*>(panels), scales, tile_begin, tile_end,
                    epi, reverse);
}

// The avx512-dot entries: int8 (and, where vdpbf16ps beats fp32 FMA, bf16) products through
// the dot products, the rest through the avx512 kernels (Base).
template <class S>
struct DotKernels {
  using Base = GruKernels<S>;
  // Set once by table(): whether bf16 products use vdpbf16ps on this CPU.
  static inline bool bf16_dot = false;

  // Must agree with gru::lowp_dot_layout for this table (the panels' order depends on it).
  static bool dot(int32_t format, int64_t rows, int32_t K) {
    (void)rows;
    return (format == gru::kWeightsBf16 && bf16_dot) ||
           (format == gru::kWeightsInt8 && K <= gru::kDotMaxInt8K);
  }

  template <int G>
  static void project(int32_t format, int64_t M, int32_t K, const float* A, int64_t lda,
                      const void* panels, const float* scales, int32_t tiles, const float* bias,
                      float* C, int64_t ldc) {
    StoreWithBias<S, G> epi{bias, C, ldc};
    dot_run<G>(format, M, K, A, lda, panels, scales, 0, tiles, epi, false);
  }

  static void gemm_panels_lowp(int64_t M, int32_t K, const float* A, int64_t lda,
                               const void* panels, int32_t format, const float* scales,
                               int32_t tiles, int32_t G, const float* bias, float* C, int64_t ldc) {
    if (!dot(format, M, K) || G < 1 || G > 3) {
      Base::gemm_panels_lowp(M, K, A, lda, panels, format, scales, tiles, G, bias, C, ldc);
      return;
    }
    if (G == 1) project<1>(format, M, K, A, lda, panels, scales, tiles, bias, C, ldc);
    if (G == 2) project<2>(format, M, K, A, lda, panels, scales, tiles, bias, C, ldc);
    if (G == 3) project<3>(format, M, K, A, lda, panels, scales, tiles, bias, C, ldc);
  }

  template <class Act>
  static void step_reset_after(const gru::StepArgs* a) {
    if (!dot(a->weights, a->rows, a->hidden)) return Base::template step_reset_after<Act>(a);
    ResetAfterEpilogue<S, Act> epi{{a}};
    dot_run<3>(a->weights, a->rows, a->hidden, a->h_prev, a->ldh, a->u_lowp[0], a->u_scale[0],
               a->tile_begin, a->tile_end, epi, a->reverse_tiles != 0);
  }

  template <class Act>
  static void step_reset_before(const gru::StepArgs* a) {
    if (!dot(a->weights, a->rows, a->hidden)) return Base::template step_reset_before<Act>(a);
    if (a->phase != 2) {
      ResetBeforeGates<S, Act> gates{{a}};
      dot_run<2>(a->weights, a->rows, a->hidden, a->h_prev, a->ldh, a->u_lowp[0], a->u_scale[0],
                 a->tile_begin, a->tile_end, gates, a->reverse_tiles != 0);
    }
    if (a->phase == 0 && a->sync) a->sync(a->sync_context);
    if (a->phase != 1) {
      ResetBeforeCandidate<S, Act> cand{{a}};
      dot_run<1>(a->weights, a->rows, a->hidden, a->scratch[0], a->ldh, a->u_lowp[1], a->u_scale[1],
                 a->tile_begin, a->tile_end, cand, a->reverse_tiles != 0);
    }
  }

  // with_bf16: whether vdpbf16ps beats fp32 FMA here (isa_avx512_dot.cpp decides).
  static gru::KernelTable table(const char* name, bool with_bf16) {
    using Fixed = FixedGruActivations<S>;
    using Chosen = ChosenGruActivations<S>;
    bf16_dot = with_bf16;
    gru::KernelTable t = Base::table(name);
    t.lowp_dot_formats = (1 << gru::kWeightsInt8) | (with_bf16 ? 1 << gru::kWeightsBf16 : 0);
    t.gemm_panels_lowp = &gemm_panels_lowp;
    t.step_reset_after = &step_reset_after<Fixed>;
    t.step_reset_before = &step_reset_before<Fixed>;
    t.step_reset_after_any_act = &step_reset_after<Chosen>;
    t.step_reset_before_any_act = &step_reset_before<Chosen>;
    return t;
  }
};

}  // namespace
