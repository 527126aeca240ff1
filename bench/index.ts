/**
 * `npm run bench`: numbers, printed, never asserted by a timed test.
 * Compiler: wall time to validate and to plan the large estate, each as a fresh `drover` process
 * would do it (the schema compiled once per process, included), plus in-process repeat timings.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, MODES } from '../compiler';
import { generateEstate } from './estate';
import { executionBench } from './run';

/** The repository: two folders up from dist/bench/, one from bench/ (the test runs the source). */
const ROOT = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

function wall(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`drover ${args.join(' ')} failed:\n${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** `runs` of each timing (the median printed); the short version in `npm test` gives 1. */
export function compilerBench(runs = 5): void {
  const file = 'runbooks/large-estate.yaml';
  const text = readFileSync(join(ROOT, file), 'utf8');
  const workloads = (text.match(/^ {6}- name: vm-/gm) ?? []).length;
  console.log(`compiler: ${file} (${workloads} workloads)`);
  const validate = median(Array.from({ length: runs }, () => wall(['validate', file])));
  const plan = median(
    Array.from({ length: runs }, () => wall(['plan', file, '--mode', 'planned-migration', '-o', 'json'])),
  );
  console.log(
    `  drover validate (all ${MODES.length} modes), wall, median of ${runs}: ${validate.toFixed(0)} ms  (target < 2000 ms)`,
  );
  console.log(
    `  drover plan --mode planned-migration, wall, median of ${runs}: ${plan.toFixed(0)} ms  (target < 2000 ms)`,
  );
  const inProc: number[] = [];
  let steps = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    steps = compile(text, { file, mode: 'planned-migration' }).plan!.steps.length;
    inProc.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`  compile() in process, median of ${runs}: ${median(inProc).toFixed(0)} ms for ${steps} steps`);
  const big = generateEstate({ workloads: 2000 });
  const t0 = process.hrtime.bigint();
  const bigPlan = compile(big, { file: 'estate-2000.yaml', mode: 'planned-migration' }).plan!;
  const bigMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `  compile() of a generated 2,000-workload estate: ${bigMs.toFixed(0)} ms for ${bigPlan.steps.length} steps, plan JSON ${(JSON.stringify(bigPlan).length / 1e6).toFixed(1)} MB`,
  );
}

async function main(): Promise<void> {
  // `npm run bench -- execution` (or `compiler`) runs one part.
  const only = process.argv[2];
  if (only !== 'execution') compilerBench();
  if (only === 'compiler') return;
  // BENCH_WORKLOADS: the estates to run, each on a fresh dev server (README, Scale).
  const sizes = (process.env.BENCH_WORKLOADS ?? '2000,5000').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`BENCH_WORKLOADS must be workload counts separated by commas, not ${process.env.BENCH_WORKLOADS}`);
  for (const workloads of sizes) {
    console.log('');
    await executionBench(workloads);
  }
}

if (require.main === module)
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
