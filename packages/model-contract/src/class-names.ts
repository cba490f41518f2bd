/**
 * Class names as both sides use them: a name matches ignoring case, spaces, hyphens and underscores, so
 * "Saint Bernard", "saint-bernard" and "SAINT_BERNARD" all name saint_bernard; unknown names get the
 * closest names.
 */
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
