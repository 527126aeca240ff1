/**
 * One fuzz input judged: `compile` must return (never throw), report no internal error, and give every
 * diagnostic its file, line and column. Runs in `npm run fuzz`'s worker thread and in the short campaign of
 * `npm test` (test/compiler/fuzz.test.ts).
 */
import { compile } from '../compiler';
import type { Mode } from '../compiler';

export interface FuzzInput {
  file: string;
  text: string;
  mode?: Mode;
}

export interface Verdict {
  /** What went wrong when compile threw or reported an internal error. */
  crash?: string;
  /** Diagnostics without a file, a line ≥ 1 or a column ≥ 1 (the first one's text, and how many). */
  unpositioned: number;
  unpositionedExample?: string;
  diagnostics: number;
  ms: number;
}

export function judge(input: FuzzInput): Verdict {
  const t0 = process.hrtime.bigint();
  try {
    const { diagnostics } = compile(
      input.text,
      input.mode ? { file: input.file, mode: input.mode } : { file: input.file },
    );
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const internal = diagnostics.find((d) => d.code === 'compiler/internal');
    const bad = diagnostics.filter((d) => d.file !== input.file || !(d.line >= 1) || !(d.column >= 1));
    return {
      ...(internal ? { crash: `compiler/internal: ${internal.message}` } : {}),
      unpositioned: bad.length,
      ...(bad[0]
        ? { unpositionedExample: `${bad[0].code} at ${bad[0].line}:${bad[0].column}: ${bad[0].message}` }
        : {}),
      diagnostics: diagnostics.length,
      ms,
    };
  } catch (e) {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const err = e as Error;
    return { crash: `threw ${err.name}: ${err.message}`.slice(0, 500), unpositioned: 0, diagnostics: 0, ms };
  }
}
