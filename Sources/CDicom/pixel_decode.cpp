// The image pixel module: geometry of the stored samples and frame decoding to stored values.
#include "internal.h"

#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"

#include <cstring>
#include <memory>

using namespace cdicom;

namespace {

const char *kDeflatedImageFrame = "1.2.840.10008.1.2.8.1";

bool isBigEndian(const std::string &ts) { return ts == "1.2.840.10008.1.2.2"; }
bool isRLE(const std::string &ts) { return ts == "1.2.840.10008.1.2.5"; }
bool isEncapsulatedSyntax(const std::string &ts) {
    return ts.rfind("1.2.840.10008.1.2.4.", 0) == 0 || isRLE(ts) || ts == kDeflatedImageFrame;
}

DcmPixelData *pixelData(cdicom_file *file) {
    DcmElement *element = nullptr;
    DcmDataset *data = dataset(file);
    if (!data || data->findAndGetElement(DCM_PixelData, element).bad() || !element) return nullptr;
    return element->ident() == EVR_PixelData ? static_cast<DcmPixelData *>(element) : nullptr;
}

// Float Pixel Data (OF) or Double Float Pixel Data (OD), as parametric maps carry; bits is 32 or 64.
DcmElement *floatPixels(cdicom_file *file, int &bits) {
    DcmElement *element = nullptr;
    DcmDataset *data = dataset(file);
    bits = 0;
    if (data && data->findAndGetElement(DCM_FloatPixelData, element).good() && element && element->getLength() > 0) bits = 32;
    else if (data && data->findAndGetElement(DCM_DoubleFloatPixelData, element).good() && element && element->getLength() > 0) bits = 64;
    else element = nullptr;
    return element;
}

DcmPixelSequence *pixelSequence(DcmPixelData *pixels) {
    E_TransferSyntax xfer = EXS_Unknown;
    const DcmRepresentationParameter *param = nullptr;
    pixels->getOriginalRepresentationKey(xfer, param);
    DcmPixelSequence *sequence = nullptr;
    if (pixels->getEncapsulatedRepresentation(xfer, param, sequence).good()) return sequence;
    return nullptr;
}

// Finds the fragments of one frame: the Basic Offset Table when present, one fragment per frame when the
// counts agree, otherwise a new frame at every fragment that opens a JPEG 2000 codestream.
bool collectFrame(DcmPixelSequence *sequence, uint32_t frame, uint32_t frames, std::vector<Uint8> &bytes) {
    const unsigned long items = sequence->card();
    if (items < 2) return false;
    std::vector<std::pair<Uint8 *, Uint32>> fragments;
    for (unsigned long i = 1; i < items; ++i) {
        DcmPixelItem *item = nullptr;
        Uint8 *data = nullptr;
        if (sequence->getItem(item, i).bad() || !item) return false;
        Uint32 length = item->getLength();
        if (length > 0 && (item->getUint8Array(data).bad() || !data)) return false;
        fragments.emplace_back(data, length);
    }
    std::vector<size_t> first(frames + 1, fragments.size());
    DcmPixelItem *table = nullptr;
    Uint8 *offsets = nullptr;
    const bool haveTable = sequence->getItem(table, 0).good() && table && table->getLength() >= 4 * frames &&
                           table->getUint8Array(offsets).good() && offsets;
    if (frames == 1) {
        first[0] = 0;
    } else if (haveTable) {
        size_t position = 0, fragment = 0;
        for (uint32_t f = 0; f < frames; ++f) {
            // The Basic Offset Table is little endian: every encapsulated syntax is.
            const Uint8 *o = offsets + 4 * f;
            const Uint32 offset = Uint32(o[0]) | Uint32(o[1]) << 8 | Uint32(o[2]) << 16 | Uint32(o[3]) << 24;
            while (fragment < fragments.size() && position < offset) position += 8 + fragments[fragment++].second;
            if (position != offset) return false;
            first[f] = fragment;
        }
    } else if (fragments.size() == frames) {
        for (uint32_t f = 0; f < frames; ++f) first[f] = f;
    } else {
        uint32_t f = 0;
        for (size_t i = 0; i < fragments.size() && f < frames; ++i) {
            const Uint8 *d = fragments[i].first;
            // A frame opens with a JPEG 2000 SOC (FF 4F) or a JP2 signature box.
            const bool opens = fragments[i].second >= 4 && ((d[0] == 0xFF && d[1] == 0x4F) ||
                                                            (d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 0x0C));
            if (opens) first[f++] = i;
        }
        if (f != frames) return false;
    }
    if (frame >= frames || first[frame] >= fragments.size()) return false;
    size_t end = fragments.size();
    for (uint32_t f = frame + 1; f < frames; ++f) if (first[f] > first[frame]) { end = first[f]; break; }
    bytes.clear();
    for (size_t i = first[frame]; i < end; ++i) bytes.insert(bytes.end(), fragments[i].first, fragments[i].first + fragments[i].second);
    return !bytes.empty();
}

struct Layout {
    uint32_t rows, cols, samples, bitsAllocated, bitsStored, highBit;
    bool isSigned, planar;
};

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

// Maps a failed DCMTK pixel operation: no codec, a value cut short by the end of the file, or bad data.
int failDCMTK(const OFCondition &condition, cdicom_status *status) {
    cdicom_reason reason = CDICOM_DECODE_FAILED;
    if (condition == EC_CannotChangeRepresentation) reason = CDICOM_UNSUPPORTED_TRANSFER_SYNTAX;
    if (condition == EC_InvalidStream || condition == EC_StreamNotifyClient) reason = CDICOM_TRUNCATED;
    return fail(status, reason, std::string("DCMTK: ") + condition.text());
}

// DCMTK's RLE decoder trusts the segment offsets in each frame's 64-byte header and reads out of bounds when
// they point past the data (found by fuzzing). Check them before DCMTK sees the frame.
bool validRLEHeader(const std::vector<Uint8> &frame, std::string &error) {
    auto word = [&](size_t i) {
        const Uint8 *p = frame.data() + 4 * i;
        return Uint32(p[0]) | Uint32(p[1]) << 8 | Uint32(p[2]) << 16 | Uint32(p[3]) << 24;
    };
    if (frame.size() < 64) { error = "RLE frame shorter than its 64-byte header"; return false; }
    const Uint32 segments = word(0);
    if (segments < 1 || segments > 15) { error = "RLE header declares " + std::to_string(segments) + " segments"; return false; }
    Uint32 previous = 63;
    for (Uint32 i = 1; i <= segments; ++i) {
        const Uint32 offset = word(i);
        if (offset <= previous || offset >= frame.size()) {
            error = "RLE segment " + std::to_string(i) + " offset " + std::to_string(offset) + " lies outside the frame";
            return false;
        }
        previous = offset;
    }
    return true;
}

int readLayout(cdicom_file *file, cdicom_pixel_info &info, cdicom_status *status) {
    cdicom_status local;
    return cdicom_get_pixel_info(file, &info, status ? status : &local);
}

}  // namespace

