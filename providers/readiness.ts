/** Readiness checks every provider answers the same way (they read only the plan). */
import type { JsonObject } from '../contracts/plan';
import { ProviderError } from './errors';
import type { OperationResult } from './types';

/** readiness `approvers`: every approval names at least as many approvers as it requires. */
export function approversCheck(p: JsonObject): OperationResult {
  const short = ((p.approvals as { step: string; approvers: string[]; required: number }[]) ?? []).filter(
    (a) => a.approvers.length < a.required,
  );
  if (short.length)
    throw new ProviderError(
      'ValidationFailed',
      short.map((a) => `${a.step} needs ${a.required} approver(s) and names ${a.approvers.length}`).join('; '),
    );
  return { changed: false, message: 'every approval names enough approvers' };
}
