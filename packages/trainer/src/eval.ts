/**
 * Evaluates an exported model against real images with a small classifier trained here:
 *   - held-out accuracy of the classifier on real images (how much its judgement is worth),
 *   - accuracy on generated samples per class and overall (does class k look like class k?),
 *   - Fréchet distance between real and generated images in the classifier's penultimate features,
 *     overall and per class (NOT comparable with published FID: different network, features, sizes).
 * The numbers go into the manifest's provenance.eval (unless --no-write) and are printed as a table.
 *
 *   npm run eval -- --model models/dogs64 --data /tmp/stanford-dogs-4 --annotations /tmp/stanford-dogs-4/Annotation
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { loadSession, releaseSession, runSession, type ProviderName } from '@sagan-serve/model-contract/ort-session';
import { latentForSeed } from '@sagan-serve/model-contract/seeded-latent';
import { normaliseClassName as serverNormalise } from '@sagan-serve/model-contract/class-names';
import { parseManifest, type ModelManifest } from '@sagan-serve/model-contract/manifest';
import { MANIFEST_FILE, readModelManifest } from '@sagan-serve/model-contract/manifest-file';
import { setupBackend, type BackendChoice } from './lib/backend.js';
import {
  argmaxRows,
  Classifier,
  defaultClassifierConfig,
  stratifiedSplit,
  type ClassifierConfig,
} from './lib/classifier.js';
import { backendOption, float, positiveInt, runMain, threadsOption } from './lib/cli-common.js';
import { loadDataset, type DecodedDataset } from './lib/data.js';
import { fitGaussian, frechetDistance } from './lib/frechet.js';

interface Options {
  model: string;
  data: string;
  annotations?: string;
  samplesPerClass: number;
  holdout: number;
  epochs: number;
  batch: number;
  lr: number;
  classifierWidth: number;
  seed: number;
  cacheDir: string;
  backend: BackendChoice;
  threads?: number;
  provider: ProviderName;
  write: boolean;
  json?: string;
}

const program = new Command()
  .name('eval')
  .description(
    'Score an exported SAGAN model with a small classifier trained on the real images (accuracy, Fréchet distance)',
  )
  .requiredOption('--model <dir>', 'model directory (model.json + generator.onnx)')
  .requiredOption('--data <dir>', 'ImageFolder directory of real images (same classes as the model)')
  .option('--annotations <dir>', 'Pascal-VOC annotations for box crops (use the same as in training)')
  .option('--samples-per-class <n>', 'generated samples per class', positiveInt, 100)
  .option('--holdout <fraction>', 'fraction of each class held out from classifier training', float, 0.2)
  .option('--epochs <n>', 'classifier training epochs', positiveInt, 30)
  .option('--batch <n>', 'classifier batch size', positiveInt, 64)
  .option('--lr <lr>', 'classifier Adam learning rate', float, 1e-3)
  .option('--classifier-width <ch>', 'classifier base channels', positiveInt, 32)
  .option('--seed <n>', 'split / classifier / sample seed', positiveInt, 1)
  .option('--cache-dir <dir>', 'where the decoded real images and the trained classifier are cached', 'runs/eval-cache')
  .addOption(backendOption('tfjs backend for the classifier', 'auto'))
  .addOption(threadsOption())
  .addOption(
    new Option('--provider <name>', 'ONNX Runtime provider for generation')
      .choices(['cpu', 'webgpu', 'cuda'])
      .default('cpu'),
  )
  .option('--no-write', 'do not write the results into the manifest')
  .option('--json <file>', 'also write the results as JSON to this file');

/** Maps manifest class order to dataset class indices (names compared like the server does). */
function matchClasses(manifest: ModelManifest, data: DecodedDataset): number[] {
  return manifest.classes.map((name) => {
    const i = data.classes.findIndex((c) => serverNormalise(c) === serverNormalise(name));
    if (i < 0)
      throw new Error(`model class '${name}' has no folder in the data (data classes: ${data.classes.join(', ')})`);
    return i;
  });
}

