// Shared between the CDicom translation units; not part of the public C API.
#ifndef CDICOM_INTERNAL_H
#define CDICOM_INTERNAL_H

#include "cdicom.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"

#include <string>
#include <vector>

struct cdicom_file {
    DcmFileFormat format;
    int memoryFile = -1;         // memfd behind cdicom_open_memory; DCMTK re-reads large values from it
    uint64_t sourceBytes = 0;    // size of the file read; no value can be longer
    int64_t fragmentBytes = -1;  // pixel fragments' declared lengths summed, once: frames are decoded one by one
    ~cdicom_file();
    std::string transferSyntax;  // UID from the meta header, or the detected syntax for bare datasets
    std::string warning;         // set when the object was only readable leniently
};

namespace cdicom {

int fail(cdicom_status *status, cdicom_reason reason, const std::string &message);
void ok(cdicom_status *status);
DcmDataset *dataset(cdicom_file *file);
/// Resolves a nested path to an element, or nullptr when any step is absent.
DcmElement *find(cdicom_file *file, cdicom_path path);
Uint16 u16(DcmItem *item, const DcmTagKey &key, Uint16 fallback);

/// Decodes one JPEG 2000 (Part 1 or HTJ2K) codestream into planar floats [sample][row][col].
/// Returns the number of components decoded, or 0 with a message on failure.
int decodeJPEG2000(const std::vector<Uint8> &codestream, uint32_t rows, uint32_t cols, uint32_t samples,
                   float *out, std::string &error);

bool isJPEG2000(const std::string &transferSyntax);

/// The encapsulated pixel data sequence of the original transfer syntax, or nullptr.
DcmPixelSequence *pixelSequence(DcmPixelData *pixels);
/// Concatenates the fragments of one frame (see fragments.cpp for how frames are found).
bool collectFrame(DcmPixelSequence *sequence, uint32_t frame, uint32_t frames, std::vector<Uint8> &bytes);
/// Checks an RLE frame's segment table against the frame's length.
bool validRLEHeader(const std::vector<Uint8> &frame, std::string &error);

/// How native samples are laid out in a frame buffer.
struct Layout {
    uint32_t rows, cols, samples, bitsAllocated, bitsStored, highBit;
    bool isSigned, planar;
};

/// Byte-aligned samples (8, 16, 32 bits) to planar floats: shifted to the high bit, masked, sign-extended.
void unpack(const Uint8 *raw, const Layout &layout, float *out);
/// Native YBR_FULL_422 (Y1 Y2 Cb Cr per pixel pair) to full-resolution planar YBR.
void upsample422(const Uint8 *raw, const Layout &layout, float *out);
/// 1-bit samples of frame `frame`, which may start mid-byte.
int decodeBits(DcmPixelData *pixels, uint32_t frame, const Layout &layout, float *out, cdicom_status *status);

}  // namespace cdicom

#endif
