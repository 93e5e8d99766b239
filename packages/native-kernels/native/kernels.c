// Native matrix kernels for bayes-peft's TensorFlow.js backends, over the machine's OpenBLAS.
//
// Every entry point works on typed arrays and element offsets into them, never on copies:
// the wasm backend passes views of its WebAssembly heap (all tensors live in one buffer), the
// cpu backend passes each tensor's own array. Shapes, broadcasting and transposes are resolved
// in TypeScript (packages/tensor/src/fast/); this file only loops over sgemm calls, widening
// 16-bit frozen weights for them a tile at a time (frozenMatmul, widenRows).
#include <node_api.h>
#include <limits.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
// AVX2 and F16C are not part of the x86-64 baseline the addon is compiled for (no -march: the
// binary may run on another CPU), so the widening loops that use them are compiled for them alone
// and chosen at run time.
#include <immintrin.h>
#define HAVE_X86_DISPATCH 1
#endif

// OpenBLAS extensions (declared by OpenBLAS' cblas.h; repeated so another cblas.h still builds).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "native-kernels: N-API call failed: " #call); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static bool typed_f32(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  size_t len;
  void *ptr;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &buf, &off) != napi_ok || type != napi_float32_array) return false;
  *data = (float *)ptr;
  *length = len;
  return true;
}

static bool typed_i32(napi_env env, napi_value v, int32_t **data, size_t *length) {
  napi_typedarray_type type;
  size_t len;
  void *ptr;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &buf, &off) != napi_ok || type != napi_int32_array) return false;
  *data = (int32_t *)ptr;
  *length = len;
  return true;
}

static bool get_i64(napi_env env, napi_value v, int64_t *out) { return napi_get_value_int64(env, v, out) == napi_ok; }

/*
 * matmul(a, aOffsets, b, bOffsets, c, cOffset, m, n, k, transA, transB)
 *
 * For each batch index i: C_i = op(A_i) op(B_i), with A_i at a[aOffsets[i]], B_i at
 * b[bOffsets[i]] (row-major, [m, k] or [k, m] when transA; [k, n] or [n, k] when transB) and
 * C_i at c[cOffset + i*m*n], [m, n]. A broadcast batch repeats an offset. Every range is
 * checked against its array, so a wrong call throws instead of reading outside memory.
 */
static napi_value matmul(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "matmul: expected 11 arguments");
    return NULL;
  }
  float *a, *b, *c;
  int32_t *ao, *bo;
  size_t alen, blen, clen, aolen, bolen;
  int64_t coff, m, n, k;
  bool ta, tb;
  if (!typed_f32(env, argv[0], &a, &alen) || !typed_i32(env, argv[1], &ao, &aolen) || !typed_f32(env, argv[2], &b, &blen) ||
      !typed_i32(env, argv[3], &bo, &bolen) || !typed_f32(env, argv[4], &c, &clen) || !get_i64(env, argv[5], &coff) ||
      !get_i64(env, argv[6], &m) || !get_i64(env, argv[7], &n) || !get_i64(env, argv[8], &k) ||
      napi_get_value_bool(env, argv[9], &ta) != napi_ok || napi_get_value_bool(env, argv[10], &tb) != napi_ok) {
    napi_throw_type_error(env, NULL, "matmul: bad argument types");
    return NULL;
  }
  size_t batch = aolen;
  if (bolen != batch || m < 0 || n < 0 || k < 0 || coff < 0 || (size_t)coff + batch * (size_t)(m * n) > clen) {
    napi_throw_range_error(env, NULL, "matmul: offsets or output out of range");
    return NULL;
  }
  for (size_t i = 0; i < batch; i++) {
    if (ao[i] < 0 || (size_t)ao[i] + (size_t)(m * k) > alen || bo[i] < 0 || (size_t)bo[i] + (size_t)(k * n) > blen) {
      napi_throw_range_error(env, NULL, "matmul: an operand range lies outside its array");
      return NULL;
    }
  }
  if (m == 0 || n == 0) return NULL;
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  for (size_t i = 0; i < batch; i++) {
    float *ci = c + coff + i * (size_t)(m * n);
    if (k == 0) {
      memset(ci, 0, sizeof(float) * (size_t)(m * n));
      continue;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                a + ao[i], lda, b + bo[i], ldb, 0.0f, ci, (int)n);
  }
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Frozen weights in their stored dtype.
 *
 * A 1B-parameter model's frozen weights (2.5 GB in bfloat16) cannot sit beside the activations in
 * the 4 GiB wasm heap, and widening them to float32 once would double them. They stay in ordinary
 * Node ArrayBuffers as stored, and each product widens a few hundred rows of W at a time into a
 * float32 scratch tile that sgemm reads, so no float32 copy of a whole matrix ever exists.
 * ------------------------------------------------------------------------------------------- */

