/**
 * Integration harness: a real Temporal dev server (the pinned CLI in .temporal/bin, started by
 * @temporalio/testing on a free port), Drover's real workers, a temporary folder per test holding the
 * runbook and the simulated site's state.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import type { Worker, WorkflowBundle } from '@temporalio/worker';
import { parseDocument } from 'yaml';
import type { Document } from 'yaml';
import winston from 'winston';
import { compile } from '../../compiler';
import type { Mode, Plan } from '../../compiler';
import { effects, inventory, seedSite } from '../../providers/simulator';
import { createDroverWorkers } from '../../worker';
import { progressQuery, WORKFLOW_TYPE } from '../../workflows/messages';
import type { RunRecord } from '../../contracts/record';

export const ROOT = join(__dirname, '..', '..');
export const TEMPORAL_BIN = join(ROOT, '.temporal', 'bin', 'temporal');

export interface Harness {
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundle;
  address: string;
  teardown(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  if (!existsSync(TEMPORAL_BIN)) throw new Error('the Temporal CLI is missing: run `npm run setup:temporal`');
  installQuietRuntime();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_BIN },
      ip: '127.0.0.1',
      extraArgs: ['--log-level', 'error'],
    },
  });
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    logger: quietBundlerLogger,
  });
  return { env, bundle, address: env.address, teardown: () => env.teardown() };
}

/** Registers one harness for a test file: a dev server before the tests, torn down after. */
export function useHarness(): { readonly h: Harness } {
  const holder = {} as { h: Harness };
  beforeAll(async () => {
    holder.h = await startHarness();
  }, 120_000);
  afterAll(async () => {
    await holder.h?.teardown();
  });
  return holder;
}

