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

/// How far ahead (steps of k) the tiles prefetch their rows of A: weights too
/// large for L2 arrive from L3 or memory, where each load would wait (the
/// model's trunk reads about 27 MB of weights per image).
#define PRODUCT_PREFETCH 32

/// One ROWS x (LANES * VECTORS) block of c (`rows` of its rows and the lanes
/// of `last` in its last vector are stored) from the packed rows at
/// `weights_at[r]` (one address per row of the block), `row` being the
/// block's first row of c, for the bias. ROWS * VECTORS accumulators stay in
/// registers (at most 24 of AVX-512's 32, 12 of AVX2's 16). `full` says
/// that the last vector is whole (`last` has every lane): its loads are then
/// plain ones where a masked load costs more (AVX2's VMASKMOVPS; the body is
/// inlined twice, with `full` a constant).
#define PRODUCT_TILE_BODY(ROWS, VECTORS)                                                                      \
    static inline __attribute__((always_inline)) void product_tile_body_##ROWS##_##VECTORS(                   \
        int full, int rows, int k, const float *const weights_at[ROWS], const float *b, int ldb, vmask last,   \
        float *c, int ldc, int row, size_t offset, epilogue post) {                                           \
        vfloat acc[ROWS][VECTORS];                                                                             \
        for (int r = 0; r < ROWS; r++)                                                                         \
            for (int v = 0; v < VECTORS; v++) acc[r][v] = v_zero();                                            \
        for (int j = 0; j < k; j++) {                                                                          \
            const float *values_row = b + (size_t)j * ldb;                                                     \
            /* Each 8 rows' line of A PRODUCT_PREFETCH steps of k ahead. */                                     \
            for (int r = 0; r < ROWS; r += 8)                                                                  \
                v_prefetch(weights_at[r] + (size_t)(j + PRODUCT_PREFETCH) * CRNN_PANEL_ROWS);                  \
            vfloat values[VECTORS];                                                                            \
            for (int v = 0; v < VECTORS - 1; v++) values[v] = v_load(values_row + LANES * v);                 \
            values[VECTORS - 1] = full ? v_load(values_row + LANES * (VECTORS - 1))                           \
                                       : v_load_masked(last, values_row + LANES * (VECTORS - 1));             \
            _Pragma("clang loop unroll(full)")                                                                 \
            for (int r = 0; r < ROWS; r++) {                                                                   \
                vfloat weight = v_set1(weights_at[r][(size_t)j * CRNN_PANEL_ROWS]);                           \
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

/// The tile of ROWS rows of c from `row` on, of the matrix packed at
/// `packed` (k columns, `padded_rows` rows in its panels). ALIGNED: `row` is
/// a multiple of ROWS and ROWS divides CRNN_PANEL_ROWS, so every row of the
/// tile lies inside the panels (the 8-row tiles: half a panel); otherwise
/// rows past the panels read the first row (not stored).
#define PRODUCT_TILE(ROWS, VECTORS, ALIGNED)                                                                  \
    PRODUCT_TILE_BODY(ROWS, VECTORS)                                                                          \
    static void product_tile_##ROWS##_##VECTORS(int full, int rows, int k, const float *packed, int row,       \
                                                int padded_rows, const float *b, int ldb, vmask last,          \
                                                float *c, int ldc, size_t offset, epilogue post) {            \
        const size_t panel_size = (size_t)k * CRNN_PANEL_ROWS;                                                 \
        const float *weights_at[ROWS];                                                                         \
        for (int r = 0; r < ROWS; r++) {                                                                       \
            int at = ALIGNED ? row + r : row + r < padded_rows ? row + r : row;                                \
            weights_at[r] = packed + (size_t)(at / CRNN_PANEL_ROWS) * panel_size + at % CRNN_PANEL_ROWS;        \
        }                                                                                                      \
        if (CRNN_MASKED_LOADS_COST && full)                                                                    \
            product_tile_body_##ROWS##_##VECTORS(1, rows, k, weights_at, b, ldb, last, c, ldc, row, offset, post); \
        else                                                                                                   \
            product_tile_body_##ROWS##_##VECTORS(0, rows, k, weights_at, b, ldb, last, c, ldc, row, offset, post); \
    }

// The tiles of each unit, as many rows as the registers hold: AVX-512 8 rows
// (half a panel) by up to three vectors of columns, and the narrow blocks
// below for blocks of one vector; AVX2 6 rows (anywhere in the panels) by two
// vectors, the Haswell sgemm kernels' shape (12 sums, the two vectors of b
// and one broadcast: 15 of the 16 registers), or 8 rows of one vector.
#if LANES == 16
enum { BLOCK_VECTORS = 3 };
PRODUCT_TILE(8, 1, 1)
PRODUCT_TILE(8, 2, 1)
PRODUCT_TILE(8, 3, 1)
#else
enum { BLOCK_VECTORS = 2 };
PRODUCT_TILE(6, 2, 0)
PRODUCT_TILE(8, 1, 1)
#endif

/// Rows [row, row + tile rows) of the block of c whose columns start at
/// `first` and fill `vectors` vectors (the last one whole when `full`):
/// runs the tile for them and returns how many rows it covered.
static int product_rows(int m, int row, int vectors, int full, int k, const float *packed, const float *b, int ldb,
                        vmask last, float *c, int ldc, int first, epilogue post) {
    const int left = m - row;
    const int padded_rows = (m + CRNN_PANEL_ROWS - 1) / CRNN_PANEL_ROWS * CRNN_PANEL_ROWS;
    const size_t offset = (size_t)row * ldc + first;
    b += first;
#define TILE(ROWS, VECTORS)                                                                                     \
    product_tile_##ROWS##_##VECTORS(full, left < ROWS ? left : ROWS, k, packed, row, padded_rows, b, ldb, last, c, \
                                    ldc, offset, post);                                                        \
    return ROWS
#if LANES == 16
    // One vector of columns reaches here only for m <= CRNN_PANEL_ROWS (wider m
    // takes the narrow blocks).
    switch (vectors) {
    case 3: TILE(8, 3);
    case 2: TILE(8, 2);
    default: TILE(8, 1);
    }
#else
    (void)padded_rows;
    if (vectors == 2) { TILE(6, 2); }
    TILE(8, 1);
#endif
#undef TILE
}

#if LANES == 16
// MARK: - Narrow products

/// Stores the rows x columns block `sums` (column q's sums at sums + q *
/// 2 * LANES, one per row) into c from `row` on (c already at the block's
/// first column), through the epilogue: each row of c gathered into one
/// vector and finished as the column-vectorised tiles finish theirs.
static void store_narrow(int rows, int columns, const float *sums, float *c, int ldc, int row, epilogue post) {
    const vint columns_apart = v_lane_offsets(2 * LANES);
    const vmask mask = v_first(columns);
    for (int r = 0; r < rows; r++) {
        vfloat value = v_gather_masked(mask, sums + r, columns_apart);
        if (post.bias) value = v_add(value, v_set1(post.bias[row + r]));
        finish_output(value, mask, post.residual ? post.residual + (size_t)r * ldc : NULL, post.relu,
                      c + (size_t)r * ldc);
    }
}

/// Products of few columns (a column block of at most one vector, or half of
/// a thin, deep product: see packed_product): vectorised
/// over rows instead, 2 panels (32 rows of c) by NC columns, 2 * NC sums in
/// registers (at most 28 of the 32), each the same FMA chain over k, in
/// order, as the column-vectorised tiles compute (so the result does not
/// depend on the path). Per step of k: two vector loads of A and NC
/// broadcasts of b for 2 * NC multiply-adds, where a tile one vector wide
/// needs a broadcast per multiply-add and leaves the lanes past n idle.
/// `second` is the second panel (the first again when only `rows` <= 16
/// rows are left: computed, not stored).
#define NARROW_TILE(NC)                                                                                       \
    static void narrow_tile_##NC(int rows, int k, const float *first, const float *second, const float *b,   \
                                 int ldb, float *c, int ldc, int row, epilogue post) {                       \
        vfloat upper[NC], lower[NC];                                                                          \
        for (int q = 0; q < NC; q++) upper[q] = lower[q] = v_zero();                                          \
        for (int j = 0; j < k; j++) {                                                                         \
            const vfloat a0 = v_load(first + (size_t)j * CRNN_PANEL_ROWS);                                    \
            const vfloat a1 = v_load(second + (size_t)j * CRNN_PANEL_ROWS);                                   \
            /* The panels' lines PRODUCT_PREFETCH steps of k ahead (one line per step). */                       \
            v_prefetch(first + (size_t)(j + PRODUCT_PREFETCH) * CRNN_PANEL_ROWS);                               \
            v_prefetch(second + (size_t)(j + PRODUCT_PREFETCH) * CRNN_PANEL_ROWS);                              \
            const float *values = b + (size_t)j * ldb;                                                        \
            _Pragma("clang loop unroll(full)")                                                                \
            for (int q = 0; q < NC; q++) {                                                                    \
                const vfloat value = v_set1(values[q]);                                                       \
                upper[q] = v_fma(a0, value, upper[q]);                                                        \
                lower[q] = v_fma(a1, value, lower[q]);                                                        \
            }                                                                                                 \
        }                                                                                                     \
        float sums[NC][2 * LANES];                                                                            \
        for (int q = 0; q < NC; q++) {                                                                        \
            v_store_masked(sums[q], v_all(), upper[q]);                                                       \
            v_store_masked(sums[q] + LANES, v_all(), lower[q]);                                               \
        }                                                                                                     \
        store_narrow(rows, NC, &sums[0][0], c, ldc, row, post);                                               \
    }

