// Matrix products: with weights packed at load, with a few rows, and
// transpositions. Written in the operations of isa_avx512.h / isa_avx2.h;
// included by kernels_avx512.c and kernels_avx2.c (see vector_kernels.h for
// the contracts).

// MARK: - Packed product

/// What happens to each value of the product before it is stored.
typedef struct {
    const float *bias;      // per row of c, or NULL
    const float *residual;  // laid out as c (same ldc), or NULL
    int relu;
} epilogue;

/// Adds the residual (lanes of `mask`), applies ReLU and stores the lanes of `mask` at `out`.
static inline void finish_output(vfloat value, vmask mask, const float *residual, int relu, float *out) {
    if (residual) value = v_add(value, v_load_masked(mask, residual));
    // max(0, NaN) is the second operand, NaN, as PyTorch's relu gives.
    if (relu) value = v_max(v_zero(), value);
    v_store_masked(out, mask, value);
}

/// One ROWS x (LANES * VECTORS) block of c (`rows` of its rows and the lanes
/// of `last` in its last vector are stored), from the packed rows that start
/// at `panel`: a whole panel's start, or a row within one when the block
/// stays inside that panel (ROWS <= CRNN_PANEL_ROWS). `row` is the block's
/// first row of c, for the bias. ROWS * VECTORS accumulators stay in
/// registers (at most 24 of AVX-512's 32, 12 of AVX2's 16).
#define PRODUCT_TILE(ROWS, VECTORS)                                                                           \
    static void product_tile_##ROWS##_##VECTORS(int rows, int k, const float *panel, const float *b, int ldb,   \
                                                vmask last, float *c, int ldc, int row, size_t offset,        \
                                                epilogue post) {                                              \
        const size_t panel_size = (size_t)k * CRNN_PANEL_ROWS;                                                 \
        vfloat acc[ROWS][VECTORS];                                                                             \
        for (int r = 0; r < ROWS; r++)                                                                         \
            for (int v = 0; v < VECTORS; v++) acc[r][v] = v_zero();                                            \
        for (int j = 0; j < k; j++) {                                                                          \
            const float *values_row = b + (size_t)j * ldb;                                                     \
            vfloat values[VECTORS];                                                                            \
            for (int v = 0; v < VECTORS - 1; v++) values[v] = v_load(values_row + LANES * v);                 \
            values[VECTORS - 1] = v_load_masked(last, values_row + LANES * (VECTORS - 1));                     \
            const float *weights = panel + (size_t)j * CRNN_PANEL_ROWS;                                        \
            _Pragma("clang loop unroll(full)")                                                                 \
            for (int r = 0; r < ROWS; r++) {                                                                   \
                vfloat weight = v_set1(weights[(r / CRNN_PANEL_ROWS) * panel_size + r % CRNN_PANEL_ROWS]);     \
                _Pragma("clang loop unroll(full)")                                                             \
                for (int v = 0; v < VECTORS; v++) acc[r][v] = v_fma(weight, values[v], acc[r][v]);             \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < rows; r++) {                                                                       \
            size_t at = offset + (size_t)r * ldc;                                                              \
            vfloat bias = v_set1(post.bias ? post.bias[row + r] : 0.0f);                                       \
            for (int v = 0; v < VECTORS; v++) {                                                                \
                vfloat value = post.bias ? v_add(acc[r][v], bias) : acc[r][v];                                 \
                finish_output(value, v == VECTORS - 1 ? last : v_all(),                                        \
                              post.residual ? post.residual + at + LANES * v : NULL, post.relu,                \
                              c + at + LANES * v);                                                             \
            }                                                                                                  \
        }                                                                                                      \
    }

// The tiles of each unit: up to three vectors of columns, as many rows as
// the registers hold. A block of c starts on a row that is a multiple of its
// tile's rows, so a tile of fewer rows than a panel never crosses one.
#if LANES == 16
PRODUCT_TILE(8, 1)
PRODUCT_TILE(8, 2)
PRODUCT_TILE(8, 3)
PRODUCT_TILE(24, 1)
#else
PRODUCT_TILE(4, 2)
PRODUCT_TILE(4, 3)
PRODUCT_TILE(8, 1)
#endif

/// Rows [row, row + tile rows) of the block of c whose columns start at
/// `first` and fill `vectors` vectors: runs the tile for them and returns
/// how many rows it covered.
static int product_rows(int m, int row, int vectors, int k, const float *packed, const float *b, int ldb,
                        vmask last, float *c, int ldc, int first, epilogue post) {
    const int left = m - row;
    const float *panel = packed + (size_t)(row / CRNN_PANEL_ROWS) * k * CRNN_PANEL_ROWS + row % CRNN_PANEL_ROWS;
    const size_t offset = (size_t)row * ldc + first;
    b += first;
#define TILE(ROWS, VECTORS)                                                                                     \
    product_tile_##ROWS##_##VECTORS(left < ROWS ? left : ROWS, k, panel, b, ldb, last, c, ldc, row, offset, post); \
    return ROWS
#if LANES == 16
    // One vector of columns: three panels at once, so that 24 sums are in flight.
    if (vectors == 1 && left > 2 * CRNN_PANEL_ROWS) { TILE(24, 1); }
    switch (vectors) {
    case 3: TILE(8, 3);
    case 2: TILE(8, 2);
    default: TILE(8, 1);
    }
#else
    // Half panels for two or three vectors (8 or 12 sums), whole ones for one.
    switch (vectors) {
    case 3: TILE(4, 3);
    case 2: TILE(4, 2);
    default: TILE(8, 1);
    }
#endif
#undef TILE
}

static void packed_product(int m, int n, int k, const float *packed, const float *b, int ldb, float *c, int ldc,
                           epilogue post) {
    // Column blocks of up to three vectors outer, so one block of b (k x 3
    // vectors) stays in cache while every panel of A passes over it.
    enum { BLOCK = 3 * LANES };
    for (int first = 0; first < n; first += BLOCK) {
        int width = n - first < BLOCK ? n - first : BLOCK;
        int vectors = (width + LANES - 1) / LANES;
        vmask last = v_first(width - LANES * (vectors - 1));
        for (int row = 0; row < m;) row += product_rows(m, row, vectors, k, packed, b, ldb, last, c, ldc, first, post);
    }
}

static void crnn_packed_product(int m, int n, int k, const float *packed, const float *b, int ldb, float *c,
                                int ldc) {
    epilogue none = {NULL, NULL, 0};
    packed_product(m, n, k, packed, b, ldb, c, ldc, none);
}

static void crnn_packed_product_epilogue(int m, int n, int k, const float *packed, const float *b, int ldb,
                                         float *c, int ldc, const float *bias, const float *residual, int relu) {
    epilogue post = {bias, residual, relu};
    packed_product(m, n, k, packed, b, ldb, c, ldc, post);
}

// MARK: - Products with a few rows

/// Rows [first_o, first_o + O) of w against rows [first_x, first_x + X) of x
/// (both counts at most the macro's; missing rows read as zeros and are not stored).
#define ROW_PRODUCTS(NAME, O, X)                                                                               \
    static void NAME(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,                \
                     const float *bias, float *y, int ldy, int first_o, int first_x) {                        \
        vfloat acc[O][X];                                                                                      \
        for (int a = 0; a < O; a++)                                                                            \
            for (int b = 0; b < X; b++) acc[a][b] = v_zero();                                                  \
        for (int j = 0; j < k; j += LANES) {                                                                   \
            vmask mask = v_first(k - j);                                                                       \
            vfloat xs[X];                                                                                      \
            for (int b = 0; b < X; b++)                                                                        \
                xs[b] = first_x + b < rows ? v_load_masked(mask, x + (size_t)(first_x + b) * ldx + j) : v_zero(); \
            for (int a = 0; a < O; a++) {                                                                      \
                vfloat ws = first_o + a < m ? v_load_masked(mask, w + (size_t)(first_o + a) * ldw + j) : v_zero(); \
                for (int b = 0; b < X; b++) acc[a][b] = v_fma(ws, xs[b], acc[a][b]);                           \
            }                                                                                                  \
        }                                                                                                      \
        for (int a = 0; a < O && first_o + a < m; a++)                                                         \
            for (int b = 0; b < X && first_x + b < rows; b++)                                                  \
                y[(size_t)(first_x + b) * ldy + first_o + a] =                                                 \
                    (bias ? bias[first_o + a] : 0.0f) + v_reduce_add(acc[a][b]);                               \
    }

/// Rows of x per tile of several rows: 4 x 4 sums on AVX-512, 4 x 2 in AVX2's 16 registers.
#define ROW_TILE_X (LANES == 16 ? 4 : 2)

ROW_PRODUCTS(row_products_single, 8, 1)
ROW_PRODUCTS(row_products_several, 4, ROW_TILE_X)

static void crnn_row_products(int m, int k, const float *w, int ldw, const float *x, int rows, int ldx,
                              const float *bias, float *y, int ldy) {
    if (rows == 1) {
        for (int o = 0; o < m; o += 8) row_products_single(m, k, w, ldw, x, rows, ldx, bias, y, ldy, o, 0);
        return;
    }
    for (int r = 0; r < rows; r += ROW_TILE_X)
        for (int o = 0; o < m; o += 4) row_products_several(m, k, w, ldw, x, rows, ldx, bias, y, ldy, o, r);
}

// MARK: - Transposition

static void crnn_transpose(int rows, int columns, const float *source, int source_stride, float *target,
                           int target_stride) {
    // Each target row (a source column) LANES values at a time, gathered down the source rows.
    const vint lanes = v_lane_offsets(source_stride);
    for (int r = 0; r < rows; r += LANES) {
        vmask mask = v_first(rows - r);
        const float *block = source + (size_t)r * source_stride;
        for (int c = 0; c < columns; c++)
            v_store_masked(target + (size_t)c * target_stride + r, mask, v_gather_masked(mask, block + c, lanes));
    }
}
