// What the kernel bodies (*_body.h) share whatever the instruction set:
// walking a run of tiles or positions row by row. Internal to
// CVectorKernels (not in include/).
#ifndef CRNN_KERNEL_COMMON_H
#define CRNN_KERNEL_COMMON_H

#include <stddef.h>

#include "vector_kernels.h"

/// The piece of one row that a run [index, end) of row-major positions
/// (rows of `row_length`) covers from `index` on: columns [first, end) of row
/// `row`. The kernels that take runs of tiles or positions walk them row by
/// row: index += piece.end - piece.first.
typedef struct {
    int row, first, end;
} row_piece;

static inline row_piece row_piece_at(int index, int end, int row_length) {
    row_piece piece = {index / row_length, index % row_length, 0};
    piece.end = row_length < piece.first + (end - index) ? row_length : piece.first + (end - index);
    return piece;
}

#endif
