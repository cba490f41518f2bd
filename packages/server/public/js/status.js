// The live status strip: models, provider and queue depth from /v1/models, recent inference latency and
// throughput from the Prometheus text at /metrics (parsed minimally), refreshed every few seconds.
import { getJson, getText } from './api.js';

/** Prometheus text exposition -> [{ name, labels, value }]; comments and malformed lines are skipped. */
export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** Per-model counters we need: inference seconds and batches, images generated, rejects. */
function totalsByModel(samples) {
  const out = new Map();
  const get = (model) => {
    if (!out.has(model)) out.set(model, { inferSum: 0, inferCount: 0, images: 0, rejected: 0 });
    return out.get(model);
  };
  for (const s of samples) {
    const model = s.labels.model;
    if (model === undefined || !Number.isFinite(s.value)) continue;
    if (s.name === 'sagan_inference_duration_seconds_sum') get(model).inferSum += s.value;
    else if (s.name === 'sagan_inference_duration_seconds_count') get(model).inferCount += s.value;
    else if (s.name === 'sagan_images_generated_total') get(model).images += s.value;
    else if (s.name === 'sagan_requests_rejected_total') get(model).rejected += s.value;
  }
  return out;
}

function chip(model, recent) {
  const el = document.createElement('span');
  el.className = 'status-chip';
  el.dataset.model = model.name;
  const dot = document.createElement('span');
  dot.className = `dot ${model.status}`;
  el.append(dot);
  const name = document.createElement('b');
  name.textContent = model.name;
  el.append(name);
  const parts = [];
  if (model.status !== 'ready') parts.push(model.status);
  if (model.provider) parts.push(model.provider);
  if (model.queue_depth !== undefined) parts.push(`queue ${model.queue_depth}`);
  if (recent?.latencyMs !== undefined)
    parts.push(`${recent.latencyMs < 10 ? recent.latencyMs.toFixed(1) : Math.round(recent.latencyMs)} ms/batch`);
  if (recent?.imagesPerSecond !== undefined && recent.imagesPerSecond > 0)
    parts.push(`${recent.imagesPerSecond.toFixed(1)} img/s`);
  if (recent?.rejected) parts.push(`${recent.rejected} rejected`);
  for (const p of parts) {
    const sep = document.createElement('span');
    sep.className = 'sep';
    sep.textContent = '·';
    const text = document.createElement('span');
    text.textContent = p;
    el.append(sep, text);
  }
  if (model.reason) el.title = model.reason;
  return el;
}

/**
 * Starts polling; `onModels(list)` gets each fresh /v1/models answer (the gallery uses it to notice
 * models becoming ready). Returns a stop function.
 */
export function startStatus(container, { intervalMs = 3000, onModels } = {}) {
  let previous; // { at, totals }
  const lastLatency = new Map();
  let timer;
  let stopped = false;

  async function tick() {
    try {
      const [models, metricsText] = await Promise.all([
        getJson('/v1/models'),
        getText('/metrics').catch(() => undefined),
      ]);
      onModels?.(models);
      const now = performance.now();
      const totals = metricsText === undefined ? undefined : totalsByModel(parsePrometheus(metricsText));
      const recent = new Map();
      for (const m of models.models) {
        const cur = totals?.get(m.name);
        const prev = previous?.totals.get(m.name);
        const r = {};
        if (cur && prev) {
          const batches = cur.inferCount - prev.inferCount;
          if (batches > 0) lastLatency.set(m.name, ((cur.inferSum - prev.inferSum) / batches) * 1000);
          r.imagesPerSecond = (cur.images - prev.images) / ((now - previous.at) / 1000);
          r.rejected = cur.rejected - prev.rejected;
        } else if (cur && cur.inferCount > 0 && !lastLatency.has(m.name)) {
          lastLatency.set(m.name, (cur.inferSum / cur.inferCount) * 1000);
        }
        r.latencyMs = lastLatency.get(m.name);
        recent.set(m.name, r);
      }
      if (totals) previous = { at: now, totals };
      container.replaceChildren(...models.models.map((m) => chip(m, recent.get(m.name))));
      if (models.models.length === 0)
        container.replaceChildren(
          Object.assign(document.createElement('span'), { className: 'status-chip muted', textContent: 'no models' }),
        );
    } catch (err) {
      container.replaceChildren(
        Object.assign(document.createElement('span'), {
          className: 'status-chip',
          textContent: `server unreachable (${err.message})`,
        }),
      );
    }
  }

  const schedule = () => {
    if (!stopped)
      timer = setTimeout(async () => {
        if (!document.hidden) await tick();
        schedule();
      }, intervalMs);
  };
  tick().then(schedule);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