enum { DTYPE_F32 = 0, DTYPE_BF16 = 1, DTYPE_F16 = 2 };
static const char *const DTYPE_ARRAY[] = {"a Float32Array", "a Uint16Array (bfloat16 bits)", "a Uint16Array (float16 bits)"};

// Scratch budget of one tile: 2048 columns (Llama-3.2-1B's hidden size) make 1024-row tiles,
// 8192 columns 256-row ones. Every tile costs sgemm a fresh packing of x (m x k), which showed
// with 2 OpenBLAS threads below ~256 rows (4 MiB, 128 rows at 8192 columns: 10-15% slower);
// 16 MiB was no faster, and a little slower on one thread (scripts/bench-frozen.js).
#ifndef TILE_BYTES
#define TILE_BYTES ((size_t)8 << 20)
#endif

// bfloat16 is the top half of a float32, so widening is a shift: exact for every value, NaN
// payloads included. memcpy instead of a cast keeps it free of aliasing UB; -O3 turns the loop
// into vector unpacks.
static void widen_bf16(const uint16_t *restrict src, float *restrict dst, size_t count) {
  for (size_t i = 0; i < count; i++) {
    const uint32_t bits = (uint32_t)src[i] << 16;
    memcpy(dst + i, &bits, sizeof bits);
  }
}

// IEEE binary16 to binary32, exact. Normal numbers only need the exponent rebiased (15 -> 127);
// exponent 31 (inf, NaN) must become 255; subnormals (exponent 0) are mantissa * 2^-24, a normal
// float32, exact as an int-to-float conversion times a power of two. All three are computed and
// one picked with masks, not branches, so that -O3 vectorises the loop. NaNs come out quiet (bit
// 22 set), payload kept, as F16C's vcvtph2ps gives them, so both paths agree on all 65536 inputs.
static inline float f16_to_f32(uint16_t h) {
  const uint32_t mantissa = h & 0x03ffu;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t magnitude = (uint32_t)(h & 0x7fffu) << 13; // exponent and mantissa at float32 positions
  const uint32_t normal = magnitude + ((uint32_t)(127 - 15) << 23);
  const uint32_t inf_nan = magnitude | 0x7f800000u | (-(uint32_t)(mantissa != 0) & 0x00400000u);
  const float sub = (float)(int32_t)mantissa * 0x1p-24f;
  uint32_t sub_bits;
  memcpy(&sub_bits, &sub, sizeof sub_bits);
  const uint32_t is_inf_nan = -(uint32_t)(exponent == 0x1fu), is_sub = -(uint32_t)(exponent == 0);
  const uint32_t bits = (normal & ~(is_inf_nan | is_sub)) | (inf_nan & is_inf_nan) | (sub_bits & is_sub) | (uint32_t)(h & 0x8000u) << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static void widen_f16_portable(const uint16_t *restrict src, float *restrict dst, size_t count) {
  for (size_t i = 0; i < count; i++) dst[i] = f16_to_f32(src[i]);
}

#ifdef HAVE_X86_DISPATCH
/*
 * 8 floats a step. `stream` writes them with non-temporal stores, around the caches (dst must then
 * be 32-byte aligned): with more than one OpenBLAS thread the tile is packed by other cores too,
 * and cached stores into lines those cores still hold from the previous tile cost a coherence
 * round trip each. Measured with 2 threads: widening inside the tile loop took 5.5-6 ms per
 * 2048 x 8192 matrix with cached stores against 2 ms alone; streamed, 2-2.5 ms, and sgemm, which
 * then packs the tile from memory, no slower. With one thread the tile stays in the core's cache
 * for sgemm, and cached stores are the faster.
 */
__attribute__((target("avx,f16c"))) static void widen_f16_f16c(const uint16_t *restrict src, float *restrict dst, size_t count, bool stream) {
  size_t i = 0;
  if (stream) {
    for (; i + 8 <= count; i += 8) _mm256_stream_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    _mm_sfence(); // order the streamed stores before the sgemm threads read the tile
  } else {
    for (; i + 8 <= count; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
  }
  for (; i < count; i++) dst[i] = f16_to_f32(src[i]);
}

// The baseline loop above vectorises to SSE2 (4 floats a step) at ~5 G elements/s, against
// ~9.5 G with these 8-wide steps (widening in cache, this machine).
__attribute__((target("avx2"))) static void widen_bf16_avx2(const uint16_t *restrict src, float *restrict dst, size_t count, bool stream) {
  size_t i = 0;
  if (stream) {
    for (; i + 8 <= count; i += 8)
      _mm256_stream_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i))), 16)));
    _mm_sfence();
  } else {
    for (; i + 8 <= count; i += 8)
      _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(src + i))), 16)));
  }
  widen_bf16(src + i, dst + i, count - i);
}
#endif

