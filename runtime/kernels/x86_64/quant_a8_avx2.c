/*===- quant_a8_avx2.c - 8-bit-activation quantized linears for AVX2 -------===*
 *
 * Part of the Microscale project.
 *
 * The AVX2 kernels of ms_linear_q{8,4,}_a8_f32 (quant_a8.c) and the
 * vector activation quantizer. A block of 32 weight codes times 32
 * activation codes is one integer dot product: the weights as unsigned
 * bytes, _mm256_maddubs_epi16 with the signed activation codes (pairs of
 * products into 16 bits), then _mm256_madd_epi16 with ones (into eight
 * 32-bit sums). 4-bit codes are unpacked by shifting the high nibbles
 * down, so they arrive in nibble order (even features, then odd), the
 * order the quantizer writes activations in for them; other widths below
 * 8 are shifted out of 32-bit words and packed to bytes. 8-bit codes
 * would overflow 16 bits as unsigned bytes (255 * 127 * 2), so signs move
 * between the operands (_mm256_sign_epi8). Zero points, and the offsets
 * that make codes unsigned (2^(width - 1) for symmetric codes narrower
 * than 8 bits, 128 for asymmetric 8-bit ones), come out of the products
 * through the block's sum of activation codes, which the quantizer
 * stored:
 *
 *   sum (u - z) q = dot(u, q) - z * sum(q)
 *
 * Per output and block, the eight lanes of dot(u, q) are converted to
 * float and accumulated times the block's combined scale (the activation
 * block's times the weight group's) by a fused multiply-add, after the
 * offset terms of the chunk of eight blocks it belongs to (lane k: block
 * k's offset * sum(q) * combined scale). A fixed tree adds the lanes at
 * the end. Tiles only interleave that sequence for several channels
 * (decode: eight channels sharing each row of activation codes) or
 * several tokens (prefill: each decoded block reused by four rows), so
 * results do not depend on the tile, the token count or the thread count.
 * The AVX-512 entry of ms_kernel_isas reuses these kernels (512-bit byte
 * instructions need AVX-512BW, which no machine the project tests on
 * has).
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/kernels.h"
#include "microscale/quant_activations.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE TARGET static inline __attribute__((always_inline))
/* Helpers run once per block of a row or for rare chunks: one copy, not
 * one per tile. */
#define OUTLINE TARGET static __attribute__((noinline))

enum {
  BLOCK = MS_ACT_BLOCK,
  /* Channels of a decode tile; channels and tokens of a prefill tile. */
  DECODE_CHANNELS = 8,
  PREFILL_CHANNELS = 2,
  PREFILL_ROWS = 4,
  /* Blocks whose scales a tile combines at once (one vector). */
  CHUNK = 8,
};

/*===-------------------------- quantization ------------------------------===*/

/* The activation codes of one block, as ms_quantize_activation_block
 * computes them: multiply by 127 / amax, round by adding and subtracting
 * MS_ACT_ROUNDER as separate operations (no FMA), convert. */
