// Native sample layouts to planar floats: byte-aligned samples, YBR_FULL_422 pairs and 1-bit data.
#include "internal.h"

#include <cstring>

namespace cdicom {

// Stored value of sample `index` in a byte-aligned buffer: shift to the high bit, mask, sign-extend.
void unpack(const Uint8 *raw, const Layout &layout, float *out) {
    const size_t pixels = size_t(layout.rows) * layout.cols;
    const uint32_t bits = layout.bitsStored;
    const uint32_t shift = layout.highBit + 1 >= bits ? layout.highBit + 1 - bits : 0;
    const uint64_t mask = bits >= 32 ? 0xFFFFFFFFull : (1ull << bits) - 1;
    const uint64_t sign = 1ull << (bits - 1);
    for (uint32_t s = 0; s < layout.samples; ++s) {
        float *plane = out + s * pixels;
        for (size_t p = 0; p < pixels; ++p) {
            const size_t index = layout.planar ? s * pixels + p : p * layout.samples + s;
            uint64_t v;
            switch (layout.bitsAllocated) {
                case 8: v = raw[index]; break;
                case 16: { Uint16 w; std::memcpy(&w, raw + 2 * index, 2); v = w; break; }
                default: { Uint32 w; std::memcpy(&w, raw + 4 * index, 4); v = w; break; }
            }
            v = (v >> shift) & mask;
            plane[p] = layout.isSigned && (v & sign) ? float(int64_t(v) - int64_t(mask) - 1) : float(v);
        }
    }
}

// Native YBR_FULL_422: each pair of pixels is stored as Y1 Y2 Cb Cr; chroma is repeated for both pixels.
void upsample422(const Uint8 *raw, const Layout &layout, float *out) {
    const size_t pixels = size_t(layout.rows) * layout.cols;
    for (size_t p = 0; p < pixels; p += 2) {
        const Uint8 *group = raw + 2 * p;
        out[p] = group[0];
        if (p + 1 < pixels) out[p + 1] = group[1];
        for (int c = 1; c <= 2; ++c) {
            out[c * pixels + p] = group[1 + c];
            if (p + 1 < pixels) out[c * pixels + p + 1] = group[1 + c];
        }
    }
}

int decodeBits(DcmPixelData *pixels, uint32_t frame, const Layout &layout, float *out, cdicom_status *status) {
    Uint8 *bytes = nullptr;
    if (pixels->getUint8Array(bytes).bad() || !bytes) return fail(status, CDICOM_NO_PIXEL_DATA, "pixel data unreadable");
    const size_t perFrame = size_t(layout.rows) * layout.cols * layout.samples;
    const size_t firstBit = perFrame * frame;
    if ((firstBit + perFrame + 7) / 8 > pixels->getLength())
        return fail(status, CDICOM_TRUNCATED, "1-bit pixel data shorter than Rows x Columns x Frames");
    for (size_t i = 0; i < perFrame; ++i) {
        const size_t bit = firstBit + i;
        out[i] = float((bytes[bit / 8] >> (bit % 8)) & 1);
    }
    return 1;
}

}  // namespace cdicom
