// Shared defaults are deep-frozen: a caller that edits one by mistake fails loudly instead of
// silently changing every other caller's thresholds.
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
