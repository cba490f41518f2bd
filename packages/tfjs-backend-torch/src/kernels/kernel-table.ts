/** The rows of a table keyed by kernel name, with the keys' type kept (Object.entries widens it to string). */
export function tableEntries<K extends string, V>(table: Record<K, V>): [K, V][] {
  return Object.entries(table) as [K, V][];
}
