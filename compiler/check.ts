/**
 * Semantic checks that need the whole runbook: names, references, cycles, objectives, custom steps,
 * approvals, compensations, inline secrets, provider settings. They run even when the schema failed,
 * reading defensively, so one run reports every problem.
 */
import { didYouMean } from './diagnostics';
import type { Diagnostic } from './diagnostics';
import { parseDuration, formatDuration } from './durations';
import { parseCidr } from './formats';
import { findCycles } from './graph';
import { buildOrdering, describeUnit } from './ordering';
import type { Ordering } from './ordering';
import type { ProviderName } from '../contracts/plan';
import { checkPaths, checkRedactions } from './paths';
import { checkApprovalSigning, checkApprovers } from './signing';
import { checkPostgresWorkload } from './postgres';
import { checkRetries } from './retry';
import { isRecord, list } from './runbook';
import { ACTION_KIND } from './steps';
import type { CustomStep, Group, Runbook, Workload } from './runbook';
import type { PathSegment, RunbookSource } from './source';

const CUSTOM_ACTIONS = ['command', 'http', 'prompt', 'approval', 'wait'] as const;
const VALIDATION_ACTIONS = ['tcp', 'http', 'command', 'sql'] as const;
const RESERVED = new Set(['plan', 'all']);
const SECRET_NAME = /pass|secret|token|key|auth|cookie|credential/i;
const PROVIDERS = ['simulator', 'postgres', 'vsphere'] as const;
/** Names of the steps expand.ts generates per owner (`plan/start`, `<group>/done`, `<workload>/restore`). */
const PLAN_STEP_NAMES = ['start', 'end', 'test-network', 'capacity', 'approvers', 'point-of-no-return'];
const GROUP_STEP_NAMES: ReadonlySet<string> = new Set(['start', 'done', 'stopped', 'stop-begin']);
const WORKLOAD_STEP_NAMES: ReadonlySet<string> = new Set(Object.keys(ACTION_KIND));

export function checkRunbook(source: RunbookSource): { diagnostics: Diagnostic[]; ordering: Ordering } {
  const rb = (isRecord(source.data) ? source.data : {}) as unknown as Runbook;
  const out: Diagnostic[] = [];
  const names = checkNames(source, rb, out);
  const ordering = buildOrdering(rb);
  checkReferences(source, rb, names, out);
  checkCycles(source, ordering, out);
  checkObjectives(source, rb, out);
  forEachCustomStep(rb, (step, path) => {
    checkCustomStep(source, step, path, rb, out);
    checkApprovalSigning(source, step, path, rb.approvers, out);
  });
  checkApprovers(source, source.data, out);
  forEachWorkload(rb, (w, path) => {
    list<Record<string, unknown>>(w.validations).forEach((v, i) =>
      checkOneAction(source, v, [...path, 'validations', i], VALIDATION_ACTIONS, 'validation', out),
    );
    checkProviderSettings(source, rb, w, path, out);
    checkSqlValidations(source, rb, w, path, out);
    checkVsphereWorkload(source, w, path, out);
    checkPostgresWorkload(source, w, path, out);
  });
  for (const role of ['protected', 'recovery'] as const) checkVsphereSite(source, rb.sites?.[role], role, out);
  checkRetries(source, source.data, out);
  checkPaths(source, source.data, out);
  checkRedactions(source, source.data, out);
  return { diagnostics: out, ordering };
}

export function forEachWorkload(rb: Runbook, fn: (w: Workload, path: PathSegment[], g: Group) => void): void {
  list<Group>(rb.groups).forEach((g, gi) =>
    list<Workload>(g?.workloads).forEach((w, wi) => isRecord(w) && fn(w, ['groups', gi, 'workloads', wi], g)),
  );
}

function forEachCustomStep(rb: Runbook, fn: (s: CustomStep, path: PathSegment[]) => void): void {
  const each = (steps: unknown, base: PathSegment[]) =>
    list<CustomStep>(steps).forEach((s, i) => isRecord(s) && fn(s, [...base, i]));
  each(rb.steps, ['steps']);
  list<Group>(rb.groups).forEach((g, gi) => each(g?.steps, ['groups', gi, 'steps']));
  forEachWorkload(rb, (w, path) => each(w.steps, [...path, 'steps']));
}

