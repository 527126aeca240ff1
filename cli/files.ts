import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { UserError } from './io';

/** Runbook files under the given files and folders, sorted; folders are searched recursively. */
export function findRunbooks(paths: string[], cwd: string): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new UserError(`${p}: no such file or folder`);
    }
    if (st.isDirectory()) walk(abs, out);
    else out.push(abs);
  }
  return [...new Set(out)].map((f) => relative(cwd, f) || f).sort();
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      // Drill scenarios are fault scripts, not runbooks.
      if (entry.name !== 'scenarios') walk(full, out);
    } else if (/\.ya?ml$/.test(entry.name)) out.push(full);
  }
}

/**
 * The git commit a file was read at: the last commit that changed the file (not HEAD, so an unrelated
 * commit does not change it), with `-dirty` when the file differs from that commit. Undefined outside a
 * git checkout or for a file no commit has: the content hash still pins what ran.
 */
export function gitCommitOf(file: string, cwd: string): string | undefined {
  try {
    const opts = { cwd, stdio: ['ignore', 'pipe', 'ignore'] as ('ignore' | 'pipe')[], encoding: 'utf8' as const };
    const last = execFileSync('git', ['log', '-1', '--format=%H', '--', file], opts).trim();
    if (!/^[0-9a-f]{40,64}$/.test(last)) return undefined;
    const status = execFileSync('git', ['status', '--porcelain', '--', file], opts).trim();
    return status ? `${last}-dirty` : last;
  } catch {
    return undefined;
  }
}