OUTLINE void quantize_block(const float *x, int64_t n, int nibble_order,
                            float *scale, int32_t *sum, int8_t *dst) {
  float padded[BLOCK];
  if (n < BLOCK) {
    for (int64_t i = 0; i < BLOCK; ++i)
      padded[i] = i < n ? x[i] : 0.0f;
    x = padded;
  }
  __m256 v[4];
  /* amax = max |x|, ignoring NaNs as the scalar loop does: the running
   * maximum is the second operand, which _mm256_max_ps returns when the
   * first is a NaN. */
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  __m256 amax = _mm256_setzero_ps(), nans = _mm256_setzero_ps();
  for (int k = 0; k < 4; ++k) {
    v[k] = _mm256_loadu_ps(x + 8 * k);
    amax = _mm256_max_ps(_mm256_andnot_ps(sign_bit, v[k]), amax);
    nans = _mm256_or_ps(nans, _mm256_cmp_ps(v[k], v[k], _CMP_UNORD_Q));
  }
  __m128 four =
      _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
  __m128 two = _mm_max_ps(four, _mm_movehl_ps(four, four));
  float magnitude = _mm_cvtss_f32(_mm_max_ss(two, _mm_movehdup_ps(two)));
  float inverse = 127.0f / magnitude;
  /* Zeros, and the blocks with NaNs or whose scaling is not finite (where
   * the scalar conversion's result is the one that counts), go the scalar
   * way. */
  if (!(magnitude > 0.0f) || !(magnitude <= 0x1.fffffep127f) ||
      !(inverse <= 0x1.fffffep127f) || _mm256_movemask_ps(nans)) {
    int8_t codes[BLOCK];
    for (int i = 0; i < BLOCK; ++i)
      codes[i] = 0;
    *scale = ms_quantize_activation_block(x, n, codes);
    int32_t total = 0;
    for (int i = 0; i < BLOCK; ++i) {
      dst[nibble_order ? (i & 1) * 16 + (i >> 1) : i] = codes[i];
      total += codes[i];
    }
    *sum = total;
    return;
  }
  const __m256 scaling = _mm256_set1_ps(inverse);
  const __m256 rounder = _mm256_set1_ps(MS_ACT_ROUNDER);
  __m256i codes[4];
  for (int k = 0; k < 4; ++k) {
    __m256 scaled = _mm256_mul_ps(v[k], scaling);
    __m256 rounded = _mm256_sub_ps(_mm256_add_ps(scaled, rounder), rounder);
    codes[k] = _mm256_cvttps_epi32(rounded);
  }
  __m256i total = _mm256_add_epi32(_mm256_add_epi32(codes[0], codes[1]),
                                   _mm256_add_epi32(codes[2], codes[3]));
  __m128i half = _mm_add_epi32(_mm256_castsi256_si128(total),
                               _mm256_extracti128_si256(total, 1));
  half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0x4e));
  half = _mm_add_epi32(half, _mm_shuffle_epi32(half, 0xb1));
  *sum = _mm_cvtsi128_si32(half);
  /* Codes are within [-127, 127], so the saturating packs are exact; they
   * interleave 32-bit groups, which the permutation puts back in order. */
  __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(codes[0], codes[1]),
                                     _mm256_packs_epi32(codes[2], codes[3]));
  bytes = _mm256_permutevar8x32_epi32(
      bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (nibble_order) {
    /* Per 16 codes, even ones then odd ones; then the even halves of both
     * 16s before the odd ones. */
    const __m256i evens_then_odds =
        _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                         0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    bytes = _mm256_shuffle_epi8(bytes, evens_then_odds);
    bytes = _mm256_permute4x64_epi64(bytes, 0xd8);
  }
  _mm256_storeu_si256((__m256i *)dst, bytes);
  *scale = magnitude / 127.0f;
}

TARGET void ms_quantize_activations_avx2(const float *x, int64_t rows,
                                         int64_t in, int nibble_order,
                                         const ms_quant_activations *a) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < a->blocks; ++b) {
      int64_t begin = b * BLOCK, index = r * a->blocks + b;
      quantize_block(x + r * in + begin,
                     in - begin < BLOCK ? in - begin : BLOCK, nibble_order,
                     a->scales + index, a->sums + index,
                     a->codes + index * BLOCK);
    }
}

/*===---------------------------- products --------------------------------===*/

/* The kernel for any width in [2, 7] (ms_linear_q_a8_f32), which reads
 * the width from the matrix. */
#define ANY_WIDTH 0

/* How ANY_WIDTH finds each of eight codes in their `width` bytes: a code
 * that ends within the first 32 bits is shifted out of the word at byte 0,
 * the others out of the word that ends where the eight codes end (byte
 * width - 4). Neither word reaches past the codes once width >= 4. */
typedef struct {
  __m256i shift, from_high, field_mask, sign;
  int64_t high_offset, width;
} any_width_layout;

