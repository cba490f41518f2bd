/**
 * Class lookup for requests: by index or by name (normalised as the model contract does), or a coded
 * UNKNOWN_CLASS naming the closest classes.
 */
import { closestClassNames, normaliseClassName } from '@sagan-serve/model-contract/class-names';
import { serveError } from '../errors.js';

export interface ResolvedClass {
  index: number;
  name: string;
}

/** UNKNOWN_CLASS lists every class of a model with at most this many, else the 3 closest. */
export const ALL_CLASSES_UP_TO = 20;

/** Resolves a class reference (name, or index as number or digit string) or throws UNKNOWN_CLASS. */
export function resolveClass(classes: readonly string[], ref: string | number, field = 'class'): ResolvedClass {
  const text = String(ref).trim();
  if (typeof ref === 'number' || /^\d+$/.test(text)) {
    const index = Number(text);
    if (Number.isSafeInteger(index) && index < classes.length) return { index, name: classes[index] };
    throw serveError.UNKNOWN_CLASS(
      field,
      `class index ${text} is out of range (0..${classes.length - 1})`,
      `0..${classes.length - 1} or a name: ${classes.slice(0, 20).join(', ')}${classes.length > 20 ? ', ...' : ''}`,
    );
  }
  const key = normaliseClassName(text);
  const index = classes.findIndex((c) => normaliseClassName(c) === key);
  if (index >= 0) return { index, name: classes[index] };
  // A short class list is given whole (closest first), so `allowed` really lists what is allowed; a long
  // one (1,000 ImageNet classes) only its closest names.
  const count = classes.length <= ALL_CLASSES_UP_TO ? classes.length : 3;
  throw serveError.UNKNOWN_CLASS(
    field,
    `unknown class '${text.slice(0, 100)}'`,
    closestClassNames(classes, text, count),
  );
}
