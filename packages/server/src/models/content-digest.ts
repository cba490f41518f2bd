/**
 * The digest of a model version's files, by content: what its images' ETags stand for. The version
 * string alone cannot be trusted for that (an operator may replace the weights and keep it, and a
 * strong, immutable ETag would then confirm cached images of the old weights), and neither can sizes
 * and modification times (new weights of the same architecture have the same size, and copies keep
 * times). Covers the same files as the repository scan's change check (every file in the version's
 * directory), so whatever makes a version reload also changes its ETags.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 over each file's name and sha256, in name order (base64url). Rejects when a file cannot be read. */
export async function contentDigest(dir: string): Promise<string> {
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort();
  const hash = createHash('sha256');
  for (const name of entries) {
    const file = path.join(dir, name);
    // Skipped as the scan skips them: a symlink to a directory, or a dangling one.
    if (
      !(await stat(file).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      continue;
    hash.update(`${name}\0${await fileDigest(file)}\n`);
  }
  return hash.digest('base64url');
}
