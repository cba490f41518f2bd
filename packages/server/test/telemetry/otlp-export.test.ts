/**
 * The real CLI as a child process with OTEL_EXPORTER_OTLP_ENDPOINT set exports its spans over OTLP/HTTP
 * to a receiver in this test (JSON through OTEL_EXPORTER_OTLP_PROTOCOL, the SDK's standard variable),
 * and flushes them when it shuts down: the batch processor's delay is set far beyond the test, so the
 * spans can only arrive through the shutdown's flush. The access log line carries the trace id.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { startChildServer } from '../../scripts/reliability/child-server.js';
import { send } from '../../scripts/reliability/http-client.js';
import { makeModelsDir, TINY_CLASSES } from '../helpers/test-server.js';

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number | string };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 2 = SERVER. */
  kind: number;
  attributes: OtlpAttribute[];
  links?: Array<{ traceId: string; spanId: string }>;
}

interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const SPAN_KIND_SERVER = 2;

/** Every body POSTed to /v1/traces (bounded by the test: one request's spans). */
const exports: OtlpExport[] = [];
let receiver: Server;
let receiverUrl: string;
let modelsDir: string;

before(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        exports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      } else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const address = receiver.address();
  receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  modelsDir = await makeModelsDir([{ name: 'dogs', classes: TINY_CLASSES }]);
});

after(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await rm(modelsDir, { recursive: true, force: true });
});

function attribute(attributes: OtlpAttribute[], key: string): string | number | undefined {
  const value = attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? (value?.intValue === undefined ? undefined : Number(value.intValue));
}

test('the CLI exports a connected trace over OTLP/HTTP and flushes it on shutdown', async () => {
  const server = await startChildServer({
    env: {
      MODELS_DIR: modelsDir,
      EXECUTION_PROVIDERS: 'cpu',
      INTRA_OP_THREADS: '1',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    },
  });
  const traceId = randomBytes(16).toString('hex');
  const callerSpanId = randomBytes(8).toString('hex');
  const res = await send(server.base, {
    method: 'GET',
    path: '/generate?class=golden_retriever&seed=3',
    headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
  });
  assert.equal(res.status, 200);
  assert.equal(await server.stop(), 0);
  const accessLine = server.logs.find(
    (l) => l.msg === 'request completed' && JSON.stringify(l.req).includes('/generate'),
  );
  assert.equal(accessLine?.trace_id, traceId, 'the access log line carries the trace id');

  const resourceSpans = exports.flatMap((e) => e.resourceSpans);
  assert.ok(resourceSpans.length > 0, 'the receiver got spans');
  for (const r of resourceSpans) assert.equal(attribute(r.resource.attributes, 'service.name'), 'sagan-serve');
  const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).filter((s) => s.traceId === traceId);
  const serverSpan = spans.find((s) => s.kind === SPAN_KIND_SERVER);
  assert.ok(serverSpan, `a server span in trace ${traceId}; got ${spans.map((s) => s.name).join(', ')}`);
  assert.equal(serverSpan.parentSpanId, callerSpanId);
  assert.equal(attribute(serverSpan.attributes, 'http.route'), '/generate');
  for (const name of ['queue', 'inference', 'encode']) {
    const stage = spans.find((s) => s.name === name);
    assert.ok(stage, `a ${name} span`);
    assert.equal(stage.parentSpanId, serverSpan.spanId, `${name} is a child of the request span`);
    assert.equal(attribute(stage.attributes, 'sagan.model'), name === 'encode' ? undefined : 'dogs');
  }
  const inference = spans.find((s) => s.name === 'inference');
  assert.deepEqual(
    inference?.links?.map((l) => l.spanId),
    [serverSpan.spanId],
  );
  assert.equal(attribute(inference?.attributes ?? [], 'sagan.batch_size'), 1);
});