/** Workloads and groups share one namespace (`dependsOn` names either); custom steps are unique per owner. */
function checkNames(source: RunbookSource, rb: Runbook, out: Diagnostic[]): Set<string> {
  const first = new Map<string, PathSegment[]>();
  const claim = (name: unknown, path: PathSegment[], what: string) => {
    if (typeof name !== 'string') return;
    if (RESERVED.has(name) || /^priority-\d+$/.test(name)) {
      out.push(
        source.diagnostic(
          'name/duplicate',
          [...path, 'name'],
          `"${name}" is reserved and cannot name a ${what}`,
          'choose another name',
        ),
      );
      return;
    }
    const prev = first.get(name);
    if (prev) {
      const at = source.locate([...prev, 'name']);
      out.push(
        source.diagnostic(
          'name/duplicate',
          [...path, 'name'],
          `the name "${name}" is already used at line ${at.line}`,
          'workloads and groups share one namespace, because `dependsOn` can name either: rename one of them',
        ),
      );
    } else first.set(name, path);
  };
  list<Group>(rb.groups).forEach((g, gi) => {
    claim(g?.name, ['groups', gi], 'group');
    list<Workload>(g?.workloads).forEach((w, wi) => claim(w?.name, ['groups', gi, 'workloads', wi], 'workload'));
  });
  // A custom step's id is `<owner>/<name>`, beside the steps Drover generates for the same owner.
  const siteNames = [rb.sites?.protected?.name, rb.sites?.recovery?.name].filter((n) => typeof n === 'string');
  const planReserved = new Set([...PLAN_STEP_NAMES, ...siteNames.map((n) => `reach-${n}`)]);
  const stepOwners: [unknown, PathSegment[], ReadonlySet<string>, string][] = [
    [rb.steps, ['steps'], planReserved, 'the plan'],
  ];
  list<Group>(rb.groups).forEach((g, gi) =>
    stepOwners.push([g?.steps, ['groups', gi, 'steps'], GROUP_STEP_NAMES, 'every group']),
  );
  forEachWorkload(rb, (w, path) => stepOwners.push([w.steps, [...path, 'steps'], WORKLOAD_STEP_NAMES, 'a workload']));
  for (const [steps, base, reserved, owner] of stepOwners) {
    const seen = new Map<string, number>();
    list<CustomStep>(steps).forEach((s, i) => {
      if (typeof s?.name !== 'string') return;
      if (reserved.has(s.name)) {
        out.push(
          source.diagnostic(
            'name/duplicate',
            [...base, i, 'name'],
            `the step name "${s.name}" is reserved: Drover adds a step of that name to ${owner}`,
            `rename the step, e.g. "${s.name}-custom"`,
          ),
        );
        return;
      }
      const prev = seen.get(s.name);
      if (prev !== undefined) {
        const at = source.locate([...base, prev, 'name']);
        out.push(
          source.diagnostic(
            'name/duplicate',
            [...base, i, 'name'],
            `a step named "${s.name}" is already defined at line ${at.line}`,
            'rename one of the two steps',
          ),
        );
      } else seen.set(s.name, i);
    });
  }
  return new Set(first.keys());
}

function checkReferences(source: RunbookSource, rb: Runbook, names: Set<string>, out: Diagnostic[]): void {
  const check = (deps: unknown, base: PathSegment[], self?: string) =>
    list<unknown>(deps).forEach((name, i) => {
      if (typeof name !== 'string') return;
      if (name === self) {
        out.push(
          source.diagnostic(
            'graph/cycle',
            [...base, i],
            `"${self}" depends on itself`,
            'remove it from its own `dependsOn`',
          ),
        );
      } else if (!names.has(name)) {
        const guess = didYouMean(name, names);
        out.push(
          source.diagnostic(
            'ref/unknown',
            [...base, i],
            `dependsOn names "${name}", but no workload or group has that name`,
            guess ? `did you mean "${guess}"?` : 'name a workload or a group defined in this runbook',
          ),
        );
      }
    });
  list<Group>(rb.groups).forEach((g, gi) => check(g?.dependsOn, ['groups', gi, 'dependsOn'], g?.name));
  forEachWorkload(rb, (w, path) => check(w.dependsOn, [...path, 'dependsOn'], w.name));
  forEachCustomStep(rb, (s, path) => check(s.dependsOn, [...path, 'dependsOn']));
  const workloads = new Set<string>();
  forEachWorkload(rb, (w) => typeof w.name === 'string' && workloads.add(w.name));
  list<Record<string, unknown>>(rb.simulation?.faults).forEach((f, i) => {
    if (typeof f?.workload === 'string' && !workloads.has(f.workload)) {
      const guess = didYouMean(f.workload, workloads);
      out.push(
        source.diagnostic(
          'ref/unknown',
          ['simulation', 'faults', i, 'workload'],
          `fault targets workload "${f.workload}", which does not exist`,
          guess ? `did you mean "${guess}"?` : 'name a workload defined in this runbook',
        ),
      );
    }
  });
}

