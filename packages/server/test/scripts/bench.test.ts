/**
 * Smoke test of the benchmark harness: both scripts run end to end against the real server on the
 * placeholder model with tiny durations, and write the JSON they promise. Plus the metrics-scraping
 * helpers (the statistics are tested in packages/bench-stats).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../src/paths.js';
import { REPO_ROOT } from '../../scripts/shared/repo-root.js';
import { metricsDelta, snapshotMetrics } from '../../scripts/bench/metrics-scrape.js';
import { metricValue } from '../../scripts/shared/metrics-text.js';

const run = promisify(execFile);

describe('bench helpers', () => {
  it('reads histogram sums from Prometheus text and differences two scrapes', () => {
    const text = (sum: number, count: number, images: number) =>
      [
        '# HELP sagan_batch_size Rows per batch.',
        `sagan_batch_size_bucket{le="16",model="m"} ${count}`,
        `sagan_batch_size_sum{model="m"} ${sum}`,
        `sagan_batch_size_count{model="m"} ${count}`,
        `sagan_images_generated_total{model="m"} ${images}`,
        `sagan_requests_rejected_total{model="m",reason="queue_full"} 2`,
        'process_cpu_seconds_total 3.5',
      ].join('\n');
    assert.equal(metricValue(text(10, 2, 10), 'sagan_batch_size_sum'), 10);
    const d = metricsDelta(snapshotMetrics(text(10, 2, 10), 0), snapshotMetrics(text(74, 6, 74), 2000));
    assert.equal(d.meanBatchSize, 16);
    assert.equal(d.images, 64);
    assert.deepEqual(d.rejected, {});
  });

  it('counts the GC pauses between two scrapes, and those over 5 and 10 ms, from nodejs_gc_duration_seconds', () => {
    // Cumulative buckets per kind, as prom-client writes them.
    const gc = (minor: number[], major: number[], sumSeconds: number) =>
      [
        ...['0.001', '0.005', '0.01', '+Inf'].map(
          (le, i) => `nodejs_gc_duration_seconds_bucket{le="${le}",kind="minor"} ${minor[i]}`,
        ),
        ...['0.001', '0.005', '0.01', '+Inf'].map(
          (le, i) => `nodejs_gc_duration_seconds_bucket{le="${le}",kind="major"} ${major[i]}`,
        ),
        `nodejs_gc_duration_seconds_sum{kind="minor"} ${sumSeconds / 2}`,
        `nodejs_gc_duration_seconds_sum{kind="major"} ${sumSeconds / 2}`,
        `nodejs_gc_duration_seconds_count{kind="minor"} ${minor[3]}`,
        `nodejs_gc_duration_seconds_count{kind="major"} ${major[3]}`,
      ].join('\n');
    // Between the scrapes: minor +10 (6 <= 1 ms, 3 in 1-5 ms, 1 in 5-10 ms), major +2 (1 in 5-10 ms, 1 over 10 ms).
    const before = snapshotMetrics(gc([5, 8, 9, 9], [0, 1, 2, 3], 0.1), 0);
    const after = snapshotMetrics(gc([11, 17, 19, 19], [0, 1, 3, 5], 0.16), 1000);
    const { gcPauses } = metricsDelta(before, after);
    assert.equal(gcPauses.count, 12);
    assert.ok(Math.abs(gcPauses.totalMs - 60) < 1e-9);
    assert.ok(Math.abs(gcPauses.meanMs - 5) < 1e-9);
    assert.equal(gcPauses.over5Ms, 3);
    assert.equal(gcPauses.over10Ms, 1);
  });
});

describe('bench scripts (real server, placeholder model)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sagan-bench-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('npm run bench runs every phase and writes its JSON', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'bench.json');
    const { stdout } = await run(
      process.execPath,
      [
        path.join(PACKAGE_ROOT, 'dist/scripts/bench.js'),
        '--model-dir',
        path.join(REPO_ROOT, 'models/dogs64'),
        '--batch-sizes',
        '1,2',
        '--raw-seconds',
        '0.1',
        '--raw-repeats',
        '2',
        '--concurrency',
        '1,4',
        '--duration',
        '0.5',
        '--warmup',
        '0',
        '--quiet-wait',
        '0',
        '--out',
        out,
      ],
      { cwd: PACKAGE_ROOT },
    );
    assert.match(stdout, /Raw ceiling/);
    assert.match(stdout, /Ratios:/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    assert.equal(json.server.exit.code, 0);
    assert.equal(json.server.levels.length, 2);
    for (const level of json.server.levels) {
      assert.ok(level.load.ok > 0, 'some images were generated');
      assert.equal(level.load.non2xx, 0);
      assert.ok(level.healthz.count > 0);
      assert.ok(level.server.meanBatchSize >= 1);
    }
    assert.ok(json.raw.batches.length >= 2);
    for (const b of json.raw.batches.filter((r: { batch: number }) => r.batch <= 2)) {
      assert.equal(b.attemptsImagesPerSecond.length, 2, 'one attempt per sweep');
      assert.equal(b.imagesPerSecond, Math.max(...b.attemptsImagesPerSecond), 'the ceiling is the best sweep');
    }
    assert.ok(json.raw.encode.imagesPerSecond > 0);
    // A 64x64 sample's PNG keeps most of its 3 x 64 x 64 raw bytes (noisy detail compresses little); concurrent lanes
    // once lost each other's byte counts and reported an eighth of that.
    assert.ok(json.raw.encode.meanPngBytes > 0.25 * 3 * 64 * 64, `mean PNG ${json.raw.encode.meanPngBytes} bytes`);
    assert.ok(json.ratios.serverOverRaw > 0);
    assert.ok(json.ratios.rawBatch1AfterPause.runs >= 3);
    assert.ok(Number.isFinite(json.ratios.latencyOverheadAfterPauseMs));
  });

  it(
    'npm run bench:png compares the two PNG encoders on the same pixels and writes its JSON',
    { timeout: 60_000 },
    async () => {
      const out = path.join(dir, 'png.json');
      const { stdout } = await run(
        process.execPath,
        [
          path.join(PACKAGE_ROOT, 'dist/scripts/bench-png.js'),
          '--model-dir',
          path.join(REPO_ROOT, 'models/dogs64'),
          '--sizes',
          '64,96',
          '--nearest',
          '--seconds',
          '0.05',
          '--out',
          out,
        ],
        { cwd: PACKAGE_ROOT },
      );
      assert.match(stdout, /PNG encoders/);
      const json = JSON.parse(await readFile(out, 'utf8'));
      assert.deepEqual(
        json.rows.map((r: { image: string }) => r.image),
        ['64 (bicubic)', '96 (bicubic)', '96 (nearest)'],
      );
      for (const row of json.rows) {
        assert.ok(row.sharpMsAlone > 0 && row.pngjsMsAlone > 0 && row.sharpImagesPerSecond > 0);
        // Same filter and level: the two encoders' sizes stay within a few percent.
        assert.ok(
          Math.abs(row.sharpBytes - row.pngjsBytes) < 0.1 * row.sharpBytes,
          `${row.image}: ${row.sharpBytes} vs ${row.pngjsBytes} bytes`,
        );
      }
    },
  );

  it('npm run bench:healthz probes /healthz under load and writes its JSON', { timeout: 60_000 }, async () => {
    const out = path.join(dir, 'healthz.json');
    await run(
      process.execPath,
      [
        path.join(PACKAGE_ROOT, 'dist/scripts/bench-healthz.js'),
        '--model-dir',
        path.join(REPO_ROOT, 'models/dogs64'),
        '--connections',
        '8',
        '--duration',
        '0.5',
        '--warmup',
        '0',
        '--min-probes',
        '5',
        '--quiet-wait',
        '0',
        '--out',
        out,
      ],
      { cwd: PACKAGE_ROOT },
    );
    const json = JSON.parse(await readFile(out, 'utf8'));
    assert.ok(json.healthz.count >= 5);
    assert.equal(json.healthz.failures, 0);
    assert.equal(json.exit.code, 0);
    assert.ok(json.generate.ok > 0);
  });
});