// BAYES_PEFT_NATIVE_SIMD=0 when the addon loads: the plain C loops even where AVX2 / F16C exist,
// so that the tests check the portable widening (the only one off x86) on x86 machines too.
static atomic_bool simd_allowed = true; // atomic: each worker thread's load of the addon sets it

// "avx" / "avx2" also check that the OS saves ymm registers (XGETBV), which these VEX-encoded
// instructions need; a CPU with the feature bit under an OS without it must take the plain loop.
static bool cpu_has_avx2(void) {
#ifdef HAVE_X86_DISPATCH
  return atomic_load_explicit(&simd_allowed, memory_order_relaxed) && __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

static bool cpu_has_f16c(void) {
#ifdef HAVE_X86_DISPATCH
  return atomic_load_explicit(&simd_allowed, memory_order_relaxed) && __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

/*
 * dst[0, count) = float32(src[0, count)), src holding `count` elements of `dtype`. `stream`: write
 * around the caches where the SIMD loops can (see widen_f16_f16c); dst must be 32-byte aligned.
 */
static void widen(int dtype, const void *src, float *dst, size_t count, bool stream) {
  (void)stream; // only the x86 loops stream
  if (count == 0) return;
  if (dtype == DTYPE_F32) {
    memcpy(dst, src, count * sizeof(float));
  } else if (dtype == DTYPE_BF16) {
#ifdef HAVE_X86_DISPATCH
    if (cpu_has_avx2()) {
      widen_bf16_avx2((const uint16_t *)src, dst, count, stream);
      return;
    }
#endif
    widen_bf16((const uint16_t *)src, dst, count);
  } else {
#ifdef HAVE_X86_DISPATCH
    if (cpu_has_f16c()) {
      widen_f16_f16c((const uint16_t *)src, dst, count, stream);
      return;
    }
#endif
    widen_f16_portable((const uint16_t *)src, dst, count);
  }
}

/*
 * The widening scratch, one per N-API environment (instance data), not a static: each Node
 * worker thread loads its own instance of the addon and may call in concurrently. It grows to
 * the largest tile asked for and is kept, so a model's layers do not malloc (and page-fault
 * in) a few MiB on every product.
 */
typedef struct {
  float *data;
  size_t capacity; // floats
} Scratch;

static void scratch_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Scratch *s = (Scratch *)data;
  free(s->data);
  free(s);
}

static float *scratch_get(napi_env env, size_t floats) {
  Scratch *s = NULL;
  if (napi_get_instance_data(env, (void **)&s) != napi_ok || !s) return NULL;
  if (s->capacity < floats) {
    free(s->data);
    // 64-byte aligned so vector stores and sgemm's packing never straddle cache lines;
    // aligned_alloc wants a size that is a multiple of the alignment.
    const size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    s->data = (float *)aligned_alloc(64, bytes);
    s->capacity = s->data ? floats : 0;
  }
  return s->data;
}

static bool typed_any(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  size_t len;
  void *ptr;
  napi_value buf;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &buf, &off) != napi_ok || type != want) return false;
  *data = ptr;
  *length = len;
  return true;
}

/* The weight array for a dtype code: a Float32Array for float32, a Uint16Array of raw bits otherwise. */
static bool typed_weights(napi_env env, napi_value v, int64_t dtype, void **data, size_t *length) {
  return typed_any(env, v, dtype == DTYPE_F32 ? napi_float32_array : napi_uint16_array, data, length);
}

