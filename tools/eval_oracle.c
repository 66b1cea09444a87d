#include "eval_oracle.h"

#include <stdlib.h>
#include <string.h>

#include "data/data.h"
#include "train/train.h"

int eval_oracle_data_load(eval_oracle_data *d, const char *data, const dws_domain *domain, uint64_t seed,
                          dws_error *err)
{
    memset(d, 0, sizeof *d);
    dws_image_set train;
    if (dws_cifar10_load_split(data, DWS_SPLIT_TRAIN, &train, err) != 0) return -1;
    int rc = (d->x = dws_image_set_float_copy(&train, err)) ? 0 : -1;
    if (rc == 0) rc = dws_domain_apply(domain, train.channels, train.height, train.width, d->x, train.n, seed, 0, err);
    if (rc == 0) {
        /* The view outlives train: it gets its own copy of the labels. */
        uint8_t *labels = malloc(train.n);
        if (!labels) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "oracle labels");
            rc = -1;
        } else {
            memcpy(labels, train.labels, train.n);
            d->samples = dws_samples_of_floats(d->x, labels, train.n, train.dim);
        }
    }
    dws_image_set_free(&train);
    if (rc != 0) eval_oracle_data_free(d);
    return rc;
}

void eval_oracle_data_free(eval_oracle_data *d)
{
    free(d->x);
    free((void *)d->samples.labels);
    memset(d, 0, sizeof *d);
}

int eval_oracle_finetune(const eval_oracle_data *d, const dws_mlp *m, dws_mlp *out, dws_error *err)
{
    if (dws_mlp_clone(out, m, err) != 0) return -1;
    dws_train_config tc = {.optim = dws_optim_defaults(DWS_OPT_ADAM, 5e-4f), .epochs = 1, .batch_size = 128, .seed = 0};
    dws_train_progress res;
    if (dws_mlp_train(out, &d->samples, &tc, &res, err) != 0) {
        dws_mlp_free(out);
        return -1;
    }
    return 0;
}
