/* SPDX-License-Identifier: BSD-3-Clause */
/* lattice.c - the byte layout of the lattice refinement's symbols
 * (spec/bitstream.md, "Lattice refinement streams"). */
#include "vq/lattice.h"

/* LOCO-I's median edge detector: the median of left, above and
 * left + above - upper-left, with the missing neighbours of the first row
 * and column replaced so the predictor needs nothing outside the tile. */
static int32_t aem_lattice_predict(const int32_t *plane, size_t lw, size_t x, size_t y)
{
    if (x == 0 && y == 0)
        return 0;
    const int32_t *p = plane + y * lw + x;
    int32_t left = x ? p[-1] : p[-(ptrdiff_t)lw];
    int32_t above = y ? p[-(ptrdiff_t)lw] : left;
    int32_t corner = (x && y) ? p[-(ptrdiff_t)lw - 1] : above;
    int32_t hi = left > above ? left : above, lo = left < above ? left : above;
    if (corner >= hi)
        return lo;
    if (corner <= lo)
        return hi;
    return left + above - corner;
}

/* Empties the group of channels g0 .. g1 - 1 at latent i when it holds one
 * or two symbols, all +-1, whose error if dropped stays under the budget
 * (vq/lattice.h, "Sparse groups"). */
static void empty_sparse_group(const float *z, const float *q, size_t n, size_t i, size_t g0,
                               size_t g1, float inv, float one_budget, int32_t *sym)
{
    size_t at[2], count = 0;
    float added = 0.0f; /* squared error added, in step^2 */
    for (size_t d = g0; d < g1; d++) {
        int32_t s = sym[d * n + i];
        if (!s)
            continue;
        if ((s != 1 && s != -1) || count == 2)
            return;
        float r = q ? z[d * n + i] - q[d * n + i] : z[d * n + i];
        added += 2.0f * fabsf(r) * inv - 1.0f;
        at[count++] = d;
    }
    float budget = count == 2 ? AEM_LATTICE_PAIR_FACTOR * one_budget : one_budget;
    if (count && added < budget)
        for (size_t k = 0; k < count; k++)
            sym[at[k] * n + i] = 0;
}

void aem_lattice_symbols(const float *z, const float *q, size_t D, size_t n, float step,
                         int32_t *sym)
{
    float inv = 1.0f / step;
    for (size_t d = 0; d < D; d++) {
        float rounding = aem_lattice_rounding((int)d, step);
        for (size_t i = d * n; i < (d + 1) * n; i++)
            sym[i] = aem_lattice_symbol_rounded(q ? z[i] - q[i] : z[i], inv, rounding);
    }
    float one_budget = 2.0f * aem_lattice_sparse_threshold(step) - 1.0f;
    for (size_t g0 = AEM_LATTICE_DETAIL_FROM; g0 < D; g0 += AEM_LATTICE_GROUP) {
        size_t g1 = g0 + AEM_LATTICE_GROUP < D ? g0 + AEM_LATTICE_GROUP : D;
        for (size_t i = 0; i < n; i++)
            empty_sparse_group(z, q, n, i, g0, g1, inv, one_budget, sym);
    }
}

void aem_lattice_pack(const int32_t *sym, size_t D, size_t lw, size_t lh, uint8_t *planes)
{
    aem_lattice_pack_at(sym, 0, D, lw, lh, planes);
}

void aem_lattice_pack_at(const int32_t *sym, size_t first, size_t D, size_t lw, size_t lh,
                         uint8_t *planes)
{
    size_t n = lw * lh;
    for (size_t d = 0; d < D; d++) {
        const int32_t *plane = sym + d * n;
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                size_t j = y * lw + x;
                int32_t v = plane[j];
                if (first + d < AEM_LATTICE_PREDICTED)
                    v -= aem_lattice_predict(plane, lw, x, y);
                uint32_t u = v >= 0 ? (uint32_t)(2 * v) : (uint32_t)(-2 * v - 1);
                planes[d * n + j] = (uint8_t)u;
                planes[D * n + d * n + j] = (uint8_t)(u >> 8);
            }
    }
}

void aem_lattice_unpack(const uint8_t *planes, size_t D, size_t lw, size_t lh, int32_t *sym)
{
    aem_lattice_unpack_at(planes, 0, D, lw, lh, sym);
}

void aem_lattice_unpack_at(const uint8_t *planes, size_t first, size_t D, size_t lw, size_t lh,
                           int32_t *sym)
{
    size_t n = lw * lh;
    for (size_t d = 0; d < D; d++) {
        int32_t *plane = sym + d * n;
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                size_t j = y * lw + x;
                uint32_t u = planes[d * n + j] | (uint32_t)planes[D * n + d * n + j] << 8;
                int32_t v = (u & 1) ? -(int32_t)(u >> 1) - 1 : (int32_t)(u >> 1);
                if (first + d < AEM_LATTICE_PREDICTED)
                    v += aem_lattice_predict(plane, lw, x, y);
                /* Encoders stay within the range; clamping what a hostile
                 * file holds keeps every later sum and prediction small. */
                v = v > AEM_LATTICE_MAX_SYMBOL    ? AEM_LATTICE_MAX_SYMBOL
                    : v < -AEM_LATTICE_MAX_SYMBOL ? -AEM_LATTICE_MAX_SYMBOL
                                                  : v;
                plane[j] = v;
            }
    }
}
