/**
 * The command line's manners, as a user meets them (the built bin as a child process): version, shell
 * completion, "did you mean", options per command, exit codes CI can tell apart, the confirmation a
 * disruptive mode asks for, and a saved plan that runs only while its runbook still compiles to it.
 * Nothing here needs Temporal: where a command would connect, it is pointed at a port nothing answers.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');
/** Port 9 (discard): nothing answers there. */
const NOWHERE = { TEMPORAL_ADDRESS: '127.0.0.1:9' };

function drover(opts: { cwd?: string; env?: Record<string, string>; input?: string }, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...NOWHERE, ...opts.env },
    input: opts.input ?? '',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--version and version (-o json)', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  expect(drover({}, '--version').stdout.trim()).toBe(pkg.version);
  const v = drover({}, 'version', '-o', 'json');
  expect(v.status).toBe(0);
  expect(JSON.parse(v.stdout)).toMatchObject({ drover: pkg.version, node: process.versions.node });
});

test('completion scripts: bash parses, and every command and its options are in them', () => {
  const bash = drover({}, 'completion', 'bash');
  expect(bash.status).toBe(0);
  const check = spawnSync('bash', ['-n'], { input: bash.stdout, encoding: 'utf8' });
  expect(check.stderr).toBe('');
  expect(check.status).toBe(0);
  for (const word of ['validate', 'plan', 'schedule', '--recovery-point', 'disaster-recovery', '--scenario', 'create'])
    expect(bash.stdout).toContain(word);
  // Completing "drover plan x --mode dis" in a real bash offers disaster-recovery.
  const words = 'drover plan runbooks/webshop.yaml --mode dis';
  const probe = `${bash.stdout}\nCOMP_WORDS=(${words}); COMP_CWORD=4; _drover; echo "\${COMPREPLY[@]}"`;
  expect(spawnSync('bash', ['-c', probe], { encoding: 'utf8' }).stdout.trim()).toBe('disaster-recovery');
  const fish = drover({}, 'completion', 'fish');
  expect(fish.stdout).toContain('complete -c drover -n');
  expect(fish.stdout).toContain("-l mode -s m -x -a 'test cleanup");
  expect(drover({}, 'completion', 'zsh').stdout).toContain('bashcompinit');
  expect(drover({}, 'completion', 'tcsh').status).toBe(2);
});

test('a typo gets a suggestion: command, option, mode; exit 2', () => {
  const command = drover({}, 'staus', 'x');
  expect(command.status).toBe(2);
  expect(command.stderr).toContain('(Did you mean status?)');
  const option = drover({}, 'plan', 'runbooks/webshop.yaml', '--mode', 'test', '--outptu', 'json');
  expect(option.status).toBe(2);
  expect(option.stderr).toContain('(Did you mean --output?)');
  const mode = drover({}, 'run', 'runbooks/webshop.yaml', '--mode', 'disaster-recover');
  expect(mode.status).toBe(2);
  expect(mode.stderr).toContain('did you mean disaster-recovery?');
});

test("options are per command: schedule list takes no --cron, report's --format is checked", () => {
  const r = drover({}, 'schedule', 'list', '--cron', 'x');
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("unknown option '--cron'");
  expect(drover({}, 'report', 'x', '--format', 'pdf').status).toBe(2);
  const help = drover({}, 'worker', '--help').stdout;
  expect(help).toContain('--orchestration');
  expect(help).toContain('--address <host:port>');
  expect(drover({}, 'report', '--help').stdout).toMatch(/markdown.*html.*junit.*json/s);
});

test('exit codes: 3 when Temporal cannot be reached, --address wins over TEMPORAL_ADDRESS', () => {
  const r = drover({ env: { TEMPORAL_ADDRESS: '127.0.0.1:7233' } }, 'status', 'x', '--address', '127.0.0.1:9');
  expect(r.status).toBe(3);
  expect(r.stderr).toContain('cannot reach Temporal at 127.0.0.1:9');
});

test('plan output to a pipe or file has no escape codes, even where colors would be forced off by nothing', () => {
  const r = drover({ env: { NO_COLOR: '' } }, 'plan', 'runbooks/webshop.yaml', '--mode', 'test');
  expect(r.status).toBe(0);
  expect(r.stdout).not.toContain('\u001b[');
});

