#include "eval.h"

int dws_baseline_adapt_one(dws_baseline *a, const dws_mlp *in, dws_mlp *out, dws_error *err)
{
    if (dws_mlp_clone(out, in, err)) return -1;
    const dws_mlp *ins[1] = {in};
    dws_mlp *outs[1] = {out};
    if (a->forward(a, ins, outs, 1, err)) {
        dws_mlp_free(out);
        return -1;
    }
    return 0;
}
