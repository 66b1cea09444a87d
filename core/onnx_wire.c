/* A pre-scan of the protobuf wire format. protobuf-c parses nested messages by
 * recursion with no depth limit, so a few MB of a file nested a million levels
 * deep overflows the stack; this scan walks the same structure (known message
 * fields only, as protobuf-c would) and refuses anything nested too deep. It
 * leaves judging malformed bytes to protobuf-c. */
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

/* 1 when p (a d message) nests no deeper than depth_left; malformed bytes count as fine. */
static int depth_ok(const uint8_t *p, size_t len, const ProtobufCMessageDescriptor *d, int depth_left)
{
    if (depth_left < 0) return 0;
    size_t at = 0;
    while (at < len) {
        uint64_t key, n;
        if (!read_varint(p, len, &at, &key)) return 1;
        switch (key & 7) {
        case 0:
            if (!read_varint(p, len, &at, &n)) return 1;
            break;
        case 1:
            at += 8;
            break;
        case 5:
            at += 4;
            break;
        case 2: {
            if (!read_varint(p, len, &at, &n) || n > len - at) return 1;
            const ProtobufCFieldDescriptor *f =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
                !depth_ok(p + at, (size_t)n, f->descriptor, depth_left - 1))
                return 0;
            at += (size_t)n;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

int dws_protobuf_depth_ok(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d, int max_depth)
{
    return depth_ok(buf, len, d, max_depth);
}