describe('a disruptive mode asks first', () => {
  const dr = ['run', 'runbooks/orders-db.yaml', '--mode', 'disaster-recovery'];

  test('an answer other than yes starts nothing', () => {
    const r = drover({ input: 'no\n' }, ...dr);
    expect(r.stderr).toContain('disaster-recovery of orders-db: db-east → db-west');
    expect(r.stderr).toContain('Type yes to start it');
    expect(r.stderr).toContain('not started');
    expect(r.stderr).not.toContain('cannot reach Temporal');
    expect(r.status).toBe(1);
  });

  test('no answer (stdin closed) starts nothing and names --yes', () => {
    const r = drover({}, ...dr);
    expect(r.stderr).toContain('no answer (stdin closed); give --yes');
    expect(r.status).toBe(1);
  });

  test('yes, typed or --yes, goes on to start it (here: Temporal is unreachable, exit 3)', () => {
    expect(drover({ input: 'yes\n' }, ...dr).status).toBe(3);
    const flagged = drover({}, ...dr, '--yes');
    expect(flagged.stderr).not.toContain('Type yes');
    expect(flagged.status).toBe(3);
  });

  test('test mode does not ask', () => {
    const r = drover({}, 'run', 'runbooks/orders-db.yaml', '--mode', 'test');
    expect(r.stderr).not.toContain('Type yes');
    expect(r.status).toBe(3);
  });
});

describe('drover plan -o plan.json, then drover run --plan plan.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-saved-plan-'));
  copyFileSync(join(ROOT, 'runbooks', 'webshop.yaml'), join(dir, 'webshop.yaml'));

  test('the saved plan is checked against its runbook before anything starts', () => {
    const saved = drover({ cwd: dir }, 'plan', 'webshop.yaml', '--mode', 'test', '-o', 'plan.json');
    expect(saved.status).toBe(0);
    expect(saved.stdout).toContain('run exactly it with: drover run --plan plan.json');
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as { planHash: string; mode: string };
    expect(plan.mode).toBe('test');
    // Unchanged: it goes on to start (Temporal unreachable here).
    expect(drover({ cwd: dir }, 'run', '--plan', 'plan.json').status).toBe(3);
    // The runbook changed since: refused, nothing started.
    const text = readFileSync(join(dir, 'webshop.yaml'), 'utf8');
    writeFileSync(join(dir, 'webshop.yaml'), text.replace(/rto: \S+/, 'rto: 2h'));
    const changed = drover({ cwd: dir }, 'run', '--plan', 'plan.json');
    expect(changed.status).toBe(1);
    expect(changed.stderr).toContain(`webshop.yaml changed since plan.json was saved`);
    expect(changed.stderr).toContain(`not the reviewed ${plan.planHash.slice(0, 12)}; nothing was started`);
    expect(changed.stderr).not.toContain('cannot reach Temporal');
    // A plan file edited by hand no longer has its own hash.
    writeFileSync(join(dir, 'webshop.yaml'), text);
    writeFileSync(join(dir, 'plan.json'), JSON.stringify({ ...plan, mode: 'test', maxParallel: 1 }));
    const edited = drover({ cwd: dir }, 'run', '--plan', 'plan.json');
    expect(edited.status).toBe(1);
    expect(edited.stderr).toContain('was edited after it was saved');
    expect(drover({ cwd: dir }, 'run', 'webshop.yaml', '--plan', 'plan.json').status).toBe(2);
  });
});

test('explain: a code with its example; an unknown code gets a suggestion', () => {
  const r = drover({}, 'explain', 'graph/cycle');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('graph/cycle');
  expect(r.stdout).toMatch(/Wrong:/);
  const typo = drover({}, 'explain', 'graph/cycel');
  expect(typo.status).toBe(2);
  expect(typo.stderr).toContain('did you mean graph/cycle?');
});

test.each(['simulator', 'vsphere', 'postgres'])('init --provider %s writes a runbook that validates', (provider) => {
  const dir = mkdtempSync(join(tmpdir(), 'drover-init-'));
  const r = drover({ cwd: dir }, 'init', '--provider', provider);
  expect(r.status).toBe(0);
  const file = join(dir, 'runbooks', `${provider}-starter.yaml`);
  const text = readFileSync(file, 'utf8');
  // The modeline points at this Drover's schema, relative to the runbook, so it works outside this repository.
  const schema = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)![1]!;
  expect(readFileSync(join(dir, 'runbooks', schema), 'utf8')).toContain('"title": "Drover recovery plan"');
  expect(drover({ cwd: dir }, 'validate', 'runbooks').status).toBe(0);
  expect(drover({ cwd: dir }, 'init', '--provider', provider).status).toBe(1);
});
