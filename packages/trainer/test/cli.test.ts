/**
 * The command-line scripts end to end on a tiny ImageFolder (CPU backend): train stops on SIGTERM with
 * a checkpoint, --resume continues to --steps, export writes a model that passes parity, eval writes
 * its numbers into the manifest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { parseManifest } from '@sagan-serve/model-contract/manifest';
import { MAX_THREADS } from '../src/lib/cli-common.js';
import { TEST_BACKEND, trainerBackend } from './helpers.js';

// the scripts run in child processes; this only decides whether the torch backend can run here
const skip = await trainerBackend();

const scripts = fileURLToPath(new URL('../src/', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

function run(script: string, args: string[], opts: { killOn?: RegExp } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(scripts, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let killed = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (opts.killOn && !killed && opts.killOn.test(out)) {
        killed = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}

async function makeImages(root: string): Promise<void> {
  const colours: Record<string, [number, number, number]> = {
    'n00000001-Red_Square': [220, 30, 30],
    'n00000002-Green_Square': [30, 200, 40],
  };
  for (const [folder, rgb] of Object.entries(colours)) {
    await mkdir(path.join(root, folder), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const px = Buffer.alloc(24 * 24 * 3);
      for (let p = 0; p < 24 * 24; p++)
        px.set(
          rgb.map((c) => Math.max(0, Math.min(255, c + ((p * (i + 3)) % 50) - 25))),
          p * 3,
        );
      await sharp(px, { raw: { width: 24, height: 24, channels: 3 } })
        .png()
        .toFile(path.join(root, folder, `${i}.png`));
    }
  }
}

test(
  '--threads outside 1..1024 stops every script at parsing with the bound named, before any backend loads',
  { timeout: 120_000 },
  async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'sagan-threads-'));
    try {
      // 2**32 used to reach libtorch, which aborted the process; 1025 and 0 are just outside the bound.
      for (const threads of [String(2 ** 32), String(MAX_THREADS + 1), '0', '1.5']) {
        const out = path.join(root, 'run');
        const r = await run('train.js', ['--out', out, '--data', root, '--backend', 'torch', '--threads', threads]);
        assert.equal(r.signal, null, r.out);
        assert.equal(r.code, 1, r.out);
        assert.match(
          r.out,
          new RegExp(
            `option '--threads <n>' argument '${threads.replace('.', '\\.')}' is invalid\\. must be an integer from 1 to ${MAX_THREADS}`,
          ),
        );
        await assert.rejects(readdir(out), 'parsing failed before the run directory was made');
      }
      // every script shares the option
      for (const script of ['export.js', 'eval.js', 'bench-train.js', 'check-backend.js', 'compare-pytorch.js']) {
        const r = await run(script, ['--threads', String(MAX_THREADS + 1)]);
        assert.equal(r.code, 1, `${script}: ${r.out}`);
        assert.match(r.out, new RegExp(`must be an integer from 1 to ${MAX_THREADS}`), script);
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  },
);

test("--threads' bound is the torch backend's", async () => {
  const torch = await import('@sagan-serve/tfjs-backend-torch');
  assert.equal(MAX_THREADS, torch.MAX_THREADS);
});

test('train (SIGTERM, resume) -> export -> eval on a tiny dataset', { skip, timeout: 120_000 }, async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'sagan-cli-'));
  try {
    const data = path.join(root, 'data');
    await makeImages(data);
    const out = path.join(root, 'run');
    const common = ['--backend', TEST_BACKEND, '--no-progress'];
    const first = await run(
      'train.js',
      [
        '--data',
        data,
        '--size',
        '16',
        '--width',
        '4',
        '--z-dim',
        '16',
        '--batch',
        '4',
        '--steps',
        '400',
        '--out',
        out,
        '--log-every',
        '2',
        '--sample-every',
        '1000',
        '--checkpoint-every',
        '1000',
        '--diffaugment',
        'translation,cutout',
        ...common,
      ],
      { killOn: /it\/s \(\d+ ms per iteration\)/ },
    );
    // SIGTERM once the trainer reports its speed (after about 10 iterations)
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, new RegExp(`backend: ${TEST_BACKEND}`));
    assert.match(first.out, /data: 12 images in 2 classes \(red_square 6, green_square 6\)/);
    assert.match(first.out, /checkpoint \(SIGTERM\) at iteration \d+/);
    const log1 = (await readFile(path.join(out, 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const stoppedAt = log1.filter((r) => r.event === 'stop')[0].step as number;
    assert.ok(stoppedAt >= 1 && stoppedAt < 400);
    assert.ok(log1.some((r) => typeof r.lossD === 'number'));

    const second = await run('train.js', ['--out', out, '--resume', '--steps', String(stoppedAt + 2), ...common]);
    assert.equal(second.code, 0, second.out);
    assert.match(second.out, new RegExp(`resuming from .* at iteration ${stoppedAt}`));
    assert.match(second.out, new RegExp(`done at iteration ${stoppedAt + 2}/${stoppedAt + 2}`));
    assert.ok((await readdir(path.join(out, 'samples'))).length >= 1);

    const model = path.join(root, 'models', 'tiny');
    const exp = await run('export.js', ['--checkpoint', out, '--out', model]);
    assert.equal(exp.code, 0, exp.out);
    assert.match(exp.out, /parity .* max \|diff\| image/);

    const ev = await run('eval.js', [
      '--model',
      model,
      '--data',
      data,
      '--samples-per-class',
      '4',
      '--epochs',
      '1',
      '--classifier-width',
      '4',
      '--cache-dir',
      path.join(root, 'cache'),
      '--backend',
      TEST_BACKEND,
    ]);
    assert.equal(ev.code, 0, ev.out);
    assert.match(ev.out, /overall/);
    const manifest = parseManifest(JSON.parse(await readFile(path.join(model, 'model.json'), 'utf8')));
    const prov = manifest.provenance as Record<string, unknown>;
    assert.equal(prov.steps, stoppedAt + 2);
    assert.deepEqual(prov.classes, ['red_square', 'green_square']);
    assert.equal(typeof (prov.eval as Record<string, unknown>).frechet_distance, 'number');
    assert.match(String(prov.data_terms), /non-commercial/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