function checkCycles(source: RunbookSource, ordering: Ordering, out: Diagnostic[]): void {
  const deps = new Map<string, { to: string; origin: PathSegment[] }[]>();
  for (const e of ordering.edges) {
    if (e.from === e.to) continue; // self-dependency is reported by checkReferences
    const list = deps.get(e.from) ?? [];
    list.push({ to: e.to, origin: e.origin });
    deps.set(e.from, list);
  }
  const targets = new Map([...deps].map(([from, list]) => [from, list.map((d) => d.to)]));
  const cycles = findCycles(ordering.units, (u) => targets.get(u) ?? []);
  const shortestAt = new Map<string, Diagnostic>();
  for (const cycle of cycles.sort((a, b) => a.length - b.length)) {
    // Point at the user-written edge of the cycle: a dependsOn entry if there is one, else a priority.
    const hops = cycle.slice(0, -1).map((from, i) => deps.get(from)!.find((d) => d.to === cycle[i + 1])!);
    const hop =
      hops.find((h) => h.origin.includes('dependsOn')) ?? hops.find((h) => h.origin.includes('priority')) ?? hops[0]!;
    // Read the cycle from the user-written edge: "db-1 → app-2 → ... → db-1".
    const start = hops.indexOf(hop);
    const rotated = [...cycle.slice(start, -1), ...cycle.slice(0, start), cycle[start]!];
    const pretty = rotated
      .map(describeUnit)
      .filter((name, i, all) => i === 0 || name !== all[i - 1])
      .join(' → ');
    const d = source.diagnostic(
      'graph/cycle',
      hop.origin,
      `dependency cycle: ${pretty}`,
      'each arrow reads "waits for"; remove one `dependsOn` in the cycle (a workload cannot wait for one of a later priority)',
    );
    // Several cycles through one `dependsOn` entry: the shortest explains it best.
    const at = `${d.line}:${d.column}`;
    if (!shortestAt.has(at)) shortestAt.set(at, d);
  }
  out.push(...shortestAt.values());
}

function checkObjectives(source: RunbookSource, rb: Runbook, out: Diagnostic[]): void {
  const plan = objectivesMs(rb.objectives);
  for (const key of ['rpo', 'rto'] as const) {
    if (plan[key] === 0) {
      out.push(
        source.diagnostic(
          'objective/invalid',
          ['objectives', key],
          `the ${key.toUpperCase()} objective is zero`,
          'state the objective the business agreed, e.g. `rpo: 15m`, `rto: 4h`',
        ),
      );
    }
  }
  forEachWorkload(rb, (w, path) => {
    const own = objectivesMs(w.objectives);
    for (const key of ['rpo', 'rto'] as const) {
      const mine = own[key];
      const whole = plan[key];
      if (mine !== undefined && whole !== undefined && mine > whole) {
        out.push(
          source.diagnostic(
            'objective/invalid',
            [...path, 'objectives', key],
            `workload ${key.toUpperCase()} ${formatDuration(mine)} is looser than the plan's ${formatDuration(whole)}`,
            `a workload objective can only be stricter than the plan's: make it at most ${formatDuration(whole)}`,
          ),
        );
      }
    }
  });
}

function objectivesMs(o: unknown): { rpo?: number; rto?: number } {
  if (!isRecord(o)) return {};
  const ms = (v: unknown) => (typeof v === 'string' ? parseDuration(v) : undefined);
  const r: { rpo?: number; rto?: number } = {};
  const rpo = ms(o.rpo);
  const rto = ms(o.rto);
  if (rpo !== undefined) r.rpo = rpo;
  if (rto !== undefined) r.rto = rto;
  return r;
}

