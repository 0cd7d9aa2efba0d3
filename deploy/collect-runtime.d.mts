// Types of collect-runtime.mjs for the TypeScript tests that import it.
export function workspaceDirs(root: string): string[];
export function runtimeFiles(root: string): string[];
