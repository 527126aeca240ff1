/**
 * `command` steps as the worker runs them: createActivities(...).runCommand in a mocked activity context
 * (@temporalio/testing's MockActivityEnvironment), real child processes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import winston from 'winston';
import { createActivities } from '../../activities';
import { Tail } from '../../activities/command';
import type { StepInput, StepOutcome } from '../../activities';
import type { CommandSpec } from '../../compiler/runbook';
import type { JsonObject, PlanSite } from '../../contracts/plan';

const logger = winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });

const site: PlanSite = {
  name: 'east',
  role: 'protected',
  provider: 'simulator',
  taskQueue: 'drover-east',
  testNetwork: 'test',
  maxParallel: 1,
  connection: {},
};

function input(spec: CommandSpec): StepInput {
  return {
    runId: 'drover-t-test',
    stepId: 'cmd',
    kind: 'command',
    params: spec as unknown as JsonObject,
    site,
    peer: site,
  };
}

const workerEnv: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: '/home/drover',
  TZ: 'UTC',
  TEMPORAL_API_KEY: 'super-secret-api-key',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  DNS_TOKEN: 'dns-token-value',
};

function activities(env: NodeJS.ProcessEnv = workerEnv) {
  return createActivities({ providers: {}, cwd: process.cwd(), logger, env });
}

/** runCommand in a mocked activity context (`env` lets a test cancel it). */
function runCommand(step: StepInput, env = new MockActivityEnvironment()): Promise<StepOutcome> {
  return env.run(activities().runCommand, step) as Promise<StepOutcome>;
}

/** A node one-liner as a command step's argv. */
const nodeArgv = (script: string) => [process.execPath, '-e', script];

