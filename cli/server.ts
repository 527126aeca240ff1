/** `drover server` and `drover worker`: the embedded Temporal dev server, and the process hosting Drover. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compile } from '../compiler';
import { SEARCH_ATTRIBUTES } from '../workflows/search';
import { command } from './commands';
import { findRunbooks } from './files';
import { EXIT, UserError } from './io';
import { droverWorker, temporalWorker } from './lazy';
import { dataConverterOf, temporalTarget, unreachable } from './temporal';

/** The pinned Temporal CLI that `npm run setup:temporal` builds. */
export function temporalBinary(root: string): string {
  return join(root, '.temporal', 'bin', 'temporal');
}

export const serverCommand = command({
  name: 'server',
  summary: 'start the embedded Temporal dev server (SQLite under .temporal/, so runs survive restarts)',
  details: `Runs the pinned Temporal CLI's dev server in the foreground until Ctrl-C. Its state is a SQLite file,
so a restart keeps every run. The Web UI is at http://127.0.0.1:<ui-port>; with --codec-endpoint (a
\`drover codec-server\`), it shows encrypted payloads decrypted.`,
  options: {
    port: { value: 'port', help: 'the frontend port (default 7233)' },
    'ui-port': { value: 'port', help: 'the Web UI port (default 8233)' },
    db: { value: 'file', help: 'the SQLite file (default .temporal/drover.db)', complete: 'file' },
    'codec-endpoint': { value: 'url', help: 'a drover codec-server for the Web UI to decrypt payloads with' },
  },
  run({ values }, io) {
    const bin = temporalBinary(io.cwd);
    if (!existsSync(bin)) {
      throw new UserError(
        'the Temporal CLI is not installed in .temporal/bin',
        'run `npm run setup:temporal` (needs Go), or point TEMPORAL_ADDRESS at an existing server',
      );
    }
    const db = resolve(io.cwd, values.db ?? '.temporal/drover.db');
    mkdirSync(resolve(db, '..'), { recursive: true });
    const port = values.port ?? '7233';
    const uiPort = values['ui-port'] ?? '8233';
    const args = [
      'server',
      'start-dev',
      '--db-filename',
      db,
      '--ip',
      '127.0.0.1',
      '--port',
      port,
      '--ui-port',
      uiPort,
      '--namespace',
      'default',
      '--log-level',
      'warn',
      // What `drover list`, `drover history` and the Web UI filter runs on (workflows/messages.ts).
      ...Object.values(SEARCH_ATTRIBUTES).flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
      ...(values['codec-endpoint'] ? ['--ui-codec-endpoint', values['codec-endpoint']] : []),
    ];
    io.stderr(`drover: Temporal dev server on 127.0.0.1:${port}, UI http://127.0.0.1:${uiPort}, state ${db}\n`);
    return new Promise<number>((done) => {
      const child = spawn(bin, args, { stdio: 'inherit' });
      const stop = () => child.kill('SIGTERM');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      child.on('exit', (code, signal) => done(signal ? EXIT.ok : (code ?? EXIT.failed)));
    });
  },
});

export const workerCommand = command({
  name: 'worker',
  summary: 'host the workflows and the activities of the given sites (default: every site in runbooks/)',
  details: `Without --site: runs the orchestration (task queue "drover") and the activities of every site named by
the runbooks under runbooks/ (or each --runbooks folder or file), for a single machine. With --site (or
DROVER_SITES=dc-east,dc-west): only those sites' activities, on a machine that can reach them (per-site
task queues: a site's queue is the one its runbook names, else drover-<site>, or give it as NAME=QUEUE);
add --orchestration to run workflows too.
Connection: --address, --namespace, --profile, or TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_*, TEMPORAL_PROFILE. Logs are JSON lines on stderr.`,
  options: {
    site: { value: 'name[=queue]', multiple: true, help: 'a site whose activities this worker runs (repeatable)' },
    runbooks: {
      value: 'dir',
      multiple: true,
      help: 'where the runbooks are (default runbooks/; repeatable)',
      complete: 'directory',
    },
    orchestration: { help: 'also run the workflows (task queue "drover") when --site is given' },
  },
  uses: { temporal: true },
  async run({ values }, io) {
    const fromEnv = (io.env.DROVER_SITES ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    const sitesWanted = values.site ?? fromEnv;
    const queues = siteQueues(io.cwd, values.runbooks ?? ['runbooks'], sitesWanted);
    const orchestration = sitesWanted.length === 0 || values.orchestration === true;
    const { NativeConnection, Runtime, DefaultLogger } = temporalWorker();
    const { createDroverWorkers, runWorkers } = droverWorker();
    // The SDK's own warnings (e.g. site queues poll no workflows, by design) are noise for operators.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    const target = temporalTarget(io.env);
    let connection;
    try {
      connection = await NativeConnection.connect(target.connectionOptions);
    } catch (e) {
      throw unreachable(target, e);
    }
    const dataConverter = dataConverterOf(io.env);
    const workers = await createDroverWorkers({
      connection,
      namespace: target.namespace,
      orchestration,
      siteQueues: queues,
      cwd: io.cwd,
      ...(dataConverter ? { dataConverter } : {}),
    });
    io.stderr(
      `drover: worker connected to ${target.address} (namespace ${target.namespace})${dataConverter ? ', payloads encrypted' : ''}; task queues: ${[...(orchestration ? ['drover'] : []), ...queues].join(', ')}\n`,
    );
    await runWorkers(workers);
    await connection.close();
    return EXIT.ok;
  },
});

/** Task queues of the named sites (`NAME` or `NAME=QUEUE`), or of every site found in the runbooks under `dirs`. */
export function siteQueues(cwd: string, dirs: string[], wanted: string[]): string[] {
  const bySite = new Map<string, string>();
  const existing = dirs.filter((d) => existsSync(resolve(cwd, d)));
  if (existing.length) {
    for (const file of findRunbooks(existing, cwd)) {
      const plan = compile(readFileSync(resolve(cwd, file), 'utf8'), { file, mode: 'tabletop' }).plan;
      for (const site of Object.values(plan?.sites ?? {})) bySite.set(site.name, site.taskQueue);
    }
  }
  if (wanted.length === 0) return [...new Set(bySite.values())].sort();
  return wanted.map((w) => {
    const [name, queue] = w.split('=', 2) as [string, string | undefined];
    return queue || bySite.get(name) || `drover-${name}`;
  });
}
