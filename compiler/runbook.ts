/**
 * The runbook as written (after YAML parsing). Its shape is `schemas/runbook.schema.json`'s: the types
 * are generated from it (compiler/runbook.generated.ts, `npm run generate:types`) and re-exported here
 * under the names the code uses. Written by hand below is only what the schema cannot say: names for
 * parts it leaves unnamed, and the defensive readers.
 *
 * Semantic checks also run on runbooks that failed the schema, so they must not trust these types
 * blindly: they read through `list()` and check `typeof` before use. Rules the compiler checks after the
 * schema (exactly one action in a step or a replication hook, TLS given one way, ...) are not in these
 * types either: they describe what may be written, not what compiles.
 */
import type {
  CustomStep,
  Ipv4Spec,
  Ipv6Spec,
  NotifyTarget,
  PostgresWorkload,
  Retry,
  Runbook,
  Site,
  Validation,
  VsphereConnection,
  Workload,
} from './runbook.generated';
import type { Mode, NotifyEvent, ProviderName } from '../contracts/plan';

export type {
  CommandSpec,
  CustomStep,
  Defaults,
  Duration,
  Group,
  HttpSpec,
  NotifyTarget,
  Objectives,
  PostgresNode,
  PostgresWorkload,
  ReplicationHook,
  Runbook,
  Site,
  StepPolicy,
  Validation,
  VsphereConnection,
  VsphereNic,
  VsphereWorkload,
  Workload,
} from './runbook.generated';

// Names for parts of the schema that have no definition of their own (or an older name in the code).

/** A built-in action of a workload: the keys of `actions`, `defaults.estimates` and the simulator's latency. */
export type ActionName = keyof NonNullable<Workload['actions']>;
export type RetrySpec = Retry;
export type ApprovalSpec = NonNullable<CustomStep['approval']>;
/** A query run on the recovered database (`validations[].sql`). */
export type SqlValidation = NonNullable<Validation['sql']>;
export type Fault = NonNullable<NonNullable<Runbook['simulation']>['faults']>[number];
/** A NIC's static address: `ip` (IPv4) or `ipv6`, each `address` in CIDR form and `gateway` of its family. */
export type IpSpec = Ipv4Spec | Ipv6Spec;
export type VsphereReplication = NonNullable<VsphereConnection['replication']>;
export type PostgresTestCopy = NonNullable<PostgresWorkload['test']>;

/** The schema's enums are the plan's types: a type error here means one of them changed without the other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
type _SchemaAgreesWithPlan = [
  Holds<Same<NonNullable<CustomStep['modes']>[number], Mode>>,
  Holds<Same<NonNullable<NotifyTarget['events']>[number], NotifyEvent>>,
  Holds<Same<Site['provider'], ProviderName>>,
  Holds<Same<NonNullable<Workload['provider']>, ProviderName>>,
  Holds<Same<ActionName, keyof NonNullable<NonNullable<Runbook['defaults']>['estimates']>>>,
];

/** `value` if it is an array, else an empty one: semantic checks run on unvalidated input too. */
export function list<T>(value: T[] | undefined | unknown): T[] {
  return Array.isArray(value) ? (value as T[]) : [];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
