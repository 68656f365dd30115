#include "image_decoders.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    char *message;
} png_source;

static void read_bytes(png_structp png, png_bytep out, png_size_t count) {
    png_source *source = (png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) {
        png_error(png, "file ends before the image does");
    }
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

static void on_error(png_structp png, png_const_charp text) {
    png_source *source = (png_source *)png_get_error_ptr(png);
    snprintf(source->message, 200, "%s", text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

crnn_image_status crnn_decode_png(const uint8_t *data, size_t size, uint32_t max_side, crnn_image *out) {
    memset(out, 0, sizeof(*out));
    png_source source = {data, size, 0, out->message};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, on_error, on_warning);
    if (!png) return CRNN_IMAGE_NO_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return CRNN_IMAGE_NO_MEMORY;
    }
    // Volatile: they change after setjmp and are read after a longjmp.
    uint8_t *volatile rows16 = NULL;
    png_bytep *volatile row_pointers = NULL;
    volatile crnn_image_status status = CRNN_IMAGE_CORRUPT;
    if (setjmp(png_jmpbuf(png))) {
        free(rows16);
        free(row_pointers);
        free(out->pixels);
        out->pixels = NULL;
        png_destroy_read_struct(&png, &info, NULL);
        return status;
    }
    png_set_read_fn(png, &source, read_bytes);
    // libpng's own limit would refuse a wide IHDR as "Invalid IHDR data": let it read any size
    // PNG allows (2^31 - 1) and refuse one over max_side below, before any pixel is allocated,
    // with the same "too large" line as a JPEG gets. png_read_info allocates nothing per pixel.
    png_set_user_limits(png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info);
    int color = png_get_color_type(png, info);
    if (width == 0 || height == 0 || width > max_side || height > max_side) {
        status = CRNN_IMAGE_TOO_LARGE;
        snprintf(out->message, 200, "%ux%u pixels, over the limit of %u per side", width, height, max_side);
        png_longjmp(png, 1);
    }
    out->width = width;
    out->height = height;
    // PIL's modes: grey 16-bit opens as I;16 and convert('RGB') clips each
    // value to 255; every other 16-bit kind keeps the high byte of each
    // sample ("RGB;16B" and the like). Alpha is dropped, never composited,
    // palettes are expanded ignoring tRNS, and no gamma is applied.
    int grey16 = (color == PNG_COLOR_TYPE_GRAY && depth == 16);
    const char *mode = color == PNG_COLOR_TYPE_GRAY ? (grey16 ? "I;16" : (depth == 1 ? "1" : "L"))
                     : color == PNG_COLOR_TYPE_GRAY_ALPHA ? "LA"
                     : color == PNG_COLOR_TYPE_PALETTE ? "P"
                     : color == PNG_COLOR_TYPE_RGB_ALPHA ? "RGBA" : "RGB";
    snprintf(out->mode, sizeof(out->mode), "%s", mode);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16 && !grey16) png_set_strip_16(png);
    if (grey16) png_set_swap(png);  // little-endian 16-bit samples for the clip below
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        if (!grey16) png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    int channels = png_get_channels(png, info);
    size_t pixels = (size_t)width * height;
    out->pixels = malloc(pixels * 3);
    rows16 = malloc(rowbytes * height);
    row_pointers = malloc(sizeof(png_bytep) * height);
    if (!out->pixels || !rows16 || !row_pointers) {
        status = CRNN_IMAGE_NO_MEMORY;
        snprintf(out->message, 200, "out of memory for %ux%u pixels", width, height);
        png_longjmp(png, 1);
    }
    for (png_uint_32 y = 0; y < height; y++) row_pointers[y] = rows16 + y * rowbytes;
    png_read_image(png, row_pointers);
    png_read_end(png, NULL);
    for (png_uint_32 y = 0; y < height; y++) {
        const uint8_t *row = rows16 + y * rowbytes;
        uint8_t *target = out->pixels + (size_t)y * width * 3;
        for (png_uint_32 x = 0; x < width; x++) {
            if (grey16) {
                unsigned value = row[2 * x] | ((unsigned)row[2 * x + 1] << 8);
                uint8_t clipped = value > 255 ? 255 : (uint8_t)value;
                target[3 * x] = target[3 * x + 1] = target[3 * x + 2] = clipped;
            } else if (channels == 4) {  // palette with tRNS expands to RGBA
                memcpy(target + 3 * x, row + 4 * x, 3);
            } else {
                memcpy(target + 3 * x, row + 3 * x, 3);
            }
        }
    }
    free(rows16);
    free(row_pointers);
    png_destroy_read_struct(&png, &info, NULL);
    return CRNN_IMAGE_OK;
}

void crnn_image_free(crnn_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
