/**
 * Every YAML document under deploy/ is validated, not only parsed: Kubernetes objects against their API
 * schemas (kubernetes-models, @kubernetes-models/keda, @kubernetes-models/prometheus-operator), KServe
 * objects, for which no kept schema package exists, for the conventions KServe and Knative hold a custom
 * predictor to (their PodSpec parts against the core schema), kustomizations against the files they name
 * and what they build. A document of a kind this file does not know fails.
 *
 * The libraries' runtime schemas check types and required fields but let unknown fields through, so a
 * misspelled optional field (`readinesProbe`) would pass them. The same objects are therefore also
 * type-checked by the TypeScript compiler against the libraries' own declarations, whose excess-property
 * check refuses any field the API does not have.
 *
 * Every sagan_* name that the KEDA triggers, the HPA and its adapter rule, the KServe objects and the
 * Grafana dashboard use is read back from the server's own metrics registry (src/metrics.ts), exercised
 * once so that histograms show their _bucket/_sum/_count series.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import request from 'supertest';
import ts from 'typescript';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Service } from 'kubernetes-models/v1/Service';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { configFromEnv, ENV_VARS, loadConfig, type ServerConfig } from '../../src/config.js';
import { API_ROUTES } from '../../src/http/route-table.js';
import { Metrics } from '../../src/metrics.js';
import { OPENAPI_PATH, PACKAGE_ROOT } from '../../src/paths.js';
import { REPO_ROOT } from '../../scripts/shared/repo-root.js';
import { makeModelsDir, startTestServer, type TestServer } from '../helpers/test-server.js';

type Doc = Record<string, any>;
interface Loaded {
  file: string;
  index: number;
  doc: Doc;
}

const DEPLOY = path.join(REPO_ROOT, 'deploy');
/** Files under deploy/ that hold no Kubernetes object, and what they are. */
const NOT_OBJECTS: Record<string, 'prometheus-adapter values'> = {
  'k8s/prometheus-adapter-values.yaml': 'prometheus-adapter values',
};
/** Labels Prometheus adds to every scraped series (ServiceMonitor targets, or pod annotations' relabelling). */
const TARGET_LABELS = new Set(['pod', 'namespace', 'instance', 'job', 'service', 'container', 'endpoint']);
/** Environment variables in a container that are read by something other than sagan-serve. */
const NON_CONFIG_ENV: Record<string, string> = {
  UV_THREADPOOL_SIZE: 'libuv',
  NODE_OPTIONS: 'node',
  PROTOCOL: "KServe: a custom predictor's protocol",
  STORAGE_URI: "KServe: a custom predictor's model location",
};
/** KServe's fields of a predictor (PredictorSpec and ComponentExtensionSpec); the rest is a core PodSpec. */
const KSERVE_PREDICTOR_FIELDS = new Set([
  'name',
  'storageUris',
  'storageContainerName',
  'workerSpec',
  'model',
  'minReplicas',
  'maxReplicas',
  'scaleTarget',
  'scaleMetric',
  'scaleMetricType',
  'autoScaling',
  'containerConcurrency',
  'timeout',
  'canaryTrafficPercent',
  'logger',
  'batcher',
  'labels',
  'annotations',
  'deploymentStrategy',
]);
/** A predictor's built-in frameworks: each is a model server of KServe's, not this image. */
const KSERVE_FRAMEWORKS = [
  'sklearn',
  'xgboost',
  'tensorflow',
  'pytorch',
  'triton',
  'onnx',
  'huggingface',
  'pmml',
  'lightgbm',
  'paddle',
];
const MODEL_MOUNT = '/mnt/models';
/** Knative's rules for a revision's container (knative.dev/serving k8s_validation). */
const KNATIVE_RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_CONFIGURATION', 'K_REVISION']);
const KNATIVE_RESERVED_PATHS = new Set(['/', '/dev', '/dev/log', '/tmp', '/var', '/var/log']);

function yamlFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

function loadFile(file: string): Loaded[] {
  const out: Loaded[] = [];
  parseAllDocuments(readFileSync(path.join(DEPLOY, file), 'utf8')).forEach((parsed, index) => {
    assert.deepEqual(parsed.errors.map(String), [], `${file} parses`);
    const doc = parsed.toJS() as Doc | null;
    if (doc !== null) out.push({ file, index, doc });
  });
  return out;
}

const typeOf = (doc: Doc) => `${doc.apiVersion}/${doc.kind}`;

/** A library's model for one kind, and where the TypeScript declaration of its data lives. */
interface Schema {
  model: new (data: any) => { validate(): void };
  module: string;
  type: string;
}

