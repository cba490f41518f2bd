/**
 * Checkpoints: a directory `<run>/checkpoint/` with
 *   checkpoint.json     format, step, trainer state (RNG, data sampler, Adam step counts), model
 *                       config, hyper-parameters, data description, layout signatures, and a table of
 *                       tensors (name, dtype, length, shard file, byte offset)
 *   tensors-NNN.bin     the tensors' bytes, little-endian, back to back, cut into shards of at most
 *                       `shardBytes` (default 15 MiB, so every file fits the 16 MiB per-file limit
 *                       of the GPU machine's result transfer)
 * Weights, EMA weights, BN statistics, u vectors and sigmas are float32 (exact resume); the Adam
 * moments are float32 by default, or float16 (`momentsDtype`, with a per-tensor scale, and sqrt(v)
 * for the second moment so small values do not underflow) to shrink the checkpoint by about a fifth at
 * the cost of bit-exact resume.
 *
 * Writes go to a temporary directory that is renamed over the old checkpoint (the old one is kept as
 * checkpoint.old until the new one is in place), so an interrupted write never leaves a torn
 * checkpoint behind.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { float16BitsToFloat32, float32ToFloat16Bits } from '@sagan-serve/model-contract/onnx-model';
import type { ModelConfig } from './model-config.js';
import type { StateTensors, TrainerState, TrainHyper } from './trainer.js';

export const CHECKPOINT_DIR = 'checkpoint';
export const CHECKPOINT_FORMAT = 'sagan-serve-train-checkpoint';
export const CHECKPOINT_VERSION = 1;
const DEFAULT_SHARD_BYTES = 15 * 1024 * 1024;

export type StoredDtype = 'float32' | 'float16';

export interface DataDescription {
  /** Where the images came from (as given on the command line). */
  dataset: string;
  classes: string[];
  /** Class folder names as found (before normalisation). */
  folders?: string[];
  images: number;
  annotations?: string;
  skipped?: number;
}

export interface TensorEntry {
  name: string;
  dtype: StoredDtype;
  /**
   * float16 entries store (transform(x) / scale): 'sqrt' for second moments (v >= 0: sqrt keeps tiny
   * values above float16's underflow), 'none' otherwise; scale maps the largest magnitude to 60000.
   */
  transform?: 'sqrt' | 'none';
  scale?: number;
  length: number;
  shard: number;
  offset: number;
  bytes: number;
}

export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  created: string;
  step: number;
  state: TrainerState;
  model: ModelConfig;
  hyper: TrainHyper;
  data: DataDescription;
  layouts: { g: string; d: string; stats: string };
  backend?: string;
  tensors: TensorEntry[];
  shards: { file: string; bytes: number }[];
  totalBytes: number;
}

export interface SaveOptions {
  momentsDtype?: StoredDtype;
  shardBytes?: number;
  backend?: string;
}

function encode(
  values: Float32Array,
  dtype: StoredDtype,
  transform: 'sqrt' | 'none',
): { bytes: Uint8Array; scale?: number } {
  if (dtype === 'float32')
    return { bytes: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
  const f = transform === 'sqrt' ? (x: number) => Math.sqrt(Math.max(0, x)) : (x: number) => x;
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(f(values[i])));
  const scale = max > 0 ? max / 60000 : 1;
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(f(values[i]) / scale);
  return { bytes: new Uint8Array(out.buffer), scale };
}

function decode(bytes: Uint8Array, e: Pick<TensorEntry, 'dtype' | 'length' | 'transform' | 'scale'>): Float32Array {
  const copy = new Uint8Array(bytes); // aligned copy
  if (e.dtype === 'float32') return new Float32Array(copy.buffer, 0, e.length);
  const half = new Uint16Array(copy.buffer, 0, e.length);
  const out = new Float32Array(e.length);
  const scale = e.scale ?? 1;
  for (let i = 0; i < e.length; i++) {
    const x = float16BitsToFloat32(half[i]) * scale;
    out[i] = e.transform === 'sqrt' ? x * x : x;
  }
  return out;
}

const isMoment = (name: string): boolean => /\.adam\.[mv]$/.test(name);

