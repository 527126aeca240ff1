/**
 * `npm run fuzz`: feeds mutants of the example runbooks to the compiler and prints crashes, hangs
 * (> 5 s), diagnostics without a position, and the slowest compile. Exits 1 if any of the first three
 * is not 0. Each input runs in a worker thread, so a hang is cut off (the worker is replaced) and counted.
 *
 *   FUZZ_INPUTS (default 10000)  FUZZ_SEED (default 1)  FUZZ_HANG_MS (default 5000)
 *
 * Inputs that fail are written to .fuzz/ (file, mode and what went wrong) to reproduce them.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MODES } from '../compiler';
import type { Mode } from '../compiler';
import type { FuzzInput, Verdict } from './fuzz-judge';
import { mutate, Rng } from './mutate';

const ROOT = join(__dirname, '..', '..');
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
const HANG_MS = Number(process.env.FUZZ_HANG_MS ?? 5_000);
const OUT = join(ROOT, '.fuzz');

/** The examples a user starts from (the 600-workload estate too: big inputs find slow paths). */
function examples(): { file: string; text: string }[] {
  const dir = join(ROOT, 'runbooks');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ file: `runbooks/${f}`, text: readFileSync(join(dir, f), 'utf8') }));
}

class Judge {
  private worker = this.spawn();
  private spawn(): Worker {
    return new Worker(join(__dirname, 'fuzz-worker.js'), { resourceLimits: { maxOldGenerationSizeMb: 2048 } });
  }
  /** The verdict, or 'hang' after HANG_MS (the worker is then replaced), or the worker's own death. */
  run(input: FuzzInput): Promise<Verdict | 'hang'> {
    return new Promise((resolve) => {
      const w = this.worker;
      const done = (v: Verdict | 'hang') => {
        clearTimeout(timer);
        w.removeAllListeners('message');
        w.removeAllListeners('error');
        resolve(v);
      };
      const timer = setTimeout(() => {
        void w.terminate();
        this.worker = this.spawn();
        done('hang');
      }, HANG_MS);
      w.once('message', (v: Verdict) => done(v));
      w.once('error', (e: Error) => {
        this.worker = this.spawn();
        done({ crash: `the worker died: ${e.message}`, unpositioned: 0, diagnostics: 0, ms: 0 });
      });
      w.postMessage(input);
    });
  }
  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

async function main(): Promise<void> {
  const rng = new Rng(SEED);
  const sources = examples();
  const modes: (Mode | undefined)[] = [undefined, ...MODES];
  const judge = new Judge();
  const kinds = new Map<string, { n: number; failed: number }>();
  let crashes = 0;
  let hangs = 0;
  let unpositioned = 0;
  let slowest = { ms: 0, kind: '', file: '', bytes: 0 };
  const times: number[] = [];
  const started = Date.now();
  console.log(`fuzz: ${INPUTS} mutants of ${sources.length} example runbooks, seed ${SEED}, hang after ${HANG_MS} ms`);
  for (let i = 0; i < INPUTS; i++) {
    const source = rng.pick(sources);
    const m = mutate(source.text, rng);
    const mode = modes[i % modes.length];
    const input: FuzzInput = { file: source.file, text: m.text, ...(mode ? { mode } : {}) };
    const v = await judge.run(input);
    const k = kinds.get(m.kind) ?? { n: 0, failed: 0 };
    k.n++;
    kinds.set(m.kind, k);
    let problem: string | undefined;
    if (v === 'hang') {
      hangs++;
      problem = `hang: no answer within ${HANG_MS} ms`;
    } else {
      times.push(v.ms);
      if (v.ms > slowest.ms) slowest = { ms: v.ms, kind: m.kind, file: source.file, bytes: m.text.length };
      if (v.crash) {
        crashes++;
        problem = v.crash;
      } else if (v.unpositioned > 0) {
        unpositioned += v.unpositioned;
        problem = `${v.unpositioned} diagnostic(s) without a position, e.g. ${v.unpositionedExample}`;
      }
    }
    if (problem) {
      k.failed++;
      mkdirSync(OUT, { recursive: true });
      const name = `${String(i).padStart(5, '0')}-${m.kind}`;
      writeFileSync(join(OUT, `${name}.yaml`), m.text);
      writeFileSync(
        join(OUT, `${name}.json`),
        JSON.stringify({ file: source.file, mode, kind: m.kind, problem }, null, 2),
      );
      console.log(`  input ${i} (${m.kind} of ${source.file}${mode ? `, mode ${mode}` : ''}): ${problem}`);
    }
    if ((i + 1) % 1000 === 0) console.log(`  ${i + 1} inputs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  await judge.stop();
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  console.log('by mutation:');
  for (const [kind, k] of [...kinds].sort())
    console.log(`  ${kind.padEnd(14)} ${String(k.n).padStart(6)} inputs, ${k.failed} failed`);
  console.log(`inputs:                    ${INPUTS}`);
  console.log(`crashes:                   ${crashes}`);
  console.log(`hangs (> ${HANG_MS} ms):         ${hangs}`);
  console.log(`unpositioned diagnostics:  ${unpositioned}`);
  console.log(
    `compile time: median ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, slowest ${slowest.ms.toFixed(0)} ms (${slowest.kind} of ${slowest.file}, ${slowest.bytes} bytes)`,
  );
  console.log(
    `goal: 0 crashes, 0 hangs, 0 unpositioned, slowest under 1000 ms: ${crashes + hangs + unpositioned === 0 && slowest.ms < 1000 ? 'met' : 'NOT met'}`,
  );
  if (crashes + hangs + unpositioned > 0) {
    console.log(`failing inputs are in ${OUT}`);
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 2;
});
