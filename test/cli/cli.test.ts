/**
 * The `drover` command run as a user runs it: a child process of the built bin, its exit status and
 * what it prints. `npm test` builds first (pretest).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

function drover(...args: string[]) {
  return droverWith({}, ...args);
}

function droverWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, all: r.stdout + r.stderr };
}

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('drover validate', () => {
  test('the example folder is valid: exit 0', () => {
    const r = drover('validate', 'runbooks/');
    expect(r.stdout).toContain('5 runbooks valid');
    expect(r.status).toBe(0);
  });

  test('a broken runbook: every problem with file:line:col and a caret, exit 1, no stack trace', () => {
    const r = drover('validate', 'test/fixtures/broken.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('test/fixtures/broken.yaml:31:14: error[yaml/syntax]');
    expect(r.stderr).toContain('test/fixtures/broken.yaml:21:9: error[schema/unknown-key]: unknown key "powrOn"');
    expect(r.stderr).toContain('test/fixtures/broken.yaml:26:27: error[ref/unknown]');
    expect(r.stderr).toContain(
      'test/fixtures/broken.yaml:18:21: error[graph/cycle]: dependency cycle: db-1 → web-1 → db-1',
    );
    expect(r.stderr).toMatch(/\n\s+\| +\^/); // the caret line
    expect(r.stderr).not.toContain('\u001b['); // NO_COLOR
    noStackTrace(r.all);
  });

  test('-o json lists the diagnostics for tools', () => {
    const r = drover('validate', 'test/fixtures/broken.yaml', '-o', 'json');
    expect(r.status).toBe(1);
    const [result] = JSON.parse(r.stdout) as { valid: boolean; diagnostics: { code: string; line: number }[] }[];
    expect(result!.valid).toBe(false);
    expect(result!.diagnostics.map((d) => d.code)).toEqual(
      expect.arrayContaining(['yaml/syntax', 'schema/unknown-key', 'ref/unknown', 'graph/cycle']),
    );
  });

  test('a missing file is reported, not thrown', () => {
    const r = drover('validate', 'runbooks/nope.yaml');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('runbooks/nope.yaml: no such file or folder');
    noStackTrace(r.all);
  });

  test('a folder is searched recursively', () => {
    const r = drover('validate', 'test/fixtures');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✗ test/fixtures/broken.yaml');
  });

  test('an unreadable runbook is a diagnostic (file/unreadable)', () => {
    const r = drover('plan', 'runbooks/nope.yaml', '--mode', 'test');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('runbooks/nope.yaml: error[file/unreadable]: cannot read the runbook: no such file');
    noStackTrace(r.all);
  });
});

describe('drover plan', () => {
  test('json: a plan that honours priorities and dependsOn, with a critical-path estimate', () => {
    const r = drover('plan', 'runbooks/webshop.yaml', '--mode', 'planned-migration', '-o', 'json');
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.mode).toBe('planned-migration');
    expect(plan.criticalPath.estimateMs).toBeGreaterThan(0);
    expect(plan.source.gitCommit === undefined || /^[0-9a-f]{40}/.test(plan.source.gitCommit)).toBe(true);
    const payments = plan.steps.find((s: { id: string }) => s.id === 'payments/powerOn');
    expect(payments.dependsOn).toContain('orders-db/validate');
  });

  test('text shows the tree and the critical path against the RTO', () => {
    const r = drover('plan', 'runbooks/webshop.yaml', '--mode', 'test');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('database (priority 1)');
    expect(r.stdout).toMatch(/critical path: \S+ estimated, within the RTO of 1h/);
  });

  test.each(['mermaid', 'dot'])('%s output', (format) => {
    const r = drover('plan', 'runbooks/orders-db.yaml', '--mode', 'disaster-recovery', '--output', format);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(format === 'dot' ? 'digraph' : 'flowchart TD');
  });

  test('a broken runbook prints its diagnostics and no plan', () => {
    const r = drover('plan', 'test/fixtures/broken.yaml', '--mode', 'test');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[graph/cycle]');
  });
});

describe('drover run', () => {
  test('without a reachable Temporal it says what to check, and nothing runs', () => {
    // Port 9 (discard): nothing answers there, whatever runs on this machine.
    const r = droverWith({ TEMPORAL_ADDRESS: '127.0.0.1:9' }, 'run', 'runbooks/webshop.yaml', '--mode', 'test');
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/cannot reach Temporal at 127\.0\.0\.1:9 /);
    expect(r.stderr).toContain('= hint: check --address / TEMPORAL_ADDRESS');
    noStackTrace(r.stderr);
  });
});

describe('a reader that goes away (drover ... | head)', () => {
  // large-estate's plan is some 250 kB: far more than a pipe holds, so writes go on after the reader closed.
  test.each([
    ['plan', 'runbooks/large-estate.yaml', '--mode', 'test'],
    ['validate', 'runbooks/'],
  ])('%s %s: ends quietly, without EPIPE or a stack trace', async (...args) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(stderr).not.toMatch(/Error|EPIPE/);
    noStackTrace(stderr);
    expect(code).toBe(0);
  });
});

describe('usage', () => {
  test('unknown mode, missing arguments and unknown options exit 2 with the usage line', () => {
    for (const args of [
      ['plan', 'runbooks/webshop.yaml', '--mode', 'party'],
      ['plan', 'runbooks/webshop.yaml'],
      ['validate'],
      ['validate', '--frobnicate', 'x'],
      ['dance'],
    ]) {
      const r = drover(...args);
      expect(r.status).toBe(2);
      noStackTrace(r.all);
    }
    expect(drover('plan', 'runbooks/webshop.yaml', '--mode', 'party').stderr).toContain(
      "argument 'party' is invalid. use one of test, cleanup",
    );
  });

  test('a drill scenario or id that is a path out of its folder is refused before anything runs', () => {
    const scenario = drover('drill', 'runbooks/webshop.yaml', '--scenario', '../../etc/passwd');
    expect(scenario.status).toBe(2);
    expect(scenario.stderr).toContain('a scenario is a file name in runbooks/scenarios');
    const id = drover('drill', 'runbooks/webshop.yaml', '--scenario', 'site-down', '--id', '../../x');
    expect(id.status).toBe(2);
    expect(id.stderr).toContain("a drill's id names its folder under .drover/drills/");
    noStackTrace(scenario.all + id.all);
  });

  test('--help everywhere', () => {
    for (const args of [['--help'], ['validate', '--help'], ['plan', '--help']]) {
      const r = drover(...args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/drover/);
    }
  });
});
