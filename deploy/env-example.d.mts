// Types of env-example.mjs for the TypeScript tests that import it.
export interface ComposeVar {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
  readonly secret?: string;
}
export const COMPOSE_VARS: readonly ComposeVar[];
export function renderEnvExample(
  envVars: ReadonlyArray<{
    readonly name: string;
    readonly description: string;
    readonly default?: string;
    readonly secret?: string;
    readonly path?: readonly (string | number)[];
  }>,
): string;