NARROW_TILE(1)
NARROW_TILE(2)
NARROW_TILE(3)
NARROW_TILE(4)
NARROW_TILE(5)
NARROW_TILE(6)
NARROW_TILE(7)
NARROW_TILE(8)
NARROW_TILE(9)
NARROW_TILE(10)
NARROW_TILE(11)
NARROW_TILE(12)
NARROW_TILE(13)
NARROW_TILE(14)

/// The largest NARROW_TILE.
enum { NARROW_COLUMNS = 14 };

/// The depth (k) from which products of up to 2 * NARROW_COLUMNS columns
/// take two narrow blocks (see packed_product).
enum { NARROW_DEEP = 256 };

typedef void (*narrow_tile_function)(int, int, const float *, const float *, const float *, int, float *, int, int,
                                     epilogue);
static const narrow_tile_function narrow_tiles[NARROW_COLUMNS + 1] = {
    NULL, narrow_tile_1, narrow_tile_2, narrow_tile_3, narrow_tile_4, narrow_tile_5, narrow_tile_6, narrow_tile_7,
    narrow_tile_8, narrow_tile_9, narrow_tile_10, narrow_tile_11, narrow_tile_12, narrow_tile_13, narrow_tile_14,
};

/// The columns [0, width) of c (width <= LANES; b and c at the block's first
/// column) for every row, 32 rows at a time; 15 or 16 columns in two halves.
static void narrow_block(int m, int width, int k, const float *packed, const float *b, int ldb, float *c, int ldc,
                         epilogue post) {
    const size_t panel_size = (size_t)k * CRNN_PANEL_ROWS;
    const int halves = width > NARROW_COLUMNS ? 2 : 1;
    for (int row = 0; row < m; row += 2 * CRNN_PANEL_ROWS) {
        const int rows = m - row < 2 * CRNN_PANEL_ROWS ? m - row : 2 * CRNN_PANEL_ROWS;
        const float *first = packed + (size_t)(row / CRNN_PANEL_ROWS) * panel_size;
        const float *second = rows > CRNN_PANEL_ROWS ? first + panel_size : first;
        // With the residual and c at this block's rows.
        epilogue here = post;
        if (post.residual) here.residual = post.residual + (size_t)row * ldc;
        for (int half = 0, done = 0; half < halves; half++) {
            const int columns = halves == 1 ? width : half == 0 ? width / 2 : width - width / 2;
            narrow_tiles[columns](rows, k, first, second, b + done, ldb, c + (size_t)row * ldc + done, ldc, row, here);
            if (here.residual) here.residual += columns;
            done += columns;
        }
    }
}
#endif

