/**
 * Provider errors. Each names whether a retry can help; activities turn them into Temporal
 * ApplicationFailures with the same `type`, which runbooks can list in `nonRetryableErrors`.
 */

export type ProviderErrorType =
  /** The site (or its API) cannot be reached; a retry may succeed once it is back. */
  | 'SiteUnreachable'
  /** The target has no room for the recovered copy; a person must free space, then retry the step. */
  | 'StorageFull'
  /** The object is not in a state the operation accepts (e.g. restore with no recovery point). */
  | 'InvalidState'
  /** A fault injected by the runbook's `simulation` block. */
  | 'SimulatedFault'
  /** A validation of the recovered workload failed. */
  | 'ValidationFailed'
  /** A switchover's final sync: the replica has not reached the source's last position (both are in the message). */
  | 'ReplicaBehind'
  /** A failover's best recovery point is older than the RPO and nobody accepted the loss: nothing was promoted. */
  | 'DataLossNotAccepted'
  /** The step's input cannot be acted on (e.g. a recovery point that does not exist). */
  | 'InvalidInput'
  /** The site's TLS certificate is not the one the runbook trusts (thumbprint or CA): nothing was sent. */
  | 'CertificateRejected'
  /** The site refused the runbook's credentials. */
  | 'AuthenticationFailed';

const RETRYABLE: Record<ProviderErrorType, boolean> = {
  SiteUnreachable: true,
  StorageFull: false,
  InvalidState: false,
  SimulatedFault: true,
  ValidationFailed: true,
  ReplicaBehind: true,
  DataLossNotAccepted: false,
  InvalidInput: false,
  CertificateRejected: false,
  AuthenticationFailed: false,
};

/** Thrown by a provider operation that did not do what was asked. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly retryable: boolean;
  constructor(
    readonly type: ProviderErrorType,
    message: string,
    retryable?: boolean,
  ) {
    super(message);
    this.retryable = retryable ?? RETRYABLE[type];
  }
}