/*
 * A JS number holding an integer. napi_get_value_int64 would quietly truncate 1.5 and turn NaN
 * into 0, making a caller's arithmetic slip look like a valid offset; this refuses both.
 */
static bool get_integer(napi_env env, napi_value v, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return false;
  if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0)) return false; // also NaN, +-Infinity
  const int64_t i = (int64_t)d;
  if ((double)i != d) return false;
  *out = i;
  return true;
}

/* [off, off + count) lies inside an array of len elements, without overflowing. */
static bool range_fits(int64_t off, uint64_t count, size_t len) {
  return off >= 0 && (uint64_t)off <= (uint64_t)len && count <= (uint64_t)len - (uint64_t)off;
}

/*
 * Whether two byte ranges share memory. Activations, outputs and float32 weights may all be
 * views of the one wasm heap; an output written over an input would make sgemm (and the tile
 * accumulation, which re-reads y) compute garbage without any error, so that is refused.
 */
static bool overlaps(const void *a, size_t abytes, const void *b, size_t bbytes) {
  if (abytes == 0 || bbytes == 0) return false;
  const uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
  return a0 < b0 + bbytes && b0 < a0 + abytes;
}

#define THROW_TYPE(msg)                   \
  do {                                    \
    napi_throw_type_error(env, NULL, msg); \
    return NULL;                          \
  } while (0)
#define THROW_RANGE(msg)                   \
  do {                                     \
    napi_throw_range_error(env, NULL, msg); \
    return NULL;                           \
  } while (0)

/* Rows of W per tile: TILE_BYTES of float32, in whole multiples of 64 rows when there are that
 * many (OpenBLAS' register blocks all divide 64, so only the matrix's last tile ends ragged). */
static size_t tile_rows(size_t n, size_t k) {
  size_t t = TILE_BYTES / (k * sizeof(float));
  if (t >= 64) t -= t % 64;
  if (t < 1) t = 1; // a single row wider than the budget still has to fit
  return t < n ? t : n;
}

/*
 * frozenMatmul(x, xOffset, w, wOffset, wDtype, y, yOffset, m, n, k, mode)
 *
 * The two products a frozen linear layer needs, W being [n, k] row-major (out x in features,
 * PyTorch's layout) at w[wOffset] in float32, bfloat16 or float16:
 *   mode 0 (forward):  y[m, n] = x[m, k] W^T
 *   mode 1 (backward): y[m, k] = x[m, n] W      (x is dy)
 * float32 W is one sgemm, the very call the BatchMatMul kernel makes for x·W^T / dy·W, so the
 * results are bit-identical to the unfrozen path. bfloat16 / float16 W is widened tile by tile:
 * mode 0 writes y's columns [r0, r1) per tile, each element the same dot product over k, though
 * not always rounded alike (OpenBLAS blocks W's rows internally and an element's last bits depend
 * on where its row falls in that blocking, which each tile restarts); mode 1 accumulates
 * y += dy[:, r0:r1] W[r0:r1, :] over tiles, a different order of summation.
 */