function checkOneAction(
  source: RunbookSource,
  item: Record<string, unknown>,
  path: PathSegment[],
  actions: readonly string[],
  what: string,
  out: Diagnostic[],
): string[] {
  if (!isRecord(item)) return [];
  const given = actions.filter((a) => a in item);
  if (given.length !== 1) {
    out.push(
      source.diagnostic(
        'step/action',
        given.length ? [...path, given[1]!] : path,
        given.length ? `a ${what} gives ${given.length} actions (${given.join(', ')})` : `a ${what} gives no action`,
        `give exactly one of: ${actions.join(', ')}${given.length ? '; split it into several' : ''}`,
        { key: given.length > 0 },
      ),
    );
  }
  return given;
}

function checkCustomStep(
  source: RunbookSource,
  step: CustomStep,
  path: PathSegment[],
  rb: Runbook,
  out: Diagnostic[],
): void {
  const given = checkOneAction(
    source,
    step as unknown as Record<string, unknown>,
    path,
    CUSTOM_ACTIONS,
    'custom step',
    out,
  );
  const ap = step.approval;
  if (isRecord(ap)) {
    const approvers = list<string>(ap.approvers);
    const required = typeof ap.required === 'number' ? ap.required : 1;
    if (required > approvers.length) {
      out.push(
        source.diagnostic(
          'approval/quorum',
          [...path, 'approval', 'required'],
          `approval requires ${required} approvers but names only ${approvers.length}`,
          `name at least ${required} approvers, or lower \`required\``,
        ),
      );
    }
  }
  const onFailure = step.onFailure ?? rb.defaults?.onFailure ?? 'abort';
  const method = typeof step.http?.method === 'string' ? step.http.method : 'GET';
  const changes = given.includes('command') || (given.includes('http') && !['GET', 'HEAD'].includes(method));
  if (changes && onFailure === 'abort' && step.compensation === undefined) {
    out.push(
      source.diagnostic(
        'compensation/missing',
        [...path, 'name'],
        `${typeof step.name === 'string' ? `step "${step.name}"` : 'this step'} changes things (${given[0]}) but says nothing of how to undo it`,
        'when a later step fails the run is undone in reverse: add `compensation:` with a command or http request that undoes it, or `compensation: none` if nothing needs undoing',
      ),
    );
  }
  checkInlineSecrets(source, step.http?.headers, [...path, 'http', 'headers'], out);
  checkInlineSecrets(source, step.command?.env, [...path, 'command', 'env'], out);
  if (isRecord(step.compensation)) {
    checkInlineSecrets(source, step.compensation.http?.headers, [...path, 'compensation', 'http', 'headers'], out);
    checkInlineSecrets(source, step.compensation.command?.env, [...path, 'compensation', 'command', 'env'], out);
  }
}

/** Header and environment values whose names say "secret" must be references. */
function checkInlineSecrets(source: RunbookSource, values: unknown, path: PathSegment[], out: Diagnostic[]): void {
  if (!isRecord(values)) return;
  for (const [name, value] of Object.entries(values)) {
    if (SECRET_NAME.test(name) && typeof value === 'string' && !/^(env|file):\S+$/.test(value)) {
      out.push(
        source.diagnostic(
          'secret/inline',
          [...path, name],
          `"${name}" looks like a credential written into the runbook`,
          `reference it instead: \`${name}: env:${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}\` (read on the worker) or \`file:/path\``,
        ),
      );
    }
  }
}

const isProvider = (p: unknown): p is ProviderName => (PROVIDERS as readonly unknown[]).includes(p);

/** The providers that recover a workload: its own `provider`, else its sites' (read defensively). */
function providersOf(rb: Runbook, w: Workload): { own?: ProviderName; sites: ProviderName[]; used: Set<ProviderName> } {
  const sites = [rb.sites?.protected?.provider, rb.sites?.recovery?.provider].filter(isProvider);
  const own = isProvider(w.provider) ? w.provider : undefined;
  return { ...(own ? { own } : {}), sites, used: new Set(own ? [own] : sites) };
}

