// Runs a script from lua/ by its SHA, sending the source only when Redis does not know it yet
// (first use, or after a restart flushed the script cache): cheap on the publish hot path.
import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';
import { keyCount, luaSource } from './lua.js';

const shas = new Map<string, string>();

function shaOf(name: string): string {
  let sha = shas.get(name);
  if (sha === undefined) {
    sha = createHash('sha1').update(luaSource(name)).digest('hex');
    shas.set(name, sha);
  }
  return sha;
}

/** Runs `lua/<name>.lua`; `keys.length` must equal the key count in the file name. */
export async function runScript(
  client: RedisClient,
  name: string,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const count = keyCount(name);
  if (keys.length !== count) throw new Error(`script ${name} takes ${count} keys, got ${keys.length}`);
  const argv = [...keys, ...args];
  try {
    return await client.evalsha(shaOf(name), count, ...argv);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await client.eval(luaSource(name), count, ...argv);
  }
}
