/**
 * The PostgreSQL provider under the conformance suite: per check, a real PostgreSQL 15 primary (east) and
 * its streaming standby (west) in a temporary folder (test/postgres/cluster.ts), and the test copy the
 * provider restores from the standby (`postgres.test`, `from: standby`) in that folder, on its own port.
 *
 * The inventory and the effects are read from what the servers leave, never from the provider's results:
 * postmaster.pid and /proc (is a server alive), SQL (does it answer, is it in recovery), the files of each
 * data directory (standby.signal, the fence marker, timeline history), the servers' own logs (starts,
 * shutdowns, promote requests), the WAL archive, and the manifest pg_basebackup writes into each copy.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanSite } from '../../contracts/plan';
import { createPostgres } from '../../providers/postgres';
import { createPair, settingsOf, timelineOf } from '../postgres/cluster';
import type { PgNode, PgPair } from '../postgres/cluster';
import type { ConformanceAdapter, Fixture } from './adapter';

interface PostgresFixture extends Fixture {
  pair: PgPair;
  /** The test copy (`postgres.test`): a node of the pair's folder that exists once restored. */
  copy: PgNode;
  /** Servers this adapter froze (SIGSTOP); thawed before anything reads the estate again. */
  frozen: PgNode[];
  /** While armed (a slowed powerOn of the copy): freezes the copy's postmaster as soon as it runs. */
  watcher?: NodeJS.Timeout;
  /**
   * Each base backup the copy folder has held, by its manifest checksum, with the starts and shutdowns its
   * own log showed: kept here, because deleteCopy removes the folder and the log with it. Recorded at every
   * inventory and effects call (no check makes and removes a copy between two of them).
   */
  copies: Map<string, { starts: number; shutdowns: number }>;
  /** Each fence marker seen per data directory (inode and mtime: a new fence writes a new file). */
  fences: Map<string, Set<string>>;
}

/** Where the provider sends a server's log when it starts one (providers/postgres/node.ts `start`). */
const PROVIDER_LOG = 'drover-server.log';
const FENCE_MARKER = 'drover.fenced';
/** The postmaster's first line on every start. */
const STARTS = /LOG: {2}starting PostgreSQL /g;
/** The postmaster's last line after a clean (smart or fast) shutdown. */
const SHUTDOWNS = /LOG: {2}database system is shut down/g;
/** The startup process, when pg_promote() (or a promote signal) reaches it. */
const PROMOTES = /LOG: {2}received promote request/g;

