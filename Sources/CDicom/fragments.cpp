// Locating the compressed bytes of one frame in an encapsulated pixel data sequence.
#include "internal.h"

#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"

namespace cdicom {

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

}  // namespace cdicom
