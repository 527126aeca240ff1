import { execFileSync } from 'node:child_process';

/**
 * The git commit a file was read at: the last commit that changed the file (not HEAD, so an unrelated
 * commit does not change it), with `-dirty` when the file differs from that commit. Undefined outside a
 * git checkout or for a file no commit has: the content hash still pins what ran.
 * Used where a runbook is compiled: on the worker (activities/compile.ts) and by the CLI.
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
