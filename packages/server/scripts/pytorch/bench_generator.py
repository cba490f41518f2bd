#!/usr/bin/env python3
"""PyTorch eager throughput of the SAGAN generator in export_sagan.py: the anchor issue 5 compares the
server with (`../shared/reference/h100-sagan128.md` measured 4,075 images/s at batch 16, bf16
channels_last, on an H100). Run it on the same GPU as the server's benchmark so the ratio is like for like.

    python3 scripts/pytorch/bench_generator.py --size 128 --ch 64 --classes 1000 --batch-sizes 1,16,64 \
        --modes fp32,bf16-channels-last --seconds 3 --out sagan128-pytorch.json

Modes: fp32; tf32; bf16-autocast (fp32 weights, autocast); bf16-channels-last (bf16 weights and
activations, channels_last memory format). Prints a table and writes JSON. Random weights: the cost of a
forward pass does not depend on them.
"""
import argparse
import json
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from export_sagan import Generator  # noqa: E402


def build(args, mode, device):
    model = Generator(args.size, args.ch, 128, args.classes, args.attention).eval().to(device)
    if mode == 'bf16-channels-last':
        model = model.to(dtype=torch.bfloat16, memory_format=torch.channels_last)
    return model


def run_once(model, z, y, mode):
    if mode == 'bf16-autocast':
        with torch.autocast(device_type=z.device.type, dtype=torch.bfloat16):
            return model(z, y)
    return model(z, y)


def measure(args, mode, batch, device):
    torch.backends.cuda.matmul.allow_tf32 = mode == 'tf32'
    torch.backends.cudnn.allow_tf32 = mode == 'tf32'
    model = build(args, mode, device)
    dtype = torch.bfloat16 if mode == 'bf16-channels-last' else torch.float32
    z = torch.randn(batch, 128, device=device, dtype=dtype)
    y = torch.randint(0, args.classes, (batch,), device=device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    with torch.no_grad():
        for _ in range(3):
            run_once(model, z, y, mode)
        sync()
        runs = 0
        started = time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            run_once(model, z, y, mode)
            runs += 1
            if runs % 8 == 0:
                sync()
        sync()
        seconds = time.perf_counter() - started
    return {'mode': mode, 'batch': batch, 'runs': runs, 'ms_per_batch': 1000 * seconds / runs,
            'images_per_second': batch * runs / seconds}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--ch', type=int, default=64)
    parser.add_argument('--classes', type=int, default=1000)
    parser.add_argument('--attention', type=int, default=32)
    parser.add_argument('--batch-sizes', default='1,16,64')
    parser.add_argument('--modes', default='fp32,tf32,bf16-autocast,bf16-channels-last')
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out')
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor() or 'cpu'
    results = []
    for mode in args.modes.split(','):
        for batch in [int(b) for b in args.batch_sizes.split(',')]:
            try:
                r = measure(args, mode, batch, device)
            except Exception as err:  # e.g. bf16 unsupported on this device: report, go on
                r = {'mode': mode, 'batch': batch, 'error': str(err).splitlines()[0]}
            results.append(r)
            shown = f"{r['images_per_second']:9.1f} images/s, {r['ms_per_batch']:8.2f} ms/batch" if 'error' not in r else f"error: {r['error']}"
            print(f'{mode:20} batch {batch:4}: {shown}', flush=True)
    report = {'device': name, 'torch': torch.__version__, 'generator': {'size': args.size, 'ch': args.ch, 'classes': args.classes,
              'attention': args.attention}, 'seconds_per_point': args.seconds, 'results': results}
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
