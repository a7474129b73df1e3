#ifndef IMAGE_CODECS_H
#define IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes. libpng and libjpeg report errors by longjmp, which Swift cannot catch: every entry point here
   sets its own jump target, so a corrupt or hostile file ends in one of these codes, never in abort(). */
typedef enum {
    IC_OK = 0,
    IC_ERR_DECODE = 1,      /* the codec rejected the data (corrupt, truncated header, bad CRC) */
    IC_ERR_UNSUPPORTED = 2, /* valid, but a layout we do not read (CMYK JPEG, 12-bit JPEG) */
    IC_ERR_TOO_LARGE = 3,   /* width * height over the caller's pixel limit */
    IC_ERR_NOMEM = 4,
    IC_ERR_ARGUMENT = 5     /* bad arguments from the caller */
} ic_status;

/* A decoded image: rows top to bottom, channels interleaved; 16-bit samples in native byte order. */
typedef struct {
    uint32_t width;
    uint32_t height;
    uint32_t channels;  /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
    uint32_t bit_depth; /* 8 or 16 */
    void *pixels;       /* malloc'ed; release with ic_image_free */
    uint32_t warnings;  /* recoverable problems the codec reported (e.g. premature end of JPEG data) */
} ic_image;

enum { IC_MESSAGE_SIZE = 256 };

/* Decodes a PNG (any bit depth and colour type; palette, low-bit grey and tRNS are expanded, 16-bit kept).
   `max_pixels` bounds width * height before anything is allocated. */
int ic_png_decode(const uint8_t *data, size_t length, uint64_t max_pixels, ic_image *out,
                  char message[IC_MESSAGE_SIZE]);

/* Decodes a baseline or progressive 8-bit JPEG to grey (1 channel) or RGB (3 channels). */
int ic_jpeg_decode(const uint8_t *data, size_t length, uint64_t max_pixels, ic_image *out,
                   char message[IC_MESSAGE_SIZE]);

void ic_image_free(ic_image *image);

/* Encodes `pixels` (rows top to bottom, interleaved) as PNG: 8-bit with 1, 3 or 4 channels, or 16-bit grey
   (native byte order). On success *out_data is malloc'ed; release with ic_buffer_free. */
int ic_png_encode(const void *pixels, uint32_t width, uint32_t height, uint32_t channels, uint32_t bit_depth,
                  uint8_t **out_data, size_t *out_length, char message[IC_MESSAGE_SIZE]);

void ic_buffer_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif
