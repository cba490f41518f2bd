// The gallery page: model and class pickers, a grid of seeded samples, the large view with the attention
// explorer, "more like this", and latent interpolation. Plain ES modules, no framework.
import { addSeed, errorMessage, generateUrl, getJson, interpolateUrl, randomSeed } from './api.js';
import { QUERY_PALETTE } from './palette.js';
import { startStatus } from './status.js';

const GRID_COUNT = 12;
const LIKE_FIRST = 24;
const MAX_QUERIES = 5;
const DOWNLOAD_SCALE = 4;
const MAX_DOWNLOAD_SIZE = 1024;

const $ = (id) => document.getElementById(id);
const el = {
  model: $('model'),
  modelInfo: $('model-info'),
  classSearch: $('class-search'),
  classList: $('class-list'),
  classCount: $('class-count'),
  truncate: $('truncate'),
  truncation: $('truncation'),
  truncationValue: $('truncation-value'),
  newSeeds: $('new-seeds'),
  seedRange: $('seed-range'),
  grid: $('grid'),
  samplesTitle: $('samples-title'),
  like: $('like'),
  likeTitle: $('like-title'),
  likeGrid: $('like-grid'),
  likeMore: $('like-more'),
  likeClose: $('like-close'),
  interpForm: $('interp-form'),
  interpFrom: $('interp-from'),
  interpTo: $('interp-to'),
  interpSteps: $('interp-steps'),
  interpStepsValue: $('interp-steps-value'),
  interpMode: $('interp-mode'),
  interpImg: $('interp-img'),
  interpDownload: $('interp-download'),
  interpError: $('interp-error'),
  detail: $('detail'),
  detailTitle: $('detail-title'),
  detailClose: $('detail-close'),
  detailImg: $('detail-img'),
  stage: $('stage'),
  dots: $('dots'),
  stageHint: $('stage-hint'),
  metaModel: $('meta-model'),
  metaSeed: $('meta-seed'),
  metaTrunc: $('meta-trunc'),
  actLike: $('act-like'),
  actFrom: $('act-from'),
  actTo: $('act-to'),
  dlNative: $('dl-native'),
  dlBig: $('dl-big'),
  attention: $('attention'),
  queryList: $('query-list'),
  clearPoints: $('clear-points'),
  dlPanel: $('dl-panel'),
  noAttention: $('no-attention'),
  panelImg: $('panel-img'),
  panelEmpty: $('panel-empty'),
  panelError: $('panel-error'),
};

const state = {
  models: [],
  model: undefined, // a ModelStatus from /v1/models
  className: undefined,
  truncation: 0.7, // undefined = no truncation
  baseSeed: 0,
  detail: undefined, // { className, seed, queries: [{x, y}], view: 'panel' | 'overlay' }
};

const displayName = (name) => name.replaceAll('_', ' ');
const normalise = (name) => name.toLowerCase().replace(/[\s_-]+/g, '');
const nativeSize = () => state.model.manifest.image.size;
const downloadSize = () => Math.max(nativeSize(), Math.min(nativeSize() * DOWNLOAD_SCALE, MAX_DOWNLOAD_SIZE));
const seeds = () => Array.from({ length: GRID_COUNT }, (_, i) => addSeed(state.baseSeed, i));
const fileStem = (className, seed) =>
  `${state.model.name}-${className}-seed${seed}${state.truncation !== undefined ? `-psi${state.truncation}` : ''}`;

function imageUrl(className, seed, extra = {}) {
  return generateUrl(state.model.name, { class: className, seed, truncation: state.truncation, ...extra });
}

// ------------------------------------------------------------------------------------------------
// URL state: ?model=&class=&seed=&psi= so a view can be shared and reloaded.

function readUrlState() {
  const q = new URLSearchParams(location.search);
  const seed = Number(q.get('seed'));
  const psi = q.get('psi');
  return {
    model: q.get('model') ?? undefined,
    className: q.get('class') ?? undefined,
    seed: q.has('seed') && Number.isInteger(seed) && seed >= 0 && seed <= 4294967295 ? seed : undefined,
    truncation: psi === 'none' ? null : psi !== null && Number(psi) > 0 && Number(psi) <= 1 ? Number(psi) : undefined,
  };
}

