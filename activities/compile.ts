/**
 * Reading and compiling a runbook (and its drill scenario) on the worker, for the plan activities
 * (activities/plan.ts, activities/drill.ts). The last few compiled plans are kept: every shard of a large
 * run asks for its slice of the same one.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { compile, formatDiagnostic, sha256 } from '../compiler';
import type { Partition, Plan } from '../compiler';
import { DEFAULT_SHARD_SIZE, partitionPlan } from '../compiler/partition';
import { isPlainName, outsideOf } from '../compiler/paths';
import { compileDrill } from '../compiler/scenario';
import type { Scenario } from '../compiler/scenario';
import { gitCommitOf } from './git';
import type { CompileInput } from '../contracts/activities';

export interface CompiledRunbook {
  plan: Plan;
  partition: Partition | undefined;
  scenario: Scenario | undefined;
}

export interface RunbookCompiler {
  /** The runbook's text, read relative to the worker's folder. */
  read(runbook: string): Promise<string>;
  /** Its plan (and partition, and drill scenario), from the cache when the same input compiled before. */
  compile(input: CompileInput, text: string): CompiledRunbook;
}

export function createRunbookCompiler(cwd: string): RunbookCompiler {
  const compiled = new Map<string, CompiledRunbook>();

  async function read(runbook: string): Promise<string> {
    try {
      return await readFile(resolve(cwd, runbook), 'utf8');
    } catch {
      throw invalidRunbook(`cannot read runbook ${runbook} on the worker (relative paths are from ${cwd})`);
    }
  }

  function compileCached(input: CompileInput, text: string): CompiledRunbook {
    const commit = gitCommitOf(input.runbook, cwd);
    const size = input.shardSize ?? DEFAULT_SHARD_SIZE;
    const scenario = input.scenario ? readScenario(cwd, input.runbook, input.scenario) : undefined;
    const outside = input.simulationDir !== undefined ? outsideOf('.drover/drills', input.simulationDir) : undefined;
    if (outside)
      throw invalidRunbook(
        `a drill's simulated site would live in ${input.simulationDir}, which ${outside}: give the drill a workflow id without \`..\` (drover drill --id)`,
      );
    const key = [
      input.runbook,
      input.mode,
      commit ?? '',
      size,
      sha256(text),
      scenario?.sha256 ?? '',
      input.seed ?? '',
      input.simulationDir ?? '',
    ].join('|');
    const hit = compiled.get(key);
    if (hit) return hit;
    const result = scenario
      ? compileDrill(text, input.runbook, scenario.text, scenario.file, {
          ...(commit ? { gitCommit: commit } : {}),
          ...(input.seed !== undefined ? { seed: input.seed } : {}),
          ...(input.simulationDir ? { simulationDir: input.simulationDir } : {}),
        })
      : compile(text, { file: input.runbook, mode: input.mode, ...(commit ? { gitCommit: commit } : {}) });
    if (!result.plan) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      throw ApplicationFailure.create({
        type: 'InvalidRunbook',
        nonRetryable: true,
        message: `${input.runbook}${scenario ? ` with scenario ${scenario.file}` : ''} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((d) => formatDiagnostic(d, d.file === scenario?.file ? scenario.text : text, { color: false })).join('\n')}`,
        details: [errors],
      });
    }
    const entry = {
      plan: result.plan,
      partition: partitionPlan(result.plan, size),
      scenario: 'scenario' in result ? (result.scenario as Scenario | undefined) : undefined,
    };
    compiled.set(key, entry);
    if (compiled.size > 4) compiled.delete(compiled.keys().next().value!);
    return entry;
  }

  return { read, compile: compileCached };
}

/** A drill scenario: `scenarios/<name>.yaml` in the runbook's folder. */
function readScenario(cwd: string, runbook: string, name: string): { file: string; text: string; sha256: string } {
  if (!isPlainName(name))
    throw invalidRunbook(
      `"${name}" cannot name a drill scenario: a scenario is a file name in scenarios/ next to the runbook (letters, digits, . _ -)`,
    );
  const file = join(dirname(runbook), 'scenarios', `${name}.yaml`);
  try {
    const text = readFileSync(resolve(cwd, file), 'utf8');
    return { file, text, sha256: sha256(text) };
  } catch {
    throw invalidRunbook(
      `no drill scenario ${name}: cannot read ${file} on the worker (relative paths are from ${cwd})`,
    );
  }
}

function invalidRunbook(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidRunbook', nonRetryable: true, message });
}
