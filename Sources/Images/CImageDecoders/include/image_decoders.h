// PNG and JPEG decoding to 8-bit RGB through libpng and libjpeg(-turbo),
// converted as PIL's Image.open(p).convert('RGB') does. These libraries report
// errors with longjmp, which Swift code cannot be jumped over safely, so the
// setjmp/longjmp handling lives here, in C, and callers get a status code and
// a message instead.
#ifndef CRNN_IMAGE_DECODERS_H
#define CRNN_IMAGE_DECODERS_H

#include <stddef.h>
#include <stdint.h>

/// Outcome of a decode.
typedef enum {
    CRNN_IMAGE_OK = 0,
    CRNN_IMAGE_CORRUPT = 1,      // the decoder rejected the data; see message
    CRNN_IMAGE_TOO_LARGE = 2,    // width or height beyond the caller's limit
    CRNN_IMAGE_UNSUPPORTED = 3,  // valid, but a kind this reader does not convert
    CRNN_IMAGE_NO_MEMORY = 4
} crnn_image_status;

/// A decoded image: width x height x 3 bytes, row-major, owned by the caller
/// (free with crnn_image_free).
typedef struct {
    uint32_t width;
    uint32_t height;
    uint8_t *pixels;
    char message[200];  // set when status != OK
    char mode[12];      // what PIL would call the source mode (RGB, RGBA, L, LA, P, I;16, CMYK...)
} crnn_image;

/// Decodes PNG bytes. Sides above max_side are refused before any pixel is allocated.
crnn_image_status crnn_decode_png(const uint8_t *data, size_t size, uint32_t max_side, crnn_image *out);

/// Decodes JPEG bytes (baseline, progressive, greyscale, YCbCr).
crnn_image_status crnn_decode_jpeg(const uint8_t *data, size_t size, uint32_t max_side, crnn_image *out);

/// Frees the pixels of a decoded image.
void crnn_image_free(crnn_image *image);

#endif