describe('runCommand: the environment a command sees', () => {
  test("only PATH, HOME, LANG, LC_ALL, TZ, TMPDIR from the worker, plus what the step declares: never the worker's secrets", async () => {
    const out = await runCommand(
      input({
        argv: nodeArgv(
          "console.log(JSON.stringify({ ...process.env, TOKEN_OK: process.env.TOKEN === 'dns-token-value' }))",
        ),
        env: { GREETING: 'hello', TOKEN: 'env:DNS_TOKEN' },
      }),
    );
    const seen = JSON.parse(out.output!.trim()) as Record<string, string>;
    expect(seen.TEMPORAL_API_KEY).toBeUndefined();
    expect(seen.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect(seen.DNS_TOKEN).toBeUndefined(); // only as the declared TOKEN
    expect(seen.PATH).toBe(process.env.PATH);
    expect(seen.HOME).toBe('/home/drover');
    expect(seen.TZ).toBe('UTC');
    expect(seen.GREETING).toBe('hello');
    // The command got the secret's value; what it printed of it is masked in the kept output.
    expect(seen.TOKEN_OK).toBe(true);
    expect(seen.TOKEN).toBe('***');
    // Nothing else from the worker (LANG, LC_ALL and TMPDIR are not set in this worker's environment).
    const allowed = ['PATH', 'HOME', 'TZ', 'GREETING', 'TOKEN', 'TOKEN_OK'];
    // Some platforms add a variable of their own to every process (macOS: __CF_USER_TEXT_ENCODING).
    expect(Object.keys(seen).filter((k) => !allowed.includes(k) && !k.startsWith('__CF'))).toEqual([]);
  });

  test('a declared env: reference that is not set on the worker fails as MissingSecret, and nothing runs', async () => {
    await expect(
      runCommand(input({ argv: nodeArgv('process.exit(0)'), env: { TOKEN: 'env:NOT_SET_ANYWHERE' } })),
    ).rejects.toMatchObject({ type: 'MissingSecret', nonRetryable: true });
  });
});

describe('runCommand: output and exit status', () => {
  const threeMiB = (code: number) =>
    nodeArgv(
      `const line = 'x'.repeat(1023) + '\\n'; let s = ''; for (let i = 0; i < 3 * 1024; i++) s += line;` +
        `process.stdout.write(s); process.stderr.write('THE-END-OF-OUTPUT\\n'); process.exitCode = ${code};`,
    );

  test('3 MiB of output and exit 0 is a success', async () => {
    const out = await runCommand(input({ argv: threeMiB(0) }));
    expect(out.message).toContain('exited 0');
    expect(out.output).toContain('THE-END-OF-OUTPUT');
    expect(out.output!.length).toBeLessThanOrEqual(4000);
  });

  test('3 MiB of output and exit 3 fails with CommandFailed naming the exit code and the tail of the output', async () => {
    const failure = await runCommand(input({ argv: threeMiB(3) })).then(
      () => undefined,
      (e: unknown) => e as { type?: string; message: string; nonRetryable?: boolean },
    );
    expect(failure).toBeDefined();
    expect(failure!.type).toBe('CommandFailed');
    expect(failure!.message).toMatch(/exited 3/);
    expect(failure!.message).toContain('THE-END-OF-OUTPUT');
    expect(failure!.message.length).toBeLessThan(2000);
    expect(failure!.nonRetryable).toBeFalsy(); // a command may succeed when retried
  });

  test('expectExitCode: the expected status is a success, 0 is not', async () => {
    await expect(runCommand(input({ argv: nodeArgv('process.exit(3)'), expectExitCode: 3 }))).resolves.toMatchObject({
      message: expect.stringContaining('exited 3'),
    });
    await expect(runCommand(input({ argv: nodeArgv('process.exit(0)'), expectExitCode: 3 }))).rejects.toMatchObject({
      type: 'CommandFailed',
      message: expect.stringMatching(/exited 0.*expected 3/),
    });
  });

  test('a command that cannot be started fails at once, non-retryable, naming argv[0]', async () => {
    await expect(runCommand(input({ argv: ['drover-no-such-program', '--flag'] }))).rejects.toMatchObject({
      type: 'CommandFailed',
      nonRetryable: true,
      message: expect.stringMatching(/cannot start drover-no-such-program: .*not found/),
    });
  });

  test('a working directory that does not exist fails non-retryable, naming it', async () => {
    await expect(runCommand(input({ argv: nodeArgv('process.exit(0)'), cwd: 'no/such/folder' }))).rejects.toMatchObject(
      {
        type: 'CommandFailed',
        nonRetryable: true,
        message: expect.stringContaining('no/such/folder'),
      },
    );
  });
});

describe('runCommand: cancellation', () => {
  let dir: string;
  let started: number[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drover-cmd-'));
  });
  afterEach(() => {
    // Whatever the outcome, leave no process of this test behind.
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    started = [];
    rmSync(dir, { recursive: true, force: true });
  });

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  async function pidsIn(file: string, count: number): Promise<number[]> {
    for (let i = 0; i < 200; i++) {
      try {
        const pids = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        if (pids.length >= count) return pids;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no pids in ${file}`);
  }

  async function gone(pid: number): Promise<boolean> {
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    return !alive(pid);
  }

  test('cancelling the activity kills the command and the processes it started', async () => {
    const pidFile = join(dir, 'pids');
    // The command starts a grandchild (as a shell script would), then both wait forever.
    const grandchild = `require('fs').appendFileSync(${JSON.stringify(pidFile)}, process.pid + ' '); setInterval(() => {}, 1000);`;
    const script =
      `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' });` +
      `require('fs').appendFileSync(${JSON.stringify(pidFile)}, process.pid + ' '); setInterval(() => {}, 1000);`;
    const env = new MockActivityEnvironment();
    const running = runCommand(input({ argv: nodeArgv(script) }), env);
    const settled = running.then(
      () => 'resolved',
      () => 'rejected',
    );
    const pids = await pidsIn(pidFile, 2);
    started = pids;
    env.cancel();
    expect(await settled).toBe('rejected');
    for (const pid of pids) expect(await gone(pid)).toBe(true);
  });
});

describe('runCommand: secrets and redact patterns in what is kept', () => {
  test("the values of the step's env: references are masked, redact patterns replaced, in output and failure", async () => {
    const spec = {
      argv: nodeArgv(
        "console.log('dns=' + process.env.T + ' password=hunter2 ok'); console.error('again ' + process.env.T)",
      ),
      env: { T: 'env:DNS_TOKEN' },
      redact: ['password=\\S+'],
    };
    const out = await runCommand(input(spec));
    expect(out.output).toBe('dns=*** [redacted] ok\nagain ***\n');
    const failed = await runCommand(input({ ...spec, expectExitCode: 3 })).catch((e: Error) => e);
    expect((failed as Error).message).toContain('again ***');
    expect((failed as Error).message).not.toContain('dns-token-value');
    expect((failed as Error).message).not.toContain('hunter2');
  });
});

describe('Tail', () => {
  test('keeps the last bytes of a long stream, without a broken character at the cut', () => {
    const tail = new Tail(10);
    for (let i = 0; i < 1000; i++) tail.push(Buffer.from('ab'));
    tail.push(Buffer.from('é€end'));
    expect(tail.text()).toBe('abé€end'); // exactly 10 bytes
    const cut = new Tail(7);
    cut.push(Buffer.from('xxxxxxxxxxxxxxxxxxxxé€end'));
    expect(cut.text()).toBe('€end'); // the last byte of é is dropped, not shown as U+FFFD
    const short = new Tail(100);
    short.push(Buffer.from('hello '));
    short.push(Buffer.from('world'));
    expect(short.text()).toBe('hello world');
  });
});