INLINE any_width_layout any_width(int width) {
  any_width_layout layout;
  layout.width = width;
  layout.high_offset = width > 4 ? width - 4 : 0;
  int32_t shift[8], from_high[8];
  for (int k = 0; k < 8; ++k) {
    int32_t start = k * width;
    int high = start + width > 32;
    shift[k] = high ? start - 8 * (int32_t)layout.high_offset : start;
    from_high[k] = high ? -1 : 0;
  }
  layout.shift = _mm256_loadu_si256((const __m256i *)shift);
  layout.from_high = _mm256_loadu_si256((const __m256i *)from_high);
  layout.field_mask = _mm256_set1_epi32((1 << width) - 1);
  layout.sign = _mm256_set1_epi8((char)(1 << (width - 1)));
  return layout;
}

/* The 32 unsigned fields of a block of ANY_WIDTH codes as bytes, in
 * feature order. */
INLINE __m256i any_width_fields(const uint8_t *p,
                                const any_width_layout *layout) {
  __m256i fields[4];
  for (int j = 0; j < 4; ++j) {
    const uint8_t *eight = p + j * layout->width;
    uint32_t low, high;
    __builtin_memcpy(&low, eight, sizeof low);
    __builtin_memcpy(&high, eight + layout->high_offset, sizeof high);
    __m256i words =
        _mm256_blendv_epi8(_mm256_set1_epi32((int)low),
                           _mm256_set1_epi32((int)high), layout->from_high);
    fields[j] = _mm256_and_si256(_mm256_srlv_epi32(words, layout->shift),
                                 layout->field_mask);
  }
  /* Fields below 128: the saturating packs are exact. */
  __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(fields[0], fields[1]),
                                     _mm256_packs_epi32(fields[2], fields[3]));
  return _mm256_permutevar8x32_epi32(bytes,
                                     _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* A block of one channel's weight codes, ready for maddubs: 4-bit and
 * ANY_WIDTH codes as unsigned bytes u; 8-bit asymmetric ones as |u - 128| and u
 * - 128, whose signs move onto the activations; 8-bit symmetric ones as they
 * are, the signed operand (the activations' signs move onto them, and
 * |q| is shared by every channel). */
typedef struct {
  __m256i magnitudes, signs;
} weight_block;

INLINE weight_block decode_block(const uint8_t *p, const int bits,
                                 const int symmetric,
                                 const any_width_layout *layout) {
  weight_block w;
  if (bits == ANY_WIDTH) {
    w.magnitudes = any_width_fields(p, layout);
    /* Symmetric codes are two's complement fields; flipping their sign
     * bit gives u = code + 2^(width - 1). */
    if (symmetric)
      w.magnitudes = _mm256_xor_si256(w.magnitudes, layout->sign);
    w.signs = w.magnitudes;
  } else if (bits == 4) {
    /* 16 bytes in both halves; the high half shifted by a nibble. */
    __m256i both =
        _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    both = _mm256_srlv_epi32(both, _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4));
    w.magnitudes = _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
    /* Symmetric codes are two's complement nibbles; flipping their sign
     * bit gives u = code + 8. */
    if (symmetric)
      w.magnitudes = _mm256_xor_si256(w.magnitudes, _mm256_set1_epi8(8));
    w.signs = w.magnitudes;
  } else if (symmetric) {
    w.signs = _mm256_loadu_si256((const __m256i *)p);
    w.magnitudes = w.signs;
  } else {
    /* Unsigned codes u become u - 128 (-128 included, which has no
     * negation in a byte: hence its magnitude as the unsigned operand);
     * the offset term adds the 128 back. */
    __m256i bytes = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)p),
                                     _mm256_set1_epi8((char)0x80));
    w.magnitudes = _mm256_abs_epi8(bytes);
    w.signs = bytes;
  }
  return w;
}

/* Eight 32-bit partial sums of a block's u * q, exact; `magnitudes` is |q|
 * (8-bit symmetric codes only). Symmetric 8-bit codes are within
 * [-127, 127], so moving q's signs onto them never negates -128. */
