/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h - image quality and rate-distortion math shared by the bench
 * (bench/) and the tests: MSE/PSNR, MS-SSIM, PCHIP interpolation and the
 * Bjontegaard delta rate.
 *
 * Conventions (those of CompressAI's benchmarks):
 *  - PSNR is RGB PSNR: MSE over every pixel and every colour channel of the
 *    image, PSNR = 10*log10(255^2 / MSE); images are compared per image and
 *    the per-image PSNRs are averaged over images for each quality setting.
 *    MSE 0 (identical images) gives AEM_PSNR_CAP instead of +infinity so that
 *    averages stay finite.
 *  - MS-SSIM (Wang, Simoncelli, Bovik 2003): 11x11 Gaussian window, sigma 1.5,
 *    K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering (no padding), 5 scales
 *    with weights 0.0448 0.2856 0.3001 0.2363 0.1333, a 2x2 box average
 *    between scales (an odd last row/column is dropped), contrast-structure
 *    terms clamped at 0 (as pytorch_msssim does).  It is computed on each
 *    channel of an RGB image and the per-channel values are averaged (what
 *    pytorch_msssim, and so CompressAI, does with RGB tensors).
 *    Small images: a scale is used only if the image is still at least 11x11
 *    there, so an image whose shorter side is below 176 pixels gets fewer
 *    scales (shorter side >= 88: 4, >= 44: 3, >= 22: 2, else 1) and the
 *    weights of the scales used are renormalised to sum to 1.  Below 11
 *    pixels the window is cut to the largest odd size that fits (plain SSIM).
 *  - BD-rate (Bjontegaard 2001, with the piecewise cubic interpolation of
 *    VCEG-AL22 / JVET-CTC): log(rate) as a function of PSNR is interpolated
 *    with PCHIP for each curve, both are integrated exactly over the PSNR
 *    range the curves share, and BD-rate = exp(mean difference) - 1, in
 *    percent; negative = the test codec needs fewer bits than the anchor.
 */
#ifndef AEC_METRICS_H
#define AEC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define AEM_PSNR_CAP 100.0 /* dB reported for identical images (MSE 0) */

/* Mean squared error over all samples of two 8-bit images of the same size
 * and channel count (interleaved, tightly packed). */
double aem_mse(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
               int channels);
/* 10*log10(255^2/mse), AEM_PSNR_CAP when mse <= 0 or the value exceeds it. */
double aem_psnr_from_mse(double mse);
double aem_psnr(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
                int channels);

/* Number of MS-SSIM scales used for an image of that size (1..5). */
int aem_msssim_scales(uint32_t width, uint32_t height);
/* MS-SSIM of one plane given as floats (values 0..255), stride = width. */
double aem_msssim_plane(const float *x, const float *y, uint32_t width, uint32_t height);
/* MS-SSIM of two interleaved 8-bit images: the mean over channels of the
 * per-channel MS-SSIM.  Returns a negative value if out of memory. */
double aem_msssim(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
                  int channels);

/* Monotone piecewise cubic Hermite interpolation (Fritsch-Carlson, the slopes
 * of scipy.interpolate.PchipInterpolator).  x must be strictly increasing,
 * n >= 2.  aem_pchip_slopes fills d[n]. */
void aem_pchip_slopes(const double *x, const double *y, int n, double *d);
/* Value at t; outside [x0, x(n-1)] the end cubics are extrapolated. */
double aem_pchip_eval(const double *x, const double *y, const double *d, int n, double t);
/* Exact integral of the interpolant over [a, b] (a <= b, within the range). */
double aem_pchip_integral(const double *x, const double *y, const double *d, int n,
                          double a, double b);
/* Convenience: interpolate (x[i], y[i]) at t; the points may be in any order,
 * points with an equal x are averaged.  Returns NAN if t is outside the range
 * of x or fewer than 2 distinct x. */
double aem_interp_pchip(const double *x, const double *y, int n, double t);

/* Bjontegaard delta rate in percent of test against anchor.  Rates (bytes,
 * bpp...; > 0) and PSNRs per point, in any order.  Returns NAN if either curve
 * has fewer than 2 distinct PSNRs or the PSNR ranges do not overlap. */
double aem_bd_rate(const double *rate_anchor, const double *psnr_anchor, int n_anchor,
                   const double *rate_test, const double *psnr_test, int n_test);
/* Bjontegaard delta PSNR in dB (positive = test better), same inputs, with
 * PSNR as a PCHIP function of log(rate) over the shared log-rate range. */
double aem_bd_psnr(const double *rate_anchor, const double *psnr_anchor, int n_anchor,
                   const double *rate_test, const double *psnr_test, int n_test);

#endif
