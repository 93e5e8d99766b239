// Native matrix kernels for bayes-peft's TensorFlow.js backends, over the machine's OpenBLAS.
//
// Every entry point works on Float32Arrays and element offsets into them, never on copies:
// the wasm backend passes views of its WebAssembly heap (all tensors live in one buffer), the
// cpu backend passes each tensor's own array. Shapes, broadcasting and transposes are resolved
// in TypeScript (packages/tensor/src/fast/); this file only loops over sgemm calls.
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>

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

/* info(): { blas: OpenBLAS' build string, threads } */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value obj, s, t;
  const char *config = openblas_get_config();
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, config ? config : "unknown", NAPI_AUTO_LENGTH, &s));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &t));
  CHECK(napi_set_named_property(env, obj, "blas", s));
  CHECK(napi_set_named_property(env, obj, "threads", t));
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"matmul", NULL, matmul, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
