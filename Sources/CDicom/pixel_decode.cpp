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

// Maps a failed DCMTK pixel operation: no codec, a value cut short by the end of the file, or bad data.
int failDCMTK(const OFCondition &condition, cdicom_status *status) {
    cdicom_reason reason = CDICOM_DECODE_FAILED;
    if (condition == EC_CannotChangeRepresentation) reason = CDICOM_UNSUPPORTED_TRANSFER_SYNTAX;
    if (condition == EC_InvalidStream || condition == EC_StreamNotifyClient) reason = CDICOM_TRUNCATED;
    return fail(status, reason, std::string("DCMTK: ") + condition.text());
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
        // A HighBit that cannot hold BitsStored bits inside BitsAllocated is ignored, as pydicom ignores it.
        if (info->high_bit >= info->bits_allocated || info->high_bit + 1 < info->bits_stored)
            info->high_bit = info->bits_stored ? info->bits_stored - 1 : 0;
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
        // DCMTK's JPEG-LS decoder allocates what the fragments claim and leaks it when the read then fails
        // (found by fuzzing), so fragments longer than the whole file are refused first.
        if (sequence && file->sourceBytes > 0) {
            if (file->fragmentBytes < 0) {
                file->fragmentBytes = 0;
                for (DcmObject *item = sequence->nextInContainer(nullptr); item; item = sequence->nextInContainer(item))
                    file->fragmentBytes += item->getLength();
            }
            if (uint64_t(file->fragmentBytes) > file->sourceBytes)
                return fail(status, CDICOM_TRUNCATED, "pixel data fragments claim " + std::to_string(file->fragmentBytes) +
                            " bytes, more than the file's " + std::to_string(file->sourceBytes));
        }
        if (sequence && !info->encapsulated)
            return fail(status, CDICOM_DECODE_FAILED, "pixel data is encapsulated but the transfer syntax " + ts + " is native");
        if (ts == kDeflatedImageFrame)
            return fail(status, CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, "Deflated Image Frame Compression is not supported");
        // Upsampling writes three planes; a 422 header that does not say three samples is inconsistent.
        if (!info->encapsulated && photometric == "YBR_FULL_422" && info->samples != 3)
            return fail(status, CDICOM_UNSUPPORTED_PIXEL_FORMAT, "YBR_FULL_422 needs SamplesPerPixel 3");
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
        const bool subsampled = !info.encapsulated && stated == "YBR_FULL_422" && info.bits_allocated == 8 &&
                                info.samples == 3;
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
