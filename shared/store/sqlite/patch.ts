/** Shallow patch: each defined field of `patch` replaces the record's; `undefined` leaves a field unchanged. */
export function applyPatch<T extends object>(record: T, patch: object): T {
  const next = { ...record } as Record<string, unknown>;
  for (const [field, value] of Object.entries(patch)) {
    if (value !== undefined) next[field] = value;
  }
  return next as T;
}