const POD_SPEC: Schema = { model: Pod, module: 'kubernetes-models/v1/PodSpec', type: 'IPodSpec' };
const SCHEMAS: Record<string, Schema> = {
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    model: ServiceMonitor,
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: 'IServiceMonitor',
  },
  'monitoring.coreos.com/v1/PodMonitor': {
    model: PodMonitor,
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor',
    type: 'IPodMonitor',
  },
  'keda.sh/v1alpha1/ScaledObject': {
    model: ScaledObject,
    module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
    type: 'IScaledObject',
  },
};

/** Type-checks each value against its schema's declaration in one program; returns each refusal with
 *  where it came from. An object literal assigned to a declared type may hold no field the type lacks. */
function typeCheck(values: { where: string; schema: Schema; value: unknown }[]): string[] {
  // In the package, so that the imports resolve through its node_modules as the test's own do.
  const file = path.join(PACKAGE_ROOT, 'test', 'deploy', '__deploy-manifests__.ts');
  const text = values
    .map(
      (v, i) =>
        `import type { ${v.schema.type} as T${i} } from '${v.schema.module}';\n` +
        `export const v${i}: T${i} = ${JSON.stringify(v.value)};\n`,
    )
    .join('');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => (f === file ? text : readFile(f));
  host.getSourceFile = (f, language, ...rest) =>
    f === file ? ts.createSourceFile(f, text, language) : getSourceFile(f, language, ...rest);
  const program = ts.createProgram([file], options, host);
  const source = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const line = d.start === undefined ? -1 : source.getLineAndCharacterOfPosition(d.start).line;
    const where = values[Math.floor(line / 2)]?.where ?? 'the generated program';
    return `${where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ').slice(0, 300)}`;
  });
}

/** Series the server exposes once every metric holds a value, with their metric's type and labels. */
async function exposedSeries(): Promise<Map<string, { metric: string; labels: Set<string> }>> {
  const metrics = new Metrics({ processMetrics: false });
  const byName = new Map<string, Set<string>>();
  for (const m of metrics.registry.getMetricsAsArray()) {
    const labelNames = (m as unknown as { labelNames: string[] }).labelNames;
    const labels = Object.fromEntries(labelNames.map((l) => [l, 'x']));
    if (m instanceof Histogram) m.observe(labels, 0.01);
    else if (m instanceof Gauge) m.set(labels, 1);
    else if (m instanceof Counter) m.inc(labels);
    else assert.fail(`metric ${m.name}: unknown kind`);
    byName.set(m.name, new Set(labelNames));
  }
  // A histogram's own name is no series: PromQL sees only its _bucket, _sum and _count.
  const series = new Map<string, { metric: string; labels: Set<string> }>();
  let current = '';
  for (const line of (await metrics.registry.metrics()).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) current = type[1];
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const labels = new Set(byName.get(current));
    if (name.endsWith('_bucket')) labels.add('le');
    series.set(name, { metric: current, labels });
  }
  return series;
}

