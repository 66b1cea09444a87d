/* The learning-rate schedule of every training loop (train.h). */
#include "train.h"

#include <math.h>

double dws_lr_at(const dws_lr_schedule *s, int64_t step)
{
    if (s->kind == DWS_LR_CONSTANT) return s->lr;
    if (step < s->warmup) return s->lr * (double)(step + 1) / (double)s->warmup;
    int64_t span = s->steps - s->warmup;
    double p = span > 0 ? (double)(step - s->warmup) / (double)span : 1.0;
    return s->lr * (s->floor + (1 - s->floor) * 0.5 * (1 + cos(M_PI * (p < 1 ? p : 1))));
}
