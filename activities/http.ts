/**
 * One HTTP request as a runbook writes it (HttpSpec): an `http` step (activities/steps.ts httpRequest) and
 * an `http` validation of a recovered workload (providers/checks.ts) both send it and judge the answer here.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { HttpSpec } from '../compiler/runbook';
import { resolveAll, resolveSecret } from './secrets';

export interface HttpAnswer {
  /** The method sent (`GET` unless the spec says otherwise). */
  method: string;
  /** The URL as the spec gives it, secret references unresolved: safe in messages, history and reports. */
  url: string;
  status: number;
  /** The response body. */
  text: string;
  /**
   * Why the answer is not the one expected (`answered 503`, `answered 200 without "ready" in the body`), or
   * undefined when it is: the status is in `expectStatus` (default any 2xx) and the body has `expectBody`.
   */
  problem: string | undefined;
}

/**
 * Sends the request: `env:`/`file:` references in the URL and header values are resolved on the worker, an
 * object body is sent as JSON (with `content-type: application/json` unless a header sets one). Resolves
 * with any answer, expected or not (see `problem`); throws HttpFailed (retryable) when none came (refused,
 * unresolvable, TLS, aborted by `signal`), MissingSecret (non-retryable) for a header that cannot be resolved.
 */
export async function performHttp(spec: HttpSpec, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<HttpAnswer> {
  const method = spec.method ?? 'GET';
  const headers = resolveAll(spec.headers, env);
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
    if (typeof spec.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(resolveSecret(spec.url, env), {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal,
    });
  } catch (e) {
    throw httpFailed(
      `${method} ${spec.url}: ${(e as Error).cause ? String((e as Error).cause) : (e as Error).message}`,
    );
  }
  const text = await res.text();
  const okStatus = spec.expectStatus ? spec.expectStatus.includes(res.status) : res.status >= 200 && res.status < 300;
  const problem =
    !okStatus || (spec.expectBody !== undefined && !text.includes(spec.expectBody))
      ? `answered ${res.status}${okStatus ? ` without "${spec.expectBody}" in the body` : ''}`
      : undefined;
  return { method, url: spec.url, status: res.status, text, problem };
}

/** The HttpFailed failure (retryable): a request without an answer, or with the wrong one. */
export function httpFailed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'HttpFailed', message });
}
