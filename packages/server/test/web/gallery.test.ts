/**
 * The gallery and docs pages in a real browser (Debian's chromium driven by playwright-core) against a
 * real app on 127.0.0.1 with real models: a tiny generated one and the repository's models/dogs64.
 * Set GALLERY_SCREENSHOTS=dir to keep the screenshots.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

import { REPO_ROOT } from '../../scripts/shared/repo-root.js';
import { QUERY_PALETTE_RGB } from '../../src/render/attention.js';
import {
  listenLocally,
  makeModelsDir,
  startTestServer,
  TINY_CLASSES,
  type TestServer,
} from '../helpers/test-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = process.env.GALLERY_SCREENSHOTS;
const TINY = 16;
const DOGS = 64;

/** Per-channel standard deviation and distinct colours of an encoded image (or a region of it). */
async function pixelStats(
  png: Buffer,
  region?: { left: number; top: number; width: number; height: number },
): Promise<{ stdev: number; colours: number }> {
  let img = sharp(png).removeAlpha();
  if (region) img = img.extract(region);
  const { data } = await img.raw().toBuffer({ resolveWithObject: true });
  const stats = await sharp(data, {
    raw: {
      width: region?.width ?? (await sharp(png).metadata()).width,
      height: data.length / 3 / (region?.width ?? (await sharp(png).metadata()).width),
      channels: 3,
    },
  }).stats();
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 3) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  return { stdev: Math.max(...stats.channels.map((c) => c.stdev)), colours: colours.size };
}

/** Waits until every <img> under `selector` finished loading and returns their natural widths. */
async function loadedImages(page: Page, selector: string, count: number): Promise<number[]> {
  await page.waitForFunction(
    ([sel, n]) => {
      const imgs = [...document.querySelectorAll<HTMLImageElement>(`${sel} img`)];
      return imgs.length === n && imgs.every((i) => i.complete);
    },
    [selector, count] as const,
    { timeout: 20_000 },
  );
  return page.$$eval(`${selector} img`, (imgs) => (imgs as HTMLImageElement[]).map((i) => i.naturalWidth));
}

/** Fails unless the screenshot of the grid shows real, varied images in every tile. */
async function assertGridNotBlank(page: Page, name: string): Promise<void> {
  const grid = page.locator('#grid');
  const shot = await grid.screenshot();
  if (SCREENSHOTS) await sharp(shot).toFile(path.join(SCREENSHOTS, `${name}-grid.png`));
  const whole = await pixelStats(shot);
  assert.ok(whole.stdev > 20, `${name}: grid screenshot stdev ${whole.stdev.toFixed(1)} looks blank`);
  assert.ok(whole.colours > 200, `${name}: grid screenshot has only ${whole.colours} colours`);
  const gridBox = (await grid.boundingBox())!;
  const meta = await sharp(shot).metadata();
  const scale = meta.width / gridBox.width;
  const boxes = await page.$$eval('#grid img', (imgs) =>
    imgs.map((i) => {
      const r = i.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    }),
  );
  for (const [i, b] of boxes.entries()) {
    const region = {
      left: Math.round((b.x - gridBox.x) * scale) + 2,
      top: Math.round((b.y - gridBox.y) * scale) + 2,
      width: Math.floor(b.width * scale) - 4,
      height: Math.floor(b.height * scale) - 4,
    };
    const tile = await pixelStats(shot, region);
    assert.ok(
      tile.stdev > 8 && tile.colours > 16,
      `${name}: tile ${i} looks blank (stdev ${tile.stdev.toFixed(1)}, ${tile.colours} colours)`,
    );
  }
}

/** Clicks the large image at the centre of native pixel (x, y). */
async function clickNative(page: Page, x: number, y: number, size: number): Promise<void> {
  const box = (await page.locator('#detail-img').boundingBox())!;
  await page.mouse.click(box.x + ((x + 0.5) / size) * box.width, box.y + ((y + 0.5) / size) * box.height);
}

