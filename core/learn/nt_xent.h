/* SimCLR's contrastive loss (NT-Xent, Chen et al. 2020) over a batch of paired
 * embeddings, and its gradient: the training signal of the self-supervised encoder
 * (docs/design.md section 13.2). */
#ifndef DWS_NT_XENT_H
#define DWS_NT_XENT_H

#include <stddef.h>

/* Floats of workspace dws_nt_xent needs for 2n rows of d. */
size_t dws_nt_xent_ws_floats(int n, int d);

/* z: 2n x d row-major embeddings, rows i and n + i the two views of item i (n >= 1).
 * With u_i = z_i / |z_i| and s_ik = u_i . u_k / tau, the loss is the mean over the
 * 2n anchors i of -log(exp(s_ip) / sum_{k != i} exp(s_ik)), p the other view of i.
 * dz (2n x d) is overwritten with dLoss/dz. *pos_top1 (or NULL) receives the
 * fraction of anchors whose most similar other row is their pair. Returns the loss. */
double dws_nt_xent(const float *z, int n, int d, float tau, float *dz, double *pos_top1, float *ws);

#endif
