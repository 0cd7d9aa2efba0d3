// Loads the Lua scripts kept as .lua files in ../lua (same depth from src/ and dist/).
import { readFileSync } from 'node:fs';

const cache = new Map<string, string>();

/** The source of `lua/<name>.lua`; the file name's suffix is its key count (bullmq's convention). */
export function luaSource(name: string): string {
  let source = cache.get(name);
  if (source === undefined) {
    source = readFileSync(new URL(`../lua/${name}.lua`, import.meta.url), 'utf8');
    cache.set(name, source);
  }
  return source;
}

export function keyCount(name: string): number {
  const match = /-(\d+)$/.exec(name);
  if (!match?.[1]) throw new Error(`Lua script name ${name} does not end in -<key count>`);
  return Number.parseInt(match[1], 10);
}