static napi_value frozen_matmul(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) THROW_TYPE("frozenMatmul: expected 11 arguments");
  float *x, *y;
  void *w;
  size_t xlen, wlen, ylen;
  int64_t xoff, woff, dtype, yoff, m, n, k, mode;
  if (!typed_f32(env, argv[0], &x, &xlen) || !get_integer(env, argv[1], &xoff) || !get_integer(env, argv[3], &woff) ||
      !get_integer(env, argv[4], &dtype) || !typed_f32(env, argv[5], &y, &ylen) || !get_integer(env, argv[6], &yoff) ||
      !get_integer(env, argv[7], &m) || !get_integer(env, argv[8], &n) || !get_integer(env, argv[9], &k) ||
      !get_integer(env, argv[10], &mode))
    THROW_TYPE("frozenMatmul: bad argument types (x, y: Float32Array; offsets, sizes, wDtype, mode: integers)");
  if (dtype < 0 || dtype > 2) THROW_RANGE("frozenMatmul: wDtype must be 0 (float32), 1 (bfloat16) or 2 (float16)");
  if (mode != 0 && mode != 1) THROW_RANGE("frozenMatmul: mode must be 0 (y = x W^T) or 1 (y = x W)");
  if (!typed_weights(env, argv[2], dtype, &w, &wlen)) {
    char msg[128];
    snprintf(msg, sizeof msg, "frozenMatmul: w must be %s for wDtype %d", DTYPE_ARRAY[dtype], (int)dtype);
    THROW_TYPE(msg);
  }
  // sgemm takes int sizes and leading dimensions; within that every product below fits in 62 bits.
  if (m < 0 || n < 0 || k < 0 || m > INT_MAX || n > INT_MAX || k > INT_MAX) THROW_RANGE("frozenMatmul: m, n, k must lie in [0, 2^31)");
  const uint64_t inner = mode == 0 ? (uint64_t)k : (uint64_t)n; // x's columns
  const uint64_t outer = mode == 0 ? (uint64_t)n : (uint64_t)k; // y's columns
  const size_t wsize = dtype == DTYPE_F32 ? sizeof(float) : sizeof(uint16_t);
  if (!range_fits(xoff, (uint64_t)m * inner, xlen)) THROW_RANGE("frozenMatmul: x range lies outside its array");
  if (!range_fits(woff, (uint64_t)n * (uint64_t)k, wlen)) THROW_RANGE("frozenMatmul: w range lies outside its array");
  if (!range_fits(yoff, (uint64_t)m * outer, ylen)) THROW_RANGE("frozenMatmul: y range lies outside its array");
  float *xs = x + xoff, *ys = y + yoff;
  const char *ws = (const char *)w + (size_t)woff * wsize;
  const size_t ybytes = (size_t)((uint64_t)m * outer) * sizeof(float);
  if (overlaps(ys, ybytes, xs, (size_t)((uint64_t)m * inner) * sizeof(float)) || overlaps(ys, ybytes, ws, (size_t)n * (size_t)k * wsize))
    THROW_RANGE("frozenMatmul: y overlaps x or w");

  if (ybytes == 0) return NULL;
  if (inner == 0) { // an empty sum; sgemm would want a leading dimension of at least 1
    memset(ys, 0, ybytes);
    return NULL;
  }
  const int M = (int)m, N = (int)n, K = (int)k;
  if (dtype == DTYPE_F32) {
    if (mode == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, xs, K, (const float *)ws, K, 0.0f, ys, N);
    else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, N, 1.0f, xs, N, (const float *)ws, K, 0.0f, ys, K);
    return NULL;
  }
  const size_t t = tile_rows((size_t)n, (size_t)k);
  float *tile = scratch_get(env, t * (size_t)k);
  if (!tile) {
    napi_throw_error(env, NULL, "frozenMatmul: out of memory for the widening tile");
    return NULL;
  }
  // The tile (64-byte aligned, from scratch_get) is streamed when other cores will pack it.
  const bool stream = openblas_get_num_threads() > 1;
  for (size_t r0 = 0; r0 < (size_t)n; r0 += t) {
    const size_t rows = t < (size_t)n - r0 ? t : (size_t)n - r0;
    widen((int)dtype, ws + r0 * (size_t)k * wsize, tile, rows * (size_t)k, stream);
    if (mode == 0) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, (int)rows, K, 1.0f, xs, K, tile, K, 0.0f, ys + r0, N);
    } else {
      // beta 0 on the first tile: y may hold anything (a fresh wasm allocation), never read it.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, K, (int)rows, 1.0f, xs + r0, N, tile, K, r0 == 0 ? 0.0f : 1.0f, ys, K);
    }
  }
  return NULL;
}

/*
 * widenRows(w, wDtype, cols, rows, dst, dstOffset)
 *
 * dst[dstOffset + i*cols, +cols) = float32(W[rows[i], :]) for each i, W being [*, cols] row-major
 * from w[0]: embedding lookups and the few head rows a loss needs, without widening the table.
 * Every row index and the destination range are checked before anything is written.
 */
