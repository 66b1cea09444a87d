/* SimCLR's projection head g of an encoder (arch.proj_hidden P > 0): a ReLU MLP
 * D -> P -> D on the embedding, whose output NT-Xent compares during training;
 * `dwsnet embed` never runs it, so the embedding is the representation before it
 * (Chen et al. 2020: that representation keeps more than the contrastive task
 * needs). Its tensors live in the encoder's flat parameter buffer. */
#ifndef DWS_PROJECTION_HEAD_H
#define DWS_PROJECTION_HEAD_H

#include "dws_net.h"

/* On B embeddings: hid (B x P, after ReLU) and z (B x D). */
void dws_projection_forward(const dws_net *net, const float *emb, int B, float *hid, float *z);
/* grads += dLoss/d(head params); d_emb (B x D) = dLoss/demb, from dz and the
 * forward's emb and hid; d_hid (B x P) is scratch. */
void dws_projection_backward(const dws_net *net, const float *emb, const float *hid, int B, const float *dz,
                             float *grads, float *d_emb, float *d_hid);

#endif
