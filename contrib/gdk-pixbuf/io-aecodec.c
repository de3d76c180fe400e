/* SPDX-License-Identifier: BSD-3-Clause */
/* io-aecodec.c - gdk-pixbuf loader for aecodec files (image/x-aecodec).
 *
 * Viewers feed a file in chunks (begin_load, load_increment..., stop_load).
 * The loader buffers the bytes; as soon as the header and stream table are
 * in it tells the viewer the image's size (size_func), and when the viewer
 * asks for a smaller one (a thumbnailer does) it picks the largest
 * reduction of the library's scaled decode (1/2, 1/4, 1/8) that still
 * gives at least that size; GdkPixbufLoader scales the rest.
 *
 * The library decodes straight into the pixbuf's own rows (its rowstride),
 * as RGB, or RGBA when the file has alpha (GdkPixbuf holds only RGB(A), 8
 * bits): grey is widened by the library.
 *
 * Progressive preview: while a file arrives slowly (a network stream), a
 * prefix that holds more than the last preview (a further VQ stage, more
 * lattice tiles: aec_probe_prefix) is decoded into the pixbuf and
 * area_updated is signalled, at most every PREVIEW_GAP_US, and never
 * while the whole file comes within that time (a local file), so
 * previews cost nothing there.  The final decode is the whole file's; a
 * file that ends early is still an error at stop_load.  Every failure is
 * a GError with the library's message; nothing here aborts the host. */
#define GDK_PIXBUF_ENABLE_BACKEND
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gdk-pixbuf/gdk-pixbuf-io.h>
#include <string.h>
#include "aecodec.h"

#define PREVIEW_GAP_US (300 * 1000) /* 0.3 s: a slow stream, not a local file */

typedef struct {
    GdkPixbufModuleSizeFunc size_func;
    GdkPixbufModulePreparedFunc prepared_func;
    GdkPixbufModuleUpdatedFunc updated_func;
    gpointer user_data;
    GByteArray *data;
    gboolean header_seen;
    gboolean size_only;       /* the viewer asked 0 x 0: no pixels wanted  */
    aec_decode_params params; /* scale and layout chosen at the header  */
    uint32_t out_w, out_h;
    GdkPixbuf *pixbuf;        /* created at the first preview or the end */
    aec_decoder *dec;
    gint64 last_time;         /* begin_load or the last preview          */
    uint64_t preview_bytes;   /* bytes_used of the last preview          */
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
    AecContext *ctx = g_new0(AecContext, 1);
    if (aec_decoder_create(&ctx->dec, NULL) != AEC_OK) {
        g_free(ctx);
        set_error(error, GDK_PIXBUF_ERROR_FAILED, "cannot create a decoder", NULL);
        return NULL;
    }
    ctx->size_func = size_func;
    ctx->prepared_func = prepared_func;
    ctx->updated_func = updated_func;
    ctx->user_data = user_data;
    ctx->data = g_byte_array_new();
    ctx->last_time = g_get_monotonic_time();
    return ctx;
}

/* The largest reduction whose output still covers the asked size. */
static int scale_for(uint32_t w, uint32_t h, gint want_w, gint want_h)
{
    int s = 8;
    while (s > 1 && ((w + s - 1) / s < (uint32_t)want_w || (h + s - 1) / s < (uint32_t)want_h))
        s /= 2;
    return s;
}

/* Once the header and table are in: refuse a non-aecodec stream early,
 * tell the viewer the image's size (it may answer 0 x 0: "only wanted the
 * size") and choose the scale and layout of the decode. */
static gboolean read_header(AecContext *ctx, GError **error)
{
    uint32_t w, h;
    aec_layout layout;
    aec_status st = aec_decode_size(ctx->data->data, ctx->data->len, NULL, &w, &h, &layout);
    if (st == AEC_ERR_TRUNCATED)
        return TRUE; /* header or table not complete yet */
    if (st != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "bad header", aec_status_string(st));
        return FALSE;
    }
    ctx->header_seen = TRUE;
    gint want_w = (gint)w, want_h = (gint)h;
    if (ctx->size_func)
        ctx->size_func(&want_w, &want_h, ctx->user_data);
    if (want_w <= 0 || want_h <= 0) { /* as other loaders: stop here */
        ctx->size_only = TRUE;
        set_error(error, GDK_PIXBUF_ERROR_FAILED, "size requested only", NULL);
        return FALSE;
    }
    aec_decode_params_default(&ctx->params);
    ctx->params.scale = scale_for(w, h, want_w, want_h);
    ctx->params.layout = layout == AEC_RGBA || layout == AEC_GRAY_ALPHA ? AEC_RGBA : AEC_RGB;
    st = aec_decode_size(ctx->data->data, ctx->data->len, &ctx->params, &ctx->out_w, &ctx->out_h,
                         NULL);
    if (st != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "bad header", aec_status_string(st));
        return FALSE;
    }
    return TRUE;
}

