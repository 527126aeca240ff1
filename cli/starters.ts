/**
 * The starter runbooks `drover init --provider <p>` writes: small, complete and valid (every mode compiles
 * without a warning: test/cli/starters.test.ts), every section commented for someone who has never written
 * a runbook. `{{schema}}` on the first line becomes the path of the schema, relative to the written file.
 * Secrets only as env:/file: references; addresses only 127.0.0.1.
 */

const SIMULATOR = `# yaml-language-server: $schema={{schema}}
#
# A starter runbook on the simulated site: Drover's stand-in for real infrastructure, so you can validate,
# plan and run every mode, and rehearse failures, with nothing else installed. Every name and value below is
# an example: change them to describe your service, one comment at a time.
#
#   drover validate <this file>               # checks it; an editor with the YAML extension checks as you type
#   drover plan <this file> --mode test       # the steps a test would run, and the critical path against the RTO
#   drover explain <code>                     # what a diagnostic such as error[graph/cycle] means
apiVersion: drover.dev/v1 # the version of the runbook language: keep it
kind: RecoveryPlan

# Who and what this plan is. The name (lower-case letters, digits, dashes) is in every run id and report.
metadata:
  name: my-service
  description: Database and application, dc-east to dc-west
  owner: my-team@example.com # who to ask about this plan; shown in reports

# What the business agreed. rpo: the most data, in time, a recovery may lose; rto: the longest it may take.
# "drover plan" warns when the estimated critical path is longer than the rto.
objectives:
  rpo: 15m
  rto: 1h

# How every step behaves unless a group, a workload or a step says otherwise: the longest one attempt may
# take, and how a failed step is retried (Temporal retry policy). Errors named in nonRetryableErrors fail at
# once: retrying a full datastore helps nobody.
defaults:
  timeout: 10m
  retry:
    maxAttempts: 3
    initialInterval: 2s
    backoffCoefficient: 2
    maxInterval: 1m
    nonRetryableErrors: [StorageFull]

# The two sites. protected: where the workloads run today; recovery: where they come back. A worker serves
# each site ("drover worker --site dc-west"). The simulator keeps its state in stateDir, a folder relative to
# the folder the worker runs in. testNetwork is the isolated network a test recovers into, so a test never
# touches production.
sites:
  protected:
    name: dc-east
    provider: simulator
    connection:
      stateDir: .drover/sim
  recovery:
    name: dc-west
    provider: simulator
    connection:
      stateDir: .drover/sim
    testNetwork: my-service-test

# Steps of your own around the plan (SRM's callouts): command, http, prompt, approval or wait. This one holds
# back every workload of a failover until two of the three people named approve it
# ("drover approve <run> --step plan/approve-failover --by alice"). Put the names of your people here.
# A test does not ask: the approval runs only in the modes listed.
steps:
  - name: approve-failover
    at: before
    modes: [planned-migration, disaster-recovery, failback]
    approval:
      approvers: [alice, bob, carol]
      required: 2
      timeout: 30m
      onTimeout: reject # nobody decided in time: the failover does not start
      message: Fail my-service over to dc-west?

# What is recovered, in groups. Every workload of priority 1 is up (powered on, ready, validated) before any
# workload of priority 2 powers on. dependsOn orders workloads more finely, across groups too: a workload
# powers on only once what it depends on has validated.
groups:
  - name: database
    priority: 1
    workloads:
      - name: orders-db
        type: database
        # The simulated VM: its name at both sites, and its disks (readiness checks the recovery site's room).
        simulator: { vm: orders-db-01, disksGb: 100 }
        # Checks that the recovered workload works. A failed check fails the step; before the point of no
        # return the run then undoes what it did, in reverse.
        validations:
          - name: postgres-port
            tcp: { port: 5432 }

  - name: application
    priority: 2
    workloads:
      - name: orders-api
        simulator: { vm: orders-api-01, disksGb: 40 }
        validations:
          - name: health
            http:
              url: http://127.0.0.1:8080/healthz
              expectStatus: [200]
      - name: orders-web
        dependsOn: [orders-api] # the web front calls the API as it starts
        simulator: { vm: orders-web-01, disksGb: 20 }
        validations:
          - name: https-port
            tcp: { port: 443 }

# How the simulated site behaves: how long each operation takes, and how old the newest replica is (compared
# with the rpo). Add "faults:" to rehearse failures in a drill (docs/language.md, Simulation). Real providers ignore it.
simulation:
  seed: 1
  latency:
    default: 200ms
    restore: 1s
  recoveryPointAge: 4m
`;

