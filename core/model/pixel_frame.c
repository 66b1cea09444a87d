/* The pixel frame around /adapt and /embed: fold a model's input preprocessing
 * (its own, or normalisation outside it) into layer 1, and unfold adapted weights. */
#include "model.h"

#include <string.h>

int dws_pixel_frame_open(dws_pixel_frame *f, const dws_onnx *onnx, const dws_input_norm *norm, dws_error *err)
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
    if (dws_input_affine_compose_norm(&f->t, norm, err) != 0 || dws_mlp_fold_input(w, &f->t, &f->folded, err) != 0) {
        dws_pixel_frame_close(f);
        return -1;
    }
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
