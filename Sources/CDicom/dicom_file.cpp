// Opening DICOM streams and reading attributes without touching pixel data.
#include "internal.h"

#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include <cstdio>
#include <cstring>
#include <functional>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace cdicom {

int fail(cdicom_status *status, cdicom_reason reason, const std::string &message) {
    if (status) {
        status->reason = reason;
        std::snprintf(status->message, sizeof status->message, "%s", message.c_str());
    }
    return 0;
}

void ok(cdicom_status *status) {
    if (status) { status->reason = CDICOM_OK; status->message[0] = 0; }
}

DcmDataset *dataset(cdicom_file *file) { return file ? file->format.getDataset() : nullptr; }

Uint16 u16(DcmItem *item, const DcmTagKey &key, Uint16 fallback) {
    Uint16 value = 0;
    return item && item->findAndGetUint16(key, value).good() ? value : fallback;
}

DcmElement *find(cdicom_file *file, cdicom_path path) {
    DcmItem *item = dataset(file);
    if (!item || path.depth == 0) return nullptr;
    for (size_t i = 0; i < path.depth; ++i) {
        DcmTagKey key(path.tags[i] >> 16, path.tags[i] & 0xFFFF);
        if (i + 1 == path.depth) {
            DcmElement *element = nullptr;
            return item->findAndGetElement(key, element).good() ? element : nullptr;
        }
        DcmItem *next = nullptr;
        if (item->findAndGetSequenceItem(key, next, static_cast<signed long>(path.items[i])).bad() || !next) return nullptr;
        item = next;
    }
    return nullptr;
}

}  // namespace cdicom

using namespace cdicom;

namespace {

// Codec registration and logger set-up happen once per process; DCMTK's registries are not thread-safe to mutate.
void initialise() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        // Attributes stored as UN (RescaleSlope, say) are read with their dictionary VR, as pydicom does.
        dcmEnableUnknownVRConversion.set(OFTrue);
        // Trust the JPEG stream's own colour markers (JFIF/Adobe) over a header that says RGB for lossy data.
        DJDecoderRegistration::registerCodecs(EDC_guessLossyOnly);
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
    });
}

// DCMTK's leniency switches are process-wide globals. Strict parses share the lock; a lenient retry takes it
// alone, so that no other thread parses leniently by accident while the switches are on.
std::shared_mutex leniencyLock;

OFCondition loadLeniently(const std::function<OFCondition()> &load) {
    std::unique_lock<std::shared_mutex> exclusive(leniencyLock);
    dcmIgnoreParsingErrors.set(OFTrue);
    dcmReplaceWrongDelimitationItem.set(OFTrue);
    OFCondition condition = load();
    dcmIgnoreParsingErrors.set(OFFalse);
    dcmReplaceWrongDelimitationItem.set(OFFalse);
    return condition;
}

// Parses strictly, and once more leniently if that fails, as pydicom would; the file then carries a warning.
OFCondition loadWithRetry(cdicom_file *file, const std::function<OFCondition()> &load) {
    OFCondition strict;
    {
        std::shared_lock<std::shared_mutex> shared(leniencyLock);
        strict = load();
    }
    if (strict.good()) return strict;
    file->format.clear();
    OFCondition lenient = loadLeniently(load);
    if (lenient.good() && file->format.getDataset()->tagExists(DCM_PixelData)) {
        file->warning = std::string("recovered from a parse error: ") + strict.text();
        return lenient;
    }
    return strict;
}