const SETTINGS_EXAMPLE: Record<'vsphere' | 'postgres', string> = {
  vsphere: 'add `vsphere: { vm: <production VM>, replica: <replica VM> }` (names or inventory paths)',
  postgres:
    'add `postgres: { nodes: { protected: { host, port, dataDir }, recovery: { host, port, dataDir } } }` (one node per site)',
};

function checkProviderSettings(
  source: RunbookSource,
  rb: Runbook,
  w: Workload,
  path: PathSegment[],
  out: Diagnostic[],
): void {
  if (w.provider !== undefined && !isProvider(w.provider)) return; // the schema says what is wrong with it
  const { own, sites, used } = providersOf(rb, w);
  const name = typeof w.name === 'string' ? `workload "${w.name}"` : 'this workload';
  for (const p of PROVIDERS) {
    if (p in w && !used.has(p)) {
      out.push(
        source.diagnostic(
          'provider/settings',
          [...path, p],
          own
            ? `${name} has ${p} settings, but it is recovered by the ${own} provider (\`provider: ${own}\`)`
            : `${name} has ${p} settings, but neither site uses the ${p} provider`,
          own ? "remove the block, or fix the workload's `provider`" : "remove the block, or fix the site's `provider`",
          { key: true, severity: 'warning' },
        ),
      );
    }
  }
  // vSphere reaches vCenter through the site's connection, so only a vSphere site can lend it.
  if (own === 'vsphere' && sites.some((p) => p !== 'vsphere')) {
    out.push(
      source.diagnostic(
        'provider/settings',
        [...path, 'provider'],
        `${name} says \`provider: vsphere\`, but the vsphere provider reaches vCenter through the site's \`connection\`, and its sites are ${sites.join(' and ')}`,
        'recover it on vSphere sites, or remove `provider`',
        { key: true },
      ),
    );
  }
  for (const p of ['vsphere', 'postgres'] as const) {
    if (!used.has(p) || isRecord(w[p])) continue;
    out.push(
      source.diagnostic(
        'provider/settings',
        path,
        own === p
          ? `${name} is recovered by the ${p} provider (\`provider: ${p}\`) but has no \`${p}:\` block`
          : `${name} runs on a ${p} site but has no \`${p}:\` block`,
        SETTINGS_EXAMPLE[p],
      ),
    );
  }
}

/** `sql` validations run through the postgres provider: on any other, they could not run. */
function checkSqlValidations(source: RunbookSource, rb: Runbook, w: Workload, path: PathSegment[], out: Diagnostic[]) {
  if (w.provider !== undefined && !isProvider(w.provider)) return;
  const { own, used } = providersOf(rb, w);
  const others = [...used].filter((p) => p !== 'postgres');
  if (!others.length) return;
  list<unknown>(w.validations).forEach((v, i) => {
    if (!isRecord(v) || !('sql' in v)) return;
    out.push(
      source.diagnostic(
        'validation/sql',
        [...path, 'validations', i, 'sql'],
        `sql validations need the postgres provider, but ${typeof w.name === 'string' ? `workload "${w.name}"` : 'this workload'} is recovered by the ${others.join(' and ')} provider${others.length > 1 ? 's' : ''}`,
        own
          ? 'check it with `tcp`, `http` or `command` (e.g. psql), or recover the workload with `provider: postgres`'
          : 'check it with `tcp`, `http` or `command` (e.g. psql), or say `provider: postgres` on the workload if a PostgreSQL pair recovers it',
        { key: true },
      ),
    );
  });
}

const TLS_OPTIONS = ['thumbprint', 'caFile', 'insecure'] as const;

