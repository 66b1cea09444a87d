/* The optional head after an MLP's last layer (Softmax, LogSoftmax, Identity). */
#include <math.h>

#include "onnx_codec.h"

const char *dws_head_name(dws_head h)
{
    switch (h) {
    case DWS_HEAD_NONE: return "none";
    case DWS_HEAD_SOFTMAX: return "softmax";
    case DWS_HEAD_LOG_SOFTMAX: return "log_softmax";
    case DWS_HEAD_IDENTITY: return "identity";
    }
    return "unknown";
}

void dws_head_apply(dws_head h, float *y, size_t n, int64_t classes)
{
    if (h != DWS_HEAD_SOFTMAX && h != DWS_HEAD_LOG_SOFTMAX) return;
    for (size_t i = 0; i < n; i++) {
        float *row = y + i * (size_t)classes;
        float max = row[0];
        for (int64_t j = 1; j < classes; j++) max = row[j] > max ? row[j] : max;
        double sum = 0;   /* shifted by the max so exp never overflows */
        for (int64_t j = 0; j < classes; j++) sum += exp((double)row[j] - max);
        for (int64_t j = 0; j < classes; j++)
            row[j] = h == DWS_HEAD_SOFTMAX ? (float)(exp((double)row[j] - max) / sum)
                                           : (float)((double)row[j] - max - log(sum));
    }
}
