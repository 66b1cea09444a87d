/* A pre-scan of the protobuf wire format. protobuf-c parses nested messages by
 * recursion with no depth limit, so a few MB of a file nested a million levels
 * deep overflows the stack; this scan walks the same structure (known message
 * fields only, as protobuf-c would) and refuses anything nested too deep. It also
 * refuses field number 0, which protobuf-c accepts when the key is written in more
 * than one byte (0x80 0x00), keeps as an unknown field and writes back as the one
 * byte 0x00 it then rejects: an input it reads but whose re-encoding it cannot
 * (found by tests/fuzz/fuzz_onnx_decode.c). And it refuses a NUL byte in a
 * `string` field (names, op types, domains; free text is `bytes` in our schema):
 * protobuf-c keeps strings as C strings and would write it back cut at the NUL.
 * Other malformed bytes are left to protobuf-c. */
#include <string.h>

#include "onnx_internal.h"

static int read_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && *at < len; shift += 7) {
        uint8_t b = p[(*at)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return 1;
    }
    return 0;
}

/* DWS_WIRE_OK when p (a d message) nests no deeper than depth_left, has no field 0
 * and no NUL in a string (*where: that field); other malformed bytes count as fine. */
static dws_wire_check scan(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d, int depth_left,
                           const ProtobufCFieldDescriptor **where)
{
    if (depth_left < 0) return DWS_WIRE_TOO_DEEP;
    size_t at = 0;
    while (at < len) {
        uint64_t key, n;
        if (!read_varint(p, len, &at, &key)) return DWS_WIRE_OK;
        if (key >> 3 == 0) return DWS_WIRE_FIELD_ZERO;
        switch (key & 7) {
        case 0:
            if (!read_varint(p, len, &at, &n)) return DWS_WIRE_OK;
            break;
        case 1:
            at += 8;
            break;
        case 5:
            at += 4;
            break;
        case 2: {
            if (!read_varint(p, len, &at, &n) || n > len - at) return DWS_WIRE_OK;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                dws_wire_check inner = scan(p + at, (size_t)n, f->descriptor, depth_left - 1, where);
                if (inner != DWS_WIRE_OK) return inner;
            }
            if (f && f->type == PROTOBUF_C_TYPE_STRING && n && memchr(p + at, 0, (size_t)n)) {
                *where = f;
                return DWS_WIRE_NUL_IN_STRING;
            }
            at += (size_t)n;
            break;
        }
        default:
            return DWS_WIRE_OK;
        }
    }
    return DWS_WIRE_OK;
}

dws_wire_check dws_protobuf_check(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d, int max_depth,
                                  const char **field)
{
    const ProtobufCFieldDescriptor *where = NULL;
    dws_wire_check rc = scan(buf, len, d, max_depth, &where);
    *field = where ? where->name : "";
    return rc;
}
