/**
 * Error types (Temporal `ApplicationFailure.type`) that some part of Drover raises, so a runbook's
 * `retry.nonRetryableErrors` can name them. A name not in this list is a warning ("did you mean"), not an
 * error: a command or a provider outside this repository may raise its own types.
 *
 * Add a type here when a provider (providers/errors.ts `ProviderErrorType`), an activity
 * (contracts/activities.ts `ACTIVITY_ERRORS`, activities/secrets.ts) or the workflow engine (workflows/engine.ts)
 * starts raising it.
 */
export const KNOWN_ERROR_TYPES: readonly string[] = [
  // Providers (providers/errors.ts), the simulator included.
  'SiteUnreachable',
  'StorageFull',
  'InvalidState',
  'SimulatedFault',
  'ValidationFailed',
  'ReplicaBehind',
  'DataLossNotAccepted',
  'InvalidInput',
  'CertificateRejected',
  'AuthenticationFailed',
  // Providers being written (PostgreSQL, vSphere): configuration, promote and fence failures.
  'InvalidConfiguration',
  'PromoteFailed',
  'FenceFailed',
  // Activities (activities/steps.ts, contracts/activities.ts, activities/secrets.ts).
  'InvalidRunbook',
  'MissingSecret',
  'CommandFailed',
  'HttpFailed',
  'UnknownProvider',
  'PlanTooLarge',
  'PlanChanged',
  // The workflow engine: approvals and prompts (workflows/engine.ts).
  'ApprovalRejected',
  'ApprovalTimedOut',
  'PromptTimedOut',
];
