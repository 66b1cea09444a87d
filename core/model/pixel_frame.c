/* The frame around /adapt and /embed: fold a model's input preprocessing (its own,
 * or normalisation outside it) into layer 1, and unfold adapted weights. */
#include "model.h"

#include <string.h>

/* 1 when t rescales or shifts some input (more than a permutation). */
static int scales_or_shifts(const dws_input_affine *t)
{
    for (int64_t j = 0; j < t->d0; j++)
        if (t->scale[j] != 1.0 || t->shift[j] != 0.0) return 1;
    return 0;
}

int dws_pixel_frame_open(dws_pixel_frame *f, const dws_onnx *onnx, const dws_input_norm *norm, dws_frame normalized,
                         dws_error *err)
{
    memset(f, 0, sizeof *f);
    const dws_input_affine *own = dws_onnx_input_affine(onnx);
    const dws_mlp *w = dws_onnx_weights(onnx);
    if (!own && (!norm || norm->n == 0)) return 0;
    if (dws_input_affine_init(&f->t, w->widths[0], err) != 0) return -1;
    if (own) {
        memcpy(f->t.scale, own->scale, (size_t)own->d0 * sizeof *own->scale);
        memcpy(f->t.shift, own->shift, (size_t)own->d0 * sizeof *own->shift);
        memcpy(f->t.src, own->src, (size_t)own->d0 * sizeof *own->src);
    }
    int rc = dws_input_affine_compose_norm(&f->t, norm, err);
    f->rescales = rc == 0 && scales_or_shifts(&f->t);
    const dws_frame frame = f->rescales ? normalized : DWS_FRAME_PIXEL;
    if (rc == 0) rc = dws_input_affine_compose_frame(&f->t, frame, err);
    if (rc != 0 || dws_mlp_fold_input(w, &f->t, &f->folded, err) != 0) {
        dws_pixel_frame_close(f);
        return -1;
    }
    f->folded.frame = (int)frame;
    f->active = 1;
    return 0;
}

const dws_mlp *dws_pixel_frame_weights(const dws_pixel_frame *f, const dws_onnx *onnx)
{
    return f->active ? &f->folded : dws_onnx_weights(onnx);
}

int dws_pixel_frame_unfold(const dws_pixel_frame *f, const dws_onnx *onnx, dws_mlp *w, dws_error *err)
{
    if (!f->active) return 0;
    return dws_mlp_unfold_input(w, &f->t, dws_onnx_weights(onnx), &f->folded, err);
}

void dws_pixel_frame_close(dws_pixel_frame *f)
{
    if (f->active || f->t.scale) {
        dws_input_affine_free(&f->t);
        dws_mlp_free(&f->folded);
    }
    memset(f, 0, sizeof *f);
}

int dws_adapter_apply_in_frame(const dws_model *m, const dws_mlp *in, dws_frame f, dws_mlp *out,
                               const dws_run_opts *opts, dws_error *err)
{
    if (f == DWS_FRAME_PIXEL || dws_model_frame_for_normalized(m) != f) return dws_adapter_apply(m, in, out, opts, err);
    dws_mlp in_f, out_f;
    memset(out, 0, sizeof *out);
    if (dws_mlp_to_frame(in, f, &in_f, err) != 0) return -1;
    int rc = dws_adapter_apply(m, &in_f, &out_f, opts, err);
    if (rc == 0) rc = dws_mlp_to_pixel_frame(&out_f, f, out, err);
    dws_mlp_free(&in_f);
    if (rc == 0) dws_mlp_free(&out_f);
    return rc;
}
