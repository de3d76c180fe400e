/* SPDX-License-Identifier: BSD-3-Clause */
/* io-aecodec.c - gdk-pixbuf loader for aecodec files (image/x-aecodec).
 *
 * Viewers feed a file in chunks (begin_load, load_increment..., stop_load),
 * so the loader buffers the bytes and decodes once the whole file is there:
 * the container's stream table and CRCs need the full file, and a partial
 * decode would be a second decode of the same tiles.  The header is read as
 * soon as its 48 bytes have arrived, so the viewer learns the size (and may
 * ask for a smaller one through size_func) before the pixels come.
 *
 * Pixels: grey and RGB files become an RGB pixbuf, files with alpha an RGBA
 * one (GdkPixbuf holds only RGB(A), 8 bits).  Every failure is a GError
 * with the library's message; nothing here aborts the host. */
#define GDK_PIXBUF_ENABLE_BACKEND
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gdk-pixbuf/gdk-pixbuf-io.h>
#include <string.h>
#include "aecodec.h"

#define AEC_HEADER_BYTES 48

typedef struct {
    GdkPixbufModuleSizeFunc size_func;
    GdkPixbufModulePreparedFunc prepared_func;
    GdkPixbufModuleUpdatedFunc updated_func;
    gpointer user_data;
    GByteArray *data;
    gboolean header_seen;
} AecContext;

static void set_error(GError **error, int code, const char *what, const char *detail)
{
    g_set_error(error, GDK_PIXBUF_ERROR, code, "aecodec: %s%s%s", what,
                detail && *detail ? ": " : "", detail ? detail : "");
}

static gpointer aec_begin_load(GdkPixbufModuleSizeFunc size_func,
                               GdkPixbufModulePreparedFunc prepared_func,
                               GdkPixbufModuleUpdatedFunc updated_func, gpointer user_data,
                               GError **error)
{
    (void)error;
    AecContext *ctx = g_new0(AecContext, 1);
    ctx->size_func = size_func;
    ctx->prepared_func = prepared_func;
    ctx->updated_func = updated_func;
    ctx->user_data = user_data;
    ctx->data = g_byte_array_new();
    return ctx;
}

/* Once the header is in: refuse a non-aecodec stream early and tell the
 * viewer the image's size (it may answer 0 x 0: "only wanted the size"). */
static gboolean read_header(AecContext *ctx, GError **error)
{
    aec_info info;
    aec_status st = aec_read_info(ctx->data->data, ctx->data->len, &info);
    if (st == AEC_ERR_TRUNCATED)
        return TRUE; /* header not complete yet */
    if (st != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "bad header", aec_status_string(st));
        return FALSE;
    }
    ctx->header_seen = TRUE;
    if (ctx->size_func) {
        gint w = (gint)info.width, h = (gint)info.height;
        ctx->size_func(&w, &h, ctx->user_data);
    }
    return TRUE;
}

static gboolean aec_load_increment(gpointer context, const guchar *buf, guint size,
                                   GError **error)
{
    AecContext *ctx = context;
    g_byte_array_append(ctx->data, buf, size);
    if (!ctx->header_seen && ctx->data->len >= AEC_HEADER_BYTES)
        return read_header(ctx, error);
    return TRUE;
}

/* Widen a decoded buffer of layout `in` (tightly packed) into the pixbuf's
 * rows: grey -> RGB, grey+alpha -> RGBA, RGB and RGBA copied. */
static void fill_pixbuf(GdkPixbuf *pb, const guint8 *pix, uint32_t w, uint32_t h, aec_layout in)
{
    guint8 *dst = gdk_pixbuf_get_pixels(pb);
    int stride = gdk_pixbuf_get_rowstride(pb), n = gdk_pixbuf_get_n_channels(pb);
    for (uint32_t y = 0; y < h; y++) {
        const guint8 *s = pix + (size_t)y * w * (size_t)in;
        guint8 *d = dst + (size_t)y * (size_t)stride;
        for (uint32_t x = 0; x < w; x++, s += in, d += n) {
            if (in <= AEC_GRAY_ALPHA) {
                d[0] = d[1] = d[2] = s[0];
                if (in == AEC_GRAY_ALPHA)
                    d[3] = s[1];
            } else {
                memcpy(d, s, (size_t)in);
            }
        }
    }
}

static gboolean decode_all(AecContext *ctx, GError **error)
{
    aec_decoder *dec;
    if (aec_decoder_create(&dec, NULL) != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_FAILED, "cannot create a decoder", NULL);
        return FALSE;
    }
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    uint8_t *pix = NULL;
    uint32_t w = 0, h = 0;
    aec_layout layout;
    aec_status st = aec_decode(dec, ctx->data->data, ctx->data->len, &dp, &pix, &w, &h, &layout);
    if (st != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, aec_status_string(st),
                  aec_decoder_last_error(dec));
        aec_decoder_destroy(dec);
        return FALSE;
    }
    aec_decoder_destroy(dec);
    gboolean alpha = layout == AEC_RGBA || layout == AEC_GRAY_ALPHA;
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, (int)w, (int)h);
    if (!pb) {
        aec_free(pix);
        set_error(error, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, "no memory for the image", NULL);
        return FALSE;
    }
    fill_pixbuf(pb, pix, w, h, layout);
    aec_free(pix);
    if (ctx->prepared_func)
        ctx->prepared_func(pb, NULL, ctx->user_data);
    if (ctx->updated_func)
        ctx->updated_func(pb, 0, 0, (int)w, (int)h, ctx->user_data);
    g_object_unref(pb);
    return TRUE;
}

static gboolean aec_stop_load(gpointer context, GError **error)
{
    AecContext *ctx = context;
    gboolean ok = TRUE;
    if (!ctx->header_seen && !read_header(ctx, error))
        ok = FALSE;
    else if (!ctx->header_seen) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "file too short for a header", NULL);
        ok = FALSE;
    } else {
        ok = decode_all(ctx, error);
    }
    g_byte_array_free(ctx->data, TRUE);
    g_free(ctx);
    return ok;
}

G_MODULE_EXPORT void fill_vtable(GdkPixbufModule *module);
G_MODULE_EXPORT void fill_info(GdkPixbufFormat *info);

G_MODULE_EXPORT void fill_vtable(GdkPixbufModule *module)
{
    module->begin_load = aec_begin_load;
    module->stop_load = aec_stop_load;
    module->load_increment = aec_load_increment;
}

G_MODULE_EXPORT void fill_info(GdkPixbufFormat *info)
{
    static GdkPixbufModulePattern signature[] = {
        {"\x8b" "AEC", NULL, 100},
        {NULL, NULL, 0},
    };
    static gchar *mime_types[] = {"image/x-aecodec", NULL};
    static gchar *extensions[] = {"aec", "ae", NULL};
    info->name = "aecodec";
    info->signature = signature;
    info->description = "aecodec learned image codec";
    info->mime_types = mime_types;
    info->extensions = extensions;
    info->flags = GDK_PIXBUF_FORMAT_THREADSAFE;
    info->license = "BSD-3-Clause";
}