// DCMTK allocates whatever length an element declares when it loads the value, even one larger than the
// whole file (fuzzing found 4 GB allocations for a meta group length and a private creator). Walk the
// elements in the first bytes of a file with a preamble, as far as defined lengths allow, and refuse any
// element that claims more bytes than the file has.
bool declaresImpossibleLength(const uint8_t *bytes, size_t count, uint64_t fileBytes, std::string &message) {
    auto u16 = [&](size_t at) { return uint32_t(bytes[at]) | uint32_t(bytes[at + 1]) << 8; };
    auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
    static const char *const longVRs[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    std::string syntax;
    size_t at = 132;
    while (at + 8 <= count) {
        const uint32_t group = u16(at), element = u16(at + 2);
        const bool meta = group == 0x0002;
        // Past the meta header only the little-endian syntaxes are walked; implicit VR has no VR field.
        if (!meta && (syntax == "1.2.840.10008.1.2.2" || syntax == "1.2.840.10008.1.2.1.99")) return false;
        const bool implicit = !meta && syntax == "1.2.840.10008.1.2";
        uint64_t length = 0;
        size_t header = 8;
        if (implicit) {
            length = u32(at + 4);
        } else {
            const char vr[3] = {char(bytes[at + 4]), char(bytes[at + 5]), 0};
            bool isLong = false;
            for (const char *l : longVRs) isLong = isLong || std::strcmp(l, vr) == 0;
            if (isLong) {
                if (at + 12 > count) return false;
                length = u32(at + 8);
                header = 12;
            } else {
                length = u16(at + 6);
            }
        }
        if (length == 0xFFFFFFFFu) return false;  // undefined length: the walk cannot skip it
        if (length > fileBytes) {
            char tag[16];
            std::snprintf(tag, sizeof tag, "(%04X,%04X)", group, element);
            message = std::string("element ") + tag + " declares " + std::to_string(length) + " bytes, the file has " +
                      std::to_string(fileBytes);
            return true;
        }
        if (meta && element == 0x0010 && at + header + length <= count) {
            syntax.assign(reinterpret_cast<const char *>(bytes + at + header), size_t(length));
            while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
        }
        at += header + size_t(length);
    }
    return false;
}

bool hasPreamble(const uint8_t *head, size_t length) {
    return length >= 132 && std::memcmp(head + 128, "DICM", 4) == 0;
}

// A bare dataset has no magic number, so DCMTK will happily parse noise into elements. Require what every
// image or DICOM object we could use carries before calling it DICOM.
bool looksLikeDicom(DcmDataset *data) {
    return data->tagExists(DCM_SOPClassUID) || data->tagExists(DCM_Modality) ||
           (data->tagExists(DCM_Rows) && data->tagExists(DCM_Columns)) || data->tagExists(DCM_StudyInstanceUID);
}

cdicom_file *finishOpen(cdicom_file *file, OFCondition condition, bool preamble, cdicom_status *status) {
    DcmDataset *data = file->format.getDataset();
    if (condition.bad()) {
        const bool endOfData = condition == EC_StreamNotifyClient ||
                               condition == EC_InvalidStream || condition == EC_ItemEnd || condition == EC_SequEnd;
        cdicom_reason reason = preamble || (data && looksLikeDicom(data))
            ? (endOfData ? CDICOM_TRUNCATED : CDICOM_DECODE_FAILED) : CDICOM_NOT_DICOM;
        if (reason == CDICOM_DECODE_FAILED && std::strstr(condition.text(), "nsupported") != nullptr)
            reason = CDICOM_UNSUPPORTED_TRANSFER_SYNTAX;
        fail(status, reason, std::string("DCMTK: ") + condition.text());
        delete file;
        return nullptr;
    }
    if (!preamble && !looksLikeDicom(data)) {
        fail(status, CDICOM_NOT_DICOM, "no DICOM preamble and no image or SOP attributes");
        delete file;
        return nullptr;
    }
    OFString uid;
    if (file->format.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid).good() && !uid.empty()) {
        file->transferSyntax = uid.c_str();
    } else {
        file->transferSyntax = DcmXfer(data->getOriginalXfer()).getXferID();
    }
    ok(status);
    return file;
}

}  // namespace

