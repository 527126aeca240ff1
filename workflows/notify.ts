/**
 * What a run tells people while it runs: the runbook's `notify` targets (activities/notify.ts sends), and
 * the Web UI's "current details" (what the run waits for, with the command that answers it).
 *
 * Notifications never hold up the recovery: each is an activity the workflow starts and does not wait for
 * (Temporal retries it); the run waits for the ones still pending only once it has ended, a bounded time.
 * A plan without `notify` schedules nothing, so recorded histories replay unchanged.
 *
 * Deterministic: imports only @temporalio/workflow and pure modules; activities by `import type`.
 */
import * as wf from '@temporalio/workflow';
import type { Notification, NotifyActivities } from '../activities/notify';
import type { NotifyEvent, PlanNotifyTarget, PlanStep } from '../contracts/plan';
import { longestPath } from '../compiler/graph';
import { describe } from './failures';
import type { StepRecord } from '../contracts/record';

/** One person's wait: the step and the command that answers it. */
interface Wait {
  text: string;
  command?: string;
}

/** How often, at most, the RTO watch wakes up (it sleeps less when the deadline it computed is nearer). */
const RTO_WATCH_MAX_SLEEP_MS = 60_000;

export class Notifier {
  private readonly pending: Promise<unknown>[] = [];
  private readonly waits = new Map<string, Wait>();
  private readonly send: wf.ActivityFunctionWithOptions<NotifyActivities['notify']>;
  private rtoAlerted = false;

  constructor(
    private readonly targets: readonly PlanNotifyTarget[],
    private readonly about: { run: string; plan: string; mode: string },
    private readonly event: (text: string) => void,
  ) {
    this.send = wf.proxyActivities<NotifyActivities>({
      taskQueue: wf.workflowInfo().taskQueue,
      startToCloseTimeout: '15 seconds',
      scheduleToCloseTimeout: '2 minutes',
      retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds' },
    }).notify;
  }

  /** Whether any target receives `event`. */
  wants(event: NotifyEvent): boolean {
    return this.targets.some((t) => t.events.includes(event));
  }

  /** Sends `n` to every target that receives its event, without waiting; a failure is recorded, not thrown. */
  notify(n: Omit<Notification, 'run' | 'plan' | 'mode' | 'at'>): void {
    for (const target of this.targets) {
      if (!target.events.includes(n.event)) continue;
      const full: Notification = { ...this.about, ...n, at: new Date(Date.now()).toISOString() };
      this.pending.push(
        this.send
          .executeWithOptions({ summary: `${n.event} → ${target.name}` }, [target, full])
          .catch((e: unknown) =>
            this.event(`notification "${n.event}" to ${target.name} not delivered: ${describe(e).message}`),
          ),
      );
    }
  }

  /** A step waits for a person: the Web UI says so with the command, and `waiting` targets are told. */
  waiting(step: PlanStep, text: string, command?: string): void {
    this.waits.set(step.id, { text, ...(command ? { command } : {}) });
    this.showDetails();
    this.notify({ event: 'waiting', step: step.id, text, ...(command ? { command } : {}) });
  }

  /** The wait on `stepId` is over (answered, timed out or stopped). */
  resumed(stepId: string): void {
    if (this.waits.delete(stepId)) this.showDetails();
  }

  /** A step failed (it may pause, be continued past, or stop the run). */
  failed(step: PlanStep, rec: StepRecord): void {
    this.notify({
      event: 'failed',
      step: step.id,
      text: `${step.id} (${step.kind} @ ${step.site}) failed after ${rec.attempts} attempt(s): ${rec.error?.type}: ${rec.error?.message}`,
    });
  }

  /**
   * Watches the RTO while the run goes: when the time elapsed plus the rest of the critical path (`remaining`,
   * re-read each time) passes the objective, `rto-at-risk` targets are told once, and the record says it.
   * Returns when `done()` or after the alert. Only started when a target receives `rto-at-risk`.
   */
  async watchRto(startedAt: number, rtoMs: number, remaining: () => number, done: () => boolean): Promise<void> {
    while (!done() && !this.rtoAlerted) {
      const now = Date.now();
      const left = remaining();
      const elapsed = now - startedAt;
      if (elapsed + left > rtoMs) {
        this.rtoAlerted = true;
        const text = `RTO at risk: ${fmt(elapsed)} elapsed + ${fmt(left)} of the critical path still to run > the RTO of ${fmt(rtoMs)}`;
        this.event(text);
        this.notify({ event: 'rto-at-risk', text, elapsedMs: elapsed, remainingMs: left, rtoMs });
        return;
      }
      const sleep = Math.min(RTO_WATCH_MAX_SLEEP_MS, Math.max(1000, rtoMs - elapsed - left));
      await wf.condition(done, sleep);
    }
  }

  /** Waits (a bounded time: each send has its own schedule-to-close timeout) for what is still being sent. */
  async flush(): Promise<void> {
    await Promise.all(this.pending);
  }

  private showDetails(): void {
    const lines = [...this.waits].map(([id, w]) => `- **${id}**: ${w.text}${w.command ? `\n  \`${w.command}\`` : ''}`);
    wf.setCurrentDetails(
      lines.length ? `Waiting for people:\n${lines.join('\n')}` : 'Running: no step waits for a person.',
    );
  }
}

const fmt = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 1000)}s`);

/**
 * The longest chain of estimates still to run among `steps` (topologically ordered): steps done count 0,
 * a running step what is left of its estimate (in a chain, what is left of the chain's time so far).
 */
export function remainingCriticalPath(
  steps: readonly PlanStep[],
  recs: ReadonlyMap<string, StepRecord>,
  now: number,
  /** Time already spent on steps inside a running chain, which their records do not show yet. */
  spent: ReadonlyMap<string, number> = new Map(),
): number {
  return longestPath(steps, (s) => {
    const rec = recs.get(s.id);
    if (rec && (rec.status === 'succeeded' || rec.status === 'skipped' || rec.status === 'failed')) return 0;
    const used = spent.get(s.id);
    if (used !== undefined) return Math.max(0, s.estimateMs - used);
    if (rec?.status === 'running' && rec.startedAt !== undefined)
      return Math.max(0, s.estimateMs - (now - rec.startedAt));
    return s.estimateMs;
  }).total;
}