/** Polls the run's progress until `check` holds (the plan must be compiled: steps present). */
export async function waitForRecord(
  handle: WorkflowHandle,
  what: string,
  check: (r: RunRecord) => boolean,
  timeoutMs = 30_000,
): Promise<RunRecord> {
  const end = Date.now() + timeoutMs;
  let last: RunRecord | undefined;
  while (Date.now() < end) {
    const r = (last = await handle.query(progressQuery));
    if (r.steps.length > 0 && check(r)) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  const events = last?.events.slice(-3).map((e) => e.text) ?? [];
  throw new Error(`timed out waiting for ${what}; the run is ${last?.status}: ${events.join(' | ')}`);
}

let runtimeInstalled = false;
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

const quietBundlerLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

let counter = 0;

/** One test's world: a folder with the runbook, unique task queues, workers running in this process. */
export class Scenario {
  readonly dir = mkdtempSync(join(tmpdir(), 'drover-it-'));
  readonly id = `t${process.pid}-${++counter}`;
  readonly queue = `drover-${this.id}`;
  private workers: Worker[] = [];
  private runs: Promise<void>[] = [];
  private started: WorkflowHandle[] = [];
  /** Which site task queues `startWorkers` serves (tests of an unserved site leave one out). */
  serveOnly: (taskQueue: string) => boolean = () => true;
  /** Added to the workflow input, e.g. `{ shardSize: 8 }` to split even a small plan into shards. */
  runInput: Record<string, unknown> = {};
  /** The client runs are started with (a test of payload encryption gives one with its data converter). */
  client: Client;
  /** Given to the workers with `bundle` (built with the converter's failureConverterPath). */
  dataConverter: DataConverter | undefined;
  bundle: WorkflowBundle | undefined;

  constructor(
    readonly h: Harness,
    /** The runbook text after edits; written as runbook.yaml. */
    readonly text: string,
  ) {
    this.client = h.env.client;
    writeFileSync(join(this.dir, 'runbook.yaml'), text);
  }

  /** The webshop example, made fast and given unique task queues; `edit` changes the YAML document further. */
  static webshop(h: Harness, edit: (doc: Document) => void = () => undefined): Scenario {
    const doc = parseDocument(readFileSync(join(ROOT, 'runbooks', 'webshop.yaml'), 'utf8'));
    const id = `t${process.pid}-${counter + 1}`;
    doc.setIn(['sites', 'protected', 'taskQueue'], `${id}-east`);
    doc.setIn(['sites', 'recovery', 'taskQueue'], `${id}-west`);
    doc.setIn(['defaults', 'retry', 'initialInterval'], '100ms');
    doc.setIn(['defaults', 'retry', 'maxInterval'], '200ms');
    doc.setIn(['simulation', 'latency'], { default: '50ms', restore: '200ms' });
    edit(doc);
    return new Scenario(h, doc.toString());
  }

  plan(mode: Mode): Plan {
    const r = compile(this.text, { file: 'runbook.yaml', mode });
    if (!r.plan) throw new Error(JSON.stringify(r.diagnostics));
    return r.plan;
  }

  siteQueues(): string[] {
    const plan = compile(this.text, { file: 'runbook.yaml', mode: 'tabletop' }).plan;
    return Object.values(plan?.sites ?? {}).map((s) => s.taskQueue);
  }

  async startWorkers(): Promise<void> {
    const logger = winston.createLogger({ silent: true });
    this.workers = await createDroverWorkers({
      connection: this.h.env.nativeConnection,
      namespace: 'default',
      orchestration: true,
      orchestrationQueue: this.queue,
      siteQueues: this.siteQueues().filter(this.serveOnly),
      cwd: this.dir,
      logger,
      workflowBundle: this.bundle ?? this.h.bundle,
      ...(this.dataConverter ? { dataConverter: this.dataConverter } : {}),
    });
    this.runs = this.workers.map((w) => w.run());
  }

  async stopWorkers(): Promise<void> {
    // A test that failed half-way must not leave its run holding workloads (site names repeat across tests).
    await Promise.all(this.started.map((h) => h.terminate('the test ended').catch(() => undefined)));
    this.started = [];
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
    await Promise.allSettled(this.runs);
    this.workers = [];
  }

  async start(mode: Mode, workflowId = `${this.id}-${mode}`, taskQueue = this.queue): Promise<WorkflowHandle> {
    const handle = await this.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue,
      workflowId,
      args: [{ runbook: 'runbook.yaml', mode, ...this.runInput }],
    });
    this.started.push(handle);
    // The owner's sign-off the web shop asks for before a test, given at once (kept until the gate).
    if (mode === 'test' && this.text.includes('name: approve-test')) {
      await handle.signal('approve', { step: 'plan/approve-test', by: 'alice' });
    }
    return handle;
  }

  async runToEnd(mode: Mode): Promise<RunRecord> {
    const handle = await this.start(mode);
    return (await handle.result()) as RunRecord;
  }

  seed(): Promise<void> {
    return seedSite(this.plan('test'), this.dir);
  }

  inventory() {
    return inventory(Object.values(this.plan('test').sites), this.dir);
  }

  effects(site: string) {
    return effects(this.plan('test').sites[site]!, this.dir);
  }

  /** The real `temporal` binary, as a user runs it against this test's server. */
  async temporal(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(
      TEMPORAL_BIN,
      [...args, '--address', this.h.address, '--namespace', 'default'],
      { cwd: this.dir },
    );
    return stdout;
  }
}

/** The record carried by a failed run's failure (`RunFailed` details). */
export async function failedRecord(
  handle: WorkflowHandle,
): Promise<{ record: RunRecord; message: string; type?: string }> {
  try {
    await handle.result();
  } catch (e) {
    const cause = (e as { cause?: { details?: unknown[]; message: string; type?: string } }).cause;
    return {
      record: cause?.details?.[0] as RunRecord,
      message: cause?.message ?? String(e),
      ...(cause?.type ? { type: cause.type } : {}),
    };
  }
  throw new Error('the run succeeded, but it was expected to fail');
}

export const step = (record: RunRecord, id: string) => {
  const s = record.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id}`);
  return s;
};