const VSPHERE = `# yaml-language-server: $schema={{schema}}
#
# A starter runbook for two vCenters: production VMs at the protected site, their replicas at the recovery
# site. Drover drives vCenter's API (snapshots, clones, power, port groups, guest customization); replication
# stays your engine's (vSphere Replication, array replication, a backup product): Drover calls its hooks and
# reads the recovery point it leaves on each replica. Every name and value below is an example: change them.
#
#   drover validate <this file>               # checks it; an editor with the YAML extension checks as you type
#   drover plan <this file> --mode test       # the steps a test would run, and the critical path against the RTO
#   drover explain <code>                     # what a diagnostic such as error[vsphere/tls] means
apiVersion: drover.dev/v1 # the version of the runbook language: keep it
kind: RecoveryPlan

# Who and what this plan is. The name (lower-case letters, digits, dashes) is in every run id and report.
metadata:
  name: my-service
  description: Database and application VMs, vCenter east to vCenter west
  owner: my-team@example.com # who to ask about this plan; shown in reports

# What the business agreed. rpo: the most data, in time, a recovery may lose (a replica's recovery point
# older than this waits for a person before it is promoted); rto: the longest the recovery may take.
objectives:
  rpo: 15m
  rto: 1h

# How every step behaves unless a group, a workload or a step says otherwise. A wrong certificate or refused
# credentials will not fix themselves: they fail at once instead of being retried.
defaults:
  timeout: 10m
  retry:
    maxAttempts: 4
    initialInterval: 2s
    backoffCoefficient: 2
    maxInterval: 1m
    nonRetryableErrors: [StorageFull, CertificateRejected, AuthenticationFailed]

# The two vCenters. protected: where the VMs run today; recovery: where they come back. The worker that serves
# a site ("drover worker --site vc-west") must reach its vCenter. Secrets are never written here: env:NAME is
# an environment variable of that worker, file:/path a file on it. thumbprint pins the vCenter certificate
# (its SHA-256 fingerprint); caFile or, in a lab only, insecure: true are the other ways.
sites:
  protected:
    name: vc-east
    provider: vsphere
    connection:
      url: env:VCENTER_EAST_URL # e.g. https://vc-east.example.com/sdk
      username: env:VCENTER_USER
      password: env:VCENTER_PASSWORD
      thumbprint: env:VCENTER_EAST_THUMBPRINT
      datacenter: dc-east
      # Your replication engine's hooks: sync before a recovery point is read, reverse at reprotect. The
      # recovery site uses these too, having none of its own. Remove them if the engine needs no call.
      replication:
        sync:
          http: { method: POST, url: env:REPLICATION_SYNC_URL }
        reverse:
          http: { method: POST, url: env:REPLICATION_REVERSE_URL }
  recovery:
    name: vc-west
    provider: vsphere
    connection:
      url: env:VCENTER_WEST_URL
      username: env:VCENTER_USER
      password: env:VCENTER_PASSWORD
      thumbprint: env:VCENTER_WEST_THUMBPRINT
      # Where the VMs Drover creates (test clones) go, and the switch the test network is made on.
      datacenter: dc-west
      cluster: dr-cluster # or resourcePool: <inventory path>, not both
      datastore: dr-datastore
      folder: drover
      dvSwitch: dr-dvswitch
    testNetwork: my-service-test # an isolated port group: a test never touches production

# Steps of your own around the plan (SRM's callouts): command, http, prompt, approval or wait. This one holds
# back every VM of a failover until two of the three people named approve it
# ("drover approve <run> --step plan/approve-failover --by alice"). Put the names of your people here.
steps:
  - name: approve-failover
    at: before
    modes: [planned-migration, disaster-recovery, failback]
    approval:
      approvers: [alice, bob, carol]
      required: 2
      timeout: 30m
      onTimeout: reject # nobody decided in time: the failover does not start
      message: Fail my-service over to vc-west?

# What is recovered, in groups. Every workload of priority 1 is up (powered on, VMware Tools running,
# validated) before any of priority 2 powers on; dependsOn orders workloads more finely, across groups too.
groups:
  - name: database
    priority: 1
    workloads:
      - name: orders-db
        type: database
        # The production VM (protected site) and its replica (recovery site): names or inventory paths.
        vsphere:
          vm: orders-db-01
          replica: orders-db-01-replica
          # The VM's NICs in order, and the port group each joins when recovered. Add
          # "ip: { address: <a.b.c.d/len>, gateway: <a.b.c.d> }" to a NIC to set the guest's address.
          nics:
            - network: prod-db
        # Checks that the recovered VM works. Without host, a tcp check targets the VM's guest IP.
        validations:
          - name: postgres-port
            tcp: { port: 5432 }

  - name: application
    priority: 2
    workloads:
      - name: orders-api
        vsphere:
          vm: orders-api-01
          replica: orders-api-01-replica
          nics:
            - network: prod-app
        validations:
          - name: health
            http:
              url: http://{guest}:8080/healthz # {guest}: the recovered VM's guest IP
              expectStatus: [200]
      - name: orders-web
        dependsOn: [orders-api] # the web front calls the API as it starts
        vsphere:
          vm: orders-web-01
          replica: orders-web-01-replica
          nics:
            - network: prod-web
        validations:
          - name: https-port
            tcp: { port: 443 }
`;

