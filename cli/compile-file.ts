import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compile, formatDiagnostic } from '../compiler';
import type { CompileResult, Diagnostic, Mode } from '../compiler';
import { gitCommitOf } from '../activities/git';

export interface CompiledFile extends CompileResult {
  file: string;
  text?: string;
}

/**
 * Reads and compiles one runbook; an unreadable file is a diagnostic like any other. `recoveryPoint`: test
 * mode's point in time for copies that can go back to one (CompileOptions.recoveryPoint).
 */
export function compileFile(file: string, cwd: string, mode?: Mode, recoveryPoint?: string): CompiledFile {
  let text: string;
  try {
    text = readFileSync(resolve(cwd, file), 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    const d: Diagnostic = {
      code: 'file/unreadable',
      severity: 'error',
      file,
      line: 0,
      column: 0,
      path: '',
      message: `cannot read the runbook: ${reason}`,
      hint: 'check the path',
    };
    return { file, diagnostics: [d] };
  }
  const opts: Parameters<typeof compile>[1] = { file };
  if (mode) opts.mode = mode;
  const commit = mode ? gitCommitOf(file, cwd) : undefined;
  if (commit) opts.gitCommit = commit;
  if (recoveryPoint !== undefined) opts.recoveryPoint = recoveryPoint;
  return { file, text, ...compile(text, opts) };
}

export function printDiagnostics(result: CompiledFile, print: (s: string) => void, color: boolean): void {
  for (const d of result.diagnostics) print(formatDiagnostic(d, result.text, { color }) + '\n');
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return [errors ? plural(errors, 'error') : '', warnings ? plural(warnings, 'warning') : '']
    .filter(Boolean)
    .join(', ');
}