function writeUrlState() {
  const q = new URLSearchParams();
  if (state.model) q.set('model', state.model.name);
  if (state.className) q.set('class', state.className);
  q.set('seed', String(state.baseSeed));
  q.set('psi', state.truncation === undefined ? 'none' : String(state.truncation));
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

// ------------------------------------------------------------------------------------------------
// Sample tiles (shared by the grid and "more like this").

function sampleFigure({ className, seed, caption, download, onOpen }) {
  const figure = document.createElement('figure');
  figure.className = 'sample';
  figure.dataset.seed = String(seed);
  figure.dataset.class = className;
  const button = document.createElement('button');
  button.type = 'button';
  button.title = `${displayName(className)}, seed ${seed} — open large`;
  const img = document.createElement('img');
  img.className = 'pixelated';
  img.alt = `${displayName(className)}, seed ${seed}`;
  img.decoding = 'async';
  img.width = nativeSize();
  img.height = nativeSize();
  const url = imageUrl(className, seed);
  img.addEventListener('load', () => figure.classList.add('loaded'));
  img.addEventListener('error', async () => {
    figure.classList.add('failed');
    button.textContent = await errorMessage(url);
  });
  img.src = url;
  button.append(img);
  button.addEventListener('click', onOpen);
  const cap = document.createElement('figcaption');
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = caption;
  if (download) {
    const link = document.createElement('a');
    link.className = 'download';
    link.href = imageUrl(className, seed, { size: downloadSize() });
    link.download = `${fileStem(className, seed)}-${downloadSize()}px.png`;
    link.textContent = '↓ PNG';
    link.title = `Download ${downloadSize()} px PNG`;
    cap.append(name, link);
  } else {
    const seedText = document.createElement('span');
    seedText.className = 'mono';
    seedText.textContent = `#${seed}`;
    cap.append(name, seedText);
  }
  figure.append(button, cap);
  return figure;
}

function renderGrid() {
  if (!state.model || !state.className) {
    el.grid.replaceChildren();
    return;
  }
  el.samplesTitle.textContent = `${displayName(state.className)}`;
  const list = seeds();
  el.seedRange.textContent = `${list[0]} – ${list[list.length - 1]}`;
  el.grid.replaceChildren(
    ...list.map((seed) =>
      sampleFigure({
        className: state.className,
        seed,
        caption: `seed ${seed}`,
        download: true,
        onOpen: () => openDetail(state.className, seed),
      }),
    ),
  );
}

// ------------------------------------------------------------------------------------------------
// Model and class pickers.

function renderModelSelect() {
  el.model.replaceChildren(
    ...state.models.map((m) => {
      const option = document.createElement('option');
      option.value = m.name;
      option.textContent = m.status === 'ready' ? m.name : `${m.name} (${m.status})`;
      option.disabled = m.status !== 'ready';
      return option;
    }),
  );
  if (state.model) el.model.value = state.model.name;
}

function renderModelInfo() {
  const m = state.model;
  if (!m) {
    el.modelInfo.textContent = 'No model is ready yet.';
    return;
  }
  const { manifest } = m;
  const bits = [
    `${manifest.image.size}×${manifest.image.size}`,
    `${manifest.classes.length} classes`,
    `z ${manifest.latent.dim}`,
    m.provider,
  ];
  bits.push(manifest.attention ? `attention ${manifest.attention.grid.join('×')}` : 'no attention');
  if (manifest.untrained) bits.push('untrained weights');
  el.modelInfo.textContent = bits.filter(Boolean).join(' · ');
}

function renderClassList() {
  if (!state.model) {
    el.classList.replaceChildren();
    return;
  }
  const classes = state.model.manifest.classes;
  const needle = normalise(el.classSearch.value);
  const matches = classes.filter((c) => needle === '' || normalise(c).includes(needle));
  el.classCount.textContent = needle === '' ? `(${classes.length})` : `(${matches.length} of ${classes.length})`;
  const shown = matches.slice(0, 300);
  const items = shown.map((c) => {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('role', 'option');
    button.textContent = displayName(c);
    button.dataset.class = c;
    button.setAttribute('aria-selected', String(c === state.className));
    button.addEventListener('click', () => selectClass(c));
    li.append(button);
    return li;
  });
  if (matches.length === 0)
    items.push(Object.assign(document.createElement('li'), { className: 'empty', textContent: 'No class matches.' }));
  if (matches.length > shown.length)
    items.push(
      Object.assign(document.createElement('li'), {
        className: 'empty',
        textContent: `${matches.length - shown.length} more — refine the search`,
      }),
    );
  el.classList.replaceChildren(...items);
}

function selectModel(name) {
  const model = state.models.find((m) => m.name === name && m.status === 'ready');
  if (!model) return;
  state.model = model;
  if (!state.className || !model.manifest.classes.includes(state.className))
    state.className = model.manifest.classes[0];
  el.classSearch.value = '';
  el.like.hidden = true;
  renderModelSelect();
  renderModelInfo();
  renderClassList();
  refresh();
}

function selectClass(name) {
  state.className = name;
  for (const b of el.classList.querySelectorAll('button[data-class]'))
    b.setAttribute('aria-selected', String(b.dataset.class === name));
  refresh();
}

/** Re-renders what depends on model, class, truncation and seeds. */
function refresh() {
  writeUrlState();
  renderGrid();
  if (!el.interpImg.hidden || el.interpFrom.value === '') {
    const [a, b] = seeds();
    if (el.interpFrom.value === '') el.interpFrom.value = String(a);
    if (el.interpTo.value === '') el.interpTo.value = String(b);
    runInterpolation();
  }
}

// ------------------------------------------------------------------------------------------------
// Large view and attention explorer.

function openDetail(className, seed) {
  state.detail = { className, seed, queries: [], view: state.detail?.view ?? 'panel' };
  const hasAttention = Boolean(state.model.manifest.attention);
  el.detailTitle.textContent = displayName(className);
  el.metaModel.textContent = `${state.model.name} (${state.model.manifest.version})`;
  el.metaSeed.textContent = String(seed);
  el.metaTrunc.textContent = state.truncation === undefined ? 'none' : `ψ = ${state.truncation}`;
  el.detailImg.src = imageUrl(className, seed);
  el.detailImg.alt = `${displayName(className)}, seed ${seed}`;
  el.dlNative.href = imageUrl(className, seed);
  el.dlNative.download = `${fileStem(className, seed)}.png`;
  el.dlBig.href = imageUrl(className, seed, { size: downloadSize() });
  el.dlBig.download = `${fileStem(className, seed)}-${downloadSize()}px.png`;
  el.dlBig.textContent = `Download ${downloadSize()} px`;
  el.stage.classList.toggle('no-attention', !hasAttention);
  el.stage.style.cursor = hasAttention ? 'crosshair' : 'default';
  el.stageHint.hidden = !hasAttention;
  el.noAttention.hidden = hasAttention;
  for (const node of el.attention.querySelectorAll('.segmented, .query-list, .actions')) node.hidden = !hasAttention;
  el.panelImg.parentElement.hidden = !hasAttention;
  renderQueries();
  if (!el.detail.open) el.detail.showModal();
}

function renderQueries() {
  const d = state.detail;
  const S = nativeSize();
  el.dots.replaceChildren(
    ...d.queries.map((q, i) => {
      const dot = document.createElement('span');
      dot.className = 'qdot';
      dot.dataset.index = String(i);
      dot.style.left = `${((q.x + 0.5) / S) * 100}%`;
      dot.style.top = `${((q.y + 0.5) / S) * 100}%`;
      dot.style.background = QUERY_PALETTE[i % QUERY_PALETTE.length];
      return dot;
    }),
  );
  el.queryList.replaceChildren(
    ...d.queries.map((q, i) => {
      const li = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = QUERY_PALETTE[i % QUERY_PALETTE.length];
      const text = document.createElement('span');
      text.textContent = `${q.x}, ${q.y}`;
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = '×';
      remove.setAttribute('aria-label', `Remove point ${q.x}, ${q.y}`);
      remove.addEventListener('click', () => {
        d.queries.splice(i, 1);
        renderQueries();
      });
      li.append(swatch, text, remove);
      return li;
    }),
  );
  for (const b of el.attention.querySelectorAll('.segmented button'))
    b.setAttribute('aria-pressed', String(b.dataset.view === d.view));
  el.stageHint.textContent =
    d.queries.length >= MAX_QUERIES
      ? `${MAX_QUERIES} points is the most; remove one to add another.`
      : 'Click up to five points on the image to see where the generator attends.';
  renderPanel();
}

function renderPanel() {
  const d = state.detail;
  el.panelError.hidden = true;
  if (d.queries.length === 0 || !state.model.manifest.attention) {
    el.panelImg.hidden = true;
    el.panelImg.removeAttribute('src');
    el.panelEmpty.hidden = !state.model.manifest.attention;
    el.dlPanel.hidden = true;
    return;
  }
  const query = d.queries.map((q) => `${q.x},${q.y}`);
  const url = imageUrl(d.className, d.seed, { attention: d.view, query });
  const tiles = 1 + d.queries.length;
  el.panelImg.style.width = `min(100%, ${d.view === 'panel' ? tiles * 220 : 420}px)`;
  el.panelImg.alt = `Attention ${d.view} for ${query.join(' ')}`;
  el.panelImg.onload = () => {
    el.panelImg.hidden = false;
    el.panelEmpty.hidden = true;
  };
  el.panelImg.onerror = async () => {
    el.panelImg.hidden = true;
    el.panelError.textContent = await errorMessage(url);
    el.panelError.hidden = false;
  };
  el.panelImg.src = url;
  el.dlPanel.href = imageUrl(d.className, d.seed, { attention: d.view, query, size: downloadSize() });
  el.dlPanel.download = `${fileStem(d.className, d.seed)}-${d.view}.png`;
  el.dlPanel.hidden = false;
}

/** A click on the displayed image -> a query point in the model's native pixels (0..S-1). */
function stagePoint(event) {
  const rect = el.detailImg.getBoundingClientRect();
  const S = nativeSize();
  const clamp = (v) => Math.min(S - 1, Math.max(0, v));
  return {
    x: clamp(Math.floor(((event.clientX - rect.left) / rect.width) * S)),
    y: clamp(Math.floor(((event.clientY - rect.top) / rect.height) * S)),
  };
}

// ------------------------------------------------------------------------------------------------
// More like this: one seed across every class.

function showLike(seed, all = false) {
  const classes = state.model.manifest.classes;
  const shown = all ? classes : classes.slice(0, LIKE_FIRST);
  el.likeTitle.textContent = `Seed ${seed} in every class`;
  el.likeGrid.replaceChildren(
    ...shown.map((c) =>
      sampleFigure({
        className: c,
        seed,
        caption: displayName(c),
        onOpen: () => openDetail(c, seed),
      }),
    ),
  );
  el.likeMore.hidden = shown.length === classes.length;
  el.likeMore.textContent = `Show all ${classes.length} classes`;
  el.likeMore.onclick = () => showLike(seed, true);
  el.like.hidden = false;
}

// ------------------------------------------------------------------------------------------------
// Interpolation.

function runInterpolation() {
  if (!state.model || !state.className) return;
  const from = Number(el.interpFrom.value);
  const to = Number(el.interpTo.value);
  if (!el.interpForm.checkValidity()) {
    el.interpForm.reportValidity();
    return;
  }
  const params = {
    class: state.className,
    from,
    to,
    steps: Number(el.interpSteps.value),
    mode: el.interpMode.value,
    truncation: state.truncation,
  };
  const url = interpolateUrl(state.model.name, params);
  el.interpError.hidden = true;
  el.interpImg.onload = () => {
    el.interpImg.hidden = false;
  };
  el.interpImg.onerror = async () => {
    el.interpImg.hidden = true;
    el.interpError.textContent = await errorMessage(url);
    el.interpError.hidden = false;
  };
  el.interpImg.src = url;
  el.interpImg.alt = `${displayName(state.className)}: seed ${from} to ${to}, ${params.steps} steps (${params.mode})`;
  el.interpDownload.href = interpolateUrl(state.model.name, { ...params, size: downloadSize() });
  el.interpDownload.download = `${state.model.name}-${state.className}-${from}-to-${to}-${params.mode}.png`;
  el.interpDownload.hidden = false;
}

// ------------------------------------------------------------------------------------------------
// Wiring.

function wire() {
  el.model.addEventListener('change', () => selectModel(el.model.value));
  el.classSearch.addEventListener('input', renderClassList);
  el.classSearch.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    const first = el.classList.querySelector('button[data-class]');
    if (first) selectClass(first.dataset.class);
  });
  const updateTruncation = () => {
    el.truncation.disabled = !el.truncate.checked;
    state.truncation = el.truncate.checked ? Number(el.truncation.value) : undefined;
    el.truncationValue.textContent = el.truncate.checked ? Number(el.truncation.value).toFixed(2) : 'off';
  };
  el.truncation.addEventListener('input', updateTruncation);
  el.truncate.addEventListener('change', () => {
    updateTruncation();
    refresh();
  });
  el.truncation.addEventListener('change', refresh);
  el.newSeeds.addEventListener('click', () => {
    state.baseSeed = randomSeed();
    const [a, b] = seeds();
    el.interpFrom.value = String(a);
    el.interpTo.value = String(b);
    refresh();
  });
  el.likeClose.addEventListener('click', () => {
    el.like.hidden = true;
  });
  el.interpSteps.addEventListener('input', () => {
    el.interpStepsValue.textContent = el.interpSteps.value;
  });
  el.interpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    runInterpolation();
  });

  el.detailClose.addEventListener('click', () => el.detail.close());
  el.detail.addEventListener('click', (event) => {
    if (event.target === el.detail) el.detail.close();
  });
  el.stage.addEventListener('click', (event) => {
    const d = state.detail;
    if (!d || !state.model.manifest.attention || d.queries.length >= MAX_QUERIES) return;
    d.queries.push(stagePoint(event));
    renderQueries();
  });
  el.clearPoints.addEventListener('click', () => {
    state.detail.queries = [];
    renderQueries();
  });
  for (const b of el.attention.querySelectorAll('.segmented button')) {
    b.addEventListener('click', () => {
      state.detail.view = b.dataset.view;
      renderQueries();
    });
  }
  el.actLike.addEventListener('click', () => {
    const { seed } = state.detail;
    el.detail.close();
    showLike(seed);
    el.like.scrollIntoView({ behavior: 'smooth', block: 'start' });
  });
  const interpEnd = (input) => () => {
    input.value = String(state.detail.seed);
    if (state.detail.className !== state.className) selectClass(state.detail.className);
    el.detail.close();
    runInterpolation();
    $('interp').scrollIntoView({ behavior: 'smooth', block: 'start' });
  };
  el.actFrom.addEventListener('click', interpEnd(el.interpFrom));
  el.actTo.addEventListener('click', interpEnd(el.interpTo));
}