async function classifierFor(
  data: DecodedDataset,
  split: { train: Int32Array; heldOut: Int32Array },
  o: Options,
  cacheDir: string,
): Promise<{ classifier: Classifier; cached: boolean; file: string }> {
  const config: ClassifierConfig = {
    ...defaultClassifierConfig(data.size, data.classes.length),
    width: o.classifierWidth,
  };
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        v: 1,
        fp: data.fingerprint,
        config,
        holdout: o.holdout,
        seed: o.seed,
        epochs: o.epochs,
        batch: o.batch,
        lr: o.lr,
      }),
    )
    .digest('hex')
    .slice(0, 16);
  const file = path.join(cacheDir, `classifier-${data.size}px-${key}.bin`);
  try {
    const buf = await readFile(file);
    const weights = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    return { classifier: new Classifier(config, o.seed, weights), cached: true, file };
  } catch {
    // train below
  }
  const classifier = new Classifier(config, o.seed);
  const t0 = Date.now();
  await classifier.train(data.pixels, data.labels, split.train, {
    epochs: o.epochs,
    batch: o.batch,
    lr: o.lr,
    seed: o.seed,
    onEpoch: (e, loss) => {
      if ((e + 1) % 5 === 0 || e === o.epochs - 1)
        console.log(`  classifier epoch ${e + 1}/${o.epochs}: loss ${loss.toFixed(4)}`);
    },
  });
  console.log(`  trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await mkdir(cacheDir, { recursive: true });
  const w = await classifier.weights();
  await writeFile(`${file}.tmp`, Buffer.from(w.buffer, w.byteOffset, w.byteLength));
  await rename(`${file}.tmp`, file);
  return { classifier, cached: false, file };
}

function toFloatImages(pixels: Uint8Array, indices: Int32Array, size: number): Float32Array {
  const plane = size * size * 3;
  const out = new Float32Array(indices.length * plane);
  indices.forEach((idx, i) => {
    for (let p = 0; p < plane; p++) out[i * plane + p] = pixels[idx * plane + p] / 127.5 - 1;
  });
  return out;
}

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<Options>();
  const manifest = await readModelManifest(o.model);
  const size = manifest.image.size;
  const backend = await setupBackend(o.backend, { threads: o.threads });
  console.log(`backend (classifier): ${backend.description}; generation: onnxruntime ${o.provider}`);
  const cacheKey = createHash('sha256')
    .update(`${path.resolve(o.data)}|${o.annotations ? path.resolve(o.annotations) : '-'}`)
    .digest('hex')
    .slice(0, 12);
  const data = await loadDataset({
    data: o.data,
    annotations: o.annotations,
    size,
    cacheFile: path.join(o.cacheDir, `dataset-${size}px-${cacheKey}.bin`),
  });
  const classMap = matchClasses(manifest, data);
  const K = data.classes.length;
  const split = stratifiedSplit(data.labels, K, o.holdout, o.seed);
  console.log(
    `real images: ${data.count} (${split.train.length} classifier training, ${split.heldOut.length} held out), ${data.skipped} skipped`,
  );
  const { classifier, cached, file } = await classifierFor(data, split, o, o.cacheDir);
  console.log(`classifier: ${cached ? 'reused' : 'trained and cached'} ${file}`);

  // held-out real accuracy
  const heldImages = toFloatImages(data.pixels, split.heldOut, size);
  const heldPred = argmaxRows((await classifier.predict(heldImages, split.heldOut.length)).logits, K);
  const realPerClass = Array.from({ length: K }, () => ({ n: 0, ok: 0 }));
  split.heldOut.forEach((idx, i) => {
    const l = data.labels[idx];
    realPerClass[l].n += 1;
    if (heldPred[i] === l) realPerClass[l].ok += 1;
  });
  const realAcc = realPerClass.reduce((s, c) => s + c.ok, 0) / Math.max(1, split.heldOut.length);

  // generated samples through the exported ONNX model
  const loaded = await loadSession(path.join(o.model, manifest.file), { providers: [o.provider, 'cpu'] });
  const N = o.samplesPerClass;
  const zDim = manifest.latent.dim;
  const plane = size * size * 3;
  const generated = new Float32Array(manifest.classes.length * N * plane);
  const genLabels = new Int32Array(manifest.classes.length * N);
  const chunk = 32;
  try {
    for (let m = 0; m < manifest.classes.length; m++) {
      for (let start = 0; start < N; start += chunk) {
        const n = Math.min(chunk, N - start);
        const z = new Float32Array(n * zDim);
        for (let i = 0; i < n; i++) z.set(latentForSeed(o.seed * 1_000_003 + m * N + start + i, zDim), i * zDim);
        const y = new BigInt64Array(n).fill(BigInt(m));
        const r = await runSession(
          loaded,
          { [manifest.latent.input]: { data: z, dims: [n, zDim] }, [manifest.class_input]: { data: y, dims: [n] } },
          [manifest.image.output],
        );
        const img = r.outputs[manifest.image.output].data; // NCHW
        const [lo, hi] = manifest.image.range;
        for (let i = 0; i < n; i++) {
          const dst = (m * N + start + i) * plane;
          for (let c = 0; c < 3; c++)
            for (let p = 0; p < size * size; p++) {
              const v = ((img[(i * 3 + c) * size * size + p] - lo) / (hi - lo)) * 2 - 1;
              generated[dst + p * 3 + c] = Math.min(1, Math.max(-1, v));
            }
          genLabels[m * N + start + i] = classMap[m];
        }
      }
    }
  } finally {
    await releaseSession(loaded);
  }
  const gen = await classifier.predict(generated, genLabels.length);
  const genPred = argmaxRows(gen.logits, K);

  // real features: every real image of the class
  const allReal = Int32Array.from({ length: data.count }, (_, i) => i);
  const realOut = await classifier.predict(toFloatImages(data.pixels, allReal, size), data.count);
  const F = classifier.config.featureDim;
  const pick = (features: Float32Array, labels: Int32Array, k: number | null): Float32Array => {
    const rows: number[] = [];
    labels.forEach((l, i) => {
      if (k === null || l === k) rows.push(i);
    });
    const out = new Float32Array(rows.length * F);
    rows.forEach((r, j) => out.set(features.subarray(r * F, (r + 1) * F), j * F));
    return out;
  };
  const overallFd = frechetDistance(
    fitGaussian(pick(realOut.features, data.labels, null), F),
    fitGaussian(pick(gen.features, genLabels, null), F),
  );
  const perClass = manifest.classes.map((name, m) => {
    const k = classMap[m];
    let ok = 0;
    for (let i = 0; i < N; i++) if (genPred[m * N + i] === k) ok += 1;
    const fd = frechetDistance(
      fitGaussian(pick(realOut.features, data.labels, k), F),
      fitGaussian(pick(gen.features, genLabels, k), F),
    );
    return {
      class: name,
      real_heldout_accuracy: realPerClass[k].n ? realPerClass[k].ok / realPerClass[k].n : null,
      real_heldout_images: realPerClass[k].n,
      generated_accuracy: ok / N,
      frechet_distance: fd,
    };
  });
  const genAcc = perClass.reduce((s, c) => s + c.generated_accuracy, 0) / perClass.length;
  const results = {
    date: new Date().toISOString(),
    dataset: o.data,
    ...(o.annotations ? { annotations: o.annotations } : {}),
    real_images: data.count,
    classifier: {
      ...classifier.config,
      epochs: o.epochs,
      holdout: o.holdout,
      seed: o.seed,
      train_images: split.train.length,
      heldout_images: split.heldOut.length,
    },
    real_heldout_accuracy: realAcc,
    generated_samples_per_class: N,
    generated_accuracy: genAcc,
    frechet_distance: overallFd,
    per_class: perClass,
    note: 'Fréchet distance in the penultimate features of this small classifier; not comparable with published FID.',
  };

  const pct = (v: number | null): string => (v === null ? '   -  ' : `${(100 * v).toFixed(1).padStart(5)}%`);
  const nameW = Math.max(7, ...manifest.classes.map((c) => c.length));
  console.log('');
  console.log(`${'class'.padEnd(nameW)} | real held-out acc | generated acc | Fréchet distance`);
  console.log(`${'-'.repeat(nameW)}-+-------------------+---------------+-----------------`);
  for (const c of perClass)
    console.log(
      `${c.class.padEnd(nameW)} | ${pct(c.real_heldout_accuracy).padStart(17)} | ${pct(c.generated_accuracy).padStart(13)} | ${c.frechet_distance.toFixed(3).padStart(15)}`,
    );
  console.log(
    `${'overall'.padEnd(nameW)} | ${pct(realAcc).padStart(17)} | ${pct(genAcc).padStart(13)} | ${overallFd.toFixed(3).padStart(15)}`,
  );
  console.log(`(Fréchet distance in this classifier's ${F}-d penultimate features: not comparable with published FID)`);

  if (o.json) await writeFile(o.json, `${JSON.stringify(results, null, 2)}\n`);
  if (o.write) {
    // Read again so that edits made to the file during the run are kept: only provenance.eval is this script's.
    const current = await readModelManifest(o.model);
    const updated = parseManifest({ ...current, provenance: { ...current.provenance, eval: results } });
    const manifestPath = path.join(o.model, MANIFEST_FILE);
    const tmp = `${manifestPath}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(updated, null, 2)}\n`);
    await rename(tmp, manifestPath);
    console.log(`wrote provenance.eval into ${manifestPath}`);
  }
  classifier.dispose();
}

runMain(main);
