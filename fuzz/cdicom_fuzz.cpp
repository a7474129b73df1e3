// libFuzzer harness for the CDicom C API: every entry point that untrusted bytes reach.
// Build and run with fuzz/run.sh. A crash, sanitizer report, timeout or out-of-memory here is a bug in
// Sources/CDicom (the API promises that no input aborts the process).
#include "cdicom.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// The harness's own output buffer stays under ~64 MB (16 Mi floats); larger frames are skipped so that
// a huge Rows*Columns header tests CDicom's checks, not the fuzzer's memory limit.
constexpr uint64_t kMaxFloats = 16u << 20;

void readString(cdicom_file *file, const uint32_t *tags, const uint32_t *items, size_t depth) {
    char buffer[96];
    long length = cdicom_get_string(file, cdicom_path{tags, items, depth}, buffer, sizeof buffer);
    // A short buffer must still come back NUL-terminated; ASan catches reads past it.
    if (length >= 0) (void)std::strlen(buffer);
}

void readHeader(cdicom_file *file) {
    char uid[128];
    cdicom_transfer_syntax(file, uid, sizeof uid);
    (void)std::strlen(uid);
    char warning[64];  // deliberately short: long recovery messages must be truncated, not overflow
    cdicom_parse_warning(file, warning, sizeof warning);
    (void)std::strlen(warning);

    // Top-level strings and numbers the intake reads (UIDs, geometry, VOI, rescale, frame count).
    static const uint32_t flat[] = {0x00080016, 0x0020000E, 0x00200032, 0x00200037, 0x00280030,
                                    0x00281050, 0x00281052, 0x00281053, 0x00280008, 0x00280004};
    for (uint32_t tag : flat) readString(file, &tag, nullptr, 1);

    // Nested: Per-frame Functional Groups, item 0 (then the last item) -> Pixel Value Transformation -> slope.
    const uint32_t perFrame[] = {0x52009230, 0x00289145, 0x00281053};
    uint32_t items[] = {0, 0, 0};
    readString(file, perFrame, items, 3);
    long count = cdicom_sequence_count(file, cdicom_path{perFrame, items, 1});
    if (count > 0) {
        items[0] = static_cast<uint32_t>(count - 1);
        readString(file, perFrame, items, 3);
    }
    const uint32_t shared[] = {0x52009229, 0x00289110, 0x00280030};  // Shared -> Pixel Measures -> spacing
    readString(file, shared, items, 3);

    // 16-bit arrays: Modality LUT Data (in its sequence) and the red palette.
    uint16_t lut[256];
    const uint32_t modalityLUT[] = {0x00283000, 0x00283006};
    const uint32_t first[] = {0, 0};
    cdicom_get_u16_array(file, cdicom_path{modalityLUT, first, 2}, lut, 256);
    const uint32_t palette = 0x00281201;
    cdicom_get_u16_array(file, cdicom_path{&palette, nullptr, 1}, lut, 256);
}

void decodeFrames(cdicom_file *file) {
    cdicom_status status{};
    cdicom_pixel_info info{};
    cdicom_get_pixel_info(file, &info, &status);
    if (status.reason != CDICOM_OK) return;
    (void)std::strlen(info.photometric);
    const uint64_t count = uint64_t(info.rows) * info.cols * info.samples;
    if (count == 0 || count > kMaxFloats) return;
    std::vector<float> out(count);
    cdicom_decode_frame(file, 0, out.data(), out.size(), &status);
    if (info.frames > 1) {
        status = cdicom_status{};
        cdicom_decode_frame(file, info.frames - 1, out.data(), out.size(), &status);
    }
    // Out of range and undersized requests must fail cleanly, not write past `out`.
    status = cdicom_status{};
    cdicom_decode_frame(file, info.frames, out.data(), out.size(), &status);
    status = cdicom_status{};
    cdicom_decode_frame(file, 0, out.data(), out.size() - 1, &status);
}

// CDICOM_FUZZ_PATH=file sends each input through cdicom_open_file instead (the daemon's path, where DCMTK
// leaves large values on disk); the default is cdicom_open_memory.
bool viaFile() {
    static const bool file = [] {
        const char *mode = std::getenv("CDICOM_FUZZ_PATH");
        return mode && std::strcmp(mode, "file") == 0;
    }();
    return file;
}

struct TempFile {
    std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + "/cdicom_fuzz_" +
                       std::to_string(getpid()) + ".dcm";
    ~TempFile() { unlink(path.c_str()); }
};

cdicom_file *openViaFile(const uint8_t *data, size_t size, cdicom_status *status) {
    static const TempFile temp;
    const std::string &path = temp.path;
    FILE *out = std::fopen(path.c_str(), "wb");
    if (!out) return nullptr;
    const bool written = std::fwrite(data, 1, size, out) == size;
    std::fclose(out);
    return written ? cdicom_open_file(path.c_str(), status) : nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cdicom_status status{};
    cdicom_file *file = viaFile() ? openViaFile(data, size, &status) : cdicom_open_memory(data, size, &status);
    if (!file) return 0;
    readHeader(file);
    decodeFrames(file);
    cdicom_close(file);
    return 0;
}
