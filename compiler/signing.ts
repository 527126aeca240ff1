/**
 * Checks of signed approvals: each declared key is an Ed25519 public key in PEM, and an approval that
 * requires signatures names only approvers with a key (code `approval/signing`).
 */
import { createPublicKey } from 'node:crypto';
import type { Diagnostic } from './diagnostics';
import { isRecord } from './runbook';
import type { CustomStep } from './runbook';
import type { PathSegment, RunbookSource } from './source';

export function checkApprovers(source: RunbookSource, data: unknown, out: Diagnostic[]): void {
  const rb = isRecord(data) ? data : {};
  if (!isRecord(rb.approvers)) return;
  for (const [name, a] of Object.entries(rb.approvers)) {
    if (!isRecord(a) || typeof a.publicKey !== 'string') continue;
    const problem = keyProblem(a.publicKey);
    if (problem)
      out.push(
        source.diagnostic(
          'approval/signing',
          ['approvers', name, 'publicKey'],
          `the public key of ${name} ${problem}`,
          'paste the PEM that `openssl pkey -in <private key> -pubout` prints (make a key with `openssl genpkey -algorithm ed25519 -out <name>.pem`)',
        ),
      );
  }
}

function keyProblem(pem: string): string | undefined {
  try {
    const key = createPublicKey(pem);
    return key.asymmetricKeyType === 'ed25519' ? undefined : `is a ${key.asymmetricKeyType} key, not Ed25519`;
  } catch {
    return 'is not a PEM public key';
  }
}

/** An approval step that requires signatures names only approvers with a declared key. */
export function checkApprovalSigning(
  source: RunbookSource,
  step: CustomStep,
  path: PathSegment[],
  declared: unknown,
  out: Diagnostic[],
): void {
  const a = step.approval;
  if (!isRecord(a) || a.signatures !== 'required' || !Array.isArray(a.approvers)) return;
  const keys = isRecord(declared) ? declared : {};
  a.approvers.forEach((name, i) => {
    if (typeof name === 'string' && !isRecord(keys[name]))
      out.push(
        source.diagnostic(
          'approval/signing',
          [...path, 'approval', 'approvers', i],
          `${name} must sign approvals of ${String(step.name)} (signatures: required) but has no public key in \`approvers\``,
          `add \`approvers: { ${name}: { publicKey: <PEM> } }\` at the top of the runbook, or say \`signatures: optional\``,
        ),
      );
  });
}
