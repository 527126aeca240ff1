/**
 * The commit recorded in a plan is the last one that touched the runbook (activities/git.ts `gitCommitOf`),
 * so an unrelated commit does not change what a plan says it was compiled from.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCommitOf } from '../../activities/git';

let dir: string;
const git = (...args: string[]) =>
  execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
    },
  }).trim();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-git-'));
  git('init', '-q');
  writeFileSync(join(dir, 'plan.yaml'), 'a: 1\n');
  git('add', 'plan.yaml');
  git('commit', '-q', '-m', 'runbook');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('an unrelated commit does not change the recorded commit', () => {
  const touched = git('rev-parse', 'HEAD');
  writeFileSync(join(dir, 'other.txt'), 'x\n');
  git('add', 'other.txt');
  git('commit', '-q', '-m', 'unrelated');
  expect(git('rev-parse', 'HEAD')).not.toBe(touched);
  expect(gitCommitOf('plan.yaml', dir)).toBe(touched);
});

test('a file changed since its last commit is marked dirty; a file never committed has no commit', () => {
  const touched = git('log', '-1', '--format=%H', '--', 'plan.yaml');
  writeFileSync(join(dir, 'plan.yaml'), 'a: 2\n');
  expect(gitCommitOf('plan.yaml', dir)).toBe(`${touched}-dirty`);
  writeFileSync(join(dir, 'new.yaml'), 'b: 1\n');
  expect(gitCommitOf('new.yaml', dir)).toBeUndefined();
});

test('outside a git checkout there is no commit', () => {
  const outside = mkdtempSync(join(tmpdir(), 'drover-nogit-'));
  try {
    writeFileSync(join(outside, 'plan.yaml'), 'a: 1\n');
    expect(gitCommitOf('plan.yaml', outside)).toBeUndefined();
  } finally {
    rmSync(outside, { recursive: true, force: true });
  }
});
