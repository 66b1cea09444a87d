#include "eval_plots.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svg_plot.h"

static const char *const SPLITS[] = {"test", "test_unseen_widths", "extra"};
#define N_SPLITS 3

static double mean_hidden_width(const dws_result_row *r)
{
    double s = 0;
    for (int k = 1; k < r->n_layers; k++) s += (double)r->widths[k];
    return r->n_layers > 1 ? s / (r->n_layers - 1) : NAN;
}

static int per_classifier_plots(const char *dir, const eval_results *ours, dws_error *err)
{
    double *buf = malloc(sizeof(double) * 4 * (size_t)(ours->n ? ours->n : 1));
    if (!buf) {
        dws_error_set(err, DWS_E_OUT_OF_MEMORY, "plot data");
        return -1;
    }
    double *bx = buf, *by = buf + ours->n, *wx = buf + 2 * ours->n, *wy = buf + 3 * ours->n;
    svg_series scatter[N_SPLITS], gain[N_SPLITS];
    int ns = 0, k = 0;
    for (int s = 0; s < N_SPLITS; s++) {
        int first = k;
        for (int i = 0; i < ours->n; i++) {
            const dws_result_row *r = &ours->rows[i];
            if (strcmp(dws_result_split_name(r->split), SPLITS[s]) != 0) continue;
            bx[k] = 100 * r->target_before;
            by[k] = 100 * r->target_after;
            wx[k] = mean_hidden_width(r);
            wy[k] = 100 * (r->target_after - r->target_before);
            k++;
        }
        if (k == first) continue;
        scatter[ns] = (svg_series){SPLITS[s], bx + first, by + first, k - first, 0};
        gain[ns] = (svg_series){SPLITS[s], wx + first, wy + first, k - first, 0};
        ns++;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/before-after.svg", dir);
    svg_chart c1 = {"Corrupted test accuracy per classifier", "before adaptation (%)", "after adaptation (%)", 1, 0};
    int rc = svg_plot_write(path, &c1, scatter, ns, err);
    snprintf(path, sizeof path, "%s/gain-by-width.svg", dir);
    svg_chart c2 = {"Gain by hidden width", "mean hidden width", "gain (points)", 0, 1};
    if (rc == 0) rc = svg_plot_write(path, &c2, gain, ns, err);
    free(buf);
    return rc;
}

/* step,epoch,lr,train_loss,train_acc,val_before,val_after (val_* empty between
 * validations); read into columns: every report, and the validated ones. */
typedef struct {
    int n, nv, cap;
    double *step, *loss, *acc, *vstep, *vbefore, *vafter;
} curves;

static int curves_push(curves *c, double step, double loss, double acc, double vb, double va)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        double **cols[] = {&c->step, &c->loss, &c->acc, &c->vstep, &c->vbefore, &c->vafter};
        for (int k = 0; k < 6; k++) {
            double *p = realloc(*cols[k], sizeof(double) * (size_t)c->cap);
            if (!p) return -1;
            *cols[k] = p;
        }
    }
    c->step[c->n] = step, c->loss[c->n] = loss, c->acc[c->n] = 100 * acc;
    c->n++;
    if (!isnan(va)) {
        c->vstep[c->nv] = step, c->vbefore[c->nv] = 100 * vb, c->vafter[c->nv] = 100 * va;
        c->nv++;
    }
    return 0;
}

static int curve_plots(const char *dir, const char *csv, dws_error *err)
{
    FILE *f = fopen(csv, "r");
    if (!f) return 0;
    curves c = {0};
    char line[512];
    int rc = fgets(line, sizeof line, f) ? 0 : 1;   /* header */
    while (rc == 0 && fgets(line, sizeof line, f)) {
        double step, epoch, lr, loss, acc, vb = NAN, va = NAN;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, &epoch, &lr, &loss, &acc, &vb, &va) < 5) continue;
        if (curves_push(&c, step, loss, acc, vb, va) != 0) {
            dws_error_set(err, DWS_E_OUT_OF_MEMORY, "training curves");
            rc = -1;
        }
    }
    fclose(f);
    if (rc == 0 && c.n > 0) {
        char path[4096];
        svg_series acc[3] = {{"train batches, adapted", c.step, c.acc, c.n, 1},
                             {"validation, adapted", c.vstep, c.vafter, c.nv, 1},
                             {"validation, not adapted", c.vstep, c.vbefore, c.nv, 1}};
        svg_chart ca = {"Adapter training: accuracy on corrupted images", "step", "accuracy (%)", 0, 0};
        snprintf(path, sizeof path, "%s/curves-accuracy.svg", dir);
        rc = svg_plot_write(path, &ca, acc, 3, err);
        svg_series loss[1] = {{"train loss", c.step, c.loss, c.n, 1}};
        svg_chart cl = {"Adapter training: cross-entropy of adapted classifiers", "step", "loss", 0, 0};
        snprintf(path, sizeof path, "%s/curves-loss.svg", dir);
        if (rc == 0) rc = svg_plot_write(path, &cl, loss, 1, err);
    }
    free(c.step), free(c.loss), free(c.acc), free(c.vstep), free(c.vbefore), free(c.vafter);
    return rc < 0 ? -1 : 0;
}

int eval_plots_write(const char *dir, const eval_results *ours, const char *curves_csv, const char *model_path,
                     dws_error *err)
{
    if (per_classifier_plots(dir, ours, err) != 0) return -1;
    char csv[4096];
    if (!curves_csv) {
        dws_path_sibling(model_path, ".dws", ".csv", csv, sizeof csv);
        curves_csv = csv;
    }
    return curve_plots(dir, curves_csv, err);
}
