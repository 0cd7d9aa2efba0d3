// loadConfig: the one reader of process.env — file under env, validated, every problem reported at once, frozen.
import { resolve } from 'node:path';
import { ConfigError, type Problem } from '@nightshift/protocol';
import { readEnv } from './env.js';
import { readConfigFile } from './file.js';
import { deepFreeze, deepMerge } from './objects.js';
import { issuesToProblems } from './problems.js';
import { type Config, ConfigSchema } from './schema.js';
import { maskUrlCredentials, scrubSecrets, secretValuesIn } from './secrets.js';

export interface LoadConfigOptions {
  /** Config file to read; overrides NIGHTSHIFT_CONFIG and the search in `cwd`. */
  file?: string;
  /** Directory the file search and relative directories resolve against (default: process.cwd()). */
  cwd?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Builds the configuration from defaults ← config file ← environment (env wins).
 * @throws ConfigError listing every problem (variable or file key, expected form, value
 *   received — never the value of a secret).
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.file ?? nonEmpty(env.NIGHTSHIFT_CONFIG);
  const source = options.file !== undefined ? 'options.file' : 'NIGHTSHIFT_CONFIG';
  const fileResult = readConfigFile(explicit, source, cwd);
  const envInput = readEnv(env);
  const merged = deepMerge(fileResult.file?.data ?? {}, envInput.data);

  const problems: Problem[] = [...fileResult.problems, ...envInput.problems];
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(
      ...issuesToProblems(parsed.error.issues, {
        merged,
        envOrigins: envInput.origins,
        env,
        file: fileResult.file,
      }),
    );
  }
  if (!parsed.success || problems.length > 0) {
    // Defence in depth: a secret pasted into the wrong variable must not be echoed either.
    const secrets = [...secretValuesIn(merged), ...secretValuesIn(fileResult.file?.data)];
    throw new ConfigError(problems.map((p) => scrubProblem(p, secrets)));
  }
  const config = parsed.data;
  const { workspaceRoots, ...rest } = config;
  return deepFreeze({
    ...rest,
    workspaceDir: resolve(cwd, config.workspaceDir),
    ...(workspaceRoots === undefined ? {} : { workspaceRoots: workspaceRoots.map((r) => resolve(cwd, r)) }),
    memoryDir: resolve(cwd, config.memoryDir),
  });
}

/**
 * The folders runs may work in (issue 18 §7): WORKSPACE_ROOTS when set, else WORKSPACE_DIR and
 * `startedIn` — the folder `nightshift up` (or the CLI) was started in. Services started by
 * `nightshift up` receive the list explicitly, so every process checks against the same roots.
 */
export function workspaceRootsOf(
  config: Pick<Config, 'workspaceDir' | 'workspaceRoots'>,
  startedIn?: string,
): string[] {
  if (config.workspaceRoots !== undefined) return [...config.workspaceRoots];
  return startedIn === undefined ? [config.workspaceDir] : [config.workspaceDir, resolve(startedIn)];
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

function scrubProblem(problem: Problem, secrets: readonly string[]): Problem {
  const scrubbed: Problem = {
    path: scrubSecrets(problem.path, secrets),
    expected: scrubSecrets(problem.expected, secrets),
  };
  // Received values are operator input: also mask any URL password, whatever the variable.
  if (problem.received !== undefined)
    scrubbed.received = scrubSecrets(maskUrlCredentials(problem.received), secrets);
  return scrubbed;
}