extern "C" int cdicom_get_pixel_info(cdicom_file *file, cdicom_pixel_info *info, cdicom_status *status) {
    try {
        DcmDataset *data = dataset(file);
        if (!data || !info) return fail(status, CDICOM_INVALID_ARGUMENT, "no dataset");
        std::memset(info, 0, sizeof *info);
        DcmPixelData *pixels = pixelData(file);
        DcmPixelSequence *sequence = pixels ? pixelSequence(pixels) : nullptr;
        DcmElement *floats = floatPixels(file, info->float_bits);
        if (!floats && (!pixels || (sequence ? sequence->card() < 2 : pixels->getLength() == 0)))
            return fail(status, CDICOM_NO_PIXEL_DATA, pixels ? "pixel data element is empty" : "no pixel data element");
        info->rows = u16(data, DCM_Rows, 0);
        info->cols = u16(data, DCM_Columns, 0);
        info->samples = u16(data, DCM_SamplesPerPixel, 1);
        info->bits_allocated = u16(data, DCM_BitsAllocated, 0);
        info->bits_stored = u16(data, DCM_BitsStored, info->bits_allocated);
        info->high_bit = u16(data, DCM_HighBit, info->bits_stored ? info->bits_stored - 1 : 0);
        info->pixel_representation = u16(data, DCM_PixelRepresentation, 0);
        info->planar_configuration = u16(data, DCM_PlanarConfiguration, 0);
        Sint32 frames = 1;
        if (data->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
        info->frames = uint32_t(frames);
        OFString photometric;
        data->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
        if (photometric.empty()) photometric = info->samples == 3 ? "RGB" : "MONOCHROME2";
        const std::string &ts = file->transferSyntax;
        info->encapsulated = isEncapsulatedSyntax(ts) ? 1 : 0;
        if (info->encapsulated && !isJPEG2000(ts) && ts != kDeflatedImageFrame) {
            OFString model;
            if (pixels->getDecompressedColorModel(data, model).good() && !model.empty()) photometric = model;
        }
        if (isJPEG2000(ts) && (photometric == "YBR_ICT" || photometric == "YBR_RCT")) photometric = "RGB";
        if (floats) {
            info->encapsulated = 0;
            info->bits_allocated = info->bits_stored = uint16_t(info->float_bits);
            const uint64_t needed = uint64_t(info->rows) * info->cols * info->samples * info->frames * (info->float_bits / 8);
            if (info->rows == 0 || info->cols == 0 || info->samples != 1)
                return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "float pixel data needs Rows, Columns and one sample");
            if (floats->getLength() < needed) return fail(status, CDICOM_TRUNCATED, "float pixel data shorter than the frames need");
            std::snprintf(info->photometric, sizeof info->photometric, "%s", photometric.c_str());
            ok(status);
            return 1;
        }
        // Native YBR_FULL_422 is upsampled on decoding, so callers receive full-resolution YBR_FULL.
        std::snprintf(info->photometric, sizeof info->photometric, "%s",
                      !info->encapsulated && photometric == "YBR_FULL_422" ? "YBR_FULL" : photometric.c_str());

        if (info->rows == 0 || info->cols == 0) return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "Rows or Columns is zero or missing");
        if (info->samples != 1 && info->samples != 3)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "SamplesPerPixel must be 1 or 3");
        const unsigned ba = info->bits_allocated;
        if (ba != 1 && ba != 8 && ba != 16 && ba != 32)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "BitsAllocated " + std::to_string(ba) + " is not 1, 8, 16 or 32");
        if (info->bits_stored == 0 || info->bits_stored > ba)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "BitsStored " + std::to_string(info->bits_stored) + " does not fit BitsAllocated");
        if (sequence && !info->encapsulated)
            return fail(status, CDICOM_DECODE_FAILED, "pixel data is encapsulated but the transfer syntax " + ts + " is native");
        if (ts == kDeflatedImageFrame)
            return fail(status, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, "Deflated Image Frame Compression is not supported");
        if (!info->encapsulated && ba > 1) {
            // YBR_FULL_422 stores two luminance samples per chroma pair: two samples per pixel, not three.
            const uint64_t samples = photometric == "YBR_FULL_422" && info->samples == 3 ? 2 : info->samples;
            const uint64_t needed = uint64_t(info->rows) * info->cols * samples * (ba / 8) * info->frames;
            if (pixels->getLength() < needed)
                return fail(status, CDICOM_TRUNCATED, "pixel data has " + std::to_string(pixels->getLength()) +
                            " bytes, Rows x Columns x Samples x Frames needs " + std::to_string(needed));
        }
        ok(status);
        return 1;
    } catch (...) {
        return fail(status, CDICOM_DECODE_FAILED, "exception while reading the image pixel module");
    }
}

