/**
 * The text an approver signs (Ed25519): the run, the step, the decision, who, and when. Pure: the
 * workflow rebuilds it from the decision it receives and its own run id, so a signature made for another
 * run, step or decision does not verify.
 */
export interface SignedFields {
  run: string;
  step: string;
  decision: 'approved' | 'rejected';
  by: string;
  /** ISO time the approver signed at. */
  at: string;
}

export function approvalMessage(f: SignedFields): string {
  return [
    'drover approval v1',
    `run ${f.run}`,
    `step ${f.step}`,
    `decision ${f.decision}`,
    `by ${f.by}`,
    `at ${f.at}`,
  ].join('\n');
}
