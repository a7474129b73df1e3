// JPEG 2000 (Part 1) and High-Throughput JPEG 2000 through OpenJPEG, which DCMTK's open-source codecs lack.
#include "internal.h"

#include <openjpeg.h>

#include <cstring>

namespace {

struct MemoryStream {
    const Uint8 *data;
    OPJ_SIZE_T length;
    OPJ_SIZE_T position;
};

OPJ_SIZE_T readStream(void *buffer, OPJ_SIZE_T bytes, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (stream->position >= stream->length) return OPJ_SIZE_T(-1);
    const OPJ_SIZE_T n = std::min(bytes, stream->length - stream->position);
    std::memcpy(buffer, stream->data + stream->position, n);
    stream->position += n;
    return n;
}

OPJ_OFF_T skipStream(OPJ_OFF_T bytes, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    const OPJ_OFF_T target = std::max<OPJ_OFF_T>(0, std::min<OPJ_OFF_T>(OPJ_OFF_T(stream->position) + bytes, OPJ_OFF_T(stream->length)));
    const OPJ_OFF_T moved = target - OPJ_OFF_T(stream->position);
    stream->position = OPJ_SIZE_T(target);
    return moved;
}

OPJ_BOOL seekStream(OPJ_OFF_T offset, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (offset < 0 || OPJ_SIZE_T(offset) > stream->length) return OPJ_FALSE;
    stream->position = OPJ_SIZE_T(offset);
    return OPJ_TRUE;
}

void quiet(const char *, void *) {}

struct Decoder {
    opj_codec_t *codec = nullptr;
    opj_stream_t *stream = nullptr;
    opj_image_t *image = nullptr;
    ~Decoder() {
        if (image) opj_image_destroy(image);
        if (stream) opj_stream_destroy(stream);
        if (codec) opj_destroy_codec(codec);
    }
};

}  // namespace

bool cdicom::isJPEG2000(const std::string &ts) {
    return ts == "1.2.840.10008.1.2.4.90" || ts == "1.2.840.10008.1.2.4.91" || ts == "1.2.840.10008.1.2.4.92" ||
           ts == "1.2.840.10008.1.2.4.93" || ts == "1.2.840.10008.1.2.4.201" || ts == "1.2.840.10008.1.2.4.202" ||
           ts == "1.2.840.10008.1.2.4.203";
}

int cdicom::decodeJPEG2000(const std::vector<Uint8> &codestream, uint32_t rows, uint32_t cols, uint32_t samples,
                           float *out, std::string &error) {
    // A JP2 file starts with its signature box; a bare codestream with SOC (FF 4F).
    static const Uint8 jp2Signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20};
    const bool jp2 = codestream.size() >= 8 && std::memcmp(codestream.data(), jp2Signature, 8) == 0;
    Decoder d;
    d.codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    if (!d.codec) { error = "cannot create decoder"; return 0; }
    opj_set_error_handler(d.codec, quiet, nullptr);
    opj_set_warning_handler(d.codec, quiet, nullptr);
    opj_set_info_handler(d.codec, quiet, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(d.codec, &parameters)) { error = "decoder set-up failed"; return 0; }

    MemoryStream memory{codestream.data(), codestream.size(), 0};
    d.stream = opj_stream_default_create(OPJ_TRUE);
    opj_stream_set_user_data(d.stream, &memory, nullptr);
    opj_stream_set_user_data_length(d.stream, memory.length);
    opj_stream_set_read_function(d.stream, readStream);
    opj_stream_set_skip_function(d.stream, skipStream);
    opj_stream_set_seek_function(d.stream, seekStream);

    if (!opj_read_header(d.stream, d.codec, &d.image) || !d.image) { error = "invalid codestream header"; return 0; }
    // OpenJPEG allocates what the SIZ marker declares; a corrupt one must not make it allocate gigabytes.
    const uint64_t width = d.image->x1 - d.image->x0, height = d.image->y1 - d.image->y0;
    if (width != cols || height != rows || d.image->numcomps < samples || d.image->numcomps > 4) {
        error = "codestream is " + std::to_string(width) + "x" + std::to_string(height) + " with " +
                std::to_string(d.image->numcomps) + " components; the header says " + std::to_string(cols) + "x" +
                std::to_string(rows) + " with " + std::to_string(samples);
        return 0;
    }
    if (!opj_decode(d.codec, d.stream, d.image) || !opj_end_decompress(d.codec, d.stream)) {
        error = "codestream decoding failed";
        return 0;
    }
    if (d.image->numcomps < samples) { error = "fewer components than SamplesPerPixel"; return 0; }
    const size_t pixels = size_t(rows) * cols;
    for (uint32_t s = 0; s < samples; ++s) {
        const opj_image_comp_t &component = d.image->comps[s];
        if (component.w != cols || component.h != rows || !component.data) {
            error = "component size " + std::to_string(component.w) + "x" + std::to_string(component.h) +
                    " differs from Columns x Rows";
            return 0;
        }
        for (size_t p = 0; p < pixels; ++p) out[s * pixels + p] = float(component.data[p]);
    }
    return int(samples);
}