extern "C" int cdicom_decode_frame(cdicom_file *file, uint32_t frame, float *out, size_t count, cdicom_status *status) {
    try {
        cdicom_pixel_info info;
        if (!readLayout(file, info, status)) return 0;
        if (frame >= info.frames) return fail(status, CDICOM_INVALID_ARGUMENT, "frame index out of range");
        const size_t values = size_t(info.rows) * info.cols * info.samples;
        if (!out || count < values) return fail(status, CDICOM_INVALID_ARGUMENT, "output buffer too small");
        DcmPixelData *pixels = pixelData(file);
        DcmDataset *data = dataset(file);
        const std::string &ts = file->transferSyntax;
        Layout layout{info.rows, info.cols, info.samples, info.bits_allocated, info.bits_stored, info.high_bit,
                      info.pixel_representation == 1, info.planar_configuration == 1 && info.samples > 1};

        if (info.float_bits) {
            int bits = 0;
            DcmElement *floats = floatPixels(file, bits);
            const size_t offset = values * frame;
            if (bits == 32) {
                Float32 *v = nullptr;
                if (floats->getFloat32Array(v).bad() || !v) return fail(status, CDICOM_DECODE_FAILED, "float pixel data unreadable");
                std::copy(v + offset, v + offset + values, out);
            } else {
                Float64 *v = nullptr;
                if (floats->getFloat64Array(v).bad() || !v) return fail(status, CDICOM_DECODE_FAILED, "double pixel data unreadable");
                for (size_t i = 0; i < values; ++i) out[i] = float(v[offset + i]);
            }
            ok(status);
            return 1;
        }
        if (isJPEG2000(ts)) {
            DcmPixelSequence *sequence = pixelSequence(pixels);
            std::vector<Uint8> codestream;
            if (!sequence || !collectFrame(sequence, frame, info.frames, codestream))
                return fail(status, CDICOM_DECODE_FAILED, "cannot locate the JPEG 2000 fragments of this frame");
            std::string error;
            if (!decodeJPEG2000(codestream, info.rows, info.cols, info.samples, out, error))
                return fail(status, CDICOM_DECODE_FAILED, "JPEG 2000: " + error);
            ok(status);
            return 1;
        }
        if (info.bits_allocated == 1 && info.encapsulated)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "compressed 1-bit pixel data is not supported");
        if (info.bits_allocated == 1 && !info.encapsulated) {
            if (!decodeBits(pixels, frame, layout, out, status)) return 0;
            ok(status);
            return 1;
        }
        if (isRLE(ts)) {
            DcmPixelSequence *sequence = pixelSequence(pixels);
            std::vector<Uint8> bytes;
            std::string error;
            if (!sequence || !collectFrame(sequence, frame, info.frames, bytes))
                return fail(status, CDICOM_DECODE_FAILED, "cannot locate the RLE fragments of this frame");
            if (!validRLEHeader(bytes, error)) return fail(status, CDICOM_DECODE_FAILED, error);
        }
        if (info.encapsulated && info.frames == 1) {
            // Decompressing the whole dataset copes with frames split over several fragments, which DCMTK's
            // frame-level RLE path gets wrong; a single frame costs no more memory either way.
            OFCondition converted = data->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
            if (converted.bad()) return failDCMTK(converted, status);
            pixels = pixelData(file);
            if (!pixels) return fail(status, CDICOM_DECODE_FAILED, "pixel data lost in decompression");
            layout.planar = u16(data, DCM_PlanarConfiguration, 0) == 1 && info.samples > 1;
            info.encapsulated = 0;
        }
        OFString stated;
        data->findAndGetOFString(DCM_PhotometricInterpretation, stated);
        const bool subsampled = !info.encapsulated && stated == "YBR_FULL_422" && info.bits_allocated == 8;
        if (subsampled) {
            Uint8 *bytes = nullptr;
            const size_t frameBytes = size_t(info.rows) * info.cols * 2;
            if (pixels->getUint8Array(bytes).bad() || !bytes || pixels->getLength() < frameBytes * (frame + 1))
                return fail(status, CDICOM_TRUNCATED, "YBR_FULL_422 pixel data shorter than the frames need");
            upsample422(bytes + frameBytes * frame, layout, out);
            ok(status);
            return 1;
        }
        Uint32 frameSize = 0;
        if (pixels->getUncompressedFrameSize(data, frameSize).bad() || frameSize == 0)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "cannot compute the frame size");
        std::unique_ptr<Uint8[]> buffer(new Uint8[frameSize + 1]);
        Uint32 startFragment = 0;
        OFString model;
        OFCondition condition = pixels->getUncompressedFrame(data, frame, startFragment, buffer.get(), frameSize + (frameSize & 1), model);
        if (condition.bad()) return failDCMTK(condition, status);
        // A decoder may return fewer bytes than the header's geometry needs; never read past them.
        if (frameSize < values * (info.bits_allocated / 8))
            return fail(status, CDICOM_DECODE_FAILED, "decoded frame has " + std::to_string(frameSize) + " bytes, the header needs " +
                        std::to_string(values * (info.bits_allocated / 8)));
        if (info.bits_allocated == 8 && isBigEndian(ts) && pixels->getVR() == EVR_OW) {
            // 8-bit samples in an OW value were swapped as 16-bit words on reading; undo that.
            for (Uint32 i = 0; i + 1 < frameSize; i += 2) std::swap(buffer[i], buffer[i + 1]);
        }
        if (info.bits_allocated == 32 && isBigEndian(ts)) {
            // DCMTK swaps OW values as 16-bit words; a 32-bit sample also needs its two halves exchanged.
            for (Uint32 i = 0; i + 3 < frameSize; i += 4) {
                std::swap(buffer[i], buffer[i + 2]);
                std::swap(buffer[i + 1], buffer[i + 3]);
            }
        }
        // JPEG decoders return colour by pixel; RLE segments are decoded by plane.
        if (info.encapsulated) layout.planar = isRLE(ts) && info.samples > 1 ? layout.planar : false;
        unpack(buffer.get(), layout, out);
        ok(status);
        return 1;
    } catch (...) {
        return fail(status, CDICOM_DECODE_FAILED, "exception while decoding a frame");
    }
}
