/**
 * Notifications: a run tells its runbook's `notify` targets how it goes (started, waiting for a person,
 * a step failed or paused, RTO at risk, finished). One POST per event and target, from the orchestration
 * worker; Temporal retries it, and the workflow never waits for it (workflows/notify.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { PlanNotifyTarget } from '../contracts/plan';
import { performHttp } from './http';

/** What happened, as the workflow says it. */
export interface Notification {
  event: PlanNotifyTarget['events'][number];
  /** The run's workflow id. */
  run: string;
  plan: string;
  mode: string;
  /** One line a person reads: what happened and, when someone must act, the exact command. */
  text: string;
  /** The step it is about, if any. */
  step?: string;
  /** The command that answers a wait (`drover approve <run> --step <id> --by <name>`). */
  command?: string;
  /** RTO at risk: the figures behind it. */
  elapsedMs?: number;
  remainingMs?: number;
  rtoMs?: number;
  /** finished: the run's status. */
  status?: string;
  at: string;
}

/** The body a target receives: Drover's event as JSON, or a Slack-compatible message. */
export function notificationBody(format: PlanNotifyTarget['format'], n: Notification): unknown {
  if (format === 'json') return { source: 'drover', ...n };
  const icon = { started: '▶', waiting: '⏸', failed: '✗', 'rto-at-risk': '⚠', finished: '■' }[n.event];
  return {
    text: `${icon} *${n.plan}* ${n.mode} (${n.run}): ${n.text}${n.command ? `\n\`${n.command}\`` : ''}`,
  };
}

export const notifyActivities = {
  /** POSTs one notification to one target; a refusal or an answer other than 2xx is retried by Temporal. */
  async notify(target: PlanNotifyTarget, n: Notification): Promise<string> {
    const answer = await performHttp(
      { method: 'POST', url: target.url, headers: target.headers, body: notificationBody(target.format, n) as object },
      process.env,
      AbortSignal.timeout(10_000),
    );
    if (answer.problem) throw ApplicationFailure.retryable(`${target.name}: ${answer.problem}`, 'NotificationRefused');
    return `${n.event} sent to ${target.name} (${answer.status})`;
  },
};
export type NotifyActivities = typeof notifyActivities;
