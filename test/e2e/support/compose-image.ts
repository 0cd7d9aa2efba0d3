// Reads a Dockerfile as text: its stages and the defaults the final image gives a container (ENV, WORKDIR,
// USER, CMD), so the compose-as-processes check can start a service the way the image would.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  from: string;
  instructions: Instruction[];
}

/** Joins `\` continuations, drops comments and parser directives, splits into stages at each FROM. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = (lines[i] as string).trim();
    if (logical === '' || logical.startsWith('#')) continue;
    while (logical.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = (lines[i] as string).trim();
      logical = `${logical.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`.trim();
    }
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(logical);
    if (match === null) continue;
    const instruction = {
      keyword: (match[1] as string).toUpperCase(),
      args: match[2] as string,
      line: start + 1,
    };
    if (instruction.keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(instruction.args);
      stages.push({ from: from?.[1] ?? '', name: from?.[2], instructions: [] });
    } else if (instruction.keyword !== 'ARG' || stages.length > 0) {
      const current = stages.at(-1);
      if (current === undefined)
        throw new Error(`line ${instruction.line}: ${instruction.keyword} before FROM`);
      current.instructions.push(instruction);
    }
  }
  return stages;
}

/** `ENV A=1 B="two words"` (and the legacy `ENV A 1`) → pairs. */
function envPairs(args: string): Array<[string, string]> {
  if (!/^\S+=/.test(args)) {
    const legacy = /^(\S+)\s+(.*)$/.exec(args);
    return legacy === null ? [] : [[legacy[1] as string, legacy[2] as string]];
  }
  const pairs: Array<[string, string]> = [];
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    const raw = match[2] as string;
    const value = raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1) : raw;
    pairs.push([match[1] as string, value]);
  }
  return pairs;
}

/** `["node", "x.js"]` → array; shell form `node x.js` → ['/bin/sh', '-c', 'node x.js'] as Docker does. */
export function execForm(args: string): string[] {
  if (args.trimStart().startsWith('[')) {
    const parsed: unknown = JSON.parse(args);
    if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
      throw new Error(`not a JSON array of strings: ${args}`);
    }
    return parsed;
  }
  return ['/bin/sh', '-c', args];
}

export interface ImageDefaults {
  env: Record<string, string>;
  workdir: string | undefined;
  user: string | undefined;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
}

/**
 * What the final stage (and the stages it is built FROM, by name) set for containers. Later
 * instructions win, as in Docker.
 */
export function imageDefaults(stages: readonly Stage[], target = stages.at(-1)): ImageDefaults {
  if (target === undefined) throw new Error('a Dockerfile without stages');
  const parent = stages.find((stage) => stage.name !== undefined && stage.name === target.from);
  const base: ImageDefaults =
    parent !== undefined && parent !== target
      ? imageDefaults(stages, parent)
      : { env: {}, workdir: undefined, user: undefined, entrypoint: undefined, cmd: undefined };
  const result: ImageDefaults = { ...base, env: { ...base.env } };
  for (const { keyword, args } of target.instructions) {
    if (keyword === 'ENV') for (const [key, value] of envPairs(args)) result.env[key] = value;
    else if (keyword === 'WORKDIR') result.workdir = args.trim();
    else if (keyword === 'USER') result.user = args.trim();
    else if (keyword === 'ENTRYPOINT') result.entrypoint = execForm(args);
    else if (keyword === 'CMD') result.cmd = execForm(args);
  }
  return result;
}
