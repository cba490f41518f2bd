/** readModelManifest: a model directory's manifest read back, and each way reading it can fail. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ManifestError } from '../src/manifest.js';
import { MANIFEST_FILE, readModelManifest } from '../src/manifest-file.js';
import { writeModelDirectory } from '../src/model-directory.js';
import { randomWeights, type SaganGeneratorConfig } from '../src/sagan-graph.js';

const config: SaganGeneratorConfig = {
  imageSize: 16,
  zDim: 8,
  width: 4,
  numClasses: 2,
  attentionResolution: 8,
  poolKeys: true,
};

/** Asserts a ManifestError whose message matches `message` and names the file only as model.json. */
function rejectsWith(dir: string, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ManifestError, `a ManifestError, got ${String(err)}`);
    assert.match(err.message, message);
    assert.ok(!err.message.includes(dir), `the message leaves out the directory: ${err.message}`);
    assert.equal(err.file, path.join(dir, MANIFEST_FILE));
    return true;
  };
}

test('readModelManifest reads what writeModelDirectory wrote', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'sagan-manifest-file-'));
  try {
    const written = await writeModelDirectory(path.join(root, 'cats16'), config, randomWeights(config, 1), {
      name: 'cats16',
      version: '3',
      classes: ['tabby', 'siamese'],
    });
    assert.deepEqual(await readModelManifest(written.dir), written.manifest);
    assert.equal(written.manifestPath, path.join(written.dir, MANIFEST_FILE));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a missing, unreadable, non-JSON or invalid model.json is a ManifestError saying which', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'sagan-manifest-file-'));
  try {
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    await assert.rejects(readModelManifest(empty), rejectsWith(empty, /^model\.json does not exist$/));

    const directory = path.join(root, 'directory');
    await mkdir(path.join(directory, MANIFEST_FILE), { recursive: true });
    await assert.rejects(
      readModelManifest(directory),
      rejectsWith(directory, /^model\.json cannot be read \(EISDIR\)$/),
    );

    const truncated = path.join(root, 'truncated');
    await mkdir(truncated);
    await writeFile(path.join(truncated, MANIFEST_FILE), '{"name": "dogs", "version": ');
    await assert.rejects(readModelManifest(truncated), rejectsWith(truncated, /^model\.json is not valid JSON: /));

    const valid = await writeModelDirectory(path.join(root, 'valid'), config, randomWeights(config, 2), {
      name: 'valid',
      version: '1',
      classes: ['a', 'b'],
    });
    const json = JSON.parse(await readFile(valid.manifestPath, 'utf8')) as {
      latent: { dim: unknown };
      classes?: unknown;
    };
    json.latent.dim = 'sixteen';
    delete json.classes;
    await writeFile(valid.manifestPath, JSON.stringify(json));
    await assert.rejects(
      readModelManifest(valid.dir),
      rejectsWith(valid.dir, /^(?=.*manifest\.latent\.dim)(?=.*'classes')/),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
