#include "ws.h"

#include <string.h>

#include "blas_local.h"

void dws_projection_forward(const dws_net *net, const float *emb, int B, float *hid, float *z)
{
    const int D = net->arch.embed_dim, P = net->arch.proj_hidden;
    for (int b = 0; b < B; b++) {
        memcpy(hid + (size_t)b * P, net->params + net->proj1_b, sizeof(float) * (size_t)P);
        memcpy(z + (size_t)b * D, net->params + net->proj2_b, sizeof(float) * (size_t)D);
    }
    dws_gemm(0, 1, B, P, D, 1.f, emb, D, net->params + net->proj1_W, D, 1.f, hid, P);
    for (size_t j = 0; j < (size_t)B * P; j++) hid[j] = hid[j] > 0.f ? hid[j] : 0.f;
    dws_gemm(0, 1, B, D, P, 1.f, hid, P, net->params + net->proj2_W, P, 1.f, z, D);
}

void dws_projection_backward(const dws_net *net, const float *emb, const float *hid, int B, const float *dz,
                             float *grads, float *d_emb, float *d_hid)
{
    const int D = net->arch.embed_dim, P = net->arch.proj_hidden;
    dws_gemm(1, 0, D, P, B, 1.f, dz, D, hid, P, 1.f, grads + net->proj2_W, P);
    dws_gemm(0, 0, B, P, D, 1.f, dz, D, net->params + net->proj2_W, P, 0.f, d_hid, P);
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < D; j++) grads[net->proj2_b + (size_t)j] += dz[(size_t)b * D + j];
        for (int j = 0; j < P; j++) {
            float *v = d_hid + (size_t)b * P + j;
            *v = hid[(size_t)b * P + j] > 0.f ? *v : 0.f;
            grads[net->proj1_b + (size_t)j] += *v;
        }
    }
    dws_gemm(1, 0, P, D, B, 1.f, d_hid, P, emb, D, 1.f, grads + net->proj1_W, D);
    dws_gemm(0, 0, B, D, P, 1.f, d_hid, P, net->params + net->proj1_W, D, 0.f, d_emb, D);
}
