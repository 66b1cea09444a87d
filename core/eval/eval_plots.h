/* The evaluation plots, as SVG files in a folder: corrupted accuracy before vs
 * after per classifier, gain by hidden width, and the training curves of the
 * model (its train-adapter CSV). */
#ifndef DWS_EVAL_PLOTS_H
#define DWS_EVAL_PLOTS_H

#include "base/base.h"
#include "eval_results.h"

/* curves_csv NULL: the model path with .dws replaced by .csv, when that exists. */
int eval_plots_write(const char *dir, const eval_results *ours, const char *curves_csv, const char *model_path,
                     dws_error *err);

#endif
