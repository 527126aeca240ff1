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