INLINE __m256i block_dot(weight_block w, __m256i q, __m256i magnitudes,
                         const int bits, const int symmetric) {
  __m256i products;
  if (bits != 8)
    products = _mm256_maddubs_epi16(w.magnitudes, q);
  else if (symmetric)
    products = _mm256_maddubs_epi16(magnitudes, _mm256_sign_epi8(w.signs, q));
  else
    products = _mm256_maddubs_epi16(w.magnitudes, _mm256_sign_epi8(q, w.signs));
  return _mm256_madd_epi16(products, _mm256_set1_epi16(1));
}

/* Whether the products need an offset term: the zero point, or the
 * 2^(width - 1) that made symmetric codes of other widths than 8
 * unsigned. */
#define HAS_OFFSET(bits, symmetric) ((bits) != 8 || !(symmetric))

/* The scale of group g of channel o. */
INLINE float group_scale(const ms_quant_matrix *m, int64_t o, int64_t g) {
  int64_t index = o * m->groups + g;
  if (m->scale_max > 0.0f)
    return ms_log8_scale(m->scale_max, m->scales[index]);
  uint16_t half;
  __builtin_memcpy(&half, m->scales + 2 * index, sizeof half);
  return _cvtsh_ss(half);
}

/* The coefficient of sum(q) that group g of channel o adds to its blocks'
 * products. */
INLINE float symmetric_offset(const ms_quant_matrix *m, int bits) {
  /* u = code + 2^(width - 1), except for 8-bit codes. */
  return bits == 8 ? 0.0f : (float)-(1 << (m->bits - 1));
}

INLINE float group_offset(const ms_quant_matrix *m, int64_t o, int64_t g,
                          int bits, int symmetric) {
  if (symmetric)
    return symmetric_offset(m, bits);
  int32_t zero_point = ms_quant_zero_point(m, o, g);
  /* 8 bits: u - 128 = code - 128. */
  return (float)(bits == 8 ? 128 - zero_point : -zero_point);
}

/* Where a tile's chunk of blocks starts: its first block's group, and
 * that block's index within the group. */
typedef struct {
  int64_t group, block_in_group;
} chunk_start;

/* The scale of each of a chunk's n blocks of channel o (its group's), and
 * the coefficient of sum(q) its group's zero point gives, when the chunk
 * is not one of the common cases block_params handles. */
typedef struct {
  __m256 scales, offsets;
} block_params;

/* Lane by lane, in registers (a vector load of floats just stored one by
 * one would wait for the stores). */
INLINE block_params load_block_params_any(const ms_quant_matrix *m, int64_t o,
                                          chunk_start start, int64_t n,
                                          int64_t group_blocks, const int bits,
                                          const int symmetric) {
  float scales[CHUNK], offsets[CHUNK];
  int64_t g = start.group, in_group = start.block_in_group;
  float scale = group_scale(m, o, g);
  float offset = group_offset(m, o, g, bits, symmetric);
#pragma clang loop unroll(full)
  for (int k = 0; k < CHUNK; ++k) {
    if (k < n && in_group == group_blocks) {
      in_group = 0;
      ++g;
      scale = group_scale(m, o, g);
      offset = group_offset(m, o, g, bits, symmetric);
    }
    scales[k] = k < n ? scale : 0.0f;
    offsets[k] = k < n ? offset : 0.0f;
    ++in_group;
  }
  block_params p = {_mm256_setr_ps(scales[0], scales[1], scales[2], scales[3],
                                   scales[4], scales[5], scales[6], scales[7]),
                    _mm256_setr_ps(offsets[0], offsets[1], offsets[2],
                                   offsets[3], offsets[4], offsets[5],
                                   offsets[6], offsets[7])};
  return p;
}

/* The logarithmic scales at m->scales[first .. first + 8), as
 * ms_log8_scale computes them: the fraction divided by a power of two is
 * exact, so multiplying by the power's inverse is too. The fraction table
 * is looked up with permutes of its four vectors (a gather is slower). */