static napi_value widen_rows(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 6) THROW_TYPE("widenRows: expected 6 arguments");
  void *w;
  int32_t *rows;
  float *dst;
  size_t wlen, nrows, dstlen;
  int64_t dtype, cols, dstoff;
  if (!get_integer(env, argv[1], &dtype) || !get_integer(env, argv[2], &cols) || !typed_i32(env, argv[3], &rows, &nrows) ||
      !typed_f32(env, argv[4], &dst, &dstlen) || !get_integer(env, argv[5], &dstoff))
    THROW_TYPE("widenRows: bad argument types (rows: Int32Array; dst: Float32Array; wDtype, cols, dstOffset: integers)");
  if (dtype < 0 || dtype > 2) THROW_RANGE("widenRows: wDtype must be 0 (float32), 1 (bfloat16) or 2 (float16)");
  if (!typed_weights(env, argv[0], dtype, &w, &wlen)) {
    char msg[128];
    snprintf(msg, sizeof msg, "widenRows: w must be %s for wDtype %d", DTYPE_ARRAY[dtype], (int)dtype);
    THROW_TYPE(msg);
  }
  if (cols < 0) THROW_RANGE("widenRows: cols must not be negative");
  const uint64_t c = (uint64_t)cols;
  // nrows * cols <= dstlen, asked as a division so a huge cols cannot overflow the product.
  if (c != 0 && (uint64_t)nrows > (uint64_t)dstlen / c) THROW_RANGE("widenRows: destination range lies outside dst");
  if (!range_fits(dstoff, (uint64_t)nrows * c, dstlen)) THROW_RANGE("widenRows: destination range lies outside dst");
  const size_t wsize = dtype == DTYPE_F32 ? sizeof(float) : sizeof(uint16_t);
  float *out = dst + dstoff;
  const size_t out_bytes = (size_t)nrows * (size_t)c * sizeof(float);
  // (r + 1) * cols <= wlen  <=>  r < floor(wlen / cols), again without a product that can overflow.
  const uint64_t row_limit = c == 0 ? (uint64_t)INT32_MAX + 1 : (uint64_t)wlen / c;
  for (size_t i = 0; i < nrows; i++) {
    if (rows[i] < 0 || (uint64_t)rows[i] >= row_limit) {
      char msg[160];
      snprintf(msg, sizeof msg, "widenRows: rows[%zu] = %d lies outside w (%zu elements of %lld columns)", i, (int)rows[i], wlen, (long long)cols);
      THROW_RANGE(msg);
    }
    // A float32 table may be a view of the same heap as dst.
    if (overlaps(out, out_bytes, (const char *)w + (size_t)rows[i] * (size_t)c * wsize, (size_t)c * wsize))
      THROW_RANGE("widenRows: dst overlaps a source row");
  }
  for (size_t i = 0; i < nrows; i++)
    widen((int)dtype, (const char *)w + (size_t)rows[i] * (size_t)c * wsize, out + i * (size_t)c, (size_t)c, false);
  return NULL;
}

/* setThreads(n): OpenBLAS' thread count for later calls. */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t n;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !get_i64(env, argv[0], &n) || n < 1) {
    napi_throw_type_error(env, NULL, "setThreads: expected a positive integer");
    return NULL;
  }
  openblas_set_num_threads((int)n);
  return NULL;
}

/* info(): { blas: OpenBLAS' build string, threads, widening: the loops that widen bf16 / f16 } */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value obj, s, t, wd;
  const char *config = openblas_get_config();
  const bool avx2 = cpu_has_avx2(), f16c = cpu_has_f16c();
  const char *widening = avx2 && f16c ? "avx2+f16c" : avx2 ? "avx2" : f16c ? "f16c" : "portable";
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, config ? config : "unknown", NAPI_AUTO_LENGTH, &s));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &t));
  CHECK(napi_create_string_utf8(env, widening, NAPI_AUTO_LENGTH, &wd));
  CHECK(napi_set_named_property(env, obj, "blas", s));
  CHECK(napi_set_named_property(env, obj, "threads", t));
  CHECK(napi_set_named_property(env, obj, "widening", wd));
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  const char *simd = getenv("BAYES_PEFT_NATIVE_SIMD");
  if (simd && strcmp(simd, "0") == 0) atomic_store_explicit(&simd_allowed, false, memory_order_relaxed);
  // Node loads the addon once per environment (main thread, each worker), so this runs once each.
  Scratch *scratch = (Scratch *)calloc(1, sizeof(Scratch));
  if (!scratch || napi_set_instance_data(env, scratch, scratch_finalize, NULL) != napi_ok) {
    free(scratch);
    napi_throw_error(env, NULL, "native-kernels: could not set up the widening scratch");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"matmul", NULL, matmul, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
      {"frozenMatmul", NULL, frozen_matmul, NULL, NULL, NULL, napi_default, NULL},
      {"widenRows", NULL, widen_rows, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
