/* SPDX-License-Identifier: BSD-3-Clause */
/* pixbuf_load.c - test helper: load an image through GdkPixbuf (whatever
 * loader GDK_PIXBUF_MODULE_FILE names), fed CHUNK bytes at a time as a
 * viewer does, and write its RGB samples as a binary PPM (alpha dropped),
 * so tests compare it with aedec's output byte for byte.
 * usage: pixbuf_load IN OUT.ppm [CHUNK [DELAY_MS [WIDTHxHEIGHT]]]
 * DELAY_MS: a pause after each chunk, as a slow network stream would make,
 * and "updates N" on stderr (area-updated signals: progressive previews);
 * WIDTHxHEIGHT: the size asked for (gdk_pixbuf_loader_set_size), as a
 * thumbnailer asks.  "icc-profile N bytes" on stderr when the pixbuf carries
 * a colour profile (its "icc-profile" option).  Exit 1 with the GError's
 * message.
 * pixbuf_load --info IN: "FORMAT WIDTH HEIGHT" from gdk_pixbuf_get_file_info
 * (the loader asked for the size only; the type is sniffed, so the MIME
 * database must know image/x-aecodec). */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, GError *err)
{
    fprintf(stderr, "pixbuf_load: %s: %s\n", what, err ? err->message : "failed");
    if (err)
        g_error_free(err);
    return 1;
}

static void count_update(GdkPixbufLoader *loader, gint x, gint y, gint w, gint h, gpointer n)
{
    (void)loader, (void)x, (void)y, (void)w, (void)h;
    (*(int *)n)++;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--info") == 0) {
        int w = 0, h = 0;
        GdkPixbufFormat *f = gdk_pixbuf_get_file_info(argv[2], &w, &h);
        printf("%s %d %d\n", f ? gdk_pixbuf_format_get_name(f) : "none", w, h);
        return f ? 0 : 1;
    }
    if (argc < 3)
        return fprintf(stderr, "usage: pixbuf_load IN OUT.ppm [CHUNK [DELAY_MS [WxH]]]\n"), 2;
    gsize chunk = argc > 3 ? (gsize)strtoul(argv[3], NULL, 10) : 4096;
    unsigned delay_ms = argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
    int want_w = 0, want_h = 0, updates = 0;
    if (argc > 5 && sscanf(argv[5], "%dx%d", &want_w, &want_h) != 2)
        return fprintf(stderr, "pixbuf_load: size %s is not WIDTHxHEIGHT\n", argv[5]), 2;
    gchar *data;
    gsize size;
    GError *err = NULL;
    if (!g_file_get_contents(argv[1], &data, &size, &err))
        return fail(argv[1], err);
    GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_mime_type("image/x-aecodec", &err);
    if (!loader)
        return fail("no aecodec loader", err);
    if (want_w > 0 && want_h > 0)
        gdk_pixbuf_loader_set_size(loader, want_w, want_h);
    g_signal_connect(loader, "area-updated", G_CALLBACK(count_update), &updates);
    gboolean ok = TRUE;
    for (gsize at = 0; ok && at < size; at += chunk) {
        ok = gdk_pixbuf_loader_write(loader, (const guchar *)data + at,
                                     size - at < chunk ? size - at : chunk, &err);
        if (delay_ms)
            usleep(delay_ms * 1000u);
    }
    if (!gdk_pixbuf_loader_close(loader, ok ? &err : NULL))
        ok = FALSE;
    g_free(data);
    GdkPixbuf *pb = ok ? gdk_pixbuf_loader_get_pixbuf(loader) : NULL;
    if (!pb) {
        g_object_unref(loader);
        return fail(argv[1], err);
    }
    int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
    int n = gdk_pixbuf_get_n_channels(pb), stride = gdk_pixbuf_get_rowstride(pb);
    const guchar *px = gdk_pixbuf_read_pixels(pb);
    FILE *f = fopen(argv[2], "wb");
    if (!f)
        return fail(argv[2], NULL);
    fprintf(f, "P6\n%d %d\n255\n", w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            fwrite(px + (size_t)y * stride + (size_t)x * n, 1, 3, f);
    int bad = fclose(f) != 0;
    if (delay_ms)
        fprintf(stderr, "updates %d\n", updates);
    const gchar *icc = gdk_pixbuf_get_option(pb, "icc-profile");
    if (icc) {
        gsize icc_len = 0;
        g_free(g_base64_decode(icc, &icc_len));
        fprintf(stderr, "icc-profile %lu bytes\n", (unsigned long)icc_len);
    }
    g_object_unref(loader);
    return bad;
}