INLINE __m256 log8_scales(const ms_quant_matrix *m, int64_t first) {
  __m256i codes = _mm256_cvtepu8_epi32(
      _mm_loadl_epi64((const __m128i *)(m->scales + first)));
  _Static_assert(MS_LOG8_STEPS == 32, "four vectors of fractions");
  __m256 quarter[4];
  for (int k = 0; k < 4; ++k)
    quarter[k] = _mm256_permutevar8x32_ps(
        _mm256_loadu_ps(ms_log8_fraction + 8 * k), codes);
  /* Bits 3 and 4 of the code choose the vector, in the sign bit. */
  __m256 bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(codes, 28));
  __m256 bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(codes, 27));
  __m256 fractions =
      _mm256_blendv_ps(_mm256_blendv_ps(quarter[0], quarter[1], bit3),
                       _mm256_blendv_ps(quarter[2], quarter[3], bit3), bit4);
  __m256i exponents =
      _mm256_sub_epi32(_mm256_set1_epi32(127), _mm256_srli_epi32(codes, 5));
  __m256 powers = _mm256_castsi256_ps(_mm256_slli_epi32(exponents, 23));
  return _mm256_mul_ps(_mm256_set1_ps(m->scale_max),
                       _mm256_mul_ps(fractions, powers));
}

/* The offsets of groups g .. g + 7 of channel o (asymmetric; g a
 * multiple of 8), for the groups the row has; lanes past its end get a
 * zero point of 0. */
INLINE __m256 zero_point_offsets(const ms_quant_matrix *m, int64_t o, int64_t g,
                                 const int bits) {
  const uint8_t *row = m->zero_points + o * m->zero_point_row_bytes;
  int64_t first = bits == 4 ? g / 2 : g, bytes = bits == 4 ? 4 : 8;
  uint64_t packed = 0;
  if (m->zero_point_row_bytes - first >= bytes) {
    __builtin_memcpy(&packed, row + first, (size_t)bytes);
  } else {
    /* In registers: bytes stored one by one and loaded as a word would
     * wait for the stores. */
    for (int64_t k = 0; first + k < m->zero_point_row_bytes; ++k)
      packed |= (uint64_t)row[first + k] << (8 * k);
  }
  if (bits == 4) {
    __m256i zero_points = _mm256_and_si256(
        _mm256_srlv_epi32(_mm256_set1_epi32((int)(uint32_t)packed),
                          _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28)),
        _mm256_set1_epi32(0xf));
    return _mm256_cvtepi32_ps(
        _mm256_sub_epi32(_mm256_setzero_si256(), zero_points));
  }
  __m256i zero_points =
      _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)packed));
  return _mm256_cvtepi32_ps(
      _mm256_sub_epi32(_mm256_set1_epi32(128), zero_points));
}

/* The scales and offsets of a chunk's n blocks of channel o; lanes from n
 * on hold finite values the tile multiplies by zero. */
