#!/usr/bin/env python3
"""PyTorch eager reference of the trainer's SAGAN training iteration, for the side-by-side speed check
(`npm run bench:train:pytorch`, scripts/train/compare-pytorch.ts, which runs this and the tfjs trainer on
the same configuration, interleaved).

The model is built from the trainer's own resolved configuration (JSON from compare-pytorch.ts), so the
parameter counts are the trainer's, and the iteration is the trainer's (scripts/train/lib/trainer.ts):

  D step: fakes from G (training-mode BN, no gradient); DiffAugment on [real; fake]; hinge loss on one D pass
          over both; gradient w.r.t. D; Adam.
  G step: fakes from G; DiffAugment; -mean D(G(z)); gradient w.r.t. G only (D's weights do not require
          grad, as tfjs computes no D weight gradient there); Adam; BN running statistics.
  EMA of G's weights.

Spectral norm on every conv/linear/embedding weight with one power iteration per forward (u kept, sigma
differentiated with u and v fixed, as torch.nn.utils.spectral_norm), conditional BN with per-class gain and
bias tables, SAGAN self-attention with 2x2 max-pooled keys and values, projection D, Adam (0, 0.9), TTUR.
Written the way a PyTorch user would write it (modules, F.conv2d, torch.optim.Adam); the tensor layout is
NCHW or channels_last (--memory-format).

    /usr/bin/python3 scripts/pytorch/train_step_reference.py --config config.json --iterations 10 --threads 2

Prints one JSON line: seconds per iteration (median, mean and each), parameter counts.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def sn_weight(w, u, rows_first):
    """W / sigma(W) with one power iteration; u ([cols]) is updated in place (no gradient through u, v)."""
    mat = w.reshape(w.shape[0], -1) if rows_first else w.reshape(-1, w.shape[-1])
    with torch.no_grad():
        v = F.normalize(mat @ u, dim=0, eps=1e-12)
        u.copy_(F.normalize(mat.t() @ v, dim=0, eps=1e-12))
    sigma = torch.dot(v, mat @ u)
    return w / sigma


class SNParam(torch.nn.Module):
    """A spectrally normalised weight (conv OIHW viewed as [O, I*kh*kw]; linear [in, out]; embedding [K, C])."""

    def __init__(self, shape, rows_first=True):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(shape))
        torch.nn.init.orthogonal_(self.weight.view(shape[0], -1))
        self.rows_first = rows_first
        cols = self.weight.reshape(shape[0], -1).shape[1] if rows_first else shape[-1]
        self.register_buffer('u', F.normalize(torch.randn(cols), dim=0))

    def forward(self):
        return sn_weight(self.weight, self.u, self.rows_first)


class SNConv(torch.nn.Module):
    def __init__(self, cin, cout, k, bias=True):
        super().__init__()
        self.w = SNParam((cout, cin, k, k))
        self.bias = torch.nn.Parameter(torch.zeros(cout)) if bias else None
        self.pad = k // 2

    def forward(self, x):
        return F.conv2d(x, self.w(), self.bias, padding=self.pad)


class CondBN(torch.nn.Module):
    """Training-mode BN with per-class gain/bias tables (K = 1: plain BN); running stats kept for EMA/export."""

    def __init__(self, classes, c, eps=1e-5, momentum=0.1):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(classes, c))
        self.bias = torch.nn.Parameter(torch.zeros(classes, c))
        self.register_buffer('mean', torch.zeros(c))
        self.register_buffer('var', torch.ones(c))
        self.eps, self.momentum = eps, momentum

    def forward(self, x, y, record):
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), unbiased=False)
        if record:
            with torch.no_grad():
                self.mean.lerp_(mean, self.momentum)
                self.var.lerp_(var, self.momentum)
        xhat = (x - mean[None, :, None, None]) * torch.rsqrt(var + self.eps)[None, :, None, None]
        gain = self.gain[y] if y is not None else self.gain[0].expand(x.shape[0], -1)
        bias = self.bias[y] if y is not None else self.bias[0].expand(x.shape[0], -1)
        return xhat * gain[:, :, None, None] + bias[:, :, None, None]


class Attention(torch.nn.Module):
    def __init__(self, c, pool_keys):
        super().__init__()
        self.theta = SNConv(c, c // 8, 1, bias=False)
        self.phi = SNConv(c, c // 8, 1, bias=False)
        self.g = SNConv(c, c // 2, 1, bias=False)
        self.o = SNConv(c // 2, c, 1, bias=False)
        self.gamma = torch.nn.Parameter(torch.zeros(1))
        self.pool_keys = pool_keys

    def forward(self, x):
        b, c, h, w = x.shape
        theta = self.theta(x).reshape(b, c // 8, h * w)
        phi, g = self.phi(x), self.g(x)
        if self.pool_keys:
            phi, g = F.max_pool2d(phi, 2), F.max_pool2d(g, 2)
        phi = phi.reshape(b, c // 8, -1)
        g = g.reshape(b, c // 2, -1)
        attn = torch.softmax(torch.bmm(theta.transpose(1, 2), phi), dim=-1)  # [b, N, M]
        o = torch.bmm(g, attn.transpose(1, 2)).reshape(b, c // 2, h, w)
        return x + self.gamma * self.o(o)


class Generator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        ch, K = cfg['channels'], cfg['numClasses']
        self.c0, self.z_dim = ch[0], cfg['zDim']
        self.linear = SNParam((cfg['zDim'], 16 * ch[0]), rows_first=False)
        self.linear_bias = torch.nn.Parameter(torch.zeros(16 * ch[0]))
        self.blocks = torch.nn.ModuleList()
        for i in range(cfg['blockCount']):
            cin, cout = ch[i], ch[i + 1]
            self.blocks.append(torch.nn.ModuleDict({
                'bn1': CondBN(K, cin, cfg['bnEpsilon']), 'conv1': SNConv(cin, cout, 3),
                'bn2': CondBN(K, cout, cfg['bnEpsilon']), 'conv2': SNConv(cout, cout, 3), 'shortcut': SNConv(cin, cout, 1),
            }))
        self.attention_block = cfg['attentionBlock']
        self.attention = Attention(cfg['attentionChannels'], cfg['poolKeys']) if self.attention_block >= 0 else None
        self.out_bn = CondBN(1, ch[-1], cfg['bnEpsilon'])
        self.out_conv = SNConv(ch[-1], 3, 3)

    def forward(self, z, y, record=False, memory_format=torch.contiguous_format):
        x = (z @ self.linear() + self.linear_bias).reshape(z.shape[0], self.c0, 4, 4).contiguous(memory_format=memory_format)
        for i, blk in enumerate(self.blocks):
            h = F.relu(blk['bn1'](x, y, record))
            h = blk['conv1'](F.interpolate(h, scale_factor=2, mode='nearest'))
            h = blk['conv2'](F.relu(blk['bn2'](h, y, record)))
            x = h + F.interpolate(blk['shortcut'](x), scale_factor=2, mode='nearest')
            if i == self.attention_block:
                x = self.attention(x)
        return torch.tanh(self.out_conv(F.relu(self.out_bn(x, None, record))))


class Discriminator(torch.nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.blocks = torch.nn.ModuleList()
        for i, (cin, cout) in enumerate(zip(cfg['inChannels'], cfg['outChannels'])):
            blk = torch.nn.ModuleDict({'conv1': SNConv(cin, cout, 3), 'conv2': SNConv(cout, cout, 3)})
            if i == 0 or cfg['downsample'][i] or cin != cout:
                blk['shortcut'] = SNConv(cin, cout, 1)
            self.blocks.append(blk)
        self.attention_block = cfg['attentionBlock']
        self.attention = Attention(cfg['outChannels'][cfg['attentionBlock']], cfg['poolKeys']) if self.attention_block >= 0 else None
        cl = cfg['outChannels'][-1]
        self.linear = SNParam((cl, 1), rows_first=False)
        self.linear_bias = torch.nn.Parameter(torch.zeros(1))
        self.embed = SNParam((cfg['numClasses'], cl), rows_first=False)

    def forward(self, x, y):
        h = x
        for i, blk in enumerate(self.blocks):
            down = self.cfg['downsample'][i]
            r = h if i == 0 else F.relu(h)
            r = blk['conv2'](F.relu(blk['conv1'](r)))
            if down:
                r = F.avg_pool2d(r, 2)
            s = h
            if 'shortcut' in blk:
                s = blk['shortcut'](F.avg_pool2d(h, 2) if down else h)
            h = r + s
            if i == self.attention_block:
                h = self.attention(h)
        feat = F.relu(h).sum((2, 3))
        out = (feat @ self.linear() + self.linear_bias).reshape(-1)
        return out + (feat * self.embed()[y]).sum(1)


def diff_augment(x, policies, gen):
    """DiffAugment (Zhao et al. 2020), the reference implementation's color, translation and cutout."""
    n, _, h, w = x.shape
    if 'color' in policies:
        x = x + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
        m = x.mean(1, keepdim=True)
        x = (x - m) * (torch.rand(n, 1, 1, 1, generator=gen) * 2) + m
        m = x.mean((1, 2, 3), keepdim=True)
        x = (x - m) * (torch.rand(n, 1, 1, 1, generator=gen) + 0.5) + m
    if 'translation' in policies:
        sx, sy = int(h * 0.125 + 0.5), int(w * 0.125 + 0.5)
        tx = torch.randint(-sx, sx + 1, (n, 1, 1), generator=gen)
        ty = torch.randint(-sy, sy + 1, (n, 1, 1), generator=gen)
        gb, gx, gy = torch.meshgrid(torch.arange(n), torch.arange(h), torch.arange(w), indexing='ij')
        gx = torch.clamp(gx + tx + 1, 0, h + 1)
        gy = torch.clamp(gy + ty + 1, 0, w + 1)
        pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
        x = pad.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)
    if 'cutout' in policies:
        cs = int(h * 0.5 + 0.5), int(w * 0.5 + 0.5)
        ox = torch.randint(0, h + (1 - cs[0] % 2), (n, 1, 1), generator=gen)
        oy = torch.randint(0, w + (1 - cs[1] % 2), (n, 1, 1), generator=gen)
        gb, gx, gy = torch.meshgrid(torch.arange(n), torch.arange(cs[0]), torch.arange(cs[1]), indexing='ij')
        gx = torch.clamp(gx + ox - cs[0] // 2, 0, h - 1)
        gy = torch.clamp(gy + oy - cs[1] // 2, 0, w - 1)
        mask = torch.ones(n, h, w, dtype=x.dtype)
        mask[gb, gx, gy] = 0
        x = x * mask.unsqueeze(1)
    return x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--config', required=True, help='JSON: {g: resolved generator config, d: resolved discriminator config, batch, nDis, augment}')
    ap.add_argument('--iterations', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='intra-op threads (0: every core)')
    ap.add_argument('--memory-format', choices=['contiguous', 'channels_last'], default='contiguous')
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    import os
    torch.set_num_threads(args.threads or os.cpu_count())
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(2)
    fmt = torch.channels_last if args.memory_format == 'channels_last' else torch.contiguous_format
    G, D = Generator(cfg['g']), Discriminator(cfg['d'])
    G_ema = Generator(cfg['g'])
    G_ema.load_state_dict(G.state_dict())
    G, D, G_ema = (m.to(memory_format=fmt) for m in (G, D, G_ema))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9), eps=1e-8)
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9), eps=1e-8)
    batch, K, S, zdim = cfg['batch'], cfg['g']['numClasses'], cfg['g']['imageSize'], cfg['g']['zDim']
    policies = cfg.get('augment', [])
    real = (torch.rand(batch, 3, S, S, generator=gen) * 2 - 1).contiguous(memory_format=fmt)
    real_y = torch.randint(0, K, (batch,), generator=gen)
    g_params, ema_params = list(G.parameters()), list(G_ema.parameters())

    def iteration():
        for _ in range(cfg.get('nDis', 1)):
            z = torch.randn(batch, zdim, generator=gen)
            fy = torch.randint(0, K, (batch,), generator=gen)
            with torch.no_grad():
                fake = G(z, fy, memory_format=fmt)
            x = diff_augment(torch.cat([real, fake]), policies, gen).contiguous(memory_format=fmt)
            out = D(x, torch.cat([real_y, fy]))
            loss_d = F.relu(1 - out[:batch]).mean() + F.relu(1 + out[batch:]).mean()
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        z = torch.randn(batch, zdim, generator=gen)
        fy = torch.randint(0, K, (batch,), generator=gen)
        fake = G(z, fy, record=True, memory_format=fmt)
        loss_g = -D(diff_augment(fake, policies, gen).contiguous(memory_format=fmt), fy).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        with torch.no_grad():
            for e, p in zip(ema_params, g_params):
                e.lerp_(p, 0.001)
        return loss_d.item(), loss_g.item()

    for _ in range(args.warmup):
        iteration()
    times = []
    for _ in range(args.iterations):
        t0 = time.perf_counter()
        iteration()
        times.append(time.perf_counter() - t0)
    count = lambda m: sum(p.numel() for p in m.parameters())
    print(json.dumps({
        'engine': f'pytorch {torch.__version__} eager', 'threads': torch.get_num_threads(), 'memory_format': args.memory_format,
        'g_params': count(G), 'd_params': count(D), 's_per_iteration': statistics.median(times),
        's_per_iteration_mean': statistics.fmean(times), 'times': times,
    }))


if __name__ == '__main__':
    sys.exit(main())
