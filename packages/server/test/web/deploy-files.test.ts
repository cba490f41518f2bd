/**
 * The deployment files stay true to the code: probe paths are real routes (and answer), env variables are
 * real settings that load, labels and ports line up between objects, and every metric the HPA, the adapter
 * rule and the Grafana dashboard name exists in src/metrics.ts with the labels they use.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { configFromEnv, ENV_VARS, loadConfig } from '../../src/config.js';
import { API_ROUTES } from '../../src/http/route-table.js';
import { Metrics } from '../../src/metrics.js';
import { OPENAPI_PATH } from '../../src/paths.js';
import { REPO_ROOT } from '../../scripts/shared/repo-root.js';
import { makeModelsDir, startTestServer, type TestServer } from '../helpers/test-server.js';

type Doc = Record<string, any>;

const K8S = path.join(REPO_ROOT, 'deploy', 'k8s');
const DASHBOARD = path.join(REPO_ROOT, 'deploy', 'grafana', 'sagan-serve.json');
/** Labels Prometheus adds to every scraped series (ServiceMonitor targets). */
const TARGET_LABELS = new Set(['pod', 'namespace', 'instance', 'job', 'service', 'container', 'endpoint']);
/** Environment variables in the Deployment that are not sagan-serve settings. */
const NON_CONFIG_ENV = new Set(['UV_THREADPOOL_SIZE', 'NODE_OPTIONS']);

