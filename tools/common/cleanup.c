/* SPDX-License-Identifier: BSD-3-Clause */
/* cleanup.c - files removed when a signal ends a tool (see cleanup.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cleanup.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A tool has at most a few outputs open at once (one per thread writing). */
#define SLOTS 32
#define PATH_BYTES 4096

enum { SLOT_FREE, SLOT_FILLING, SLOT_FILE, SLOT_DIR };

/* Process-wide by nature: a signal handler has no other way to find them. */
static atomic_int g_state[SLOTS];
static char g_path[SLOTS][PATH_BYTES];

static const int g_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSIGNALS (sizeof(g_signals) / sizeof(g_signals[0]))

static void on_signal(int sig)
{
    int saved = errno;
    for (int i = 0; i < SLOTS; i++)
        if (atomic_load(&g_state[i]) == SLOT_FILE)
            unlink(g_path[i]);
    for (int i = 0; i < SLOTS; i++) /* once their files are gone */
        if (atomic_load(&g_state[i]) == SLOT_DIR)
            rmdir(g_path[i]);
    errno = saved;
    /* SA_RESETHAND restored the default action; the raised signal is
     * delivered when the handler returns and ends the process. */
    raise(sig);
}

void aeio_cleanup_install(void)
{
    for (size_t k = 0; k < NSIGNALS; k++) {
        struct sigaction old, sa;
        if (sigaction(g_signals[k], NULL, &old) != 0 || old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        for (size_t j = 0; j < NSIGNALS; j++) /* one handler run at a time */
            sigaddset(&sa.sa_mask, g_signals[j]);
        sa.sa_flags = SA_RESETHAND;
        sigaction(g_signals[k], &sa, NULL);
    }
}

static int add(const char *path, int kind)
{
    size_t n = strlen(path);
    if (n >= PATH_BYTES)
        return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = SLOT_FREE;
        if (atomic_compare_exchange_strong(&g_state[i], &expected, SLOT_FILLING)) {
            memcpy(g_path[i], path, n + 1);
            atomic_store(&g_state[i], kind);
            return i;
        }
    }
    return -1;
}

int aeio_cleanup_add(const char *path) { return add(path, SLOT_FILE); }

int aeio_cleanup_add_dir(const char *path) { return add(path, SLOT_DIR); }

void aeio_cleanup_remove(int slot)
{
    if (slot >= 0 && slot < SLOTS)
        atomic_store(&g_state[slot], SLOT_FREE);
}

int aeio_cleanup_mkstemp(char *template_path, int *slot)
{
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t k = 0; k < NSIGNALS; k++)
        sigaddset(&block, g_signals[k]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int fd = mkstemp(template_path);
    int saved = errno;
    *slot = fd >= 0 ? aeio_cleanup_add(template_path) : -1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return fd;
}

FILE *aeio_cleanup_fopen(const char *path, const char *mode, int *slot)
{
    *slot = aeio_cleanup_add(path);
    FILE *f = fopen(path, mode);
    if (!f) {
        aeio_cleanup_remove(*slot);
        *slot = -1;
    }
    return f;
}

int aeio_cleanup_fclose(FILE *f, int slot)
{
    int rc = fclose(f);
    aeio_cleanup_remove(slot);
    return rc;
}