/* Decodes the data so far (partial: a prefix) into the pixbuf, created and
 * announced on first use, and signals the update. */
/* The file's ICC profile as the pixbuf's "icc-profile" option (base64),
 * where the PNG and JPEG loaders put theirs, so that colour-managed
 * viewers use it.  The metadata stream is the file's last: only the final
 * decode has it. */
static void attach_icc_profile(AecContext *ctx)
{
    aec_metadata md;
    if (aec_read_metadata(ctx->data->data, ctx->data->len, &md) != AEC_OK || !md.icc_size)
        return;
    gchar *b64 = g_base64_encode(md.icc, md.icc_size);
    gdk_pixbuf_set_option(ctx->pixbuf, "icc-profile", b64);
    g_free(b64);
}

static gboolean decode_into_pixbuf(AecContext *ctx, int partial, GError **error)
{
    if (!ctx->pixbuf) {
        ctx->pixbuf = gdk_pixbuf_new(GDK_COLORSPACE_RGB, ctx->params.layout == AEC_RGBA, 8,
                                     (int)ctx->out_w, (int)ctx->out_h);
        if (!ctx->pixbuf) {
            set_error(error, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, "no memory for the image",
                      NULL);
            return FALSE;
        }
        /* mid-grey, the library's colour for what has not arrived, in
         * case the viewer draws before the first decode ends */
        gdk_pixbuf_fill(ctx->pixbuf, 0x808080ffu);
        if (ctx->prepared_func)
            ctx->prepared_func(ctx->pixbuf, NULL, ctx->user_data);
    }
    aec_decode_params p = ctx->params;
    p.partial = partial;
    aec_status st = aec_decode_into(ctx->dec, ctx->data->data, ctx->data->len, &p,
                                    gdk_pixbuf_get_pixels(ctx->pixbuf),
                                    (size_t)gdk_pixbuf_get_rowstride(ctx->pixbuf),
                                    gdk_pixbuf_get_byte_length(ctx->pixbuf));
    if (st != AEC_OK) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, aec_status_string(st),
                  aec_decoder_last_error(ctx->dec));
        return FALSE;
    }
    if (!partial)
        attach_icc_profile(ctx);
    if (ctx->updated_func)
        ctx->updated_func(ctx->pixbuf, 0, 0, (int)ctx->out_w, (int)ctx->out_h, ctx->user_data);
    return TRUE;
}

/* A preview when the stream is slow and the prefix holds more than the
 * last one showed. */
static gboolean maybe_preview(AecContext *ctx, GError **error)
{
    gint64 now = g_get_monotonic_time();
    if (now - ctx->last_time < PREVIEW_GAP_US)
        return TRUE;
    aec_progress pr;
    if (aec_probe_prefix(ctx->data->data, ctx->data->len, &ctx->params, &pr) != AEC_OK ||
        pr.final || pr.bytes_used <= ctx->preview_bytes)
        return TRUE;
    ctx->preview_bytes = pr.bytes_used;
    gboolean ok = decode_into_pixbuf(ctx, 1, error);
    ctx->last_time = g_get_monotonic_time(); /* the gap counts from the preview's end */
    return ok;
}

static gboolean aec_load_increment(gpointer context, const guchar *buf, guint size,
                                   GError **error)
{
    AecContext *ctx = context;
    g_byte_array_append(ctx->data, buf, size);
    if (ctx->size_only) {
        set_error(error, GDK_PIXBUF_ERROR_FAILED, "size requested only", NULL);
        return FALSE;
    }
    if (!ctx->header_seen)
        return read_header(ctx, error);
    return maybe_preview(ctx, error);
}

static gboolean aec_stop_load(gpointer context, GError **error)
{
    AecContext *ctx = context;
    gboolean ok = TRUE;
    if (ctx->size_only) {
        set_error(error, GDK_PIXBUF_ERROR_FAILED, "size requested only", NULL);
        ok = FALSE;
    } else if (!ctx->header_seen && !read_header(ctx, error))
        ok = FALSE;
    else if (!ctx->header_seen) {
        set_error(error, GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "file too short for a header", NULL);
        ok = FALSE;
    } else {
        ok = decode_into_pixbuf(ctx, 0, error);
    }
    if (ctx->pixbuf)
        g_object_unref(ctx->pixbuf);
    aec_decoder_destroy(ctx->dec);
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
