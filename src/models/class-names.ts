/**
 * Class lookup: by index or by name, ignoring case, spaces, hyphens and underscores, so "Saint Bernard",
 * "saint-bernard" and "SAINT_BERNARD" all name saint_bernard. Unknown names get the closest names.
 */
import { serveError } from '../errors.js';

export function normaliseClassName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, '');
}

/** Levenshtein distance; class lists are short, so the plain O(nm) table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

export function closestClassNames(classes: readonly string[], wanted: string, count = 3): string[] {
  const key = normaliseClassName(wanted);
  return classes
    .map((name) => {
      const normal = normaliseClassName(name);
      const distance = normal.includes(key) || key.includes(normal) ? 0 : editDistance(key, normal);
      return { name, distance };
    })
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((c) => c.name);
}

export interface ResolvedClass { index: number; name: string }

/** UNKNOWN_CLASS lists every class of a model with at most this many, else the 3 closest. */
export const ALL_CLASSES_UP_TO = 20;

/** Resolves a class reference (name, or index as number or digit string) or throws UNKNOWN_CLASS. */
export function resolveClass(classes: readonly string[], ref: string | number, field = 'class'): ResolvedClass {
  const text = String(ref).trim();
  if (typeof ref === 'number' || /^\d+$/.test(text)) {
    const index = Number(text);
    if (Number.isSafeInteger(index) && index < classes.length) return { index, name: classes[index] };
    throw serveError.UNKNOWN_CLASS(field, `class index ${text} is out of range (0..${classes.length - 1})`, `0..${classes.length - 1} or a name: ${classes.slice(0, 20).join(', ')}${classes.length > 20 ? ', ...' : ''}`);
  }
  const key = normaliseClassName(text);
  const index = classes.findIndex((c) => normaliseClassName(c) === key);
  if (index >= 0) return { index, name: classes[index] };
  // A short class list is given whole (closest first), so `allowed` really lists what is allowed; a long
  // one (1,000 ImageNet classes) only its closest names.
  const count = classes.length <= ALL_CLASSES_UP_TO ? classes.length : 3;
  throw serveError.UNKNOWN_CLASS(field, `unknown class '${text.slice(0, 100)}'`, closestClassNames(classes, text, count));
}
