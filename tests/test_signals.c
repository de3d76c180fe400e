/* SPDX-License-Identifier: BSD-3-Clause */
/* test_signals.c - no file left behind when SIGINT, SIGTERM or SIGHUP ends
 * a tool (tools/common/cleanup.h): each case forks a child that creates an
 * output the way the tools do, is killed by the signal mid-write, and the
 * parent checks that the child died of that signal and left nothing.
 *
 * Tool mode, for tests/signal_test.sh:
 *   test_signals --exec CMD [ARG...]   run CMD with SIGINT, SIGQUIT and SIGHUP at
 *       their default action (a shell starts background jobs with them
 *       ignored, and an ignored signal must stay ignored) */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "common/cleanup.h"
#include "common/imageio.h"
#include "testlib.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_dir[256];

static int entries(void)
{
    DIR *d = opendir(g_dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void clean(void)
{
    DIR *d = opendir(g_dir);
    char path[512];
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", g_dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
}

/* How the child makes its output before the signal. */
enum { WITH_WRITER, WITH_FILE, WITH_REGISTERED };

/* Child: install the handler, start an output, raise sig.  Returns only
 * when the signal did not end it (exit status 3: it was ignored). */
static void child(int how, int sig)
{
    aeio_cleanup_install();
    char path[512], err[256];
    snprintf(path, sizeof(path), "%s/out.png", g_dir);
    if (how == WITH_WRITER) {
        aeio_writer *w;
        uint8_t rows[16 * 3 * 4] = {0};
        if (aeio_writer_open(&w, path, 16, 16, 3, NULL, err, sizeof(err)) != 0 ||
            aeio_writer_write_rows(w, rows, 4, err, sizeof(err)) != 0)
            _exit(2);
    } else if (how == WITH_FILE) {
        aeio_file *f;
        snprintf(path, sizeof(path), "%s/out.aec", g_dir);
        if (aeio_file_open(&f, path, err, sizeof(err)) != 0 ||
            aeio_file_write(f, "bytes", 5, err, sizeof(err)) != 0)
            _exit(2);
    } else {
        snprintf(path, sizeof(path), "%s/out.ckpt.tmp", g_dir);
        if (aeio_cleanup_add(path) < 0)
            _exit(2);
        FILE *f = fopen(path, "wb");
        if (!f || fputs("partial", f) < 0 || fflush(f) != 0)
            _exit(2);
    }
    if (entries() != 1)
        _exit(4); /* the temporary file must exist before the signal */
    raise(sig);
    _exit(3);
}

/* Runs child(how, sig) and returns its wait status. */
static int run_child(int how, int sig, int ignore_first)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (ignore_first)
            signal(sig, SIG_IGN);
        else
            signal(sig, SIG_DFL);
        child(how, sig);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static void check_killed_clean(int how, int sig)
{
    clean();
    int status = run_child(how, sig, 0);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == sig, "how %d sig %d: status 0x%x", how,
           sig, status);
    CHECKF(entries() == 0, "how %d sig %d: %d files left", how, sig, entries());
    clean();
}

static void test_writer_temp_removed_on_signals(void)
{
    check_killed_clean(WITH_WRITER, SIGINT);
    check_killed_clean(WITH_WRITER, SIGTERM);
    check_killed_clean(WITH_WRITER, SIGHUP);
}

static void test_file_temp_removed_on_signals(void)
{
    check_killed_clean(WITH_FILE, SIGINT);
    check_killed_clean(WITH_FILE, SIGTERM);
    check_killed_clean(WITH_FILE, SIGHUP);
}

static void test_registered_path_removed(void) { check_killed_clean(WITH_REGISTERED, SIGTERM); }

/* nohup's SIGHUP stays ignored: the child goes on, its file stays. */
static void test_ignored_signal_stays_ignored(void)
{
    clean();
    int status = run_child(WITH_FILE, SIGHUP, 1);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status 0x%x", status);
    CHECK(entries() == 1);
    clean();
}

/* A committed file is forgotten: a later signal does not remove it. */
static void test_committed_file_kept(void)
{
    clean();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        aeio_cleanup_install();
        char path[512], err[256];
        snprintf(path, sizeof(path), "%s/done.aec", g_dir);
        if (aeio_write_file_atomic(path, "abc", 3, err, sizeof(err)) != 0)
            _exit(2);
        raise(SIGTERM);
        _exit(3);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "status 0x%x", status);
    char path[512];
    snprintf(path, sizeof(path), "%s/done.aec", g_dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 3);
    CHECK(entries() == 1);
    clean();
}

/* Slots are reused: many files registered and forgotten in turn. */
static void test_slots_reused(void)
{
    for (int i = 0; i < 1000; i++) {
        int slot = aeio_cleanup_add("/nonexistent/x");
        CHECK(slot >= 0);
        aeio_cleanup_remove(slot);
    }
    char longpath[5000];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = 0;
    CHECK(aeio_cleanup_add(longpath) == -1);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--exec") == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGQUIT, SIG_DFL);
        signal(SIGHUP, SIG_DFL); /* ignored when the suite runs under nohup */
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        return 127;
    }
    snprintf(g_dir, sizeof(g_dir), "%s/aec_sig.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_dir)) {
        printf("FAIL test_signals_setup\n");
        return 1;
    }
    RUN_TEST(test_writer_temp_removed_on_signals);
    RUN_TEST(test_file_temp_removed_on_signals);
    RUN_TEST(test_registered_path_removed);
    RUN_TEST(test_ignored_signal_stays_ignored);
    RUN_TEST(test_committed_file_kept);
    RUN_TEST(test_slots_reused);
    clean();
    rmdir(g_dir);
    return tl_total_failed ? 1 : 0;
}
