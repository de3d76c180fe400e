#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""PyTorch twin of the decoder network of the default levels (aecodec-high-v4's
shape: the block decoder plus the upsampling synthesis of spec/model.md, model
format version 2), timed on the work of a whole-image decode: random weights
(the time does not depend on them), no quantiser, no entropy decoding.  The
peer that issue 13's decode target is read against for today's model, beside
../shared/peers/twin_decoder.py (aecodec-high-v2's block decoder alone).
Needs Debian's python3-torch; run with /usr/bin/python3.

usage: bench/twin_decoder_up.py THREADS [W H]   (default 768 512)
Prints the median of 9 forward passes (after 2 warm-ups) in ms.
"""
import sys, time, statistics
import torch, torch.nn as nn

th = int(sys.argv[1]) if len(sys.argv) > 1 else 2
W, H = (int(v) for v in (sys.argv[2:4] if len(sys.argv) > 3 else (768, 512)))
torch.set_num_threads(th)
D, Cd, Nd, X = 64, 128, 3, 192          # block decoder
U0, U1, U2, R = 32, 16, 8, 16           # upsampling synthesis (--up 32,16,8,16)


def conv3(i, o):
    return nn.Conv2d(i, o, 3, 1, 1)


class Dec(nn.Module):
    def __init__(s):
        super().__init__()
        s.lin = nn.Conv2d(D, X, 1)
        s.convs = nn.ModuleList([conv3(D if i == 0 else Cd, Cd) for i in range(Nd)])
        s.out = nn.Conv2d(Cd, X, 1)
        s.up = nn.ModuleList([conv3(Cd, 4 * U0), conv3(U0, 4 * U1), conv3(U1, 4 * U2)])
        s.ref, s.fin = conv3(U2 + 3, R), conv3(R, 3)
        s.d2s8, s.d2s2 = nn.PixelShuffle(8), nn.PixelShuffle(2)

    def forward(s, q):
        g = q
        for c in s.convs:
            g = torch.relu(c(g))
        p = s.d2s8(s.lin(q) + s.out(g))
        u = g
        for c in s.up:
            u = s.d2s2(torch.relu(c(u)))
        r = torch.relu(s.ref(torch.cat([u, p], 1)))
        return (p + s.fin(r)).clamp_(0, 1)


m = Dec().eval()
q = torch.randn(1, D, H // 8, W // 8)
with torch.no_grad():
    for _ in range(2):
        m(q)
    ts = []
    for _ in range(9):
        t = time.perf_counter(); m(q); ts.append(time.perf_counter() - t)
macs = (D * Cd * 9 + (Nd - 1) * Cd * Cd * 9 + Cd * X + D * X) / 64 \
    + Cd * 4 * U0 * 9 / 64 + U0 * 4 * U1 * 9 / 16 + U1 * 4 * U2 * 9 / 4 \
    + (U2 + 3) * R * 9 + R * 3 * 9
print(f"torch {torch.__version__} threads={th} {W}x{H} upsampling decoder: "
      f"{macs:.0f} MACs/px, median {1000 * statistics.median(ts):.1f} ms, "
      f"{2 * macs * W * H / statistics.median(ts) / 1e9:.1f} GFLOP/s")
