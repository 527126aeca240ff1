/**
 * Colours are decided per stream: the plan tree goes to stdout and is coloured only when stdout is a
 * terminal; diagnostics go to stderr and are coloured only when stderr is one. In process, with fake streams.
 */
import { join } from 'node:path';
import { run } from '../../cli/main';
import { useColor } from '../../cli/io';
import type { CliIO } from '../../cli/io';

const ROOT = join(__dirname, '..', '..');
const ESC = '\u001b[';

function fakeIO(tty: { stdout: boolean; stderr: boolean }, env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    env,
    cwd: ROOT,
    stdoutIsTTY: tty.stdout,
    stderrIsTTY: tty.stderr,
  };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

async function drover(tty: { stdout: boolean; stderr: boolean }, env: NodeJS.ProcessEnv, ...argv: string[]) {
  const f = fakeIO(tty, env);
  const code = await run(argv, f.io);
  return { code, stdout: f.stdout(), stderr: f.stderr() };
}

describe('colour per stream', () => {
  const plan = ['plan', 'runbooks/webshop.yaml', '--mode', 'test'];
  const broken = ['plan', 'test/fixtures/broken.yaml', '--mode', 'test'];

  test('plan with stdout redirected and stderr a terminal: no escape codes on stdout', async () => {
    const r = await drover({ stdout: false, stderr: true }, {}, ...plan);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('database (priority 1)');
    expect(r.stdout).not.toContain(ESC);
  });

  test('plan with stdout a terminal and stderr redirected: the tree is coloured', async () => {
    const r = await drover({ stdout: true, stderr: false }, {}, ...plan);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ESC);
  });

  test("diagnostics follow stderr's terminal, not stdout's", async () => {
    const toTerminal = await drover({ stdout: false, stderr: true }, {}, ...broken);
    expect(toTerminal.stderr).toContain('[graph/cycle]');
    expect(toTerminal.stderr).toContain(ESC);
    const toFile = await drover({ stdout: true, stderr: false }, {}, ...broken);
    expect(toFile.stderr).toContain('error[graph/cycle]');
    expect(toFile.stderr).not.toContain(ESC);
  });

  test('validate: the file list on stdout and the diagnostics on stderr each follow their own stream', async () => {
    const r = await drover({ stdout: false, stderr: true }, {}, 'validate', 'test/fixtures/broken.yaml');
    expect(r.stdout).not.toContain(ESC);
    expect(r.stderr).toContain(ESC);
  });

  test('FORCE_COLOR forces colours without a terminal; NO_COLOR and --no-color turn them off', async () => {
    const none = { stdout: false, stderr: false };
    const both = { stdout: true, stderr: true };
    expect((await drover(none, { FORCE_COLOR: '1' }, ...plan)).stdout).toContain(ESC);
    expect((await drover(none, { FORCE_COLOR: '1' }, ...broken)).stderr).toContain(ESC);
    expect((await drover(both, { FORCE_COLOR: '0' }, ...plan)).stdout).not.toContain(ESC);
    expect((await drover(both, { NO_COLOR: '1' }, ...plan)).stdout).not.toContain(ESC);
    expect((await drover(none, { NO_COLOR: '1', FORCE_COLOR: '1' }, ...plan)).stdout).not.toContain(ESC);
    expect((await drover(both, { FORCE_COLOR: '1' }, ...plan, '--no-color')).stdout).not.toContain(ESC);
  });
});

describe('useColor', () => {
  const io = (tty: { stdout: boolean; stderr: boolean }, env: NodeJS.ProcessEnv = {}) => fakeIO(tty, env).io;

  test.each([
    // [stream, stdout TTY, stderr TTY, env, flag, expected]
    ['stdout', true, false, {}, undefined, true],
    ['stdout', false, true, {}, undefined, false],
    ['stderr', false, true, {}, undefined, true],
    ['stderr', true, false, {}, undefined, false],
    ['stdout', true, true, { NO_COLOR: '1' }, undefined, false],
    ['stdout', true, true, { NO_COLOR: '' }, undefined, true], // empty NO_COLOR is unset (no-color.org)
    ['stdout', false, false, { FORCE_COLOR: '1' }, undefined, true],
    ['stdout', false, false, { FORCE_COLOR: 'true' }, undefined, true],
    ['stdout', false, false, { FORCE_COLOR: '' }, undefined, false],
    ['stdout', true, true, { FORCE_COLOR: '0' }, undefined, false],
    ['stdout', false, false, { NO_COLOR: '1', FORCE_COLOR: '1' }, undefined, false],
    ['stdout', true, true, {}, false, false],
    ['stdout', false, false, {}, true, true],
    ['stdout', false, false, { NO_COLOR: '1' }, true, true], // the command line beats the environment
  ] as const)('%s (stdout TTY %s, stderr TTY %s, env %j, flag %s) → %s', (stream, o, e, env, flag, expected) => {
    expect(useColor(io({ stdout: o, stderr: e }, { ...env }), stream, flag)).toBe(expected);
  });
});
