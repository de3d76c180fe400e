/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * threads.h - the tools' OpenMP threads started one to a CPU.
 *
 * A new thread starts on the CPU of the thread that created it, and Linux
 * moves one of the two only when it next balances its run queues: on the
 * 2-CPU virtual machines this project is measured on, the first parallel
 * regions of a process found both threads on one CPU for 4 to 12 ms, each
 * waiting out the other's time slice (bench/NOTES.md, "Threads stacked on
 * one CPU at start-up").
 */
#ifndef AE_THREADS_H
#define AE_THREADS_H

/* Starts the OpenMP team that coding `pixels` pixels with `threads`
 * threads (0 = OpenMP's default) will use (the library runs one thread
 * per AEC_PIXELS_PER_THREAD at most: nothing for a small picture) and
 * moves each thread onto a CPU of its own, as far as the process may use
 * enough of them; each may then run anywhere again, as before.  Without
 * OpenMP or the Linux affinity calls it does nothing. */
void cli_threads_start(int threads, double pixels);

#endif