async function main() {
  wire();
  const wanted = readUrlState();
  state.baseSeed = wanted.seed ?? randomSeed();
  if (wanted.truncation === null) el.truncate.checked = false;
  else if (wanted.truncation !== undefined) el.truncation.value = String(wanted.truncation);
  el.truncation.dispatchEvent(new Event('input'));
  state.className = wanted.className;

  const list = await getJson('/v1/models');
  state.models = list.models;
  const ready = state.models.filter((m) => m.status === 'ready');
  const pick =
    ready.find((m) => m.name === wanted.model) ?? ready.find((m) => m.name === list.default_model) ?? ready[0];
  renderModelSelect();
  if (pick) selectModel(pick.name);
  else renderModelInfo();

  startStatus($('status'), {
    onModels: (fresh) => {
      const before = state.models.map((m) => `${m.name}:${m.status}`).join();
      state.models = fresh.models;
      if (before === state.models.map((m) => `${m.name}:${m.status}`).join()) return;
      renderModelSelect();
      if (!state.model) {
        const first = state.models.find((m) => m.status === 'ready');
        if (first) selectModel(first.name);
      }
    },
  });
  document.body.dataset.ready = 'true';
}

main().catch((err) => {
  el.grid.textContent = `Could not load the gallery: ${err.message}`;
  document.body.dataset.ready = 'error';
});
