#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# mpi_test.sh - aetrain-mpi on 2 ranks of one machine trains the same model
# file, byte for byte, as one process with the same --chunks, and its
# checkpoint resumes in one process to the same result.  Skipped (an "ok ...
# skipped" line) where Open MPI or aetrain-mpi is absent.
# Usage (from the repository root): sh tests/mpi_test.sh BUILD
BUILD=${1:-build}
TRAIN=$BUILD/aetrain
MPI_TRAIN=$BUILD/aetrain-mpi
T=$BUILD/tests/test_imageio
if [ ! -x "$MPI_TRAIN" ] || ! command -v mpirun >/dev/null 2>&1; then
    echo "ok mpi_two_ranks_same_model skipped (no Open MPI)"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# root in containers and CI; leaks inside libmpi are not ours to report
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
failed=0
check() { # name, condition status
    if [ "$2" -eq 0 ]; then echo "ok $1"; else echo "FAIL $1"; sed 's/^/  | /' "$tmp/err" | head -n 10; failed=1; fi
}
mkdir "$tmp/train"
for k in 1 2 3 4 5; do "$T" --make-sample "$tmp/train/p$k.ppm" $((64 + 6 * k)) $((64 + 4 * k)) 3 || exit 1; done
ARGS="--train $tmp/train --batch 4 --crop 32 --latent 4 --stages 2 --codes 4 --enc-width 8
      --enc-convs 1 --dec-width 8 --dec-convs 1 --warmup 2 --seed 7 --chunks 2 -t 1
      --log-every 3 --valid-every 1000"
mpirun() { command mpirun --oversubscribe -np 2 "$@"; }
"$TRAIN" $ARGS --steps 6 --out "$tmp/one.aem" >"$tmp/log1" 2>"$tmp/err"
mpirun "$MPI_TRAIN" $ARGS --steps 6 --out "$tmp/two.aem" >"$tmp/log2" 2>>"$tmp/err"
cmp -s "$tmp/one.aem" "$tmp/two.aem"
check mpi_two_ranks_same_model $?
grep -q "2 chunks on 2 ranks, exchange" "$tmp/log2"
check mpi_log_shows_exchange $?
# 3 steps on 2 ranks, then 3 more in one process: the 6-step model again.
mpirun "$MPI_TRAIN" $ARGS --steps 3 --out "$tmp/half.aem" >/dev/null 2>>"$tmp/err" &&
    "$TRAIN" $ARGS --steps 6 --resume "$tmp/half.aem.ckpt" --out "$tmp/resumed.aem" \
        >/dev/null 2>>"$tmp/err"
[ $? -eq 0 ] && cmp -s "$tmp/one.aem" "$tmp/resumed.aem"
check mpi_checkpoint_resumes_in_one_process $?
# chunks that the ranks do not divide: a one-line error, no model file
mpirun "$MPI_TRAIN" $ARGS --chunks 3 --steps 1 --out "$tmp/bad.aem" >/dev/null 2>"$tmp/err2"
rc=$?
[ $rc -ne 0 ] && [ ! -e "$tmp/bad.aem" ] && grep -q "multiple of the 2 ranks" "$tmp/err2"
check mpi_bad_chunks_refused $?
exit $failed
