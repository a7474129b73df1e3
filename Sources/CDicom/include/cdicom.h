// CDicom: a small C API over DCMTK (and OpenJPEG for JPEG 2000 / HTJ2K).
// Every entry point catches C++ exceptions and reports failures through cdicom_status; none aborts.
#ifndef CDICOM_H
#define CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Stable reason codes; MedImaging maps them to IntakeError.Reason.
typedef enum {
    CDICOM_OK = 0,
    CDICOM_IO_ERROR = 1,
    CDICOM_NOT_DICOM = 2,
    CDICOM_TRUNCATED = 3,
    CDICOM_UNSUPPORTED_TRANSFER_SYNTAX = 4,
    CDICOM_UNSUPPORTED_PIXEL_FORMAT = 5,
    CDICOM_NO_PIXEL_DATA = 6,
    CDICOM_DECODE_FAILED = 7,
    CDICOM_NOT_FOUND = 8,
    CDICOM_INVALID_ARGUMENT = 9,
} cdicom_reason;

typedef struct {
    cdicom_reason reason;
    char message[256];
} cdicom_status;

typedef struct cdicom_file cdicom_file;

/// Opens a DICOM file (Part 10 with meta header, or a bare dataset in implicit VR little endian).
/// Large element values (pixel data) are left on disk until a frame is decoded.
cdicom_file *cdicom_open_file(const char *path, cdicom_status *status);
/// Parses a DICOM stream held in memory (used by the fuzzing harness and for in-memory inputs).
cdicom_file *cdicom_open_memory(const uint8_t *data, size_t length, cdicom_status *status);
void cdicom_close(cdicom_file *file);

/// A path to an attribute, possibly nested in sequences: tags[i] are (group << 16 | element); for every tag
/// but the last, items[i] names the sequence item to descend into.
typedef struct {
    const uint32_t *tags;
    const uint32_t *items;
    size_t depth;
} cdicom_path;

/// Copies the whole value of a string-like attribute (multiple values separated by '\\'), NUL-terminated.
/// Returns the full length of the value, or -1 when absent. Numbers (US, SS, UL, FL, FD, ...) are formatted.
long cdicom_get_string(cdicom_file *file, cdicom_path path, char *buffer, size_t capacity);
/// Number of items in the sequence at `path`, or -1 when absent.
long cdicom_sequence_count(cdicom_file *file, cdicom_path path);
/// Copies a 16-bit array value (US/SS/OW, e.g. LUT data); returns its element count, or -1 when absent.
long cdicom_get_u16_array(cdicom_file *file, cdicom_path path, uint16_t *buffer, size_t capacity);

/// Transfer syntax UID that the dataset was read in (the meta header's, or the detected one).
void cdicom_transfer_syntax(cdicom_file *file, char *buffer, size_t capacity);

/// Non-empty when the object could only be parsed by recovering from an error (the text says which).
void cdicom_parse_warning(cdicom_file *file, char *buffer, size_t capacity);

typedef struct {
    uint32_t rows, cols, frames, samples;
    uint16_t bits_allocated, bits_stored, high_bit, pixel_representation, planar_configuration;
    /// Photometric interpretation of the samples that cdicom_decode_frame returns (a JPEG decoder may have
    /// converted YBR to RGB, in which case this differs from the header's).
    char photometric[32];
    int encapsulated;
    /// 32 or 64 when the image is Float / Double Float Pixel Data (parametric maps), else 0.
    int float_bits;
} cdicom_pixel_info;

/// Reads the image pixel module. Fails with NO_PIXEL_DATA when the dataset has no pixel data.
int cdicom_get_pixel_info(cdicom_file *file, cdicom_pixel_info *info, cdicom_status *status);

/// Decodes frame `frame` to stored values as floats (signed values sign-extended from BitsStored), planar
/// layout [sample][row][col]. `out` must hold rows*cols*samples floats. No rescale, LUT or inversion is
/// applied here: MedImaging does that with the per-frame metadata.
int cdicom_decode_frame(cdicom_file *file, uint32_t frame, float *out, size_t count, cdicom_status *status);

#ifdef __cplusplus
}
#endif
#endif