INLINE block_params load_block_params(const ms_quant_matrix *m, int64_t o,
                                      chunk_start start, int64_t n,
                                      int64_t group_blocks, const int bits,
                                      const int symmetric) {
  block_params p;
  if (m->groups == 1) { /* one group per row */
    p.scales = _mm256_set1_ps(group_scale(m, o, 0));
    p.offsets = _mm256_set1_ps(group_offset(m, o, 0, bits, symmetric));
    return p;
  }
  if (group_blocks == 1 && m->groups >= CHUNK) {
    /* A group per block: the scales of the eight groups from the chunk's
     * first, or of the eight that end the row, moved down to lanes 0 ..
     * n - 1 (the others hold finite scales the tile multiplies by
     * zero). */
    int64_t base = o * m->groups + start.group;
    int64_t row_end = (o + 1) * m->groups;
    int64_t first = base + CHUNK <= row_end ? base : row_end - CHUNK;
    p.scales = m->scale_max > 0.0f
                   ? log8_scales(m, first)
                   : _mm256_cvtph_ps(_mm_loadu_si128(
                         (const __m128i *)(m->scales + 2 * first)));
    if (first != base)
      p.scales = _mm256_permutevar8x32_ps(
          p.scales, _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                     _mm256_set1_epi32((int)(base - first))));
    if (symmetric) {
      p.offsets = _mm256_set1_ps(symmetric_offset(m, bits));
      return p;
    }
    if (bits != ANY_WIDTH) {
      p.offsets = zero_point_offsets(m, o, start.group, bits);
      return p;
    }
  }
  /* Groups of a power of two blocks (32, 64, 128, ...): the scales of
   * eight groups from the chunk's first one, or the eight that end the
   * row, or the rows before it, when fewer groups are left; then each
   * block's group's. Lanes past n get some group's finite scale, which
   * the tile multiplies by zero. */
  if ((group_blocks & (group_blocks - 1)) == 0 && symmetric) {
    int64_t base = o * m->groups + start.group;
    int64_t row_end = (o + 1) * m->groups;
    int64_t first = base + CHUNK <= row_end ? base : row_end - CHUNK;
    if (first >= 0) {
      __m256 scales = m->scale_max > 0.0f
                          ? log8_scales(m, first)
                          : _mm256_cvtph_ps(_mm_loadu_si128(
                                (const __m128i *)(m->scales + 2 * first)));
      __m256i lanes = _mm256_srlv_epi32(
          _mm256_add_epi32(_mm256_set1_epi32((int)start.block_in_group),
                           _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)),
          _mm256_set1_epi32(__builtin_ctzll((unsigned long long)group_blocks)));
      lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32((int)(base - first)));
      p.scales = _mm256_permutevar8x32_ps(scales, lanes);
      p.offsets = _mm256_set1_ps(symmetric_offset(m, bits));
      return p;
    }
  }
  return load_block_params_any(m, o, start, n, group_blocks, bits, symmetric);
}

/* The n bytes of a block's codes at p (the row's last ones), zero-padded to
 * a block, so that nothing past the row is read. */
OUTLINE void copy_tail(uint8_t *codes, const uint8_t *p, int64_t n) {
  for (int k = 0; k < BLOCK; ++k)
    codes[k] = k < n ? p[k] : 0;
}

/* The fixed reduction of the eight lanes. */
INLINE float sum_lanes(__m256 v) {
  __m128 four =
      _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  __m128 two = _mm_add_ps(four, _mm_movehl_ps(four, four));
  return _mm_cvtss_f32(_mm_add_ss(two, _mm_movehdup_ps(two)));
}

/* Block b (the chunk's k-th) of the channels' weights at w[c] times rows
 * 0 .. R - 1 of the tile, accumulated with the block's combined scales. */
#define ACCUMULATE_BLOCK(w, b, k)                                              \
  do {                                                                         \
    weight_block decoded[DECODE_CHANNELS];                                     \
    for (int c = 0; c < C; ++c)                                                \
      decoded[c] = decode_block((w)[c], bits, symmetric, &layout);             \
    for (int r = 0; r < R; ++r) {                                              \
      __m256i q = _mm256_loadu_si256(                                          \
          (const __m256i *)(codes + (r * blocks + (b)) * BLOCK));              \
      __m256i magnitudes = bits == 8 && symmetric ? _mm256_abs_epi8(q) : q;    \
      for (int c = 0; c < C; ++c)                                              \
        acc[c][r] = _mm256_fmadd_ps(                                           \
            _mm256_cvtepi32_ps(                                                \
                block_dot(decoded[c], q, magnitudes, bits, symmetric)),        \
            _mm256_broadcast_ss(&combined[c][r][k]), acc[c][r]);               \
    }                                                                          \
  } while (0)

/* Outputs of channels o .. o + channels - 1 (channels <= C) for rows
 * r0 .. r0 + R - 1. Per output and chunk of eight blocks: the offset
 * terms of the chunk's blocks, offset * sum(q) * (the block's scale * its
 * group's scale), one block per lane, then block by block the eight lanes
 * of the block's integer sums times its combined scale, are added to the
 * output's accumulator, whose lanes are added at the end. A tile short of
 * channels computes its last one again in the spare slots and stores
 * nothing from them. */
INLINE void tile(const ms_quant_activations *a, int64_t r0,
                 const ms_quant_matrix *m, int64_t o, int64_t channels,
                 const int C, const int R, const int bits, const int symmetric,
                 const float *bias, float *y, int64_t y_stride) {
  const int64_t blocks = a->blocks, full_blocks = m->in / BLOCK;
  const int64_t row_bytes = m->row_bytes,
                block_bytes = BLOCK * (bits == ANY_WIDTH ? m->bits : bits) / 8;
  any_width_layout layout;
  /* Blocks whose codes can be read in place: all full ones, except that
   * ANY_WIDTH reads at least 4 bytes from each eight codes. */
  int64_t direct_blocks = full_blocks;
  if (bits == ANY_WIDTH) {
    layout = any_width(m->bits);
    int64_t reach = 3 * m->bits + (m->bits > 4 ? m->bits : 4);
    direct_blocks =
        row_bytes < reach ? 0 : (row_bytes - reach) / block_bytes + 1;
    if (direct_blocks > full_blocks)
      direct_blocks = full_blocks;
  }
  const int64_t group_blocks = m->groups == 1 ? blocks : m->group / BLOCK;
  const int8_t *codes = a->codes + r0 * blocks * BLOCK;
  int64_t ch[DECODE_CHANNELS];
  const uint8_t *row[DECODE_CHANNELS];
  for (int c = 0; c < C; ++c) {
    ch[c] = o + (c < channels ? c : channels - 1);
    row[c] = m->w + ch[c] * row_bytes;
  }
  __m256 acc[DECODE_CHANNELS][PREFILL_ROWS];
  for (int c = 0; c < C; ++c)
    for (int r = 0; r < R; ++r)
      acc[c][r] = _mm256_setzero_ps();
  chunk_start start = {0, 0};
  for (int64_t b0 = 0; b0 < blocks; b0 += CHUNK) {
    int64_t n = blocks - b0 < CHUNK ? blocks - b0 : CHUNK;
    block_params params[DECODE_CHANNELS];
    for (int c = 0; c < C; ++c)
      params[c] =
          load_block_params(m, ch[c], start, n, group_blocks, bits, symmetric);
    /* No division: groups span whole blocks. */
    start.block_in_group += n;
    while (start.block_in_group >= group_blocks) {
      start.block_in_group -= group_blocks;
      ++start.group;
    }
    /* Lanes k < n of the chunk. */
    __m256i live = _mm256_cmpgt_epi32(
        _mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    float combined[DECODE_CHANNELS][PREFILL_ROWS][CHUNK];
    for (int r = 0; r < R; ++r) {
      int64_t first = (r0 + r) * blocks + b0;
      __m256 d = _mm256_maskload_ps(a->scales + first, live);
      __m256 sums = _mm256_cvtepi32_ps(
          _mm256_maskload_epi32((const int *)a->sums + first, live));
      for (int c = 0; c < C; ++c) {
        /* Lanes from n on are zeros whatever the scales they hold. */
        __m256 both = _mm256_and_ps(_mm256_mul_ps(d, params[c].scales),
                                    _mm256_castsi256_ps(live));
        _mm256_storeu_ps(combined[c][r], both);
        if (HAS_OFFSET(bits, symmetric))
          acc[c][r] = _mm256_fmadd_ps(
              both, _mm256_mul_ps(params[c].offsets, sums), acc[c][r]);
      }
    }
    int64_t direct = direct_blocks - b0 < n ? direct_blocks - b0 : n;
    if (direct < 0)
      direct = 0;
#pragma clang loop unroll(disable)
    for (int64_t k = 0; k < direct; ++k) {
      const uint8_t *w[DECODE_CHANNELS];
      for (int c = 0; c < C; ++c) {
        w[c] = row[c] + (b0 + k) * block_bytes;
        /* The next tile's rows follow these C: fetching them now hides
         * their latency, which otherwise bounds decode. */
        __builtin_prefetch(w[c] + C * row_bytes);
      }
      ACCUMULATE_BLOCK(w, b0 + k, k);
    }
    /* The row's tail block, and the last full ones of ANY_WIDTH, from
     * zero-padded copies, so that nothing past the row is read. */
    for (int64_t k = direct; k < n; ++k) {
      uint8_t copies[DECODE_CHANNELS][BLOCK];
      const uint8_t *w[DECODE_CHANNELS];
      int64_t offset = (b0 + k) * block_bytes;
      int64_t bytes = row_bytes - offset;
      for (int c = 0; c < C; ++c) {
        copy_tail(copies[c], row[c] + offset,
                  bytes < block_bytes ? bytes : block_bytes);
        w[c] = copies[c];
      }
      ACCUMULATE_BLOCK(w, b0 + k, k);
    }
  }
  for (int c = 0; c < C && c < channels; ++c)
    for (int r = 0; r < R; ++r) {
      y[r * y_stride + ch[c]] =
          sum_lanes(acc[c][r]) + (bias ? bias[ch[c]] : 0.0f);
    }
}

/* Channels [begin, end) in slices of eight, whose weights stay in cache
 * while every row uses them: rows four at a time, two channels per tile,
 * then the rest one at a time, eight channels per tile (which share each
 * load of activation codes and the per-chunk work on their scales). */
INLINE void linear(const ms_quant_activations *a, int64_t rows,
                   const ms_quant_matrix *m, int64_t begin, int64_t end,
                   const float *bias, float *y, int64_t y_stride,
                   const int bits, const int symmetric) {
  for (int64_t o = begin; o < end; o += DECODE_CHANNELS) {
    int64_t channels = end - o < DECODE_CHANNELS ? end - o : DECODE_CHANNELS;
    int64_t r = 0;
    for (; r + PREFILL_ROWS <= rows; r += PREFILL_ROWS)
      for (int64_t c = 0; c < channels; c += PREFILL_CHANNELS)
        tile(a, r, m, o + c,
             channels - c < PREFILL_CHANNELS ? channels - c : PREFILL_CHANNELS,
             PREFILL_CHANNELS, PREFILL_ROWS, bits, symmetric, bias,
             y + r * y_stride, y_stride);
    for (; r < rows; ++r)
      tile(a, r, m, o, channels, DECODE_CHANNELS, 1, bits, symmetric, bias,
           y + r * y_stride, y_stride);
  }
}

TARGET void ms_linear_quant_a8_q8_avx2(const ms_quant_activations *a,
                                       int64_t rows, const ms_quant_matrix *m,
                                       int64_t begin, int64_t end,
                                       const float *bias, float *y,
                                       int64_t y_stride) {
  if (m->zero_points)
    linear(a, rows, m, begin, end, bias, y, y_stride, 8, 0);
  else
    linear(a, rows, m, begin, end, bias, y, y_stride, 8, 1);
}

TARGET void ms_linear_quant_a8_q_avx2(const ms_quant_activations *a,
                                      int64_t rows, const ms_quant_matrix *m,
                                      int64_t begin, int64_t end,
                                      const float *bias, float *y,
                                      int64_t y_stride) {
  if (m->zero_points)
    linear(a, rows, m, begin, end, bias, y, y_stride, ANY_WIDTH, 0);
  else
    linear(a, rows, m, begin, end, bias, y, y_stride, ANY_WIDTH, 1);
}

TARGET void ms_linear_quant_a8_q4_avx2(const ms_quant_activations *a,
                                       int64_t rows, const ms_quant_matrix *m,
                                       int64_t begin, int64_t end,
                                       const float *bias, float *y,
                                       int64_t y_stride) {
  if (m->zero_points)
    linear(a, rows, m, begin, end, bias, y, y_stride, 4, 0);
  else
    linear(a, rows, m, begin, end, bias, y, y_stride, 4, 1);
}