/** Writes `<runDir>/checkpoint/` atomically; returns the metadata (with sizes). */
export async function saveCheckpoint(
  runDir: string,
  meta: Omit<CheckpointMeta, 'format' | 'version' | 'created' | 'tensors' | 'shards' | 'totalBytes' | 'backend'>,
  tensors: StateTensors,
  opts: SaveOptions = {},
): Promise<CheckpointMeta> {
  const shardBytes = opts.shardBytes ?? DEFAULT_SHARD_BYTES;
  const final = path.join(runDir, CHECKPOINT_DIR);
  const tmp = path.join(runDir, `${CHECKPOINT_DIR}.tmp-${process.pid}`);
  const old = path.join(runDir, `${CHECKPOINT_DIR}.old`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const entries: TensorEntry[] = [];
  const shards: { file: string; bytes: number }[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const file = `tensors-${String(shards.length).padStart(3, '0')}.bin`;
    await writeFile(path.join(tmp, file), Buffer.concat(pending));
    shards.push({ file, bytes: pendingBytes });
    pending = [];
    pendingBytes = 0;
  };
  for (const name of Object.keys(tensors).sort()) {
    const dtype: StoredDtype = isMoment(name) ? (opts.momentsDtype ?? 'float32') : 'float32';
    const transform = name.endsWith('.adam.v') ? 'sqrt' : 'none';
    const encoded = encode(tensors[name], dtype, transform);
    let bytes = encoded.bytes;
    // A tensor may span shards: it is cut at the shard boundary and its entry lists the first piece;
    // readers concatenate the shards in order and index by (shard, offset) into that stream.
    entries.push({
      name,
      dtype,
      length: tensors[name].length,
      shard: shards.length,
      offset: pendingBytes,
      bytes: bytes.length,
      ...(dtype === 'float16' ? { transform, scale: encoded.scale } : {}),
    });
    while (bytes.length > 0) {
      const room = shardBytes - pendingBytes;
      const piece = bytes.subarray(0, room);
      pending.push(piece);
      pendingBytes += piece.length;
      bytes = bytes.subarray(piece.length);
      if (pendingBytes >= shardBytes) await flush();
    }
  }
  await flush();
  const full: CheckpointMeta = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    created: new Date().toISOString(),
    ...meta,
    ...(opts.backend ? { backend: opts.backend } : {}),
    tensors: entries,
    shards,
    totalBytes: shards.reduce((s, f) => s + f.bytes, 0),
  };
  await writeFile(path.join(tmp, 'checkpoint.json'), `${JSON.stringify(full, null, 1)}\n`);
  await rm(old, { recursive: true, force: true });
  const hadFinal = await exists(final);
  if (hadFinal) await rename(final, old);
  await rename(tmp, final);
  if (hadFinal) await rm(old, { recursive: true, force: true });
  return full;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Finds the checkpoint directory of a run (or accepts the checkpoint directory itself). */
export async function findCheckpoint(runOrCheckpointDir: string): Promise<string | undefined> {
  for (const dir of [
    runOrCheckpointDir,
    path.join(runOrCheckpointDir, CHECKPOINT_DIR),
    path.join(runOrCheckpointDir, `${CHECKPOINT_DIR}.old`),
  ]) {
    if (await exists(path.join(dir, 'checkpoint.json'))) return dir;
  }
  return undefined;
}

export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  tensors: StateTensors;
}

export async function loadCheckpoint(runOrCheckpointDir: string): Promise<LoadedCheckpoint> {
  const dir = await findCheckpoint(runOrCheckpointDir);
  if (!dir)
    throw new Error(
      `no checkpoint in ${runOrCheckpointDir} (expected ${path.join(runOrCheckpointDir, CHECKPOINT_DIR, 'checkpoint.json')})`,
    );
  const meta = JSON.parse(await readFile(path.join(dir, 'checkpoint.json'), 'utf8')) as CheckpointMeta;
  if (meta.format !== CHECKPOINT_FORMAT)
    throw new Error(`${dir}: not a trainer checkpoint (format ${String(meta.format)})`);
  if (meta.version !== CHECKPOINT_VERSION)
    throw new Error(`${dir}: checkpoint version ${meta.version}, this trainer reads ${CHECKPOINT_VERSION}`);
  const files = new Set(await readdir(dir));
  const shardStarts: number[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of meta.shards) {
    if (!files.has(s.file)) throw new Error(`${dir}: missing shard ${s.file}`);
    const buf = await readFile(path.join(dir, s.file));
    if (buf.length !== s.bytes) throw new Error(`${dir}: shard ${s.file} has ${buf.length} bytes, expected ${s.bytes}`);
    shardStarts.push(at);
    parts.push(buf);
    at += buf.length;
  }
  const stream = Buffer.concat(parts);
  const tensors: StateTensors = {};
  for (const e of meta.tensors) {
    const start = shardStarts[e.shard] + e.offset;
    tensors[e.name] = decode(stream.subarray(start, start + e.bytes), e);
  }
  return { dir, meta, tensors };
}
