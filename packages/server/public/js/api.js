// URL builders and fetch helpers for the sagan-serve HTTP API (see /openapi.yaml).

/** A query string from an object; arrays become repeated keys, undefined/null/'' are left out. */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, String(v));
  }
  return search.toString();
}

const modelPath = (model) => `/v1/models/${encodeURIComponent(model)}`;

/** GET /v1/models/{model}/generate (one image, a grid, or an attention overlay/panel). */
export function generateUrl(model, params) {
  return `${modelPath(model)}/generate?${queryString(params)}`;
}

/** GET /v1/models/{model}/interpolate (one strip of `steps` tiles). */
export function interpolateUrl(model, params) {
  return `${modelPath(model)}/interpolate?${queryString(params)}`;
}

export async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

export async function getText(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/** The server's message for a failed image URL (img elements cannot read error bodies). */
export async function errorMessage(url) {
  try {
    const res = await fetch(url);
    if (res.ok) return 'the image could not be decoded';
    const body = await res.json();
    return body?.error?.message ?? `HTTP ${res.status}`;
  } catch (err) {
    return String(err?.message ?? err);
  }
}

export const MAX_SEED = 4294967295;

export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** Seed arithmetic as the server does it: (seed + i) mod 2^32. */
export function addSeed(seed, i) {
  return (seed + i) % (MAX_SEED + 1);
}
