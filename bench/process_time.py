#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench/process_time.py - issue 14's whole-process decode: `aedec -t 2` of a
768x512 photograph, timed from the parent as a user's shell would see it.

usage: /usr/bin/python3 bench/process_time.py PHOTO [--runs N] [--gap S]
           [--level Q] [--png] BUILD [BUILD ...]

Crops the top-left 768x512 of PHOTO (Pillow), codes it at level Q (default
7) with the first BUILD's aeenc, then runs each BUILD's `aedec -t 2` on it N
times (default 30), the builds in a new random order each round, S seconds
apart (default 0: back to back; 2.5 lets the machine hand freed memory
back, a cold start), and prints the median, quartiles and fastest run of
each.  Compare builds in one run: on a virtual machine the times drift by
more than most changes (bench/NOTES.md).  Output in a temporary folder.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photo")
    ap.add_argument("builds", nargs="+")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--gap", type=float, default=0.0)
    ap.add_argument("--level", default="7")
    ap.add_argument("--png", action="store_true", help="write PNG instead of PPM")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    try:
        from PIL import Image
    except ImportError:
        sys.exit("process_time.py: needs Pillow (Debian: python3-pil)")
    with tempfile.TemporaryDirectory() as tmp:
        img = Image.open(a.photo).convert("RGB")
        if img.width < 768 or img.height < 512:
            sys.exit(f"process_time.py: {a.photo} is smaller than 768x512")
        crop = os.path.join(tmp, "crop.ppm")
        img.crop((0, 0, 768, 512)).save(crop)
        coded = os.path.join(tmp, "crop.aec")
        subprocess.run([os.path.join(a.builds[0], "aeenc"), "-q", a.level, crop, coded],
                       check=True)
        out = os.path.join(tmp, "out.png" if a.png else "out.ppm")
        times = {b: [] for b in a.builds}
        rng = random.Random(a.seed)
        for _ in range(a.runs):
            order = list(a.builds)
            rng.shuffle(order)
            for b in order:
                time.sleep(a.gap)
                t0 = time.perf_counter()
                subprocess.run([os.path.join(b, "aedec"), "-t", "2", coded, out], check=True)
                times[b].append((time.perf_counter() - t0) * 1e3)
        print(f"aedec -t 2, 768x512 at level {a.level} ({os.path.getsize(coded)} bytes) "
              f"to {'PNG' if a.png else 'PPM'}, {a.runs} runs each, {a.gap} s apart, "
              f"{os.cpu_count()} CPUs:")
        for b in a.builds:
            v = sorted(times[b])
            q1, q3 = v[len(v) // 4], v[(3 * len(v)) // 4]
            print(f"  {b:24s} median {statistics.median(v):6.1f} ms  quartiles {q1:6.1f} "
                  f"{q3:6.1f}  fastest {v[0]:6.1f}")


if __name__ == "__main__":
    main()
