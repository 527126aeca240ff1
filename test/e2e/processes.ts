/** Real processes for end-to-end tests: `drover server` on free ports, `drover` commands, the `temporal` CLI. */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
const TEMPORAL = join(ROOT, '.temporal', 'bin', 'temporal');
const run = promisify(execFile);

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

export interface Processes {
  /** Starts `drover <args>` in the background; its stderr is collected in `logs`. */
  background(...args: string[]): ChildProcess & { logs: string[] };
  drover(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `drover <args>` with `input` typed on its stdin. */
  droverTyping(input: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  temporal(...args: string[]): Promise<{ stdout: string }>;
  /** The server's frontend and Web UI ports, once it is up. */
  ports(): { frontend: number; ui: number };
  /**
   * The README's commands: start the web shop in test mode with `temporal workflow start`, approve its
   * gate with `temporal workflow signal`, and wait with `temporal workflow result` (its output returned).
   */
  webshopTestViaTemporalCli(workflowId: string, approver: string): Promise<string>;
}

/** A `drover server` for the test file (started before its tests, stopped after), and helpers. */
export function useDroverServer(): Processes {
  let port = 0;
  let uiPort = 0;
  let env: NodeJS.ProcessEnv = {};
  const children: ChildProcess[] = [];
  const p: Processes = {
    background(...args) {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      }) as ChildProcess & { logs: string[] };
      child.logs = [];
      child.stderr!.on('data', (d: Buffer) => child.logs.push(d.toString()));
      children.push(child);
      return child;
    },
    drover: (...args) =>
      run(process.execPath, [BIN, ...args], { cwd: ROOT, env }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      ),
    droverTyping: (input, ...args) =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(input);
      }),
    ports: () => ({ frontend: port, ui: uiPort }),
    temporal: (...args) => run(TEMPORAL, [...args, '--address', `127.0.0.1:${port}`], { cwd: ROOT }),
    async webshopTestViaTemporalCli(id, approver) {
      const input = '{"runbook":"runbooks/webshop.yaml","mode":"test"}';
      await p.temporal(
        'workflow',
        'start',
        '--task-queue',
        'drover',
        '--type',
        'runRecoveryPlan',
        '--workflow-id',
        id,
        '--input',
        input,
      );
      const approval = JSON.stringify({ step: 'plan/approve-test', by: approver });
      await p.temporal('workflow', 'signal', '--workflow-id', id, '--name', 'approve', '--input', approval);
      return (await p.temporal('workflow', 'result', '--workflow-id', id)).stdout;
    },
  };
  // The dev server picks further ports of its own (HTTP, metrics, internal services); on a busy machine
  // one of them can be taken between its choice and its bind, and the server exits. Start again on fresh
  // ports then, and show the server's own words if it never comes up.
  beforeAll(async () => {
    for (let attempt = 1; ; attempt++) {
      const db = join(mkdtempSync(join(tmpdir(), 'drover-e2e-')), 'db');
      port = await freePort();
      env = { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, NO_COLOR: '1' };
      uiPort = await freePort();
      const server = p.background('server', '--port', String(port), '--ui-port', String(uiPort), '--db', db);
      if (await healthy(server)) return;
      children.splice(children.indexOf(server), 1);
      server.kill('SIGTERM');
      if (attempt === 3)
        throw new Error(`drover server did not come up on 127.0.0.1:${port}:\n${server.logs.join('')}`);
    }
  }, 90_000);
  /** Whether the server answers a health check within 30 s (false at once if it exits). */
  async function healthy(server: ChildProcess): Promise<boolean> {
    for (let i = 0; i < 60 && server.exitCode === null && server.signalCode === null; i++) {
      try {
        await p.temporal('operator', 'cluster', 'health');
        return true;
      } catch {
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return false;
  }
  afterAll(async () => {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  });
  return p;
}
