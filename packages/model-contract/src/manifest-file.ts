/**
 * A model directory's manifest file: where it is and how it is read. Every reader of a model directory
 * (the server's registry, its scripts, the trainer's eval) goes through readModelManifest, so a broken
 * `model.json` reads the same everywhere.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ManifestError, parseManifest, type ModelManifest } from './manifest.js';

export const MANIFEST_FILE = 'model.json';

/**
 * Reads, parses and validates `dir/model.json`. Every failure is a ManifestError: a missing or unreadable
 * file, text that is not JSON, or a manifest that breaks the schema (parseManifest names the fields).
 * Messages name the file as `model.json`, never its full path, since the server shows them to clients;
 * the full path is on the error's `file`.
 */
export async function readModelManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ManifestError(
      code === 'ENOENT'
        ? `${MANIFEST_FILE} does not exist`
        : `${MANIFEST_FILE} cannot be read (${code ?? 'unknown error'})`,
      file,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`${MANIFEST_FILE} is not valid JSON: ${(err as Error).message}`, file);
  }
  try {
    return parseManifest(json);
  } catch (err) {
    if (err instanceof ManifestError) throw new ManifestError(err.message, file);
    throw err;
  }
}
