/**
 * `npm run bench:v2-binary`: Open Inference Protocol infer with JSON tensors against the binary tensor
 * data extension, on the real server (child process, CPU). `--clients` clients in a closed loop (each
 * sends its next request when the last is answered) for `--seconds`, each request `--rows` rows of fresh
 * latents asking for the image output only; one mode JSON in and out, the other binary in and out
 * (`binary_data_size` inputs, `binary_data_output`). Both modes build each request and read each response
 * as a client would (JSON.stringify / JSON.parse; the binary header parsed and the floats viewed), so the
 * client's share of the work is in the numbers too. The modes alternate for `--rounds` rounds; the
 * table gives each mode's median over the rounds.
 *
 *   npm run bench:v2-binary -- --clients 8 --rows 8 --seconds 20 --rounds 5
 */
import { Command } from 'commander';
import { summarize } from '@sagan-serve/bench-stats';
import { machineInfo } from './bench/machine.js';
import { fmt, positiveNumber, table } from './bench/report.js';
import { timeConcurrently } from './bench/timed-runs.js';
import { startChildServer } from './reliability/child-server.js';
import { json, keepAliveAgent, send, type RawResponse } from './reliability/http-client.js';

interface Options {
  modelsDir: string;
  model: string;
  clients: number;
  rows: number;
  seconds: number;
  rounds: number;
  warmupSeconds: number;
}

type Mode = 'json' | 'binary';