function site(name: string, role: PlanSite['role']): PlanSite {
  return {
    name,
    role,
    provider: 'postgres',
    taskQueue: `conformance-${name}`,
    testNetwork: 'drover-test',
    maxParallel: 10,
    connection: {},
  };
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

/** The postmaster of `dataDir` is alive (postmaster.pid names a process that is not a zombie). */
function postmasterRuns(dataDir: string): boolean {
  const pid = read(join(dataDir, 'postmaster.pid')).split('\n')[0]?.trim();
  if (!pid || !/^\d+$/.test(pid)) return false;
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** What a server's data directory and the server itself show; `exists: false` for a missing folder. */
/**
 * A server's state once it is not between two states: a server starting or stopping (running, not yet
 * answering), or the test copy still recovering towards its target (it is promoted at the end), settles
 * by itself within seconds, as a VM whose power-on task goes on after a cancel. Waits up to 15 s for that;
 * a server stuck in between is reported as it is, and compared as such.
 */
async function settledState(pair: PgPair, node: PgNode, copy = false) {
  const end = Date.now() + 15_000;
  for (;;) {
    const state = await serverState(pair, node);
    const between = state.exists && state.running && (!state.answers || (copy && state.inRecovery === true));
    if (!between || Date.now() > end) return state;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function serverState(pair: PgPair, node: PgNode) {
  const dir = node.dataDir;
  if (!existsSync(dir)) return { exists: false };
  const running = postmasterRuns(dir);
  let answers = false;
  let inRecovery: boolean | null = null;
  if (running)
    try {
      const [r] = await pair.query(node, 'SELECT pg_is_in_recovery() AS recovery');
      answers = true;
      inRecovery = r?.recovery === true;
    } catch {
      // Starting, stopping or refusing: it does not answer.
    }
  return {
    exists: true,
    database: existsSync(join(dir, 'PG_VERSION')),
    running,
    answers,
    inRecovery,
    standbySignal: existsSync(join(dir, 'standby.signal')),
    recoverySignal: existsSync(join(dir, 'recovery.signal')),
    fenced: existsSync(join(dir, FENCE_MARKER)),
    timeline: timelineOf(dir),
  };
}

/** Both logs of a pair node: the pair's (outside the data dir) and the provider's (inside it). */
const nodeLog = (fx: PostgresFixture, node: PgNode) =>
  `${read(fx.pair.logOf(node))}\n${read(join(node.dataDir, PROVIDER_LOG))}`;

/**
 * The base backup the copy folder holds now (its backup_manifest's checksum), recording the starts and
 * shutdowns of its own log. The log bytes the backup itself brought along (a standby started by the
 * provider has its log in its data dir, which pg_basebackup copies) are skipped: the manifest gives their size.
 */
function observeCopy(fx: PostgresFixture): string | undefined {
  const manifest = read(join(fx.copy.dataDir, 'backup_manifest'));
  if (!manifest) return undefined;
  let parsed: { Files?: { Path: string; Size: number }[]; 'Manifest-Checksum'?: string };
  try {
    parsed = JSON.parse(manifest) as typeof parsed;
  } catch {
    return undefined; // still being written
  }
  const id = parsed['Manifest-Checksum'];
  if (!id) return undefined;
  const copied = parsed.Files?.find((f) => f.Path === PROVIDER_LOG)?.Size ?? 0;
  const own = Buffer.from(read(join(fx.copy.dataDir, PROVIDER_LOG)))
    .subarray(copied)
    .toString('utf8');
  const seen = fx.copies.get(id) ?? { starts: 0, shutdowns: 0 };
  fx.copies.set(id, {
    starts: Math.max(seen.starts, count(own, STARTS)),
    shutdowns: Math.max(seen.shutdowns, count(own, SHUTDOWNS)),
  });
  return id;
}

/** Records the fence marker each node has now (a file the provider writes into the data directory). */
function observeFences(fx: PostgresFixture): void {
  for (const node of [fx.pair.primary, fx.pair.standby]) {
    const marker = join(node.dataDir, FENCE_MARKER);
    if (!existsSync(marker)) continue;
    const st = statSync(marker);
    const seen = fx.fences.get(node.dataDir) ?? new Set<string>();
    seen.add(`${st.ino}:${st.mtimeMs}`);
    fx.fences.set(node.dataDir, seen);
  }
}

function currentFence(node: PgNode): string | undefined {
  const marker = join(node.dataDir, FENCE_MARKER);
  if (!existsSync(marker)) return undefined;
  const st = statSync(marker);
  return `${st.ino}:${st.mtimeMs}`;
}

function observe(fx: PostgresFixture): string | undefined {
  observeFences(fx);
  return observeCopy(fx);
}

/** SIGSTOP of a server and its processes: a hung host. Only a running one; remembered for `thaw`. */
function freeze(fx: PostgresFixture, node: PgNode): void {
  if (!postmasterRuns(node.dataDir) || fx.frozen.includes(node)) return;
  fx.pair.kill(node, 'SIGSTOP');
  fx.frozen.push(node);
}

/** Every server at `at` frozen; at the recovery site with `copyWhenStarted`, the copy also as it starts. */
function freezeSite(fx: PostgresFixture, at: PlanSite, copyWhenStarted: boolean): void {
  const recovery = at.role === 'recovery';
  freeze(fx, recovery ? fx.pair.standby : fx.pair.primary);
  if (!recovery) return;
  if (postmasterRuns(fx.copy.dataDir)) freeze(fx, fx.copy);
  else if (copyWhenStarted)
    fx.watcher = setInterval(() => {
      if (!postmasterRuns(fx.copy.dataDir)) return;
      freeze(fx, fx.copy);
      clearInterval(fx.watcher);
      fx.watcher = undefined;
    }, 5);
}

function thaw(fx: PostgresFixture): void {
  clearInterval(fx.watcher);
  fx.watcher = undefined;
  for (const node of fx.frozen.splice(0)) if (postmasterRuns(node.dataDir)) fx.pair.kill(node, 'SIGCONT');
}

/** WAL segments in the archive (not .partial or .history files): a sync's pg_switch_wal closes one. */
const archivedSegments = (pair: PgPair) => readdirSync(pair.archiveDir).filter((f) => /^[0-9A-F]{24}$/.test(f)).length;

/**
 * Fixtures not torn down yet. A check that times out in jest never reaches its teardown (the suite awaits
 * the hung call): the next setup and `stop` remove what it left, so no server outlives the file.
 */
const live = new Set<PostgresFixture>();

async function removeLeftovers(): Promise<void> {
  for (const fx of [...live]) {
    live.delete(fx);
    thaw(fx);
    await fx.pair.remove();
  }
}

/** What this provider does by looking only (Fixture.observes). */
const OBSERVES: Record<string, string> = {
  'test:snapshot': 'a database copy takes its data at restore (a pg_basebackup of the standby)',
  'failover:syncReplication (final)':
    'streaming replication shipped the shutdown checkpoint already: the final sync proves the standby has it',
  'failover:powerOn': 'the promoted standby never stopped',
};

export const postgresAdapter: ConformanceAdapter<PostgresFixture> = {
  name: 'postgres',
  provider: 'postgres',
  recoversInPlace: true,
  observes: OBSERVES,
  undoesInexactly: {
    'failover:promote':
      'a promoted standby has started a new timeline; demote stops it and leaves it a standby, and it streams again only after a rewind against the restarted primary (README: What Drover does to a PostgreSQL pair)',
  },
  timeoutMs: 120_000,

  async stop() {
    await removeLeftovers();
  },

  async setup() {
    await removeLeftovers();
    const pair = await createPair();
    try {
      const copy: PgNode = {
        name: 'copy',
        host: '127.0.0.1',
        port: await pair.freePort(),
        dataDir: join(pair.root, 'copy'),
      };
      const fx: PostgresFixture = {
        provider: createPostgres({ env: process.env }),
        sites: { protected: site('east', 'protected'), recovery: site('west', 'recovery') },
        workloads: [
          {
            name: 'orders',
            type: 'database',
            settings: settingsOf(pair, { test: { port: copy.port, dataDir: copy.dataDir, from: 'standby' } }),
            customizesNetwork: false,
            validations: [{ name: 'readable', sql: { query: 'SELECT 1', expect: 1 } }],
          },
        ],
        recoversInPlace: true,
        observes: OBSERVES,
        pair,
        copy,
        frozen: [],
        copies: new Map(),
        fences: new Map(),
      };
      live.add(fx);
      return fx;
    } catch (e) {
      await pair.remove();
      throw e;
    }
  },

  // pair.remove() stops every server in the pair's folder, the test copy's too, and checks none is left.
  async teardown(fx) {
    live.delete(fx);
    thaw(fx);
    await fx.pair.remove();
  },

  async inventory(fx) {
    thaw(fx);
    observe(fx);
    const { pair } = fx;
    return {
      east: await settledState(pair, pair.primary),
      west: await settledState(pair, pair.standby),
      testCopy: await settledState(pair, fx.copy, true),
      // What the pair's folder holds (data dirs, archive, logs, the copy): a copy left half-made shows here.
      folders: readdirSync(pair.root).sort(),
    };
  },

  async effects(fx, call) {
    thaw(fx);
    const current = observe(fx);
    if (call.params.network !== 'production') {
      // The test copy: its base backups (restore), its own log (powerOn, powerOff), backups gone (deleteCopy).
      // snapshot and removeSnapshot of a database copy touch nothing (the copy takes its data at restore).
      const copies = [...fx.copies.entries()];
      switch (call.kind) {
        case 'restore':
          return copies.length;
        case 'powerOn':
          return copies.reduce((n, [, c]) => n + c.starts, 0);
        case 'powerOff':
          return copies.reduce((n, [, c]) => n + c.shutdowns, 0);
        case 'deleteCopy':
          return copies.filter(([id]) => id !== current).length;
        default:
          return 0;
      }
    }
    const node = call.site.role === 'protected' ? fx.pair.primary : fx.pair.standby;
    const log = nodeLog(fx, node);
    const fences = [...(fx.fences.get(node.dataDir) ?? [])];
    switch (call.kind) {
      case 'powerOn':
        return count(log, STARTS);
      case 'shutdown':
      case 'powerOff':
        return count(log, SHUTDOWNS);
      case 'promote':
        return count(log, PROMOTES);
      case 'demote': {
        // A promoted server stopped: the shutdowns its log shows after the first promote request.
        const at = log.search(PROMOTES);
        return at < 0 ? 0 : count(log.slice(at), SHUTDOWNS);
      }
      case 'fence':
        return fences.length;
      case 'unfence':
        return fences.filter((f) => f !== currentFence(node)).length;
      case 'syncReplication':
        // What a sync adds to the replica's side: the segments its WAL switch closed, archived. A final
        // sync at a stopped primary ships nothing (the standby received the shutdown checkpoint by streaming).
        return archivedSegments(fx.pair);
      case 'deleteCopy':
        // Production is never deleted: the node's data directory gone would be the effect.
        return existsSync(join(node.dataDir, 'PG_VERSION')) ? 0 : 1;
      default:
        // restore in production (the promoted standby is the database: nothing copied), waitReady,
        // validate, preCheck: nothing changes.
        return 0;
    }
  },

  /*
   * No injectTransientFault: there is no honest one-shot fault for every step of the test chain. Its
   * powerOn and waitReady of the copy are a local `pg_ctl start` and SQL polling that the provider keeps
   * retrying itself until the copy answers (a dropped or refused connection is waited out, never
   * reported), and its restore is a local pg_basebackup: a fault there (a killed or refused replication
   * connection) is not one the next call would no longer see, unless the adapter timed its repair against
   * the provider's retries, which would test the timing, not the provider.
   */

  // A slow host: every server at the call's site frozen (SIGSTOP of the postmaster and its processes),
  // the test copy's as soon as it starts when the call starts it. A frozen server accepts TCP connections
  // (the kernel's backlog) and answers nothing, so SQL, pg_basebackup and `pg_ctl start -w` all wait.
  // Thawed (SIGCONT) when the suite next reads the estate (inventory, effects) or tears down.
  async slowOperation(fx, call) {
    freezeSite(fx, call.site, true);
  },

  // An unreachable site: its servers hung (SIGSTOP), as a frozen host; reachable: SIGCONT.
  reachability: {
    async makeUnreachable(fx, at) {
      freezeSite(fx, at, false);
    },
    async makeReachable(fx) {
      thaw(fx);
    },
  },
};