describe('gallery in a browser', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let server: Server;
  let base: string;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the browser test needs Debian's chromium (apt-get install -y chromium) or CHROMIUM_PATH`,
      );
    }
    const dir = await makeModelsDir([{ name: 'tiny', classes: TINY_CLASSES }]);
    await cp(path.join(REPO_ROOT, 'models', 'dogs64'), path.join(dir, 'dogs64'), { recursive: true });
    ts = await startTestServer(dir, { defaultModel: 'tiny', maxQueueDelayMs: 2 });
    ({ server, base } = await listenLocally(ts.app));
    if (SCREENSHOTS) await mkdir(SCREENSHOTS, { recursive: true });
    profile = await mkdtemp(path.join(tmpdir(), 'sagan-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1360, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    // An image whose src changes while loading is aborted by the browser; that is not a failure.
    page.on('requestfailed', (req) => {
      if (req.failure()?.errorText !== 'net::ERR_ABORTED')
        problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
  });
  after(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    server?.close();
    await ts?.close();
  });

  test('the gallery renders a grid of real images for the tiny model', async () => {
    await page.goto(`${base}/?model=tiny&class=saint_bernard&seed=100&psi=0.7`);
    await page.waitForSelector('body[data-ready=true]');
    const widths = await loadedImages(page, '#grid', 12);
    assert.deepEqual(widths, new Array(12).fill(TINY), 'every sample loaded at the native size');
    const seedsShown = await page.$$eval('#grid figcaption .name', (els) => els.map((e) => e.textContent));
    assert.deepEqual(seedsShown.slice(0, 3), ['seed 100', 'seed 101', 'seed 102']);
    const download = new URL(await page.$eval('#grid .sample .download', (a) => (a as HTMLAnchorElement).href));
    assert.equal(download.searchParams.get('size'), String(4 * TINY), 'download links ask the server for a 4x image');
    assert.equal(await page.$eval('#grid img', (i) => getComputedStyle(i).imageRendering), 'pixelated');
    await assertGridNotBlank(page, 'tiny');
    // The status strip lists both models with their provider.
    await page.waitForFunction(() => document.querySelectorAll('#status .status-chip[data-model]').length === 2, null, {
      timeout: 10_000,
    });
    assert.match(await page.locator('#status .status-chip[data-model=tiny]').innerText(), /cpu/);
    // The interpolation strip loaded with the current class.
    const [strip] = await loadedImages(page, '.strip-wrap', 1);
    assert.equal(strip, 8 * TINY + 7 * 2);
  });

  test('a sample opens large; clicked points give the attention panel in matching colours', async () => {
    await page.locator('#grid .sample button').nth(2).click();
    await page.waitForSelector('#detail[open]');
    assert.equal(await page.locator('#meta-seed').innerText(), '102');
    await clickNative(page, 4, 9, TINY);
    await page.waitForFunction(
      () => {
        const img = document.querySelector<HTMLImageElement>('#panel-img');
        return img && !img.hidden && img.complete && img.naturalWidth > 0;
      },
      null,
      { timeout: 10_000 },
    );
    const src = new URL(await page.$eval('#panel-img', (i) => (i as HTMLImageElement).src));
    assert.deepEqual(src.searchParams.getAll('query'), ['4,9'], 'displayed coordinates are converted to native pixels');
    assert.equal(src.searchParams.get('attention'), 'panel');
    assert.equal(src.searchParams.get('seed'), '102');
    assert.equal(await page.$eval('#panel-img', (i) => (i as HTMLImageElement).naturalWidth), 2 * TINY + 2);
    await clickNative(page, 12, 3, TINY);
    await page.waitForFunction(
      (w) => (document.querySelector('#panel-img') as HTMLImageElement).naturalWidth === w,
      3 * TINY + 4,
      { timeout: 10_000 },
    );
    const dotColours = await page.$$eval('#dots .qdot', (dots) => dots.map((d) => getComputedStyle(d).backgroundColor));
    assert.deepEqual(
      dotColours,
      QUERY_PALETTE_RGB.slice(0, 2).map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`),
      'dots use QUERY_PALETTE',
    );
    // The panel the page shows is the server's panel for those native points.
    const expected = await fetch(
      `${base}/v1/models/tiny/generate?class=saint_bernard&seed=102&truncation=0.7&attention=panel&query=4,9&query=12,3`,
    );
    const shown = await fetch(await page.$eval('#panel-img', (i) => (i as HTMLImageElement).src));
    assert.ok(Buffer.from(await expected.arrayBuffer()).equals(Buffer.from(await shown.arrayBuffer())));
    // "More like this": the same seed in every class.
    await page.locator('#act-like').click();
    assert.deepEqual(
      await loadedImages(page, '#like-grid', TINY_CLASSES.length),
      new Array(TINY_CLASSES.length).fill(TINY),
    );
    assert.deepEqual(
      await page.$$eval('#like-grid .sample', (f) => f.map((e) => (e as HTMLElement).dataset.seed)),
      new Array(4).fill('102'),
    );
  });

  test('the real dogs64 model: grid, large view and attention panel at 64x64', async () => {
    await page.selectOption('#model', 'dogs64');
    await page.waitForFunction(() => document.querySelector('#grid img')?.getAttribute('src')?.includes('/dogs64/'));
    assert.deepEqual(await loadedImages(page, '#grid', 12), new Array(12).fill(DOGS));
    await assertGridNotBlank(page, 'dogs64');
    await page.locator('#grid .sample button').first().click();
    await page.waitForSelector('#detail[open]');
    const stageBefore = (await page.locator('#detail-img').boundingBox())!;
    await clickNative(page, 20, 30, DOGS);
    await page.waitForFunction(
      (w) => (document.querySelector('#panel-img') as HTMLImageElement).naturalWidth === w,
      2 * DOGS + 2,
      { timeout: 15_000 },
    );
    // The panel appearing must not move the image under the pointer (the dialog grows downwards).
    assert.deepEqual((await page.locator('#detail-img').boundingBox())!, stageBefore, 'the image stays where it was');
    await clickNative(page, 50, 10, DOGS);
    await page.waitForFunction(
      (w) => (document.querySelector('#panel-img') as HTMLImageElement).naturalWidth === w,
      3 * DOGS + 4,
      { timeout: 15_000 },
    );
    const src = new URL(await page.$eval('#panel-img', (i) => (i as HTMLImageElement).src));
    assert.deepEqual(src.searchParams.getAll('query'), ['20,30', '50,10']);
    const panel = await page.locator('#panel-img').screenshot();
    assert.ok((await pixelStats(panel)).stdev > 20, 'the panel is not blank');
    if (SCREENSHOTS) {
      await page.screenshot({ path: path.join(SCREENSHOTS, 'dogs64-detail.png') });
      await page.locator('#detail-close').click();
      await page.screenshot({ path: path.join(SCREENSHOTS, 'dogs64-page.png'), fullPage: true });
    } else {
      await page.locator('#detail-close').click();
    }
  });

  test('class search, the truncation switch and "new seeds" drive the grid and the URL', async () => {
    await page.fill('#class-search', 'gold');
    assert.equal(await page.locator('#class-list button[data-class]').count(), 1);
    await page.press('#class-search', 'Enter');
    await page.waitForFunction(() =>
      document.querySelector('#grid img')?.getAttribute('src')?.includes('class=golden_retriever'),
    );
    assert.match(await page.evaluate(() => location.search), /class=golden_retriever/);
    await page.uncheck('#truncate');
    await page.waitForFunction(
      () => !document.querySelector('#grid img')?.getAttribute('src')?.includes('truncation='),
    );
    assert.match(await page.evaluate(() => location.search), /psi=none/);
    const before = await page.locator('#grid figcaption .name').first().innerText();
    await page.click('#new-seeds');
    await page.waitForFunction((b) => document.querySelector('#grid figcaption .name')?.textContent !== b, before);
    assert.deepEqual(await loadedImages(page, '#grid', 12), new Array(12).fill(DOGS));
    const first = Number((await page.locator('#grid figcaption .name').first().innerText()).replace('seed ', ''));
    assert.equal(
      await page.inputValue('#interp-from'),
      String(first),
      'the interpolation starts from the new first seed',
    );
  });

  test('the API docs page renders openapi.yaml with the local swagger-ui', async () => {
    const docs = await context.newPage();
    const external: string[] = [];
    docs.on('request', (req) => {
      if (!req.url().startsWith(base)) external.push(req.url());
    });
    docs.on('pageerror', (err) => problems.push(`docs page error: ${err.message}`));
    await docs.goto(`${base}/docs`);
    await docs.waitForSelector('#operations-generate-interpolate', { timeout: 15_000 });
    assert.match(await docs.locator('#swagger-ui').innerText(), /sagan-serve/);
    if (SCREENSHOTS) await docs.screenshot({ path: path.join(SCREENSHOTS, 'docs.png') });
    // "Try it out" reaches this server (the documented localhost:8080 is rewritten to the page's origin).
    await docs.locator('#operations-health-healthz .opblock-summary').click();
    await docs.locator('#operations-health-healthz .try-out__btn').click();
    await docs.locator('#operations-health-healthz .execute').click();
    await docs.waitForSelector('#operations-health-healthz .live-responses-table tbody .response-col_status', {
      timeout: 10_000,
    });
    assert.match(
      await docs
        .locator('#operations-health-healthz .live-responses-table tbody .response-col_status')
        .first()
        .innerText(),
      /200/,
    );
    await docs.close();
    assert.deepEqual(external, [], 'nothing is fetched from outside the server');
  });

  test('no page errors, console errors or failed requests', () => {
    assert.deepEqual(problems, []);
  });
});