extern "C" cdicom_file *cdicom_open_file(const char *path, cdicom_status *status) {
    try {
        initialise();
        FILE *handle = std::fopen(path, "rb");
        if (!handle) return fail(status, CDICOM_IO_ERROR, std::string("cannot open: ") + std::strerror(errno)), nullptr;
        std::vector<uint8_t> head(65536);
        size_t got = std::fread(head.data(), 1, head.size(), handle);
        struct stat st {};
        const uint64_t sourceBytes = ::fstat(fileno(handle), &st) == 0 ? uint64_t(st.st_size) : 0;
        std::fclose(handle);
        if (got == 0) return fail(status, CDICOM_NOT_DICOM, "empty file"), nullptr;
        std::string impossible;
        if (hasPreamble(head.data(), got) && sourceBytes > 0 && declaresImpossibleLength(head.data(), got, sourceBytes, impossible))
            return fail(status, CDICOM_TRUNCATED, impossible), nullptr;
        auto *file = new cdicom_file();
        file->sourceBytes = sourceBytes;
        // Values over 4 KiB (pixel data above all) stay on disk until a frame is decoded.
        OFCondition condition = loadWithRetry(file, [&] {
            return file->format.loadFile(path, EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
        });
        return finishOpen(file, condition, hasPreamble(head.data(), got), status);
    } catch (const std::exception &error) {
        return fail(status, CDICOM_DECODE_FAILED, std::string("exception: ") + error.what()), nullptr;
    } catch (...) {
        return fail(status, CDICOM_DECODE_FAILED, "unknown exception while reading"), nullptr;
    }
}

extern "C" cdicom_file *cdicom_open_memory(const uint8_t *data, size_t length, cdicom_status *status) {
    // DCMTK checks value lengths against what is left only when it reads a file; from a memory buffer it would
    // allocate whatever a corrupt length claims. So the bytes go to an anonymous in-memory file first.
    if (!data || length == 0) return fail(status, CDICOM_NOT_DICOM, "empty input"), nullptr;
    const int fd = memfd_create("cdicom", MFD_CLOEXEC);
    if (fd < 0) return fail(status, CDICOM_IO_ERROR, std::string("memfd_create: ") + std::strerror(errno)), nullptr;
    for (size_t written = 0; written < length;) {
        const ssize_t n = ::write(fd, data + written, length - written);
        if (n <= 0) {
            ::close(fd);
            return fail(status, CDICOM_IO_ERROR, std::string("write: ") + std::strerror(errno)), nullptr;
        }
        written += size_t(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    cdicom_file *file = cdicom_open_file(path.c_str(), status);
    if (!file) {
        ::close(fd);
        return nullptr;
    }
    file->memoryFile = fd;
    return file;
}

cdicom_file::~cdicom_file() {
    if (memoryFile >= 0) ::close(memoryFile);
}

extern "C" void cdicom_close(cdicom_file *file) { delete file; }

extern "C" long cdicom_get_string(cdicom_file *file, cdicom_path path, char *buffer, size_t capacity) {
    try {
        DcmElement *element = find(file, path);
        if (!element) return -1;
        OFString value;
        if (element->getOFStringArray(value).bad()) return -1;
        if (buffer && capacity > 0) std::snprintf(buffer, capacity, "%s", value.c_str());
        return static_cast<long>(value.length());
    } catch (...) {
        return -1;
    }
}

extern "C" long cdicom_sequence_count(cdicom_file *file, cdicom_path path) {
    try {
        DcmElement *element = find(file, path);
        if (!element || element->ident() != EVR_SQ) return -1;
        return static_cast<long>(static_cast<DcmSequenceOfItems *>(element)->card());
    } catch (...) {
        return -1;
    }
}

extern "C" long cdicom_get_u16_array(cdicom_file *file, cdicom_path path, uint16_t *buffer, size_t capacity) {
    try {
        DcmElement *element = find(file, path);
        if (!element) return -1;
        Uint16 *words = nullptr;
        unsigned long count = element->getLength() / 2;
        if (element->getUint16Array(words).bad() || !words) {
            // US with one value per element (LUT descriptors) are read value by value.
            count = element->getVM();
            for (unsigned long i = 0; i < count && i < capacity; ++i) {
                Uint16 value = 0;
                if (element->getUint16(value, i).bad()) return -1;
                buffer[i] = value;
            }
            return static_cast<long>(count);
        }
        for (unsigned long i = 0; i < count && i < capacity; ++i) buffer[i] = words[i];
        return static_cast<long>(count);
    } catch (...) {
        return -1;
    }
}

extern "C" void cdicom_transfer_syntax(cdicom_file *file, char *buffer, size_t capacity) {
    if (buffer && capacity > 0) std::snprintf(buffer, capacity, "%s", file ? file->transferSyntax.c_str() : "");
}

extern "C" void cdicom_parse_warning(cdicom_file *file, char *buffer, size_t capacity) {
    if (buffer && capacity > 0) std::snprintf(buffer, capacity, "%s", file ? file->warning.c_str() : "");
}
