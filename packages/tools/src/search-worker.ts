// The body of search_files, run in a worker thread so a pathological regex can be stopped (see search.ts).
// It is serialised with Function.prototype.toString, so it must not use anything from module scope.
import type * as Fs from 'node:fs';
import type * as Path from 'node:path';

export interface SearchInput {
  /** Real path of the workspace root (names are reported relative to it). */
  root: string;
  /** Real path of the directory or file to search. */
  start: string;
  pattern: string;
  maxResults: number;
  outputCapBytes: number;
  maxFileBytes: number;
  maxLineChars: number;
  skippedDirs: string[];
}

export interface SearchOutput {
  lines: string[];
  matches: number;
  filesScanned: number;
  truncated: boolean;
}

export function searchTree(input: SearchInput, deps: { fs: typeof Fs; path: typeof Path }): SearchOutput {
  const { fs, path } = deps;
  const regex = new RegExp(input.pattern);
  const out: SearchOutput = { lines: [], matches: 0, filesScanned: 0, truncated: false };
  let bytes = 0;
  const stack = [input.start];
  while (stack.length > 0 && !out.truncated) {
    const current = stack.pop() as string;
    const st = fs.lstatSync(current);
    // Symlinks are never followed: everything reached is inside the start directory.
    if (st.isDirectory()) {
      const names = fs.readdirSync(current).sort().reverse();
      for (const name of names) {
        if (!input.skippedDirs.includes(name)) stack.push(path.join(current, name));
      }
      continue;
    }
    if (!st.isFile() || st.size > input.maxFileBytes) continue;
    const content = fs.readFileSync(current);
    if (content.subarray(0, 8192).includes(0)) continue; // binary
    out.filesScanned += 1;
    const name = path.relative(input.root, current).split(path.sep).join('/');
    const textLines = content.toString('utf8').split('\n');
    for (let i = 0; i < textLines.length; i += 1) {
      const line = (textLines[i] as string).slice(0, input.maxLineChars);
      if (!regex.test(line)) continue;
      const shown = `${name}:${i + 1}: ${line.trim().slice(0, 300)}`;
      bytes += Buffer.byteLength(shown) + 1;
      if (out.matches >= input.maxResults || bytes > input.outputCapBytes) {
        out.truncated = true;
        break;
      }
      out.matches += 1;
      out.lines.push(shown);
    }
  }
  return out;
}
