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

}  // namespace cdicom

#endif