function loadK8s(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const file of readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const parsed of parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8'))) {
      assert.deepEqual(parsed.errors.map(String), [], `${file} parses`);
      const doc = parsed.toJS() as Doc | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

function byKind(docs: { doc: Doc }[], kind: string): Doc {
  const found = docs.filter((d) => d.doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0].doc;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Express route templates (":model") and OpenAPI paths ("{model}") for GET. */
function isGetRoute(p: string): boolean {
  return API_ROUTES.some((route) => route.path === p && route.method === 'GET');
}

describe('deploy files', () => {
  const docs = loadK8s();
  const metrics = new Metrics({ processMetrics: false });
  const registered = new Map(
    metrics.registry.getMetricsAsArray().map((m) => [
      m.name,
      {
        type: String(m.type),
        labels: new Set((m as unknown as { labelNames: string[] }).labelNames),
      },
    ]),
  );
  const openapiPaths = Object.keys((parseYaml(readFileSync(OPENAPI_PATH, 'utf8')) as Doc).paths);
  const deployment = byKind(docs, 'Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const env = Object.fromEntries(
    (container.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
  );

  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: ['a', 'b'] }]));
  });
  after(async () => {
    await ts.close();
  });

  /** Resolves a metric as written in PromQL (with _bucket/_sum/_count for histograms) to its registered name. */
  function metricFor(series: string): { name: string; labels: Set<string>; bucket: boolean } {
    if (registered.has(series)) {
      const m = registered.get(series)!;
      assert.notEqual(m.type, 'histogram', `${series} is a histogram: use _bucket, _sum or _count`);
      return { name: series, labels: m.labels, bucket: false };
    }
    const base = series.replace(/_(bucket|sum|count)$/, '');
    const m = registered.get(base);
    assert.ok(m, `metric ${series} is not in src/metrics.ts (known: ${[...registered.keys()].join(', ')})`);
    assert.equal(m.type, 'histogram', `${series}: only histograms have _bucket/_sum/_count series`);
    return { name: base, labels: m.labels, bucket: series.endsWith('_bucket') };
  }

  test('every manifest is a Kubernetes object the kustomization lists (or the adapter values)', () => {
    const kustomization = byKind(docs, 'Kustomization');
    for (const file of kustomization.resources as string[])
      assert.ok(existsSync(path.join(K8S, file)), `${file} exists`);
    for (const { file, doc } of docs) {
      if (file === 'prometheus-adapter-values.yaml' || doc.kind === 'Kustomization') continue;
      assert.ok(doc.apiVersion && doc.kind && doc.metadata?.name, `${file}: apiVersion, kind, metadata.name`);
      assert.ok((kustomization.resources as string[]).includes(file), `${file} is in kustomization.yaml`);
    }
  });

  test('probes use /readyz and /healthz, which are routes, documented, and answer', async () => {
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    const portNames = new Set((container.ports as Array<{ name: string }>).map((p) => p.name));
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const { path: probePath, port } = container[probe].httpGet;
      assert.ok(isGetRoute(probePath), `${probe} ${probePath} is a GET route in route-table.ts`);
      assert.ok(openapiPaths.includes(probePath), `${probe} ${probePath} is in openapi.yaml`);
      assert.ok(portNames.has(port), `${probe} port ${port} is a container port name`);
      await request(ts.app).get(probePath).expect(200);
    }
  });

  test('the container env is valid sagan-serve configuration on the container port', () => {
    for (const name of Object.keys(env))
      assert.ok(name in ENV_VARS || NON_CONFIG_ENV.has(name), `${name} is a setting in src/config.ts`);
    const config = loadConfig(configFromEnv(env));
    const http = (container.ports as Array<{ name: string; containerPort: number }>).find((p) => p.name === 'http')!;
    assert.equal(config.port, http.containerPort);
    assert.ok(config.executionProviders.includes('cuda'), 'GPU pods try CUDA first');
    assert.equal(container.volumeMounts.find((v: Doc) => v.name === 'models')?.mountPath, config.modelsDir);
    const preStop = Number(container.lifecycle.preStop.exec.command.at(-1));
    assert.ok(
      pod.spec.terminationGracePeriodSeconds * 1000 > preStop * 1000 + config.shutdownGraceMs + 2000,
      'terminationGracePeriodSeconds covers preStop + SHUTDOWN_GRACE_MS + 2 s',
    );
  });

  test('one GPU per pod, with CPU and memory requests', () => {
    assert.equal(Number(container.resources.limits['nvidia.com/gpu']), 1);
    assert.equal(Number(container.resources.requests['nvidia.com/gpu']), 1);
    assert.ok(
      container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory,
    );
  });

  test('Service, ServiceMonitor, PDB and HPA point at the Deployment', () => {
    const labels = pod.metadata.labels as Record<string, string>;
    assert.ok(matches(deployment.spec.selector.matchLabels, labels), 'Deployment selector matches its pods');
    const service = byKind(docs, 'Service');
    assert.ok(matches(service.spec.selector, labels), 'Service selects the pods');
    assert.equal(service.spec.sessionAffinity, 'None', 'stateless: no sticky sessions');
    const servicePorts = service.spec.ports as Array<{ name: string; targetPort: string }>;
    for (const p of servicePorts)
      assert.ok(
        container.ports.some((c: Doc) => c.name === p.targetPort),
        `Service targetPort ${p.targetPort}`,
      );
    const monitor = byKind(docs, 'ServiceMonitor');
    assert.ok(
      matches(monitor.spec.selector.matchLabels, service.metadata.labels),
      'ServiceMonitor selects the Service',
    );
    for (const e of monitor.spec.endpoints as Array<{ port: string; path: string }>) {
      assert.ok(
        servicePorts.some((p) => p.name === e.port),
        `ServiceMonitor port ${e.port}`,
      );
      assert.ok(isGetRoute(e.path), `${e.path} is a route`);
    }
    assert.ok(matches(byKind(docs, 'PodDisruptionBudget').spec.selector.matchLabels, labels));
    const hpa = byKind(docs, 'HorizontalPodAutoscaler');
    assert.deepEqual(
      [hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name],
      ['Deployment', deployment.metadata.name],
    );
    assert.ok(hpa.spec.minReplicas >= 2 && hpa.spec.maxReplicas > hpa.spec.minReplicas);
  });

  test('the HPA scales on sagan_queue_depth, served by the documented adapter rule', () => {
    const hpa = byKind(docs, 'HorizontalPodAutoscaler');
    const [metric] = hpa.spec.metrics as Doc[];
    assert.equal(metric.type, 'Pods');
    assert.equal(metric.pods.metric.name, 'sagan_queue_depth');
    assert.equal(metricFor('sagan_queue_depth').name, 'sagan_queue_depth');
    assert.equal(registered.get('sagan_queue_depth')!.type, 'gauge');
    const adapter = docs.find((d) => d.file === 'prometheus-adapter-values.yaml')!.doc;
    const rule = (adapter.rules.custom as Doc[]).find((r) => r.name.as === metric.pods.metric.name);
    assert.ok(rule, 'an adapter rule publishes the HPA metric');
    const series = /^([a-z_:][a-z0-9_:]*)/.exec(rule.seriesQuery)![1];
    assert.equal(metricFor(series).name, 'sagan_queue_depth');
    assert.deepEqual(Object.keys(rule.resources.overrides).sort(), ['namespace', 'pod']);
  });

  test('the dashboard uses real metrics and labels and has the panels it promises', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Doc;
    const panels = (dashboard.panels as Doc[]).filter((p) => p.type !== 'row');
    const exprs = panels.flatMap((p) => (p.targets as Doc[]).map((t) => String(t.expr)));
    exprs.push(
      ...(dashboard.templating.list as Doc[]).filter((v) => v.type === 'query').map((v) => String(v.definition)),
    );
    assert.ok(exprs.length >= 10);
    const ids = panels.map((p) => p.id as number);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const expr of exprs) {
      const series = [...expr.matchAll(/\b(sagan_[a-z0-9_]+)/g)].map((m) => m[1]);
      assert.ok(series.length > 0, `${expr} names a sagan_ metric`);
      const known = new Set(TARGET_LABELS);
      for (const s of series) {
        const m = metricFor(s);
        for (const l of m.labels) known.add(l);
        if (m.bucket) known.add('le');
      }
      const used = [
        ...[...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',')),
        ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
          [...m[1].matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]),
        ),
        ...[...expr.matchAll(/label_values\(\s*[\w:]+\s*,\s*(\w+)\s*\)/g)].map((m) => m[1]),
      ]
        .map((l) => l.trim())
        .filter(Boolean);
      for (const label of used)
        assert.ok(known.has(label), `label '${label}' in ${expr} is not on ${series.join(', ')}`);
    }
    const find = (re: RegExp) => exprs.filter((e) => re.test(e));
    const inference = find(/sagan_inference_duration_seconds_bucket/);
    assert.ok(
      inference.some((e) => e.includes('histogram_quantile(0.5,') && /by \(le, model, version, provider\)/.test(e)),
      'inference p50 per model, version and provider',
    );
    assert.ok(
      inference.some((e) => e.includes('histogram_quantile(0.99,') && /by \(le, model, version, provider\)/.test(e)),
      'inference p99 per model, version and provider',
    );
    assert.ok(
      panels.some(
        (p) =>
          /by model version/.test(String(p.title)) &&
          (p.targets as Doc[]).some((t) => /by \((model, version|version, model)\)/.test(String(t.expr))),
      ),
      'images/s per model version',
    );
    assert.ok(
      (dashboard.templating.list as Doc[]).some((v) => v.name === 'version'),
      'a version template variable',
    );
    assert.ok(find(/sagan_batch_size_/).length > 0, 'batch size');
    assert.ok(find(/sagan_queue_depth/).length > 0, 'queue depth');
    assert.ok(
      find(/sagan_requests_rejected_total/).some((e) => /by \(reason/.test(e)),
      'rejects by reason',
    );
    assert.ok(
      find(/sagan_http_request_duration_seconds_bucket/).some((e) => e.includes('histogram_quantile(0.99,')),
      'HTTP p99',
    );
  });
});
