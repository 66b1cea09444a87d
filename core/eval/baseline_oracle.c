#include "eval.h"

#include "train/train.h"

int dws_oracle_finetune(dws_mlp *m, const dws_samples *labeled, uint64_t seed, dws_error *err)
{
    dws_train_config cfg = {
        .optim = dws_optim_defaults(DWS_OPT_ADAM, DWS_ORACLE_LR),
        .epochs = DWS_ORACLE_EPOCHS,
        .batch_size = DWS_ORACLE_BATCH,
        .seed = seed,
    };
    dws_train_progress res;
    return dws_mlp_train(m, labeled, &cfg, &res, err);
}