const POSTGRES = `# yaml-language-server: $schema={{schema}}
#
# A starter runbook for PostgreSQL streaming pairs: each workload is a primary (protected site) and its
# streaming standby (recovery site). Drover runs PostgreSQL's own tools (pg_ctl, pg_rewind, pg_basebackup)
# on the database hosts and SQL through a client; it never sets up replication for you. Every name and value
# below is an example: change them. Both nodes of each pair are on 127.0.0.1 here, as in a lab: write your
# hosts instead.
#
#   drover validate <this file>               # checks it; an editor with the YAML extension checks as you type
#   drover plan <this file> --mode test       # the steps a test would run, and the critical path against the RTO
#   drover explain <code>                     # what a diagnostic such as error[postgres/test-copy] means
apiVersion: drover.dev/v1 # the version of the runbook language: keep it
kind: RecoveryPlan

# Who and what this plan is. The name (lower-case letters, digits, dashes) is in every run id and report.
metadata:
  name: my-databases
  description: Orders and reporting databases, streaming standbys in db-west
  owner: my-team@example.com # who to ask about this plan; shown in reports

# What the business agreed. rpo: the most data, in time, a recovery may lose (a failover that would lose
# more waits for a person); rto: the longest the recovery may take.
objectives:
  rpo: 1m
  rto: 1h

# How every step behaves unless a group, a workload or a step says otherwise: the longest one attempt may
# take, and how a failed step is retried. A setting the worker cannot use (InvalidInput: a missing binDir, a
# test copy without a port) or a full disk will not fix itself: those fail at once.
defaults:
  timeout: 10m
  retry:
    maxAttempts: 3
    initialInterval: 2s
    backoffCoefficient: 2
    maxInterval: 1m
    nonRetryableErrors: [InvalidInput, StorageFull]

# The two sites. protected: where the primaries run today; recovery: where the standbys are promoted. A
# PostgreSQL site has no connection: each workload names its own nodes below. The worker that serves a site
# ("drover worker --site db-west") runs on that site's database host, since pg_ctl and pg_rewind run there.
sites:
  protected:
    name: db-east
    provider: postgres
  recovery:
    name: db-west
    provider: postgres

# Steps of your own around the plan (SRM's callouts): command, http, prompt, approval or wait. The approval
# holds back every database of a failover until two of the three people named approve it
# ("drover approve <run> --step plan/approve-failover --by alice"); put the names of your people here. The
# prompt asks someone to stop the applications first, so the final sync can prove nothing is lost.
steps:
  - name: approve-failover
    at: before
    modes: [planned-migration, disaster-recovery, failback]
    approval:
      approvers: [alice, bob, carol]
      required: 2
      timeout: 30m
      onTimeout: reject # nobody decided in time: the failover does not start
      message: Fail the databases over to db-west?
  - name: stop-writers
    at: before
    modes: [planned-migration, failback]
    prompt:
      message: Stop the applications that write to these databases, then dismiss this prompt.

# What is recovered, in groups; dependsOn orders the workloads: a workload is promoted and validated only
# once what it depends on has validated.
groups:
  - name: databases
    workloads:
      - name: orders-db
        type: database
        # The pair. user and password are how Drover connects for SQL checks (password by reference only:
        # env:NAME on the worker, or file:/path). Paths are absolute paths on the database hosts.
        postgres:
          database: orders
          user: postgres
          password: env:ORDERS_DB_PASSWORD
          nodes:
            protected: { host: 127.0.0.1, port: 5432, dataDir: /srv/pg/orders-east }
            recovery: { host: 127.0.0.1, port: 5433, dataDir: /srv/pg/orders-west }
          # The scratch copy a test restores on the recovery host: its own port and folder, never a node's
          # (cleanup deletes the folder). from: standby copies the standby as it is now; from: archive (with
          # archive and baseBackup) replays your WAL archive to a point in time.
          test: { port: 5440, dataDir: /srv/pg/drover-test/orders, from: standby }
        # Checks that the recovered database works, run as postgres.user: write queries your applications rely on.
        validations:
          - name: answers
            sql: { query: SELECT 1, expectRows: 1 }

      # Subscribes to orders-db (logical replication), so it is recovered after it.
      - name: reporting-db
        type: database
        dependsOn: [orders-db]
        postgres:
          database: reporting
          user: postgres
          password: env:REPORTING_DB_PASSWORD
          nodes:
            protected: { host: 127.0.0.1, port: 5434, dataDir: /srv/pg/reporting-east }
            recovery: { host: 127.0.0.1, port: 5435, dataDir: /srv/pg/reporting-west }
          test: { port: 5441, dataDir: /srv/pg/drover-test/reporting, from: standby }
        validations:
          - name: answers
            sql: { query: SELECT 1, expectRows: 1 }
`;

export const STARTERS: Record<'simulator' | 'vsphere' | 'postgres', string> = {
  simulator: SIMULATOR,
  vsphere: VSPHERE,
  postgres: POSTGRES,
};