interface Round {
  mode: Mode;
  imagesPerSecond: number;
  requestBytesPerImage: number;
  responseBytesPerImage: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

const HEADER = 'Inference-Header-Content-Length';

const program = new Command('bench-v2-binary')
  .description('v2 infer throughput and bytes per image: JSON tensors against binary tensor data')
  .option('--models-dir <dir>', 'MODELS_DIR for the server', 'models')
  .option('--model <name>', 'model', 'dogs64')
  .option('--clients <n>', 'clients in the closed loop', positiveNumber, 8)
  .option('--rows <n>', 'rows (images) per infer request', positiveNumber, 8)
  .option('--seconds <s>', 'seconds per mode per round', positiveNumber, 20)
  .option('--rounds <n>', 'rounds, each running both modes (in alternating order)', positiveNumber, 5)
  .option('--warmup-seconds <s>', 'untimed seconds of each mode before the first round', positiveNumber, 3);

const opts = program.parse().opts<Options>();
const machine = await machineInfo();
const server = await startChildServer({
  env: {
    MODELS_DIR: opts.modelsDir,
    EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    MAX_SAMPLES_PER_IMAGE: String(Math.max(64, opts.rows)),
    MAX_INFER_RESPONSE_BYTES: String(2 ** 30),
  },
  captureLogs: false,
});
const agent = keepAliveAgent(opts.clients);
const path = `/v2/models/${encodeURIComponent(opts.model)}/infer`;

const info = json<{ inputs: Array<{ name: string; shape: number[] }>; outputs: Array<{ name: string }> }>(
  await send(server.base, { method: 'GET', path: `/v2/models/${encodeURIComponent(opts.model)}` }),
);
const [latent, cls] = info.inputs;
const dim = latent.shape[1];
const imageOutput = info.outputs[0].name;

/** Fresh latents per call (nothing a cache could answer), in the latent range. */
function latents(call: number): Float32Array {
  const z = new Float32Array(opts.rows * dim);
  for (let i = 0; i < z.length; i++) z[i] = Math.sin(call * 7919 + i);
  return z;
}

const classes = (call: number) => Array.from({ length: opts.rows }, (_, r) => (call + r) % 4);

function jsonRequest(call: number): { body: Buffer; headers: Record<string, string> } {
  const body = JSON.stringify({
    inputs: [
      { name: latent.name, shape: [opts.rows, dim], datatype: 'FP32', data: Array.from(latents(call)) },
      { name: cls.name, shape: [opts.rows], datatype: 'INT64', data: classes(call) },
    ],
    outputs: [{ name: imageOutput }],
  });
  return { body: Buffer.from(body), headers: { 'content-type': 'application/json' } };
}

function binaryRequest(call: number): { body: Buffer; headers: Record<string, string> } {
  const z = latents(call);
  const y = new BigInt64Array(classes(call).map(BigInt));
  const header = Buffer.from(
    JSON.stringify({
      parameters: { binary_data_output: true },
      inputs: [
        {
          name: latent.name,
          shape: [opts.rows, dim],
          datatype: 'FP32',
          parameters: { binary_data_size: z.byteLength },
        },
        { name: cls.name, shape: [opts.rows], datatype: 'INT64', parameters: { binary_data_size: y.byteLength } },
      ],
      outputs: [{ name: imageOutput }],
    }),
  );
  // Typed arrays hold host-order bytes: little-endian on the x86 and arm machines this runs on.
  return {
    body: Buffer.concat([header, Buffer.from(z.buffer), Buffer.from(y.buffer)]),
    headers: { 'content-type': 'application/octet-stream', [HEADER]: String(header.length) },
  };
}

/** The image floats of a response, read as a client would. */
function imageValues(mode: Mode, res: RawResponse): Float32Array {
  if (mode === 'json') {
    const body = json<{ outputs: Array<{ data: number[] }> }>(res);
    return Float32Array.from(body.outputs[0].data);
  }
  const headerLength = Number(res.headers[HEADER.toLowerCase()]);
  const head = JSON.parse(res.body.toString('utf8', 0, headerLength)) as {
    outputs: Array<{ parameters: { binary_data_size: number } }>;
  };
  const bytes = res.body.subarray(headerLength, headerLength + head.outputs[0].parameters.binary_data_size);
  // A copy: the body's bytes need not be 4-byte aligned for a view.
  return new Float32Array(Uint8Array.from(bytes).buffer);
}

async function infer(mode: Mode, call: number): Promise<{ res: RawResponse; requestBytes: number }> {
  const { body, headers } = mode === 'json' ? jsonRequest(call) : binaryRequest(call);
  const res = await send(server.base, { method: 'POST', path, headers, body, timeoutMs: 120_000 }, agent);
  return { res, requestBytes: body.length };
}

let nextCall = 0;

async function runMode(mode: Mode, seconds: number): Promise<Round> {
  const latencies: number[] = [];
  let requestBytes = 0;
  let responseBytes = 0;
  let failures = 0;
  const { wallSeconds } = await timeConcurrently(
    async () => {
      const { res, requestBytes: sent } = await infer(mode, nextCall++);
      if (res.status !== 200) {
        failures++;
        return;
      }
      if (imageValues(mode, res).length !== opts.rows * imageRowValues) failures++;
      latencies.push(res.ms);
      requestBytes += sent;
      responseBytes += res.body.length;
    },
    { seconds, concurrency: opts.clients },
  );
  const images = latencies.length * opts.rows;
  const latency = summarize(latencies);
  return {
    mode,
    imagesPerSecond: images / wallSeconds,
    requestBytesPerImage: images ? requestBytes / images : Number.NaN,
    responseBytesPerImage: images ? responseBytes / images : Number.NaN,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    failures,
  };
}

// The same request both ways must give the same floats before anything is timed.
const jsonImage = imageValues('json', (await infer('json', 0)).res);
const binaryImage = imageValues('binary', (await infer('binary', 0)).res);
const imageRowValues = jsonImage.length / opts.rows;
const identical =
  jsonImage.length === binaryImage.length && Buffer.from(jsonImage.buffer).equals(Buffer.from(binaryImage.buffer));
if (!identical) throw new Error('binary and JSON responses to the same request differ');

for (const mode of ['json', 'binary'] as const) await runMode(mode, opts.warmupSeconds);
const rounds: Round[] = [];
for (let r = 0; r < opts.rounds; r++) {
  const order: Mode[] = r % 2 === 0 ? ['json', 'binary'] : ['binary', 'json'];
  for (const mode of order) {
    const round = await runMode(mode, opts.seconds);
    rounds.push(round);
    console.error(
      `round ${r + 1} ${mode}: ${fmt(round.imagesPerSecond, 1)} images/s, p50 ${fmt(round.p50Ms, 1)} ms, p99 ${fmt(round.p99Ms, 1)} ms${round.failures ? `, ${round.failures} failures` : ''}`,
    );
  }
}
const exitCode = await server.stop();
agent.destroy();

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const summary = (['json', 'binary'] as const).map((mode) => {
  const of = rounds.filter((r) => r.mode === mode);
  return {
    mode,
    imagesPerSecond: median(of.map((r) => r.imagesPerSecond)),
    requestBytesPerImage: median(of.map((r) => r.requestBytesPerImage)),
    responseBytesPerImage: median(of.map((r) => r.responseBytesPerImage)),
    p50Ms: median(of.map((r) => r.p50Ms)),
    p99Ms: median(of.map((r) => r.p99Ms)),
    failures: of.reduce((sum, r) => sum + r.failures, 0),
  };
});
console.log(
  `\n## v2 infer, JSON vs binary tensor data: ${opts.model}, ${opts.rows} rows a request, ${opts.clients} clients, ${opts.seconds} s x ${opts.rounds} rounds (median) (${machine.cpuModel}, ${machine.logicalCpus} CPUs, Node ${machine.node}, onnxruntime-node ${machine.onnxruntimeNode ?? '?'})\n`,
);
console.log(
  table(
    ['mode', 'images/s', 'request bytes/image', 'response bytes/image', 'p50 ms', 'p99 ms', 'failures'],
    summary.map((s) => [
      s.mode,
      fmt(s.imagesPerSecond, 1),
      fmt(s.requestBytesPerImage, 0),
      fmt(s.responseBytesPerImage, 0),
      fmt(s.p50Ms, 1),
      fmt(s.p99Ms, 1),
      s.failures,
    ]),
  ),
);
const [jsonRow, binaryRow] = summary;
console.log(
  `\nbinary / JSON: ${fmt(binaryRow.imagesPerSecond / jsonRow.imagesPerSecond, 2)}x images/s, ${fmt(binaryRow.responseBytesPerImage / jsonRow.responseBytesPerImage, 3)}x response bytes; same floats both ways: ${identical ? 'yes' : 'no'}; server exit code ${exitCode}`,
);
