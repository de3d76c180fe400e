/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cleanup.h - files removed when SIGINT, SIGTERM or SIGHUP ends a tool, so
 * that Ctrl-C, kill or a closed terminal leaves no temporary or partial
 * output behind (the atomic writers of imageio.c register their temporary
 * files here; the trainer its checkpoint's).
 *
 * A tool calls aeio_cleanup_install() once at start.  The handler unlinks
 * every registered path (unlink is async-signal-safe; the paths are copied
 * into fixed slots, so the handler touches no heap memory), restores the
 * default action and raises the signal again, so the process still ends
 * "killed by SIGINT" as its parent expects.  A signal that was ignored
 * when the tool started (nohup, a background job of a script) stays
 * ignored.  Registration is thread-safe (atomic slot states).
 */
#ifndef AEIO_CLEANUP_H
#define AEIO_CLEANUP_H

#include <stdio.h>

/* Installs the handler for SIGINT, SIGTERM and SIGHUP (those not ignored). */
void aeio_cleanup_install(void);

/* Registers path for removal on a signal; returns its slot, or -1 when
 * every slot is taken or the path is too long (it is then not removed; the
 * caller goes on).  Register before creating the file: unlinking a path
 * that does not exist yet is harmless, a file created before registration
 * could be missed. */
int aeio_cleanup_add(const char *path);

/* The same for a working directory: removed (if empty) after the files,
 * so register its files too. */
int aeio_cleanup_add_dir(const char *path);

/* Forgets a slot from aeio_cleanup_add (-1 is ignored): call it once the
 * file is renamed into place or removed. */
void aeio_cleanup_remove(int slot);

/* mkstemp(template) with the new file registered: the three signals are
 * blocked from before the file exists until it is registered.  Returns the
 * descriptor (or -1 with errno) and the slot in *slot. */
int aeio_cleanup_mkstemp(char *template_path, int *slot);

/* fopen(path, mode) for a file written in place (a report): registered
 * before it is created, so that a signal removes it half-written;
 * aeio_cleanup_fclose closes it (fclose's result) and forgets it. */
FILE *aeio_cleanup_fopen(const char *path, const char *mode, int *slot);
int aeio_cleanup_fclose(FILE *f, int slot);

#endif /* AEIO_CLEANUP_H */
