#include <stdio.h> /* jpeglib.h needs FILE and size_t first */
#include <jpeglib.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "codec_message.h"
#include "image_codecs.h"

/* libjpeg's error manager extended with our jump target; the decoder's state that must survive a longjmp
   is kept here rather than in locals. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[IC_MESSAGE_SIZE];
    int status;
    uint8_t *pixels;
} jpeg_context;

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_context *ctx = (jpeg_context *)cinfo->err;
    char text[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, text);
    snprintf(ctx->message, IC_MESSAGE_SIZE, "%s", text);
    longjmp(ctx->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    /* level < 0 is a warning (corrupt or truncated data that libjpeg recovered from); count it, print nothing. */
    if (level < 0) cinfo->err->num_warnings++;
}

int ic_jpeg_decode(const uint8_t *data, size_t length, uint64_t max_pixels, ic_image *out,
                   char message[IC_MESSAGE_SIZE]) {
    if (!data || !out) return ic_fail(message, IC_ERR_ARGUMENT, "no input");
    memset(out, 0, sizeof *out);
    if (length < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
        return ic_fail(message, IC_ERR_DECODE, "not a JPEG signature");

    struct jpeg_decompress_struct cinfo;
    jpeg_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ic_fail(message, IC_ERR_NOMEM, "out of memory");
    cinfo.err = jpeg_std_error(&ctx->base);
    ctx->base.error_exit = on_error_exit;
    ctx->base.emit_message = on_emit_message;
    ctx->status = IC_ERR_DECODE;
    if (setjmp(ctx->jump)) {
        int status = ctx->status;
        ic_fail(message, status, ctx->message);
        jpeg_destroy_decompress(&cinfo);
        free(ctx->pixels);
        free(ctx);
        return status;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)length);
    jpeg_read_header(&cinfo, TRUE);
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        ctx->status = IC_ERR_TOO_LARGE;
        snprintf(ctx->message, IC_MESSAGE_SIZE, "image exceeds the pixel limit");
        longjmp(ctx->jump, 1);
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        ctx->status = IC_ERR_UNSUPPORTED;
        snprintf(ctx->message, IC_MESSAGE_SIZE, "CMYK/YCCK JPEG is not supported");
        longjmp(ctx->jump, 1);
    }
    cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);

    uint32_t channels = (uint32_t)cinfo.output_components;
    size_t row_bytes = (size_t)cinfo.output_width * channels;
    ctx->pixels = malloc(row_bytes * cinfo.output_height);
    if (!ctx->pixels) {
        ctx->status = IC_ERR_NOMEM;
        snprintf(ctx->message, IC_MESSAGE_SIZE, "out of memory");
        longjmp(ctx->jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = ctx->pixels + row_bytes * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);

    out->width = cinfo.output_width;
    out->height = cinfo.output_height;
    out->channels = channels;
    out->bit_depth = 8;
    out->pixels = ctx->pixels;
    out->warnings = (uint32_t)ctx->base.num_warnings;
    jpeg_destroy_decompress(&cinfo);
    free(ctx);
    return IC_OK;
}
