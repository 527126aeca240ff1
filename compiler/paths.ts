/**
 * Paths a runbook gives that Drover uses on a worker: they stay inside the places the README documents.
 * - a simulator site's `connection.stateDir`: a folder under the worker's working folder;
 * - a command's `cwd` (custom steps, compensations, validations, replication hooks): a folder under the
 *   worker's working folder.
 * Relative, no `..` that climbs out, no NUL. (Paths on a database host, `postgres:` blocks, are absolute
 * by design: compiler/postgres.ts.) A drill's scenario name must be a plain name (`isPlainName`), its id keep its
 * folder under `.drover/drills/`.
 */
import { posix, win32 } from 'node:path';
import type { Diagnostic } from './diagnostics';
import { isRecord } from './runbook';
import type { PathSegment, RunbookSource } from './source';

/** Why `p` is not a relative path that stays inside its base, or undefined when it is. */
export function escapes(p: string): string | undefined {
  if (p.includes('\0')) return 'holds a NUL character';
  if (posix.isAbsolute(p) || win32.isAbsolute(p)) return 'is absolute';
  const normal = posix.normalize(p.replace(/\\/g, '/'));
  if (normal === '..' || normal.startsWith('../')) return 'climbs out of its folder with `..`';
  return undefined;
}

/** Why `p` (relative to the working folder) is not inside folder `base`, or undefined when it is. */
export function outsideOf(base: string, p: string): string | undefined {
  const why = escapes(p);
  if (why) return why;
  const inside = posix.normalize(p.replace(/\\/g, '/')).startsWith(`${posix.normalize(base)}/`);
  return inside ? undefined : `is not inside ${base}`;
}

/** A name that can be one path segment as it is: letters, digits, `.`, `_`, `-`; not `.` or `..`. */
export function isPlainName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name);
}

/** `id` (a workflow id may hold `/`, `..` or spaces) as one file name: other characters become `_`. */
export function fileNameOf(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s.length > 0 ? s.slice(0, 200) : '_';
}

export function checkPaths(source: RunbookSource, data: unknown, out: Diagnostic[]): void {
  const report = (value: unknown, at: PathSegment[], what: string) => {
    if (typeof value !== 'string') return;
    const why = escapes(value);
    if (why)
      out.push(
        source.diagnostic(
          'path/outside',
          at,
          `${what} "${value}" ${why}: it would reach outside the worker's working folder`,
          'write a folder relative to the folder the worker runs in (e.g. `.drover/sim`, `scripts`), without `..`',
        ),
      );
  };
  const rb = isRecord(data) ? data : {};
  const sites = isRecord(rb.sites) ? rb.sites : {};
  for (const role of ['protected', 'recovery'] as const) {
    const site = sites[role];
    if (isRecord(site) && site.provider === 'simulator' && isRecord(site.connection))
      report(site.connection.stateDir, ['sites', role, 'connection', 'stateDir'], 'the state folder');
  }
  forEachCommand(rb, (c, at) => report(c.cwd, [...at, 'cwd'], "the command's working folder"));
}

/** Every `command:` spec, wherever the language allows one (steps, compensations, validations, hooks). */
export function forEachCommand(data: unknown, fn: (c: Record<string, unknown>, at: PathSegment[]) => void): void {
  // One path, pushed and popped as the walk goes (copied only for a command found), and only into
  // objects and lists: a file of 50,000 keys costs a lookup each, not an array each.
  const at: PathSegment[] = [];
  const walk = (node: unknown) => {
    if (at.length > 64) return;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) into(i, node[i]);
    } else if (isRecord(node)) {
      for (const k in node) {
        if (!Object.hasOwn(node, k)) continue;
        const v = node[k];
        if (k === 'command' && isRecord(v)) fn(v, [...at, k]);
        into(k, v);
      }
    }
  };
  const into = (k: PathSegment, v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    at.push(k);
    walk(v);
    at.pop();
  };
  walk(data);
}

/** Each `redact` pattern of a command is a regular expression JavaScript compiles (`step/redact`). */
export function checkRedactions(source: RunbookSource, data: unknown, out: Diagnostic[]): void {
  forEachCommand(data, (c, at) => {
    if (!Array.isArray(c.redact)) return;
    c.redact.forEach((p, i) => {
      if (typeof p !== 'string') return;
      try {
        new RegExp(p, 'g');
      } catch (e) {
        out.push(
          source.diagnostic(
            'step/redact',
            [...at, 'redact', i],
            `the redact pattern ${JSON.stringify(p)} is not a regular expression: ${(e as Error).message}`,
            'write a JavaScript regular expression without slashes, e.g. `password=\\S+`; escape `(`, `[`, `\\` and `.` when you mean them literally',
          ),
        );
      }
    });
  });
}