static void packed_product(int m, int n, int k, const float *packed, const float *b, int ldb, float *c, int ldc,
                           epilogue post) {
    // Column blocks of up to BLOCK_VECTORS vectors outer, so one block of b
    // stays in cache while every panel of A passes over it.
    enum { BLOCK = BLOCK_VECTORS * LANES };
#if LANES == 16
    // Thin and deep (at most two narrow blocks of columns, k of a few hundred
    // or more): two narrow blocks, each reading all of A (the second from L2),
    // beat one block of two vectors, whose 8-row tiles take a broadcast of A
    // per row and step and leave 4 to 15 of their 32 lanes idle.
    // Measured in the forward pass (Xeon model 207, AVX-512): layer 3's
    // stride-2 convolution on a team of two (26 positions a member, k 1152)
    // 255 -> 194 us (median of 1500 images, alternating image by image with
    // the old path), its Winograd convolutions at batch two (28 tiles, k 256)
    // 321 -> 285 us (least of 30 rounds); at k 64 and 128 (layers 1 and 2)
    // the gathers that store a narrow block cost more than they save.
    if (m > CRNN_PANEL_ROWS && n > LANES && n <= 2 * NARROW_COLUMNS && k >= NARROW_DEEP) {
        const int half = n / 2;
        epilogue second = post;
        if (post.residual) second.residual = post.residual + half;
        narrow_block(m, half, k, packed, b, ldb, c, ldc, post);
        narrow_block(m, n - half, k, packed, b + half, ldb, c + half, ldc, second);
        return;
    }
#endif
    for (int first = 0; first < n; first += BLOCK) {
        int width = n - first < BLOCK ? n - first : BLOCK;
#if LANES == 16
        // A block of at most one vector, on enough rows to fill the narrow tiles.
        if (width <= LANES && m > CRNN_PANEL_ROWS) {
            epilogue here = post;
            if (post.residual) here.residual = post.residual + first;
            narrow_block(m, width, k, packed, b + first, ldb, c + first, ldc, here);
            continue;
        }
#endif
        int vectors = (width + LANES - 1) / LANES;
        vmask last = v_first(width - LANES * (vectors - 1));
        int full = width == LANES * vectors;
        for (int row = 0; row < m;)
            row += product_rows(m, row, vectors, full, k, packed, b, ldb, last, c, ldc, first, post);
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
