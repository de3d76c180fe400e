#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# signal_test.sh - Ctrl-C (SIGINT), kill (SIGTERM) and a closed terminal
# (SIGHUP) in the middle of aeenc, aedec and aetrain leave no file behind:
# no temporary file, no partial output; the tool ends killed by the signal.
# Usage (from the repository root): sh tests/signal_test.sh BUILD
# Prints "ok NAME" / "FAIL NAME" per case.
BUILD=${1:-build}
ENC=$BUILD/aeenc
DEC=$BUILD/aedec
TRAIN=$BUILD/aetrain
T=$BUILD/tests/test_imageio
S=$BUILD/tests/test_signals # --exec: run with SIGINT at its default action

failed=0
pass() { echo "ok $1"; }
fail() {
    echo "FAIL $1${2:+: $2}"
    failed=$((failed + 1))
    if [ -s "$tmp/err" ]; then sed 's/^/  | /' "$tmp/err" | head -n 10; fi
}
for prog in "$ENC" "$DEC" "$TRAIN" "$T" "$S"; do
    if [ ! -x "$prog" ]; then
        echo "FAIL signal_test_setup: $prog not built"
        exit 1
    fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_sig.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/err"

signum() { case $1 in INT) echo 2 ;; TERM) echo 15 ;; HUP) echo 1 ;; esac; }
empty() { [ -z "$(ls -A "$1")" ]; }

# wait_for_temp DIR PID [PATTERN]: true once a temporary file (one whose
# name matches PATTERN, default \.tmp) shows in DIR while PID
# runs (at most about 60 s)
wait_for_temp() {
    i=0
    while [ $i -lt 1200 ]; do
        ls -A "$1" | grep -q "${3:-\.tmp}" && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
        i=$((i + 1))
    done
    return 1
}

# killed_clean NAME SIG DIR PID: signal PID once its temp file is in DIR;
# it must die of SIG and leave DIR empty
killed_clean() {
    name=$1 sig=$2 dir=$3 pid=$4
    if ! wait_for_temp "$dir" "$pid"; then
        wait "$pid"
        fail "$name" "no temporary file seen while it ran (exit status $?)"
        return
    fi
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    if [ $rc -ne $((128 + $(signum "$sig"))) ]; then
        fail "$name" "exit status $rc, wanted $((128 + $(signum "$sig")))"
    elif ! empty "$dir"; then
        fail "$name" "left: $(ls -A "$dir" | tr '\n' ' ')"
    else
        pass "$name"
    fi
}

"$T" --make-sample "$tmp/small.ppm" 64 48 3 || { echo "FAIL signal_test_samples"; exit 1; }

# aeenc reading a pipe that stays open: its output's temporary file exists
# from the start (aeenc makes it before reading), so the signal comes while
# the output is open.
for sig in INT TERM HUP; do
    mkdir "$tmp/enc$sig"
    mkfifo "$tmp/fifo$sig"
    "$S" --exec "$ENC" -t 1 - "$tmp/enc$sig/out.aec" <"$tmp/fifo$sig" 2>"$tmp/err" &
    pid=$!
    exec 3>"$tmp/fifo$sig"
    head -c 100 "$tmp/small.ppm" >&3
    killed_clean "aeenc_sig$sig" "$sig" "$tmp/enc$sig" "$pid"
    exec 3>&-
done

# aedec writing a large image band by band: the signal comes after the
# first bands are in the temporary file.
"$T" --make-sample "$tmp/big.ppm" 3072 2048 3 &&
    "$ENC" -t 1 -q 1 "$tmp/big.ppm" "$tmp/big.aec" 2>"$tmp/err" || fail aedec_signal_sample
rm -f "$tmp/big.ppm"
for sig in INT TERM HUP; do
    mkdir "$tmp/dec$sig"
    "$S" --exec "$DEC" -t 1 "$tmp/big.aec" "$tmp/dec$sig/out.png" 2>"$tmp/err" &
    killed_clean "aedec_sig$sig" "$sig" "$tmp/dec$sig" $!
done
# the same in a batch: the files finished before the signal stay, whole
mkdir "$tmp/decb"
cp "$tmp/big.aec" "$tmp/big2.aec"
"$ENC" -t 1 "$tmp/small.ppm" "$tmp/a.aec" 2>"$tmp/err"
"$S" --exec "$DEC" -t 1 -o "$tmp/decb" "$tmp/a.aec" "$tmp/big.aec" "$tmp/big2.aec" 2>"$tmp/err" &
pid=$!
# (big.png's temporary file: a.png's own, seen on a loaded machine, would
# kill the batch before any file is done)
if wait_for_temp "$tmp/decb" $pid 'big\.png\.tmp'; then
    kill -s TERM $pid
    wait $pid
    rc=$?
    if [ $rc -eq 143 ] && [ "$(ls -A "$tmp/decb")" = a.png ] && "$T" --info "$tmp/decb/a.png" >/dev/null; then
        pass aedec_batch_sigTERM_keeps_done_files
    else
        fail aedec_batch_sigTERM_keeps_done_files "exit status $rc, files: $(ls -A "$tmp/decb" | tr '\n' ' ')"
    fi
else
    wait $pid
    fail aedec_batch_sigTERM_keeps_done_files "no temporary file seen"
fi

# aetrain saving its model and checkpoint at every step: Ctrl-C at any
# moment leaves no .tmp file (the finished files may stay: they are whole).
mkdir "$tmp/train" "$tmp/model"
for k in 1 2; do "$T" --make-sample "$tmp/train/p$k.ppm" 80 80 3; done
"$S" --exec "$TRAIN" --train "$tmp/train" --out "$tmp/model/m.aem" --steps 100000 --batch 1 \
    --crop 32 --latent 4 --stages 1 --codes 4 --enc-width 8 --enc-convs 1 --dec-width 8 \
    --dec-convs 1 --ckpt-every 1 --valid-every 100000 --log-every 100000 -t 1 >/dev/null 2>"$tmp/err" &
pid=$!
i=0
while [ $i -lt 600 ] && [ ! -e "$tmp/model/m.aem.ckpt" ] && kill -0 $pid 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
sleep 0.3
kill -s INT $pid
wait $pid
rc=$?
if [ $rc -eq 130 ] && [ -e "$tmp/model/m.aem.ckpt" ] && ! ls -A "$tmp/model" | grep -q tmp; then
    pass aetrain_sigINT_no_tmp
else
    fail aetrain_sigINT_no_tmp "exit status $rc, files: $(ls -A "$tmp/model" | tr '\n' ' ')"
fi

[ $failed -eq 0 ]
