/** One check's handle on one fixture: calls with labelled failures, and assertions that say what broke. */
import { isDeepStrictEqual } from 'node:util';
import type { ProviderName } from '../../contracts/plan';
import { PROVIDER_CAPABILITIES } from '../../compiler/providers';
import type { OperationResult } from '../../providers/types';
import { contextFor } from './adapter';
import type { ConformanceAdapter, ContextPatch, Fixture } from './adapter';
import type { Step } from './chains';

export interface CallOptions {
  attempt?: number;
  signal?: AbortSignal;
  patch?: ContextPatch | void;
}

export class Session<F extends Fixture = Fixture> {
  constructor(
    readonly adapter: ConformanceAdapter<F>,
    readonly fx: F,
    readonly runId: string,
  ) {
    const name: ProviderName = fx.provider.name;
    if (name !== adapter.provider)
      throw new Error(`adapter ${adapter.name} says provider ${adapter.provider}, its fixture has ${name}`);
  }

  /** `provider.operations[kind](params, ctx)`, as an activity calls it. */
  call(step: Step, options: CallOptions = {}): Promise<OperationResult> {
    const op = this.fx.provider.operations[step.kind];
    if (!op)
      return Promise.reject(
        new Error(
          `${this.adapter.provider} has no ${step.kind} operation, though compiler/providers.ts says it supports ${step.kind}` +
            ` (${[...PROVIDER_CAPABILITIES[this.adapter.provider]].join(', ')})`,
        ),
      );
    return op(step.params, contextFor(this.fx, step.site, { runId: this.runId, ...options }));
  }

  /** A call that must succeed; a failure names the step and what the call was for. */
  must(step: Step, what: string, options: CallOptions = {}): Promise<OperationResult> {
    return this.call(step, options).catch((e: unknown) => {
      throw new Error(`${step.label}: ${what} must succeed; it threw ${describeError(e)}`);
    });
  }

  /** Steps the check needs done first; a failure names the step. */
  async run(steps: Step[]): Promise<void> {
    for (const step of steps)
      await this.call(step).catch((e: unknown) => {
        throw new Error(`${step.label} (a step the check needs first) failed: ${describeError(e)}`);
      });
  }

  effects(step: Step): Promise<number> {
    return this.adapter.effects(this.fx, step);
  }

  inventory(): Promise<unknown> {
    return this.adapter.inventory(this.fx);
  }
}

/** A contract violation, said in words. */
export function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** Inventories equal, or a failure that says what differs (jest's diff). */
export function expectSameInventory(actual: unknown, expected: unknown, message: string): void {
  try {
    expect(actual).toEqual(expected);
  } catch (e) {
    throw new Error(`${message}\n${(e as Error).message}`);
  }
}

export function sameInventory(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const typed = e as Error & { type?: unknown; retryable?: unknown };
    const extra = typed.type !== undefined ? ` (type ${String(typed.type)}, retryable ${String(typed.retryable)})` : '';
    return `${e.name}: ${e.message}${extra}`;
  }
  return String(e);
}

/** Resolves with the outcome of `promise`, or `undefined` if it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
