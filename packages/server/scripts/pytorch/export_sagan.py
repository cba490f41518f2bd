#!/usr/bin/env python3
"""Export a SAGAN generator from PyTorch under sagan-serve's manifest contract.

Writes OUT/generator.onnx, OUT/model.json and OUT/reference.json (PyTorch's own images, as RGB bytes, for
a few seeds and classes, with the latents from sagan-serve's seed algorithm), so that
`npm run check:pytorch -- OUT` can compare what the server returns with what PyTorch computed.

    python3 scripts/pytorch/export_sagan.py --out models/torch64 [--size 64 --ch 8 --classes a,b,c,d]

Needs torch (and onnx for the TorchScript exporter). Weights are random unless --weights gives a
state_dict saved from this module; the point is the export path, which any trained SAGAN follows.
"""
import argparse
import base64
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', 'model-contract', 'reference'))
from latent import latent  # noqa: E402  (sagan-serve's seed -> z contract)


class ConditionalBatchNorm(nn.Module):
    """BN without affine parameters, then a per-class gain and bias (BigGAN/SAGAN conditional BN)."""

    def __init__(self, channels, num_classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(num_classes, channels)
        self.bias = nn.Embedding(num_classes, channels)
        nn.init.normal_(self.gain.weight, 1.0, 0.1)
        nn.init.normal_(self.bias.weight, 0.0, 0.1)

    def forward(self, x, y):
        return self.bn(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class UpBlock(nn.Module):
    def __init__(self, cin, cout, num_classes):
        super().__init__()
        self.bn1 = ConditionalBatchNorm(cin, num_classes)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn2 = ConditionalBatchNorm(cout, num_classes)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x, y):
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode='nearest')
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2, mode='nearest'))


class SelfAttention(nn.Module):
    """SAGAN self-attention with 2x2 max-pooled keys and values; returns (output, attention map)."""

    def __init__(self, channels):
        super().__init__()
        self.theta = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.phi = nn.Conv2d(channels, channels // 8, 1, bias=False)
        self.g = nn.Conv2d(channels, channels // 2, 1, bias=False)
        self.o = nn.Conv2d(channels // 2, channels, 1, bias=False)
        self.gamma = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        b, c, h, w = x.shape
        theta = self.theta(x).flatten(2)                        # [b, c/8, N]
        phi = F.max_pool2d(self.phi(x), 2).flatten(2)           # [b, c/8, M]
        g = F.max_pool2d(self.g(x), 2).flatten(2)               # [b, c/2, M]
        attention = torch.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)  # [b, N, M]
        o = torch.bmm(g, attention.transpose(1, 2)).reshape(b, c // 2, h, w)
        return x + self.gamma * self.o(o), attention


class Generator(nn.Module):
    def __init__(self, size=64, ch=8, z_dim=128, num_classes=4, attention_at=32):
        super().__init__()
        mults = {32: [4, 4, 4, 4], 64: [16, 8, 4, 2, 1], 128: [16, 16, 8, 4, 2, 1]}[size]
        self.c0 = mults[0] * ch
        self.linear = nn.Linear(z_dim, 16 * self.c0)
        self.blocks = nn.ModuleList(UpBlock(mults[i] * ch, mults[i + 1] * ch, num_classes) for i in range(len(mults) - 1))
        self.attention_after = [4 * 2 ** (i + 1) for i in range(len(mults) - 1)].index(attention_at)
        self.attention = SelfAttention(mults[self.attention_after + 1] * ch)
        self.out_bn = nn.BatchNorm2d(mults[-1] * ch)
        self.out_conv = nn.Conv2d(mults[-1] * ch, 3, 3, padding=1)

    def forward(self, z, y):
        h = self.linear(z).view(z.shape[0], self.c0, 4, 4)
        attention = None
        for i, block in enumerate(self.blocks):
            h = block(h, y)
            if i == self.attention_after:
                h, attention = self.attention(h)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(h)))), attention


def to_bytes(image):
    """sagan-serve's pixel formula: round(clamp((v + 1) / 2, 0, 1) * 255), HWC RGB."""
    scaled = ((image.double() + 1) / 2).clamp(0, 1) * 255
    return torch.floor(scaled + 0.5).to(torch.uint8).permute(1, 2, 0).contiguous().numpy().tobytes()


def export(model, z, y, path):
    kwargs = dict(input_names=['z', 'y'], output_names=['image', 'attention'], opset_version=17)
    try:
        torch.onnx.export(model, (z, y), path, dynamo=False, dynamic_axes={
            'z': {0: 'batch'}, 'y': {0: 'batch'}, 'image': {0: 'batch'}, 'attention': {0: 'batch'}}, **kwargs)
    except TypeError:  # older torch without the dynamo switch
        torch.onnx.export(model, (z, y), path, dynamic_axes={
            'z': {0: 'batch'}, 'y': {0: 'batch'}, 'image': {0: 'batch'}, 'attention': {0: 'batch'}}, **kwargs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--out', required=True)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--ch', type=int, default=8)
    parser.add_argument('--classes', default='maltese_dog,golden_retriever,german_shepherd,saint_bernard')
    parser.add_argument('--attention', type=int, default=32)
    parser.add_argument('--weights', help='state_dict (.pt) of this Generator')
    parser.add_argument('--seeds', default='0,1,7,123,4294967295')
    args = parser.parse_args()
    classes = args.classes.split(',')
    torch.manual_seed(0)
    model = Generator(args.size, args.ch, 128, len(classes), args.attention)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location='cpu'))
    else:
        # Non-trivial running statistics so the export must carry them.
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    export(model, torch.zeros(2, 128), torch.zeros(2, dtype=torch.int64), os.path.join(args.out, 'generator.onnx'))
    grid = args.attention
    manifest = {
        'name': os.path.basename(os.path.normpath(args.out)), 'version': '1', 'file': 'generator.onnx',
        'classes': classes, 'latent': {'input': 'z', 'dim': 128}, 'class_input': 'y',
        'image': {'output': 'image', 'size': args.size, 'range': [-1, 1]},
        'attention': {'output': 'attention', 'grid': [grid, grid], 'key_grid': [grid // 2, grid // 2]},
        'untrained': args.weights is None,
        'provenance': {'exporter': f'torch.onnx.export (torch {torch.__version__})', 'script': 'scripts/pytorch/export_sagan.py'},
    }
    with open(os.path.join(args.out, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
    samples = []
    seeds = [int(s) for s in args.seeds.split(',')]
    with torch.no_grad():
        for i, seed in enumerate(seeds):
            cls = i % len(classes)
            z = torch.tensor([latent(seed, 128)], dtype=torch.float32)
            image, _ = model(z, torch.tensor([cls]))
            samples.append({'seed': seed, 'class': cls, 'z': z[0].tolist(),
                            'rgb_base64': base64.b64encode(to_bytes(image[0])).decode()})
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump({'size': args.size, 'samples': samples}, f)
    print(f'wrote {args.out}: generator.onnx, model.json, reference.json ({len(samples)} samples)')


if __name__ == '__main__':
    main()
