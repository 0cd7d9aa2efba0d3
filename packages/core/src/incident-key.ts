// Stable, id-safe keys for detected incidents, so one incident raises one alert (issue 9).
import type { Level } from './levels.js';

const UNSAFE = /[^A-Za-z0-9_-]+/g;

/** `alert.<run>.<rule>.<subject>[.<anchor>].L<level>`, id-safe; long keys end in a hash instead. */
export function incidentKey(
  run: string,
  rule: string,
  subject: string,
  level: Level,
  anchor?: string,
): string {
  const parts = ['alert', run, rule, subject, ...(anchor === undefined ? [] : [anchor]), `L${level}`];
  const key = parts.map((p) => p.replace(UNSAFE, '-')).join('.');
  return key.length <= 128 ? key : `${key.slice(0, 110)}.${fnv(key)}.L${level}`;
}

/** FNV-1a, 32 bit, hex: a short stable fingerprint (not a security hash). */
export function fnv(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}
