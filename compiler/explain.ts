/**
 * The long explanation of each diagnostic code (`drover explain graph/cycle`, like `rustc --explain`):
 * what the rule is, why Drover has it, how to fix it, and where a fragment makes sense a short piece of
 * runbook showing the mistake and its fix. test/compiler/explain.test.ts splices every `wrong` and
 * `right` fragment into a full runbook and compiles it: the wrong one must report the code, the right one
 * must not (and must have no error at all).
 */
import { DIAGNOSTIC_CODES } from './diagnostics';
import type { DiagnosticCode } from './diagnostics';

export interface Explanation {
  /** What the rule is, why Drover has it (the operator's reason) and how to fix it. */
  text: string;
  /** A short piece of runbook that has the problem. */
  wrong?: string;
  /** The same piece, fixed. */
  right?: string;
}

/**
 * A YAML fragment written indented in this file: the leading newline, the common indentation and the
 * trailing blank line go. Raw, so a backslash in a fragment is a backslash.
 */
function yaml(strings: TemplateStringsArray): string {
  const lines = strings.raw
    .join('')
    .replace(/^\n/, '')
    .replace(/\n\s*$/, '')
    .split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Every diagnostic code's explanation: a complete record, so a new code cannot be added without one. */
export const EXPLANATIONS: Record<DiagnosticCode, Explanation> = {
  'file/unreadable': {
    text: `Drover could not read the file it was given: it does not exist, it is a folder, or the user running
drover may not read it. The reason is in the message ("no such file", a permission error). Nothing else is
checked for that file; the other files of the same \`drover validate\` run still are, and the run exits 1. Check
the path, which is relative to the folder you run drover in, and the file's permissions.`,
  },
  'file/more-problems': {
    text: `Drover prints at most the first 100 problems of one file and counts the rest in this last line, with
how many of them are errors. Beyond a hundred, more lines help nobody: a file with thousands of problems
usually has a few mistakes repeated (a wrong indentation, a renamed key used everywhere), and the first ones
show them. Fix the problems shown, starting at the top, and run \`drover validate\` again.`,
  },
  'yaml/syntax': {
    text: `The file is not valid YAML, so Drover cannot know what it says: a mis-indented line, an unclosed quote
or bracket, a tab used for indentation, a key written twice in one mapping, or a plain value holding ": " (YAML
reads it as the start of a mapping). Only the problems before the first syntax error are reported: what
follows it cannot be read reliably, so its messages would only be echoes. Fix the line shown (quote a value
that contains ": " or starts with a character YAML treats specially, such as \`*\`, \`&\`, \`{\` or \`@\`), then
validate again.`,
    wrong: yaml`
      steps:
        - name: approve-failover
          modes: [planned-migration, disaster-recovery, failback]
          approval:
            approvers: [alice, bob]
            message: Fail over to dc-west: is dc-east really gone?
    `,
    right: yaml`
      steps:
        - name: approve-failover
          modes: [planned-migration, disaster-recovery, failback]
          approval:
            approvers: [alice, bob]
            message: "Fail over to dc-west: is dc-east really gone?"
    `,
  },
  'yaml/alias': {
    text: `An alias (\`*name\`) repeats the value its anchor (\`&name\`) marks, and YAML only looks backwards: the
anchor must come first in the file. This is reported when the anchor comes later or does not exist (often a
typo), when an alias is inside the value of its own anchor (a value that contains itself), or when aliases
of aliases repeat so much that the file would expand to a huge document (an "alias bomb", which could stall
the compiler and the worker). Put the anchored value first, fix the name, or write the repeated part out.`,
    wrong: yaml`
      sites:
        protected:
          name: dc-east
          provider: simulator
          connection: *sim # the alias comes before its anchor
        recovery:
          name: dc-west
          provider: simulator
          connection: &sim
            stateDir: .drover/sim
    `,
    right: yaml`
      sites:
        protected:
          name: dc-east
          provider: simulator
          connection: &sim # the anchor first...
            stateDir: .drover/sim
        recovery:
          name: dc-west
          provider: simulator
          connection: *sim # ...then the alias that repeats it
    `,
  },
  'schema/unknown-key': {
    text: `The runbook uses a key the language does not have at that place, most often a typo. Drover rejects it
instead of ignoring it because an ignored key fails silently where it hurts most: a misspelt \`dependsOn\`
drops an ordering (the web tier boots before its database), a misspelt \`compensation\` leaves a step that
cannot be undone. The hint names the closest key that exists, or lists the keys allowed there; an editor
with the yaml-language-server comment on the first line completes them as you type.`,
    wrong: yaml`
      - name: web
        dependOn: [orders-db]
    `,
    right: yaml`
      - name: web
        dependsOn: [orders-db]
    `,
  },
  'schema/required': {
    text: `A key the runbook language requires is missing: every runbook has \`apiVersion\`, \`kind\`, \`metadata.name\`,
\`objectives\` (both \`rpo\` and \`rto\`), two \`sites\` and at least one group; every workload, group and step has a
\`name\`; an approval names its \`approvers\`; a \`tcp\` check has a \`port\`; a \`commit\` window has a \`timeout\`.
Drover has no default for these because there is no safe guess: who may approve a failover, what the business
agreed to lose, or how long recovered workloads run before they are committed or rolled back by themselves, is
for the runbook to say. Add the key the message names.`,
    wrong: yaml`
      commit:
        onTimeout: rollback
    `,
    right: yaml`
      commit:
        timeout: 2h # how long people have to check the recovered workloads
        onTimeout: rollback
    `,
  },
  'schema/type': {
    text: `A value has the wrong type: a single name where a list is expected, text where a number is expected, a
mapping where a list item is expected. YAML decides the type from how a value is written: \`dependsOn: db\` is
text, \`dependsOn: [db]\` a list; \`port: "5432"\` is text, \`port: 5432\` a number; \`yes\` and \`no\` are text for
Drover's YAML 1.2 but \`true\` and \`false\` are booleans. Write the value as the message says (a list in
brackets, a number without quotes, text in quotes when YAML would read it as a number or boolean).`,
    wrong: yaml`
      - name: web
        dependsOn: orders-db
    `,
    right: yaml`
      - name: web
        dependsOn: [orders-db]
    `,
  },
  'schema/enum': {
    text: `A value is not one of the few the language allows there: a provider (\`simulator\`, \`vsphere\`,
\`postgres\`), a mode, an \`onFailure\` (\`abort\`, \`continue\`, \`pause\`), an HTTP method, an approval's
\`onTimeout\`. The values are case-sensitive. Drover does not guess what an unknown value means, because each
one decides what happens during an incident (stop and undo, carry on, or wait for a person). The message
lists the allowed values and the hint the closest one.`,
    wrong: yaml`
      defaults:
        onFailure: retry
    `,
    right: yaml`
      defaults:
        onFailure: pause # abort, continue or pause; how often to retry is retry:
    `,
  },
  'schema/invalid': {
    text: `A value has the right type but breaks another rule of the schema: a number out of range (\`priority\` is
1 to 5, a port 1 to 65535, \`maxParallel\` at least 1), a name that is not a DNS-style label (lower-case letters,
digits and dashes: names become step ids, task queues and file names), a list that must not be empty or
repeat itself, a thumbprint that does not have the expected form. The message says which rule; the hint shows
the schema's own description of the key. (Addresses, host names and URLs have their own code, \`schema/format\`.)`,
    wrong: yaml`
      groups:
        - name: database
          priority: 0
    `,
    right: yaml`
      groups:
        - name: database
          priority: 1 # 1 to 5: every workload of priority 1 is up before priority 2 powers on
    `,
  },
  'schema/format': {
    text: `A value is not of the form its key needs: an IPv4 or IPv6 address (\`10.20.0.1\`, \`fd00:20::1\`), an
address with its prefix length (\`10.20.0.15/24\`, \`fd00:20::15/64\`; a vSphere NIC's \`ip\` takes IPv4 and its
\`ipv6\` IPv6), a host name (letters, digits and dashes in labels separated by dots; a name that looks like a
broken IPv4 address, such as \`999.999.999.999\`, is neither), or an http:// or https:// URL. Where a key
also takes an \`env:NAME\` / \`file:path\` reference (URLs), the message says so; the reference itself is read on
the worker. Drover checks these when it compiles, not when a recovery reaches them: a wrong address would leave
a recovered VM unreachable, or a validation or notification failing in the middle of an incident. The message
names the format; the hint gives an example, or says what is wrong with the value.`,
    wrong: yaml`
      - name: web
        network:
          ip: { address: 10.20.1.300/24, gateway: 10.20.1.1 } # 300 is not a number of an IPv4 address
    `,
    right: yaml`
      - name: web
        network:
          ip: { address: 10.20.1.30/24, gateway: 10.20.1.1 }
    `,
  },
  'duration/invalid': {
    text: `A duration (objectives, timeouts, retry intervals, estimates, waits) does not parse. A duration is one or
more numbers, each followed by its unit, largest unit first and without spaces: \`250ms\`, \`30s\`, \`15m\`,
\`1h30m\`, \`2d\` (units d, h, m, s, ms). Drover does not read "15 minutes" or a bare number, because a bare
number has no safe unit: a timeout of 30 read as seconds instead of minutes fails a restore that was fine.`,
    wrong: yaml`
      objectives:
        rpo: 15 minutes
        rto: 1h
    `,
    right: yaml`
      objectives:
        rpo: 15m
        rto: 1h
    `,
  },
  'secret/inline': {
    text: `A password, token or key is written in the runbook itself. A runbook lives in git, and Drover records the
compiled plan in Temporal's history (every payload of every run), so an inline secret ends up in every clone
of the repository, in code reviews, and in the workflow history and its exports, for years. Reference it
instead: \`env:NAME\` reads an environment variable of the worker that runs the step, \`file:/path\` a file on
that worker, only when the step runs (a command's output that Drover keeps shows such values as \`***\`).
This applies to passwords in site connections and \`postgres:\` blocks, and to header and environment values
whose names say secret (Authorization, token, key, password, cookie, credential). Then rotate the secret that
was committed.`,
    wrong: yaml`
      steps:
        - name: notify-chat
          at: after
          http:
            method: POST
            url: https://chat.example.com/api/post
            headers: { Authorization: "Bearer 9f8e7d6c5b4a3921" }
            body: { text: the web shop runs in dc-west }
          compensation: none
    `,
    right: yaml`
      steps:
        - name: notify-chat
          at: after
          http:
            method: POST
            url: https://chat.example.com/api/post
            headers: { Authorization: env:CHAT_TOKEN } # "Bearer ..." in the worker's environment
            body: { text: the web shop runs in dc-west }
          compensation: none
    `,
  },
  'name/duplicate': {
    text: `Two things that must have distinct names share one. Workloads and groups share one namespace, because
\`dependsOn\` may name either: with two \`orders-db\`, nobody could tell which one the web tier waits for.
Custom steps are unique per owner (the plan, a group, a workload), because a step's id is \`<owner>/<name>\`,
what \`drover approve --step\` and the reports use. A few names are reserved for the steps Drover adds itself
(\`plan\`, \`all\`, \`priority-N\`, and step names such as \`start\`, \`done\` or a workload's \`restore\`). Rename one
of the two; the message gives the line of the first.`,
    wrong: yaml`
      groups:
        - name: app
          workloads:
            - name: web
            - name: web # copied from the line above and not renamed
    `,
    right: yaml`
      groups:
        - name: app
          workloads:
            - name: web
            - name: api
    `,
  },
  'ref/unknown': {
    text: `A \`dependsOn\` (of a workload, a group or a custom step) or a simulation fault names a workload or group
that does not exist in this runbook, often a typo or a workload renamed in one place only. Drover refuses it
rather than dropping the dependency, since a recovery order that silently loses an edge boots an application
before its database. Name a workload or group defined in the same runbook; the hint suggests the closest name.`,
    wrong: yaml`
      - name: web
        dependsOn: [orders-bd]
    `,
    right: yaml`
      - name: web
        dependsOn: [orders-db]
    `,
  },
  'graph/cycle': {
    text: `The dependencies form a loop, so no recovery order can satisfy them: each step of the loop waits for the
next, and the last for the first. The message prints the loop, read "waits for". Priorities count: every
workload of priority N is up before any of priority N+1 powers on, so a workload cannot wait for one of a
later priority, and the loop runs through the priorities (\`db-1 → app-2 → group app → priority 1 → group db →
db-1\`). A workload that depends on itself is reported the same way. Remove one \`dependsOn\` of the loop, the
one that does not reflect a real start-up need.`,
    wrong: yaml`
      - name: web
        dependsOn: [api]
      - name: api
        dependsOn: [web]
    `,
    right: yaml`
      - name: web
        dependsOn: [api] # web calls api at start-up; api needs nothing of web
      - name: api
    `,
  },
  'objective/invalid': {
    text: `An objective cannot be met or contradicts another. An RPO or RTO of zero promises no data loss and no
downtime, which no recovery delivers: state what the business agreed (\`rpo: 15m\`, \`rto: 4h\`). A workload's
own objectives can only be stricter than the plan's: the plan's RTO is when everything must be back and its
RPO the most any workload may lose, so a workload allowed more would break the plan's promise without anyone
noticing. Make the workload's objective at most the plan's, or change the plan's.`,
    wrong: yaml`
      objectives:
        rpo: 15m
        rto: 1h
      groups:
        - name: database
          workloads:
            - name: orders-db
              objectives: { rpo: 1h, rto: 30m } # may lose an hour, the plan only 15m
    `,
    right: yaml`
      objectives:
        rpo: 15m
        rto: 1h
      groups:
        - name: database
          workloads:
            - name: orders-db
              objectives: { rpo: 5m, rto: 30m }
    `,
  },
  'step/action': {
    text: `A custom step, a validation or a replication hook must do exactly one thing: a custom step one of
\`command\`, \`http\`, \`prompt\`, \`approval\` or \`wait\`; a validation one of \`tcp\`, \`http\`, \`command\` or \`sql\`; a
replication hook one of \`http\` or \`command\`. With none there is nothing to run; with two, a failure, a retry
and the report could not say which of them it was about, and the order between them would be a guess. Split
a step or check that does two things into two list items (they run in the order written), or add the
missing action.`,
    wrong: yaml`
      - name: orders-db
        validations:
          - tcp: { port: 5432 }
            command: { argv: [pg_isready, -p, "5432"] }
    `,
    right: yaml`
      - name: orders-db
        validations:
          - tcp: { port: 5432 }
          - command: { argv: [pg_isready, -p, "5432"] }
    `,
  },
  'step/anchor': {
    text: `A workload's custom step says it runs before or after one of the workload's actions (\`at: after-powerOn\`,
\`before-network\`), but in this mode the workload has no such action: a workload gets \`network\` only with a
\`network:\` block (or vSphere NIC addresses), \`powerOn\` and what follows only unless \`powerOn: false\`, and each
mode has its own actions (cleanup has no restore, a test has no promote). The step would have nowhere to go.
Anchor it to an action the workload has in that mode (\`drover plan --mode <mode>\` lists them), or limit the
step's \`modes\`. In \`drover validate\` it is a warning naming the mode; in \`drover plan\` and a run, an error.`,
    wrong: yaml`
      - name: web
        steps:
          - name: register-address
            at: after-network # web has no network: block, so no network action
            command: { argv: [scripts/register.sh, web] }
            compensation: none
    `,
    right: yaml`
      - name: web
        steps:
          - name: register-address
            at: after-powerOn
            command: { argv: [scripts/register.sh, web] }
            compensation: none
    `,
  },
  'retry/invalid': {
    text: `A retry policy that Temporal would not run as written. Temporal waits \`initialInterval\` before the first
retry, then multiplies the wait by \`backoffCoefficient\` up to \`maxInterval\`: a \`maxInterval\` below the
\`initialInterval\` (set at this level or inherited from \`defaults\` above) cannot be satisfied, and a zero interval
means "use the default" to Temporal, not "retry at once". Either way the step would retry on another schedule
than the runbook says, which an operator finds out during an incident. Make \`maxInterval\` at least
\`initialInterval\`, and give intervals above zero (\`100ms\` retries almost at once).`,
    wrong: yaml`
      defaults:
        retry:
          initialInterval: 30s
          maxInterval: 10s
    `,
    right: yaml`
      defaults:
        retry:
          initialInterval: 30s
          maxInterval: 5m
    `,
  },
  'retry/unknown-error': {
    text: `A warning: \`nonRetryableErrors\` names an error type that nothing in Drover raises (its providers, activities
and workflow engine), often a typo. A misspelt name matches nothing, so the error it meant is retried after
all: a full datastore is retried until the attempts run out instead of failing at once. The hint suggests the
closest known type (\`StorageFull\`, \`ReplicaBehind\`, \`AuthenticationFailed\`, ...). If a command or provider of
your own raises that type, keep the name: this is a warning, not an error.`,
    wrong: yaml`
      defaults:
        retry:
          nonRetryableErrors: [StorageFul]
    `,
    right: yaml`
      defaults:
        retry:
          nonRetryableErrors: [StorageFull]
    `,
  },
  'approval/signing': {
    text: `Signed approvals prove who approved: each approver in \`approvers\` has an Ed25519 public key, and
\`drover approve --key\` signs the decision with the private key, so a decision cannot be forged by whoever can
signal the workflow. This is reported when a declared key is not an Ed25519 public key in PEM form (an
OpenSSH \`ssh-ed25519 AAAA...\` line, an RSA key), or when an approval with \`signatures:
required\` names an approver who has no key, who could then never approve. Paste the PEM that \`openssl pkey
-in alice.pem -pubout\` prints (make a key pair with \`openssl genpkey -algorithm ed25519 -out alice.pem\`),
add the missing approver's key, or say
\`signatures: optional\`. Public keys are not secrets: they belong in git.`,
    wrong: yaml`
      approvers:
        alice:
          publicKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBT+u4vG5Oyluam5bbEv2z//p0OlcAurjDknt7w1kKPT alice@laptop
    `,
    right: yaml`
      approvers:
        alice:
          publicKey: |
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAFP67i8bk7KW5qbltsS/bP/+nQ6VwC6uMOSe3vDWQo9M=
            -----END PUBLIC KEY-----
    `,
  },
  'approval/quorum': {
    text: `An approval requires more approvers (\`required\`) than it names (\`approvers\`), so it can never be
granted: the run would wait at the gate until its timeout, in the middle of an incident. Name at least as
many approvers as it requires (N of M: two of three lets the failover go on while one person is unreachable),
or lower \`required\`.`,
    wrong: yaml`
      steps:
        - name: approve-failover
          modes: [planned-migration, disaster-recovery, failback]
          approval:
            approvers: [alice, bob]
            required: 3
    `,
    right: yaml`
      steps:
        - name: approve-failover
          modes: [planned-migration, disaster-recovery, failback]
          approval:
            approvers: [alice, bob, carol, dave]
            required: 3
    `,
  },
  'compensation/missing': {
    text: `A custom step changes things (a \`command\`, or an \`http\` request other than GET or HEAD) and its failure
aborts the run, but it says nothing of how to undo it. When a later step fails or the run is cancelled,
Drover undoes what the run did, in reverse; a step without a compensation would be left done, half-way
between the two sites, and the operator would have to remember it. Add \`compensation:\` with the \`command\` or
\`http\` request that undoes it, or \`compensation: none\` to record that nothing needs undoing (a notification,
a cache warm-up). A step with \`onFailure: continue\` or \`pause\` does not need one.`,
    wrong: yaml`
      steps:
        - name: drain-traffic
          at: before
          command: { argv: [scripts/load-balancer.sh, drain, dc-east] }
    `,
    right: yaml`
      steps:
        - name: drain-traffic
          at: before
          command: { argv: [scripts/load-balancer.sh, drain, dc-east] }
          compensation:
            command: { argv: [scripts/load-balancer.sh, undrain, dc-east] }
    `,
  },
  'provider/unsupported': {
    text: `A mode needs a step that the provider recovering the workload cannot do: for example the postgres
provider has no networks, so a PostgreSQL workload with a \`network:\` block cannot get the network step, and
it has no test network. A workload is recovered by its own \`provider\` when it says one, else by its site's.
Drover checks this before anything runs, so a plan does not fail half-way through a failover on a step that
could never work. In \`drover validate\` it is a warning naming the mode (the runbook may never run in it); in
\`drover plan\` and a run of that mode, an error. Remove what needs the step, use another provider, or do not
run that mode.`,
    wrong: yaml`
      - name: orders-db
        provider: postgres
        network: { map: { east-db: west-db } } # a database has no networks to map
        postgres:
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
          test: { port: 5440, dataDir: /srv/pg/drover-test, from: standby }
    `,
    right: yaml`
      - name: orders-db
        provider: postgres
        postgres:
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
          test: { port: 5440, dataDir: /srv/pg/drover-test, from: standby }
    `,
  },
  'provider/settings': {
    text: `A workload's settings do not match the provider that recovers it (its own \`provider\`, else its
site's). A workload on vSphere needs a \`vsphere:\` block (its VM and replica) and one recovered by PostgreSQL a
\`postgres:\` block (its two nodes): without them the provider would not know what to act on. A block for a
provider that does not recover the workload is a warning, since it would be silently unused (often a
\`provider:\` forgotten on the workload or the site). Some modes need more: test and cleanup of a PostgreSQL
workload need \`postgres.test\` (the scratch copy), and \`from: archive\` needs \`archive\` and \`baseBackup\`. Add
the block or key the message names, or fix the \`provider\`.`,
    wrong: yaml`
      - name: orders-db
        provider: postgres # but no postgres: block says where its nodes are
    `,
    right: yaml`
      - name: orders-db
        provider: postgres
        postgres:
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
          test: { port: 5440, dataDir: /srv/pg/drover-test, from: standby }
    `,
  },
  'validation/sql': {
    text: `A \`sql\` validation runs a query through the postgres provider, which knows the database's nodes, user and
password from the workload's \`postgres:\` block. On a workload that another provider recovers (a simulated
or vSphere VM) there is nothing to connect to, so the check could never run. If a PostgreSQL pair is what
recovers the workload, say \`provider: postgres\` on it and give its \`postgres:\` block; otherwise check the
database with \`tcp\` (the port answers), \`http\`, or a \`command\` such as \`psql\` or \`pg_isready\`.`,
    wrong: yaml`
      - name: orders-db # a simulated VM: the sites' provider is the simulator
        validations:
          - sql: { query: SELECT 1 }
    `,
    right: yaml`
      - name: orders-db
        validations:
          - tcp: { port: 5432 }
    `,
  },
  'postgres/path': {
    text: `The paths of a \`postgres:\` block (\`dataDir\` of each node and of the test copy, \`binDir\`, \`archive\`,
\`baseBackup\`) are used on the database host by \`pg_ctl\`, \`pg_rewind\` and \`pg_basebackup\`, run by the worker
from a folder Drover does not choose. A relative path would land wherever that process happens to run, which
for a data directory means starting, rewinding or deleting the wrong folder. Write the full path on the
database host, starting with \`/\`.`,
    wrong: yaml`
      postgres:
        nodes:
          protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
          recovery: { host: 127.0.0.1, port: 5433, dataDir: srv/pg/west } # relative
    `,
    right: yaml`
      postgres:
        nodes:
          protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
          recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
    `,
  },
  'postgres/test-copy': {
    text: `Test mode restores a scratch copy of the database on the recovery host (\`postgres.test\`), and cleanup
deletes its folder with everything in it. So the copy's \`dataDir\` must not be a node's data directory, nor
inside one, nor contain one: a test, then its cleanup, would overwrite or delete the standby (or the
primary). And its \`port\` must not be a node's port on the same host, or the copy could not start (or a
client would reach the copy thinking it is production). Give the test copy a folder and a port of its own.`,
    wrong: yaml`
      postgres:
        nodes:
          protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
          recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
        test:
          port: 5440
          dataDir: /srv/pg/west/drover-test # inside the standby's data directory
    `,
    right: yaml`
      postgres:
        nodes:
          protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/east }
          recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/west }
        test:
          port: 5440
          dataDir: /srv/pg/drover-test
    `,
  },
  'vsphere/tls': {
    text: `A vSphere site must say how its worker verifies the vCenter certificate, in exactly one way: \`thumbprint\`
pins the certificate (its SHA-256 fingerprint), \`caFile\` trusts the CA that signed it, \`insecure: true\`
trusts any certificate. Without one, the worker would send the vCenter credentials to whoever answers at that
address; with several, it would be unclear which one counts. Get the fingerprint with \`openssl s_client
-connect <vcenter>:443 </dev/null | openssl x509 -noout -fingerprint -sha256\` (not vCenter's SHA-1 thumbprint),
and keep one option. The value may be \`env:NAME\` or \`file:path\`, read on the worker.`,
    wrong: yaml`
      sites:
        protected:
          name: vc-east
          provider: vsphere
          connection:
            url: https://vc-east.example.com/sdk
            username: drover@vsphere.local
            password: env:VC_EAST_PASSWORD
    `,
    right: yaml`
      sites:
        protected:
          name: vc-east
          provider: vsphere
          connection:
            url: https://vc-east.example.com/sdk
            username: drover@vsphere.local
            password: env:VC_EAST_PASSWORD
            thumbprint: 59:AF:55:AB:27:3B:23:6E:4E:63:13:FC:E7:FD:FC:47:2C:97:D8:05:32:9F:96:1D:2F:CD:4C:0B:1F:70:F8:2B
    `,
  },
  'vsphere/insecure': {
    text: `A warning: a vSphere site does not verify the vCenter certificate (\`insecure: true\`) or does not use TLS
at all (an \`http://\` URL). The worker logs in to vCenter with an account that can power off, reconfigure and
delete VMs; anyone on the network path could read those credentials or answer in vCenter's place. Keep it for
labs and vcsim; for a real vCenter pin its certificate with \`thumbprint\` (or trust its CA with \`caFile\`) and
use the \`https://\` URL.`,
    wrong: yaml`
      sites:
        protected:
          name: vc-east
          provider: vsphere
          connection:
            url: https://vc-east.example.com/sdk
            insecure: true
    `,
    right: yaml`
      sites:
        protected:
          name: vc-east
          provider: vsphere
          connection:
            url: https://vc-east.example.com/sdk
            thumbprint: 59:AF:55:AB:27:3B:23:6E:4E:63:13:FC:E7:FD:FC:47:2C:97:D8:05:32:9F:96:1D:2F:CD:4C:0B:1F:70:F8:2B
    `,
  },
  'vsphere/placement': {
    text: `A vSphere site gives both \`cluster\` and \`resourcePool\` for the VMs Drover creates (test clones). They say
the same thing two ways, \`cluster\` meaning the cluster's root resource pool, and when they disagree Drover
cannot know which one you meant: a test clone could take capacity from production. Keep one: \`cluster\`, or
\`resourcePool\` (an inventory path, e.g. \`/dc-west/host/dr/Resources/drover\`). A workload's
\`vsphere.resourcePool\` may still override the site's choice.`,
    wrong: yaml`
      sites:
        recovery:
          name: vc-west
          provider: vsphere
          connection:
            url: https://vc-west.example.com/sdk
            cluster: dr-cluster
            resourcePool: /dc-west/host/dr-cluster/Resources/drover
    `,
    right: yaml`
      sites:
        recovery:
          name: vc-west
          provider: vsphere
          connection:
            url: https://vc-west.example.com/sdk
            resourcePool: /dc-west/host/dr-cluster/Resources/drover
    `,
  },
  'vsphere/address': {
    text: `A vSphere NIC's address has prefix length 0 (\`10.20.0.21/0\`). That is valid CIDR, but no subnet is
that wide: the guest would take every address for one on its own link and send nothing through its gateway.
Drover applies NIC addresses through guest customization after the VM is recovered, so the mistake would show
only as a recovered VM nobody can reach. Write the prefix length of the NIC's subnet. (An address that is not
of its family's form at all, or a gateway or DNS server that is not an address, is the schema's to report:
code \`schema/format\`.)`,
    wrong: yaml`
      - name: web
        vsphere:
          vm: shop-web-01
          replica: shop-web-01-replica
          nics:
            - network: prod-web
              ip: { address: 10.20.0.21/0, gateway: 10.20.0.1 } # prefix length 0
    `,
    right: yaml`
      - name: web
        vsphere:
          vm: shop-web-01
          replica: shop-web-01-replica
          nics:
            - network: prod-web
              ip: { address: 10.20.0.21/24, gateway: 10.20.0.1 }
    `,
  },
  'step/redact': {
    text: `A command's \`redact\` pattern is not a regular expression JavaScript can compile. Drover replaces what
each pattern matches by \`[redacted]\` in the command output it keeps (in Temporal's history and the reports) and
in a failure's message; a pattern that does not compile would leave the secrets it was meant to hide in that
output, so it is refused before anything runs. Write the pattern in JavaScript syntax without surrounding
slashes, e.g. \`password=\\S+\`, and escape \`(\`, \`[\`, \`.\` and \`\\\` when you mean them literally.`,
    wrong: yaml`
      steps:
        - name: rotate-keys
          command:
            argv: [scripts/rotate-keys.sh]
            redact: ['token=(\S+'] # the group is never closed
          compensation: none
    `,
    right: yaml`
      steps:
        - name: rotate-keys
          command:
            argv: [scripts/rotate-keys.sh]
            redact: ['token=\S+']
          compensation: none
    `,
  },
  'path/outside': {
    text: `A path that a worker uses on its own machine, a simulator site's \`connection.stateDir\` or a command's
\`cwd\`, is absolute or climbs out with \`..\`. Such paths are relative to the folder the worker runs in and
stay inside it, so a runbook (which anyone who can open a pull request may change) cannot make a worker read
or write elsewhere on its machine. Write a folder relative to the worker's folder, without \`..\`
(\`.drover/sim\`, \`scripts\`). Paths on a database host in a \`postgres:\` block are absolute on purpose and are
not concerned.`,
    wrong: yaml`
      sites:
        protected:
          name: dc-east
          provider: simulator
          connection:
            stateDir: /var/lib/drover/sim
    `,
    right: yaml`
      sites:
        protected:
          name: dc-east
          provider: simulator
          connection:
            stateDir: .drover/sim # inside the folder the worker runs in
    `,
  },
  'plan/rto-estimate': {
    text: `A warning: the critical path (the longest chain of steps that wait for one another) is estimated to take
longer than the RTO, so the plan would miss its objective even if nothing failed. The estimate adds up each
step's \`estimate\`: the defaults per action (a restore 5m, for example), or what the runbook sets in
\`defaults.estimates\`, \`actions.<action>.estimate\` or on a custom step. \`drover plan --mode <mode>\` prints the
path. Shorten it (fewer \`dependsOn\` and priority levels, faster steps), make the estimates
match what drills measure, or agree a realistic RTO. In \`drover validate\` it is checked for
disaster-recovery mode; \`drover plan\` checks the mode it plans.`,
    wrong: yaml`
      objectives:
        rpo: 15m
        rto: 10m # two priorities of restore, boot and validation take longer
    `,
    right: yaml`
      objectives:
        rpo: 15m
        rto: 1h
    `,
  },
  'compiler/internal': {
    text: `The compiler itself failed on this input: a bug in Drover, not necessarily a problem of the runbook. It is
reported as a diagnostic instead of a crash, so \`drover validate\` goes on with the other files and a worker
stays up. Please report it with the runbook (or the smallest part of it that still shows it) and the
message. Until it is fixed, changing the part of the runbook the message points at may avoid it.`,
  },
};

/** Where the prose of an explanation is wrapped. */
const WIDTH = 100;

/** Words of `text` (its line breaks are only where the source was wrapped) on lines of at most `width`. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

const indent = (block: string) =>
  block
    .split('\n')
    .map((l) => (l ? `    ${l}` : l))
    .join('\n');

/** One code's explanation as plain text, or undefined for a code that does not exist. */
export function explain(code: string): string | undefined {
  if (!Object.hasOwn(EXPLANATIONS, code)) return undefined;
  const c = code as DiagnosticCode;
  const e = EXPLANATIONS[c];
  const out = [`${c}: ${DIAGNOSTIC_CODES[c]}`, '', wrap(e.text, WIDTH)];
  if (e.wrong !== undefined) out.push('', 'Wrong:', indent(e.wrong));
  if (e.right !== undefined) out.push('', 'Right:', indent(e.right));
  return out.join('\n') + '\n';
}
