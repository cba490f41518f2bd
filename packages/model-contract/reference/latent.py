#!/usr/bin/env python3
"""Reference implementation of sagan-serve's seed -> latent contract (README "Seeds"), plain Python.

Usage: python3 scripts/reference/latent.py SEED DIM [TRUNCATION]   -> prints the latent as JSON.
Values agree with the server's float32 z to float32 rounding (libm's log/sin/cos may differ in the last bit).
"""
import json
import math
import struct
import sys

MASK64 = (1 << 64) - 1


def splitmix64(seed):
    state = seed & MASK64
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def normals(seed):
    rng = splitmix64(seed)
    while True:
        u1 = (next(rng) >> 11) * 2.0 ** -53
        u2 = (next(rng) >> 11) * 2.0 ** -53
        r = math.sqrt(-2.0 * math.log(1.0 - u1))
        yield r * math.cos(2.0 * math.pi * u2)
        yield r * math.sin(2.0 * math.pi * u2)


def latent(seed, dim, truncation=None):
    stream = normals(seed)
    out = []
    for _ in range(dim):
        v = next(stream)
        if truncation is not None:
            while abs(v) > 2.0:
                v = next(stream)
            v *= truncation
        out.append(struct.unpack('f', struct.pack('f', v))[0])  # round to float32
    return out


if __name__ == '__main__':
    seed, dim = int(sys.argv[1]), int(sys.argv[2])
    psi = float(sys.argv[3]) if len(sys.argv) > 3 else None
    print(json.dumps(latent(seed, dim, psi)))
