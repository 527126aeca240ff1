import { readFileSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';

/**
 * Resolves a value that may be a secret reference: `env:NAME` reads the worker's environment,
 * `file:path` a file on the worker. Anything else is returned as written. Resolved values are used
 * in the activity only and never returned, so they reach neither history nor reports.
 */
export function resolveSecret(value: string, env: NodeJS.ProcessEnv = process.env): string {
  if (value.startsWith('env:')) {
    const name = value.slice(4);
    const v = env[name];
    if (v === undefined) throw missing(`environment variable ${name} is not set on this worker`);
    return v;
  }
  if (value.startsWith('file:')) {
    const path = value.slice(5);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      throw missing(`secret file ${path} cannot be read on this worker`);
    }
  }
  return value;
}

export function resolveAll(
  values: Record<string, unknown> | undefined,
  env?: NodeJS.ProcessEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values ?? {})) out[k] = resolveSecret(String(v), env);
  return out;
}

function missing(message: string) {
  return ApplicationFailure.create({ type: 'MissingSecret', message, nonRetryable: true });
}