/** `label` -> value of each matcher `label=~"value"` (and =, !=, !~) in a PromQL expression. */
function matchers(expr: string): { label: string; op: string; value: string }[] {
  return [...expr.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map((m) => ({
    label: m[1],
    op: m[2],
    value: m[3],
  }));
}

/** An expression without the selectors that tie it to one deployment's pods (service=, pod=~). */
function withoutTargetSelector(expr: string): string {
  return expr.replace(/\s+/g, '').replace(/(service|pod|namespace|job)(=~|=)"[^"]*",?/g, '');
}

function resolvePort(container: Doc, port: number | string): number {
  if (typeof port === 'number') return port;
  const named = (container.ports as Doc[] | undefined)?.find((p) => p.name === port);
  assert.ok(named, `port ${port} is one of the container's named ports`);
  return named.containerPort as number;
}

function envOf(container: Doc): Record<string, string> {
  return Object.fromEntries(((container.env ?? []) as Doc[]).map((e) => [e.name, e.value]));
}

describe('deploy manifests', () => {
  const files = yamlFiles(DEPLOY);
  const loaded = files.flatMap(loadFile);
  const objects = loaded.filter((l) => !(l.file in NOT_OBJECTS));
  const all = (kind: string) => objects.filter((l) => l.doc.kind === kind);
  const one = (kind: string) => {
    const found = all(kind);
    assert.equal(found.length, 1, `exactly one ${kind} under deploy/`);
    return found[0].doc;
  };
  const openapiPaths = Object.keys((parseYaml(readFileSync(OPENAPI_PATH, 'utf8')) as Doc).paths);
  const isGetRoute = (p: string) => API_ROUTES.some((r) => r.path === p && r.method === 'GET');
  const queuingRoutes = new Set(API_ROUTES.filter((r) => r.queuesWork).map((r) => r.path));
  const deployment = one('Deployment');
  const deploymentContainer = deployment.spec.template.spec.containers[0];
  const deploymentConfig = loadConfig(configFromEnv(envOf(deploymentContainer)));
  const hpa = one('HorizontalPodAutoscaler');
  const adapter = loaded.find((l) => l.file === 'k8s/prometheus-adapter-values.yaml')!.doc;
  const prometheusUrl = `${adapter.prometheus.url}:${adapter.prometheus.port}`;
  const scaledObject = one('ScaledObject');
  const isvcs = all('InferenceService');
  const runtime = one('ServingRuntime');

  let series: Awaited<ReturnType<typeof exposedSeries>>;
  let ts: TestServer;
  before(async () => {
    series = await exposedSeries();
    ts = await startTestServer(await makeModelsDir([{ name: 'tiny', classes: ['a', 'b'] }]));
  });
  after(async () => {
    await ts.close();
  });

  /** A KServe container: one port (8080), v2 health probes that are routes and answer, settings that load
   *  with the models at /mnt/models, the Deployment's image. Returns the loaded configuration. */
  async function checkKserveContainer(
    where: string,
    container: Doc,
    knative: boolean,
  ): Promise<Readonly<ServerConfig>> {
    assert.equal(
      container.name,
      'kserve-container',
      `${where}: KServe serves from the container named kserve-container`,
    );
    assert.equal(container.image, deploymentContainer.image, `${where}: the image the Deployment runs`);
    assert.equal(container.ports?.length, 1, `${where}: one container port`);
    const port = container.ports[0].containerPort as number;
    assert.equal(port, 8080, `${where}: port 8080 (KServe's default for a custom predictor)`);
    const env = envOf(container);
    for (const name of Object.keys(env))
      assert.ok(name in ENV_VARS || name in NON_CONFIG_ENV, `${where}: ${name} is a setting in src/config.ts`);
    if (knative) {
      for (const name of Object.keys(env))
        assert.ok(!KNATIVE_RESERVED_ENV.has(name), `${where}: Knative reserves ${name}`);
      assert.ok(
        [undefined, 'http1', 'h2c'].includes(container.ports[0].name),
        `${where}: Knative takes a port named http1 or h2c, or none`,
      );
      for (const mount of (container.volumeMounts ?? []) as Doc[])
        assert.ok(!KNATIVE_RESERVED_PATHS.has(mount.mountPath), `${where}: Knative reserves ${mount.mountPath}`);
    }
    // Under Knative PORT comes from the container port; elsewhere it must be that port too.
    const config = loadConfig(configFromEnv({ PORT: String(port), ...env }));
    assert.equal(config.port, port, `${where}: the server listens on the container port`);
    assert.equal(
      config.modelsDir,
      MODEL_MOUNT,
      `${where}: MODELS_DIR is ${MODEL_MOUNT}, where KServe mounts the models`,
    );
    assert.ok(config.executionProviders.includes('cuda'), `${where}: GPU pods try CUDA first`);
    assert.equal(
      container.readinessProbe?.httpGet?.path,
      '/v2/health/ready',
      `${where}: readiness on /v2/health/ready`,
    );
    assert.equal(container.livenessProbe?.httpGet?.path, '/v2/health/live', `${where}: liveness on /v2/health/live`);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      if (!container[probe]) continue;
      const { path: probePath, port: probePort } = container[probe].httpGet;
      assert.equal(resolvePort(container, probePort), port, `${where}: ${probe} on the container port`);
      assert.ok(isGetRoute(probePath), `${where}: ${probe} ${probePath} is a GET route`);
      assert.ok(openapiPaths.includes(probePath), `${where}: ${probe} ${probePath} is in openapi.yaml`);
      await request(ts.app).get(probePath).expect(200);
    }
    assert.equal(Number(container.resources?.limits?.['nvidia.com/gpu']), 1, `${where}: one GPU`);
    return config;
  }

  /** Where Prometheus finds the server's /metrics on a KServe pod. */
  function checkScrapeAnnotations(where: string, annotations: Doc, podAnnotations: Doc, knative: boolean): void {
    const merged = { ...annotations, ...podAnnotations };
    if (merged['serving.kserve.io/enable-prometheus-scraping'] === 'true') {
      // KServe's webhook then points prometheus.io/port at queue-proxy (Knative only), which scrapes the
      // server at prometheus.kserve.io/port and path.
      assert.ok(knative, `${where}: enable-prometheus-scraping points at queue-proxy, which only Knative pods have`);
      assert.equal(
        merged['serving.kserve.io/enable-metric-aggregation'],
        'true',
        `${where}: queue-proxy passes the server's metrics on only with enable-metric-aggregation`,
      );
      assert.equal(
        merged['prometheus.kserve.io/port'],
        '8080',
        `${where}: prometheus.kserve.io/port is the server's port`,
      );
      assert.equal(merged['prometheus.kserve.io/path'], '/metrics', `${where}: prometheus.kserve.io/path is /metrics`);
    } else {
      assert.equal(
        merged['serving.kserve.io/enable-prometheus-scraping'],
        'false',
        `${where}: scraping is on through KServe or explicitly off`,
      );
      assert.equal(podAnnotations['prometheus.io/port'], '8080', `${where}: prometheus.io/port is the server's port`);
      assert.equal(podAnnotations['prometheus.io/path'], '/metrics', `${where}: prometheus.io/path is /metrics`);
    }
    assert.equal(podAnnotations['prometheus.io/scrape'], 'true', `${where}: prometheus.io/scrape on the pods`);
    assert.ok(isGetRoute('/metrics'));
  }

  /** Checks an expression's sagan_* names and labels against the registry; returns the names it uses. */
  function checkPromQL(where: string, expr: string): string[] {
    const names = [...expr.matchAll(/\b(sagan_[a-zA-Z0-9_]+)/g)].map((m) => m[1]);
    assert.ok(names.length > 0, `${where}: ${expr} names a sagan_ metric`);
    const known = new Set(TARGET_LABELS);
    for (const name of names) {
      const s = series.get(name);
      assert.ok(s, `${where}: ${name} is not a series the server exposes (${[...series.keys()].join(', ')})`);
      for (const l of s.labels) known.add(l);
    }
    const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => matchers(m[1]).map((x) => x.label));
    const grouped = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)]
      .flatMap((m) => m[1].split(',').map((l) => l.trim()))
      .filter(Boolean);
    for (const label of [...selectors, ...grouped])
      assert.ok(known.has(label), `${where}: label '${label}' is not on ${names.join(', ')}`);
    return names;
  }

  /** Values for the TypeScript check, gathered while the runtime schemas run. */
  const typed: { where: string; schema: Schema; value: unknown }[] = [];
  function schemaCheck(where: string, schema: Schema, value: Doc): void {
    new schema.model(value).validate();
    typed.push({ where, schema, value });
  }
  /** A PodSpec under a KServe field: checked as the spec of a core Pod, so containers, probes, volumes,
   *  resources and security contexts meet the Kubernetes API (and a field it lacks is refused). */
  function podSpecCheck(where: string, spec: Doc): void {
    new Pod({ metadata: { name: 'kserve' }, spec } as any).validate();
    typed.push({ where, schema: POD_SPEC, value: spec });
  }

  const validators: Record<string, (l: Loaded) => void | Promise<void>> = {
    ...Object.fromEntries(
      Object.entries(SCHEMAS).map(([type, schema]) => [
        type,
        ({ file, index, doc }: Loaded) => schemaCheck(`${file} document ${index + 1}`, schema, doc),
      ]),
    ),
    'kustomize.config.k8s.io/v1beta1/Kustomization': ({ file, doc }) => checkKustomization(file, doc),
    'serving.kserve.io/v1beta1/InferenceService': ({ file, doc }) => checkInferenceService(file, doc),
    'serving.kserve.io/v1alpha1/ServingRuntime': ({ file, doc }) => checkServingRuntime(file, doc),
  };

  function checkKustomization(file: string, doc: Doc): void {
    const dir = path.posix.dirname(file);
    const resources = doc.resources as string[];
    assert.ok(Array.isArray(resources) && resources.length > 0, `${file}: resources`);
    for (const r of resources) {
      const target = path.join(DEPLOY, dir, r);
      const isDir = statSync(target, { throwIfNoEntry: false })?.isDirectory();
      if (isDir)
        assert.ok(
          files.includes(path.posix.join(path.posix.normalize(path.posix.join(dir, r)), 'kustomization.yaml')),
          `${file}: ${r} is a kustomization`,
        );
      else assert.ok(files.includes(path.posix.join(dir, r)), `${file}: ${r} exists`);
    }
    // Every object file beside a kustomization is part of it: one left out would never be applied.
    for (const other of files.filter((f) => path.posix.dirname(f) === dir && f !== file && !(f in NOT_OBJECTS))) {
      assert.ok(resources.includes(path.posix.basename(other)), `${file} lists ${path.posix.basename(other)}`);
    }
  }

  /** The objects `kubectl apply -k` on a kustomization's directory applies: its resources, recursively, less
   *  those its `$patch: delete` patches remove. Any other kind of patch is refused, so that what this
   *  returns stays what kustomize builds. */
  function build(dir: string): Doc[] {
    const kustomization = loaded.find((l) => l.file === path.posix.join(dir, 'kustomization.yaml'))!.doc;
    let docs: Doc[] = [];
    for (const r of kustomization.resources as string[]) {
      const target = path.posix.normalize(path.posix.join(dir, r));
      docs.push(
        ...(files.includes(target) ? objects.filter((l) => l.file === target).map((l) => l.doc) : build(target)),
      );
    }
    for (const { target, patch } of (kustomization.patches ?? []) as Doc[]) {
      const parsed = parseYaml(patch) as Doc;
      assert.equal(
        parsed.$patch,
        'delete',
        `${dir}/kustomization.yaml: only $patch: delete patches are understood here`,
      );
      const before = docs.length;
      docs = docs.filter(
        (d) =>
          !(
            d.kind === target.kind &&
            d.metadata.name === target.name &&
            d.kind === parsed.kind &&
            d.metadata.name === parsed.metadata.name
          ),
      );
      assert.equal(
        docs.length,
        before - 1,
        `${dir}/kustomization.yaml: the patch deletes one ${target.kind} ${target.name}`,
      );
    }
    return docs;
  }

  async function checkInferenceService(file: string, doc: Doc): Promise<void> {
    const annotations = (doc.metadata.annotations ?? {}) as Record<string, string>;
    const mode = annotations['serving.kserve.io/deploymentMode'];
    assert.ok(
      mode === 'Knative' || mode === 'Standard',
      `${file}: deploymentMode is Knative or Standard ("Serverless" and "RawDeployment" are deprecated), not ${mode}`,
    );
    const knative = mode === 'Knative';
    const predictor = doc.spec.predictor as Doc;
    assert.equal(predictor.storageUri, undefined, `${file}: a custom predictor has no predictor.storageUri`);
    assert.equal(predictor.model, undefined, `${file}: a custom predictor, not predictor.model`);
    for (const framework of KSERVE_FRAMEWORKS)
      assert.equal(predictor[framework], undefined, `${file}: no predictor.${framework} (KServe's own server)`);
    const containers = predictor.containers as Doc[];
    assert.equal(containers?.length, 1, `${file}: one container, the predictor`);
    const [container] = containers;
    const podSpec = Object.fromEntries(Object.entries(predictor).filter(([k]) => !KSERVE_PREDICTOR_FIELDS.has(k)));
    podSpecCheck(`${file} spec.predictor (its PodSpec fields)`, podSpec);
    const config = await checkKserveContainer(file, container, knative);
    const env = envOf(container);
    assert.equal(
      env.PROTOCOL,
      'v2',
      `${file}: PROTOCOL=v2 tells KServe the custom predictor speaks the Open Inference Protocol`,
    );

    // Models: from storageUris or a STORAGE_URI env, mounted by KServe at /mnt/models, read-only.
    const storageUris = (predictor.storageUris ?? []) as Doc[];
    assert.ok(
      storageUris.length > 0 !== 'STORAGE_URI' in env,
      `${file}: models from storageUris or STORAGE_URI, one of the two`,
    );
    if (storageUris.length > 0) {
      assert.deepEqual(
        storageUris.map((s) => s.mountPath ?? MODEL_MOUNT),
        [MODEL_MOUNT],
        `${file}: one storage URI, at ${MODEL_MOUNT}`,
      );
      assert.ok(
        storageUris.every((s) => /^[a-z0-9]+:\/\/\S+/.test(s.uri)),
        `${file}: storage URIs are URIs`,
      );
    }
    assert.notEqual(annotations['storage.kserve.io/readonly'], 'false', `${file}: models mounted read-only`);
    for (const mount of (container.volumeMounts ?? []) as Doc[]) {
      assert.ok(
        !mount.mountPath.startsWith(MODEL_MOUNT),
        `${file}: KServe mounts ${MODEL_MOUNT} itself; a volume there collides with it`,
      );
    }

    const podAnnotations = (predictor.annotations ?? {}) as Record<string, string>;
    checkScrapeAnnotations(file, annotations, podAnnotations, knative);
    for (const [key, value] of Object.entries({ ...annotations, ...podAnnotations })) {
      if (/sagan_/.test(value)) checkPromQL(`${file} annotation ${key}`, value);
    }

    assert.ok(Number.isInteger(predictor.timeout), `${file}: an explicit request timeout (predictor.timeout, seconds)`);
    assert.ok(
      predictor.timeout * 1000 > config.requestTimeoutMs,
      `${file}: timeout above REQUEST_TIMEOUT_MS, so the server's 504 comes first`,
    );
    assert.equal(predictor.minReplicas, hpa.spec.minReplicas, `${file}: the HPA's minimum replicas`);
    assert.equal(predictor.maxReplicas, hpa.spec.maxReplicas, `${file}: the HPA's maximum replicas`);

    if (knative) {
      // Knative makes the timeout the pod's termination grace period: it must hold a whole drain.
      assert.ok(
        predictor.timeout * 1000 >= config.shutdownGraceMs + 5000,
        `${file}: timeout covers SHUTDOWN_GRACE_MS + 5 s of draining`,
      );
      assert.equal(predictor.scaleMetric, 'concurrency', `${file}: Knative scales on requests in flight`);
      assert.ok(
        env.MODEL_INSTANCES && config.instances >= 1,
        `${file}: MODEL_INSTANCES explicit, so the concurrency target can follow it`,
      );
      assert.equal(
        predictor.scaleTarget,
        config.maxBatchSize * config.instances,
        `${file}: scaleTarget = MAX_BATCH_SIZE x MODEL_INSTANCES`,
      );
      assert.equal(
        annotations['autoscaling.knative.dev/target'],
        undefined,
        `${file}: the target once, as scaleTarget`,
      );
    } else {
      const preStop = Number(container.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
      assert.ok(
        predictor.terminationGracePeriodSeconds * 1000 > preStop * 1000 + config.shutdownGraceMs + 2000,
        `${file}: terminationGracePeriodSeconds covers preStop + SHUTDOWN_GRACE_MS + 2 s`,
      );
      assert.equal(annotations['serving.kserve.io/autoscalerClass'], 'keda', `${file}: Standard mode scales with KEDA`);
      assert.equal(predictor.scaleMetric, undefined, `${file}: KServe refuses scaleMetric with KEDA`);
      // The same triggers as deploy/keda, on this InferenceService's pods (KServe names its Deployment
      // <name>-predictor).
      const metrics = predictor.autoScaling.metrics as Doc[];
      const triggers = scaledObject.spec.triggers as Doc[];
      assert.equal(metrics.length, triggers.length, `${file}: the ScaledObject's triggers`);
      metrics.forEach((m, i) => {
        assert.equal(m.type, 'External');
        assert.equal(m.external.metric.backend, 'prometheus');
        assert.equal(
          m.external.metric.serverAddress,
          prometheusUrl,
          `${file}: the Prometheus prometheus-adapter reads`,
        );
        assert.equal(m.external.target.type, 'Value', `${file}: KServe takes a KEDA threshold as a Value target`);
        assert.equal(
          String(m.external.target.value),
          triggers[i].metadata.threshold,
          `${file}: trigger ${i} threshold`,
        );
        const query = m.external.metric.query as string;
        assert.equal(
          withoutTargetSelector(query),
          withoutTargetSelector(triggers[i].metadata.query),
          `${file}: trigger ${i} query`,
        );
        const pod = matchers(query).find((x) => x.label === 'pod');
        assert.equal(
          pod?.value,
          `${doc.metadata.name}-predictor-.*`,
          `${file}: trigger ${i} selects the predictor's pods`,
        );
      });
    }
  }

  async function checkServingRuntime(file: string, doc: Doc): Promise<void> {
    const spec = doc.spec as Doc;
    assert.ok(
      (spec.supportedModelFormats as Doc[]).some((f) => f.name === 'onnx'),
      `${file}: model format onnx`,
    );
    assert.deepEqual(spec.protocolVersions, ['v2'], `${file}: the Open Inference Protocol over REST (no gRPC)`);
    const { supportedModelFormats, protocolVersions, multiModel, disabled, annotations, labels, ...podSpec } = spec;
    podSpecCheck(`${file} spec (its PodSpec fields)`, podSpec);
    assert.equal((spec.containers as Doc[]).length, 1, `${file}: one container`);
    // A runtime serves under either mode, so it keeps to Knative's rules.
    const config = await checkKserveContainer(file, spec.containers[0], true);
    assert.ok(config.instances >= 1);
    assert.equal(
      annotations?.['prometheus.kserve.io/port'],
      '8080',
      `${file}: prometheus.kserve.io/port is the server's port`,
    );
    assert.equal(
      annotations?.['prometheus.kserve.io/path'],
      '/metrics',
      `${file}: prometheus.kserve.io/path is /metrics`,
    );
  }

  test('every YAML document under deploy/ is of a kind validated here, and valid', async () => {
    assert.ok(files.length >= 10, `YAML files found under deploy/: ${files.join(', ')}`);
    for (const l of loaded) {
      const where = `${l.file} document ${l.index + 1}`;
      if (l.file in NOT_OBJECTS) {
        assert.equal(l.doc.kind, undefined, `${where}: ${NOT_OBJECTS[l.file]}, not an object`);
        continue;
      }
      assert.ok(l.doc.apiVersion && l.doc.kind, `${where}: apiVersion and kind`);
      assert.ok(l.doc.metadata?.name || l.doc.kind === 'Kustomization', `${where}: metadata.name`);
      const validate = validators[typeOf(l.doc)];
      assert.ok(
        validate,
        `${where}: no validation here for ${typeOf(l.doc)} (known: ${Object.keys(validators).join(', ')})`,
      );
      try {
        await validate(l);
      } catch (err) {
        throw new Error(`${where} (${typeOf(l.doc)}): ${(err as Error).message}`, { cause: err });
      }
    }
    assert.deepEqual(typeCheck(typed), [], 'every field is one the API has');
  });

  test('the prometheus-adapter values are rules for the Prometheus the autoscalers query', () => {
    assert.match(adapter.prometheus.url, /^https?:\/\/[^/:]+$/);
    assert.ok(Number.isInteger(adapter.prometheus.port));
    for (const rule of adapter.rules.custom as Doc[]) {
      for (const key of ['seriesQuery', 'metricsQuery']) assert.equal(typeof rule[key], 'string', `rule ${key}`);
      assert.ok(rule.name.matches && rule.name.as && rule.resources.overrides, 'rule name and resources');
    }
  });

  test('KEDA scales the Deployment on queue depth and request rate, as the HPA would', () => {
    const ref = scaledObject.spec.scaleTargetRef;
    assert.deepEqual(
      [ref.apiVersion ?? 'apps/v1', ref.kind ?? 'Deployment', ref.name],
      [deployment.apiVersion, deployment.kind, deployment.metadata.name],
    );
    assert.equal(scaledObject.spec.minReplicaCount, hpa.spec.minReplicas);
    assert.equal(scaledObject.spec.maxReplicaCount, hpa.spec.maxReplicas);
    assert.deepEqual(
      scaledObject.spec.advanced.horizontalPodAutoscalerConfig.behavior,
      hpa.spec.behavior,
      "the HPA's scale-up and scale-down pace",
    );
    const service = one('Service');
    const triggers = scaledObject.spec.triggers as Doc[];
    for (const t of triggers) {
      assert.equal(t.type, 'prometheus');
      assert.equal(t.metricType ?? 'AverageValue', 'AverageValue', `${t.name}: a total divided by the replica count`);
      assert.equal(t.metadata.serverAddress, prometheusUrl, `${t.name}: the Prometheus prometheus-adapter reads`);
      assert.ok(Number(t.metadata.threshold) > 0, `${t.name}: a threshold`);
      const selector = matchers(t.metadata.query).find((m) => m.label === 'service');
      assert.deepEqual([selector?.op, selector?.value], ['=', service.metadata.name], `${t.name}: the Service's pods`);
    }
    const queue = triggers.filter((t) => /\bsagan_queue_depth\b/.test(t.metadata.query));
    assert.equal(queue.length, 1, 'a trigger on sagan_queue_depth');
    assert.equal(
      Number(queue[0].metadata.threshold),
      deploymentConfig.maxBatchSize,
      'one full batch (MAX_BATCH_SIZE) waiting per pod',
    );
    assert.equal(
      Number(queue[0].metadata.threshold),
      Number(hpa.spec.metrics[0].pods.target.averageValue),
      "the HPA's target",
    );
    const rate = triggers.filter((t) =>
      /\brate\(\s*sagan_http_request_duration_seconds_count\b/.test(t.metadata.query),
    );
    assert.equal(rate.length, 1, 'a trigger on the rate of sagan_http_request_duration_seconds_count');
    const route = matchers(rate[0].metadata.query).find((m) => m.label === 'route');
    assert.equal(route?.op, '=~');
    assert.deepEqual(
      new Set(route.value.split('|')),
      queuingRoutes,
      'the routes that queue generation work (route-table.ts queuesWork)',
    );
  });

  test('no kustomization lets two autoscalers drive one workload', () => {
    const kustomizations = files
      .filter((f) => path.posix.basename(f) === 'kustomization.yaml')
      .map((f) => path.posix.dirname(f));
    assert.ok(kustomizations.includes('keda'), 'deploy/keda is a kustomization');
    for (const dir of kustomizations) {
      const built = build(dir);
      const names = built.map((d) => `${d.kind}/${d.metadata.name}`);
      assert.equal(new Set(names).size, names.length, `${dir}: each object once`);
      const targets = built.flatMap((d) =>
        d.kind === 'HorizontalPodAutoscaler' || d.kind === 'ScaledObject'
          ? [`${d.spec.scaleTargetRef.kind ?? 'Deployment'}/${d.spec.scaleTargetRef.name}`]
          : [],
      );
      assert.equal(
        new Set(targets).size,
        targets.length,
        `${dir}: one autoscaler per workload (${targets.join(', ')})`,
      );
      for (const t of targets) assert.ok(names.includes(t), `${dir}: ${t} is in the same kustomization`);
    }
    assert.ok(
      build('keda').some((d) => d.kind === 'ScaledObject') &&
        !build('keda').some((d) => d.kind === 'HorizontalPodAutoscaler'),
      'deploy/keda: KEDA in place of the HPA',
    );
    assert.ok(
      build('k8s').some((d) => d.kind === 'HorizontalPodAutoscaler'),
      'deploy/k8s keeps the prometheus-adapter HPA',
    );
  });

  test('KServe has a Knative and a Standard InferenceService and an onnx v2 ServingRuntime', () => {
    assert.deepEqual(isvcs.map((l) => l.doc.metadata.annotations['serving.kserve.io/deploymentMode']).sort(), [
      'Knative',
      'Standard',
    ]);
    assert.ok(runtime.spec.supportedModelFormats.some((f: Doc) => f.name === 'onnx'));
  });

  test('every sagan_* name the autoscalers, KServe and the dashboard use is in the metrics registry', () => {
    const used = new Set<string>();
    const add = (where: string, expr: string) => checkPromQL(where, expr).forEach((n) => used.add(n));
    for (const t of scaledObject.spec.triggers as Doc[]) add(`deploy/keda trigger ${t.name}`, t.metadata.query);
    for (const { file, doc } of isvcs) {
      for (const m of (doc.spec.predictor.autoScaling?.metrics ?? []) as Doc[])
        add(`${file} autoScaling`, m.external.metric.query);
    }
    for (const m of hpa.spec.metrics as Doc[]) add('hpa.yaml', m.pods.metric.name);
    for (const rule of adapter.rules.custom as Doc[]) {
      add('prometheus-adapter rule seriesQuery', rule.seriesQuery);
      add('prometheus-adapter rule name', rule.name.as);
    }
    const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana', 'sagan-serve.json'), 'utf8')) as Doc;
    for (const panel of dashboard.panels as Doc[]) {
      for (const target of (panel.targets ?? []) as Doc[]) add(`dashboard panel ${panel.title}`, String(target.expr));
    }
    for (const v of (dashboard.templating?.list ?? []) as Doc[])
      if (v.type === 'query') add(`dashboard variable ${v.name}`, String(v.definition));
    for (const name of [
      'sagan_queue_depth',
      'sagan_http_request_duration_seconds_count',
      'sagan_inference_duration_seconds_bucket',
    ]) {
      assert.ok(used.has(name), `${name} is used`);
    }
    // Comments, titles and descriptions too: any sagan_* token anywhere under deploy/ names a metric or a
    // series of one.
    const metricNames = new Set([...series.values()].map((s) => s.metric));
    for (const file of (readdirSync(DEPLOY, { recursive: true }) as string[]).filter((f) =>
      /\.(ya?ml|json)$/.test(f),
    )) {
      for (const [token] of readFileSync(path.join(DEPLOY, file), 'utf8').matchAll(/\bsagan_[a-zA-Z0-9_]+/g)) {
        assert.ok(
          series.has(token) || metricNames.has(token),
          `deploy/${file}: ${token} is not a metric in src/metrics.ts`,
        );
      }
    }
  });
});