/** A vSphere site's connection: how its certificate is trusted, where VMs go, its replication hooks. */
function checkVsphereSite(source: RunbookSource, site: unknown, role: string, out: Diagnostic[]): void {
  if (!isRecord(site) || site.provider !== 'vsphere' || !isRecord(site.connection)) return;
  const c = site.connection;
  const path: PathSegment[] = ['sites', role, 'connection'];
  const name = typeof site.name === 'string' ? site.name : role;
  // In the order written, so a second option is the one pointed at.
  const given = Object.keys(c).filter(
    (k) => (TLS_OPTIONS as readonly string[]).includes(k) && (k !== 'insecure' || c.insecure === true),
  );
  const url = typeof c.url === 'string' ? c.url : '';
  if (given.length > 1) {
    out.push(
      source.diagnostic(
        'vsphere/tls',
        [...path, given[1]!],
        `site ${name} gives ${given.length} ways to trust the vCenter certificate (${given.join(', ')})`,
        'keep exactly one: `thumbprint` pins the certificate, `caFile` trusts the CA that signed it, `insecure: true` trusts any',
        { key: true },
      ),
    );
  } else if (given.length === 0 && !url.startsWith('http://')) {
    out.push(
      source.diagnostic(
        'vsphere/tls',
        path,
        `site ${name} does not say how to verify the vCenter certificate`,
        'give `thumbprint: <SHA-256>` (see `openssl s_client -connect <vcenter>:443 </dev/null | openssl x509 -noout -fingerprint -sha256`) or `caFile: <PEM file>`, or write `insecure: true`',
        { key: true },
      ),
    );
  }
  const plain = url.startsWith('http://');
  if (c.insecure === true || plain) {
    out.push(
      source.diagnostic(
        'vsphere/insecure',
        [...path, plain ? 'url' : 'insecure'],
        `TLS is not ${plain ? 'used' : 'verified'} for site ${name}: anyone on the path can read the credentials`,
        plain
          ? 'use the `https://` URL of the vCenter SDK, with `thumbprint` or `caFile`'
          : 'pin the certificate with `thumbprint:` or trust its CA with `caFile:`; keep `insecure: true` for labs and vcsim',
        { key: !plain, severity: 'warning' },
      ),
    );
  }
  if (c.cluster !== undefined && c.resourcePool !== undefined) {
    out.push(
      source.diagnostic(
        'vsphere/placement',
        [...path, 'resourcePool'],
        `site ${name} gives both a cluster and a resource pool for the VMs Drover creates`,
        'keep one: `cluster` (its root resource pool) or `resourcePool` (an inventory path)',
        { key: true },
      ),
    );
  }
  const replication = c.replication;
  if (!isRecord(replication)) return;
  for (const hook of ['sync', 'reverse'] as const) {
    const h = replication[hook];
    if (!isRecord(h)) continue;
    const at: PathSegment[] = [...path, 'replication', hook];
    checkOneAction(source, h, at, ['http', 'command'], 'replication hook', out);
    if (isRecord(h.http)) checkInlineSecrets(source, h.http.headers, [...at, 'http', 'headers'], out);
    if (isRecord(h.command)) checkInlineSecrets(source, h.command.env, [...at, 'command', 'env'], out);
  }
}

/**
 * A workload's `vsphere:` NIC addresses: the schema checks their form (`cidr4` for `ip`, `cidr6` for
 * `ipv6`, gateways and DNS servers as addresses, code `schema/format`); what it cannot say is that a
 * prefix length of 0, valid CIDR, is no NIC's subnet.
 */
function checkVsphereWorkload(source: RunbookSource, w: Workload, path: PathSegment[], out: Diagnostic[]): void {
  const v: unknown = w.vsphere;
  if (!isRecord(v)) return;
  list<unknown>(v.nics).forEach((nic, i) => {
    if (!isRecord(nic)) return;
    const at: PathSegment[] = [...path, 'vsphere', 'nics', i];
    const test = isRecord(nic.test) ? nic.test : {};
    const specs: [unknown, PathSegment[], 4 | 6][] = [
      [nic.ip, [...at, 'ip'], 4],
      [nic.ipv6, [...at, 'ipv6'], 6],
      [test.ip, [...at, 'test', 'ip'], 4],
      [test.ipv6, [...at, 'test', 'ipv6'], 6],
    ];
    for (const [spec, where, family] of specs) {
      const cidr = isRecord(spec) && typeof spec.address === 'string' ? parseCidr(spec.address) : undefined;
      // Of the other family, the schema reports it (it goes in the other key).
      if (cidr?.length !== 0 || cidr.family !== family) continue;
      out.push(
        source.diagnostic(
          'vsphere/address',
          [...where, 'address'],
          `"${cidr.address}/0" has prefix length 0: every address would be on the NIC's link`,
          `write the prefix length of the NIC's subnet, e.g. ${cidr.family === 4 ? '`10.20.0.15/24`' : '`fd00:20::15/64`'}`,
        ),
      );
    }
  });
}
