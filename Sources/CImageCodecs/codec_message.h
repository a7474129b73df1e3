/* Shared by the PNG and JPEG shims: copy a codec's message into the caller's fixed buffer. */
#ifndef CODEC_MESSAGE_H
#define CODEC_MESSAGE_H

#include <stdio.h>
#include "image_codecs.h"

static inline int ic_fail(char message[IC_MESSAGE_SIZE], int status, const char *text) {
    if (message) snprintf(message, IC_MESSAGE_SIZE, "%s", text ? text : "");
    return status;
}

#endif
