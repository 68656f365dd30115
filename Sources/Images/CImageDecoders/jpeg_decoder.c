#include "image_decoders.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
} error_manager;

static void on_error(j_common_ptr info) {
    error_manager *manager = (error_manager *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    snprintf(manager->message, 200, "%s", text);
    longjmp(manager->jump, 1);
}

// Counts warnings (level -1) as libjpeg's default does, without printing them.
static void on_message(j_common_ptr info, int level) {
    if (level < 0) info->err->num_warnings++;
}

crnn_image_status crnn_decode_jpeg(const uint8_t *data, size_t size, uint32_t max_side, crnn_image *out) {
    memset(out, 0, sizeof(*out));
    struct jpeg_decompress_struct info;
    error_manager manager;
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = on_error;
    manager.base.emit_message = on_message;
    manager.message = out->message;
    uint8_t *volatile row = NULL;
    volatile crnn_image_status status = CRNN_IMAGE_CORRUPT;
    if (setjmp(manager.jump)) {
        free(row);
        free(out->pixels);
        out->pixels = NULL;
        jpeg_destroy_decompress(&info);
        return status;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, (const unsigned char *)data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.image_width == 0 || info.image_height == 0 || info.image_width > max_side || info.image_height > max_side) {
        status = CRNN_IMAGE_TOO_LARGE;
        snprintf(out->message, 200, "%ux%u pixels, over the limit of %u per side", info.image_width, info.image_height, max_side);
        longjmp(manager.jump, 1);
    }
    // PIL reads YCbCr as RGB and greyscale as L (replicated by convert('RGB')),
    // with libjpeg's defaults: JDCT_ISLOW and fancy upsampling.
    if (info.jpeg_color_space == JCS_GRAYSCALE) {
        info.out_color_space = JCS_GRAYSCALE;
        snprintf(out->mode, sizeof(out->mode), "L");
    } else if (info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB) {
        info.out_color_space = JCS_RGB;
        snprintf(out->mode, sizeof(out->mode), "RGB");
    } else {
        status = CRNN_IMAGE_UNSUPPORTED;
        snprintf(out->message, 200, "a %s JPEG; only greyscale and colour (YCbCr/RGB) JPEGs are read",
                 info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK ? "CMYK" : "multi-channel");
        longjmp(manager.jump, 1);
    }
    info.dct_method = JDCT_ISLOW;
    info.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&info);
    uint32_t width = info.output_width, height = info.output_height;
    int components = info.output_components;
    out->width = width;
    out->height = height;
    out->pixels = malloc((size_t)width * height * 3);
    row = malloc((size_t)width * components);
    if (!out->pixels || !row) {
        status = CRNN_IMAGE_NO_MEMORY;
        snprintf(out->message, 200, "out of memory for %ux%u pixels", width, height);
        longjmp(manager.jump, 1);
    }
    while (info.output_scanline < height) {
        uint32_t y = info.output_scanline;
        JSAMPROW rows[1] = {row};
        if (jpeg_read_scanlines(&info, rows, 1) != 1) {
            snprintf(out->message, 200, "decoder stopped at row %u of %u", y, height);
            longjmp(manager.jump, 1);
        }
        // Data run out: libjpeg pads the rest with grey and warns, and PIL
        // refuses the file; stop at once instead of filling every row left.
        if (info.err->num_warnings > 0) {
            snprintf(out->message, 200, "damaged or truncated JPEG data");
            longjmp(manager.jump, 1);
        }
        uint8_t *target = out->pixels + (size_t)y * width * 3;
        if (components == 1) {
            for (uint32_t x = 0; x < width; x++) target[3 * x] = target[3 * x + 1] = target[3 * x + 2] = row[x];
        } else {
            memcpy(target, row, (size_t)width * 3);
        }
    }
    jpeg_finish_decompress(&info);
    free(row);
    jpeg_destroy_decompress(&info);
    return CRNN_IMAGE_OK;
}
