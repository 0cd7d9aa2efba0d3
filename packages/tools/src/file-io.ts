// Opens only what the sandbox resolved: no following a symlink swapped in afterwards, no FIFOs or devices.
import { constants } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import * as path from 'node:path';
import { ToolFailure } from './result.js';
import { type ResolvedPath, resolveInside, sandboxViolation } from './sandbox.js';

// O_NOFOLLOW: the final component was checked to be no symlink; if one appears since, fail (ELOOP).
// O_NONBLOCK: opening a FIFO must not hang the agent; regular files ignore the flag.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Files edit_file will load whole; larger ones are refused rather than read into memory. */
export const MAX_EDIT_BYTES = 10 * 1024 * 1024;

export interface ReadResult {
  text: string;
  /** Size of the whole file. */
  bytes: number;
  truncated: boolean;
}

async function openRegular(file: ResolvedPath, flags: number): Promise<FileHandle> {
  const handle = await open(file.absolute, flags, 0o644);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new ToolFailure(`not a regular file: ${file.relative}`);
    if (flags !== READ_FLAGS && st.nlink > 1) {
      throw sandboxViolation(
        'hard-link',
        'file has other hard links, which may be outside the workspace',
        file.relative,
      );
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads at most `capBytes` of a file (the rest is reported, not returned). */
export async function readCapped(file: ResolvedPath, capBytes: number): Promise<ReadResult> {
  const handle = await openRegular(file, READ_FLAGS);
  try {
    const { size } = await handle.stat();
    const want = Math.min(size, capBytes);
    const buffer = Buffer.alloc(want);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await handle.read(buffer, filled, want - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return { text: buffer.subarray(0, filled).toString('utf8'), bytes: size, truncated: size > filled };
  } finally {
    await handle.close();
  }
}

export async function readWhole(file: ResolvedPath): Promise<string> {
  const result = await readCapped(file, MAX_EDIT_BYTES);
  if (result.truncated) {
    throw new ToolFailure(
      `${file.relative} is larger than ${MAX_EDIT_BYTES} bytes; edit it in smaller files`,
    );
  }
  return result.text;
}

/**
 * Writes `content` to `requested` under `root`: checks first, then creates missing parent
 * directories, then re-checks (so a directory swapped for a symlink in between is caught), then
 * opens without following links and truncates only after the handle is known to be a regular,
 * singly-linked file.
 */
export async function writeInside(root: string, requested: string, content: string): Promise<ResolvedPath> {
  const first = await resolveInside(root, requested, 'write');
  await mkdir(path.dirname(first.absolute), { recursive: true });
  const file = await resolveInside(root, requested, 'write');
  if (file.absolute !== first.absolute) {
    throw sandboxViolation('symlink-escape', 'path changed while it was being written', requested);
  }
  await rewrite(file, content);
  return file;
}

/** Rewrites a file already resolved for writing (edit_file), with the same open checks. */
export async function rewrite(file: ResolvedPath, content: string): Promise<void> {
  const handle = await openRegular(file, WRITE_FLAGS);
  try {
    await handle.truncate(0);
    // A fresh handle's position is 0; writeFile loops until every byte is written.
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

export function truncationNote(shownBytes: number, totalBytes: number): string {
  return `\n[… truncated: showing the first ${shownBytes} of ${totalBytes} bytes]`;
}
