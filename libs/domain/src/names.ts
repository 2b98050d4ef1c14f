/** The names of a registry table as a non-empty tuple (what zod's and commander's enums take). */
export function namesOf<const T extends readonly { name: string }[]>(
  table: T,
): readonly [T[number]['name'], ...T[number]['name'][]] {
  if (table.length === 0) throw new Error('a registry table needs at least one entry');
  return table.map((e) => e.name) as unknown as readonly [T[number]['name'], ...T[number]['name'][]];
}
