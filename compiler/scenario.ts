/**
 * Drill scenarios: YAML files (`runbooks/scenarios/<name>.yaml`, schema `schemas/scenario.schema.json`)
 * that replace a runbook's simulation block for one simulated drill, and say how it is run.
 *
 * A drill never touches the world outside the simulated site: its custom `command` and `http` steps (and
 * their compensations) are replaced by simulated waits that record what they would have done. A DNS switch
 * in a drill must not move real DNS.
 */
import { compile, planHashOf, sha256 } from './index';
import type { Diagnostic } from './diagnostics';
import { hasErrors, sortDiagnostics } from './diagnostics';
import type { JsonObject, Mode, Plan, PlanStep } from '../contracts/plan';
import type { Runbook } from './runbook';
import { schemaDiagnostics } from './schema';
import { RunbookSource } from './source';
import { simulation } from './steps';

export interface ScenarioAnswer {
  step: string;
  by: string;
  decision: 'approve' | 'reject' | 'dismiss';
}

export interface Scenario {
  name: string;
  description: string;
  mode: Mode;
  file: string;
  sha256: string;
  simulation: NonNullable<Runbook['simulation']>;
  pauseOnFailure: string[];
  answers: ScenarioAnswer[];
}

/** Reads a scenario file's text: structure (with line and column), then its names against the runbook. */
export function compileScenario(text: string, file: string): { scenario?: Scenario; diagnostics: Diagnostic[] } {
  const source = new RunbookSource(file, text);
  const diagnostics = [...source.syntaxDiagnostics()];
  if (!hasErrors(diagnostics)) diagnostics.push(...schemaDiagnostics(source, 'scenario'));
  if (hasErrors(diagnostics)) return { diagnostics: sortDiagnostics(diagnostics) };
  const d = source.data as {
    name: string;
    description: string;
    mode?: Mode;
    simulation: NonNullable<Runbook['simulation']>;
    pauseOnFailure?: string[];
    answers?: { step: string; by: string; decision?: ScenarioAnswer['decision'] }[];
  };
  return {
    scenario: {
      name: d.name,
      description: d.description,
      mode: d.mode ?? 'test',
      file,
      sha256: sha256(text),
      simulation: d.simulation,
      pauseOnFailure: d.pauseOnFailure ?? [],
      answers: (d.answers ?? []).map((a) => ({ step: a.step, by: a.by, decision: a.decision ?? 'approve' })),
    },
    diagnostics,
  };
}

export interface DrillOptions {
  /** Replaces the scenario's seed: same seed, same faults. */
  seed?: number;
  /** Where the drill's private simulated site lives (relative to the worker's folder). */
  simulationDir?: string;
}

/**
 * Compiles the runbook for the scenario's mode with the scenario's simulation, and makes the plan a drill
 * plan. Errors name the scenario file (or the runbook) with line and column.
 */
export function compileDrill(
  runbookText: string,
  runbookFile: string,
  scenarioText: string,
  scenarioFile: string,
  options: DrillOptions & { gitCommit?: string } = {},
): { plan?: Plan; scenario?: Scenario; diagnostics: Diagnostic[] } {
  const { scenario, diagnostics } = compileScenario(scenarioText, scenarioFile);
  if (!scenario) return { diagnostics };
  const compiled = compile(runbookText, {
    file: runbookFile,
    mode: scenario.mode,
    ...(options.gitCommit ? { gitCommit: options.gitCommit } : {}),
  });
  if (!compiled.plan) return { diagnostics: [...diagnostics, ...compiled.diagnostics] };
  const rb = new RunbookSource(runbookFile, runbookText).data as Runbook;
  const problems = scenarioRefs(scenarioText, scenarioFile, scenario, compiled.plan, rb);
  if (problems.length) return { diagnostics: sortDiagnostics([...diagnostics, ...problems]) };
  return { plan: drillPlan(compiled.plan, rb, scenario, options), scenario, diagnostics: compiled.diagnostics };
}

/** Names in the scenario that the runbook does not have. */
function scenarioRefs(text: string, file: string, s: Scenario, plan: Plan, rb: Runbook): Diagnostic[] {
  const source = new RunbookSource(file, text);
  const out: Diagnostic[] = [];
  const workloads = plan.workloads.map((w) => w.name);
  const steps = new Set(plan.steps.map((x) => x.id));
  (s.simulation.faults ?? []).forEach((f, i) => {
    if (f.workload && !workloads.includes(f.workload))
      out.push(
        source.diagnostic(
          'ref/unknown',
          ['simulation', 'faults', i, 'workload'],
          `fault names workload "${f.workload}", which ${rb.metadata.name} does not have`,
          `workloads: ${workloads.slice(0, 12).join(', ')}${workloads.length > 12 ? ', ...' : ''}`,
        ),
      );
  });
  const stepRef = (id: string, path: (string | number)[]) => {
    if (!steps.has(id))
      out.push(
        source.diagnostic(
          'ref/unknown',
          path,
          `no step "${id}" in the ${s.mode} plan of ${rb.metadata.name}`,
          '`drover plan <runbook> --mode ' + s.mode + '` lists the step ids',
        ),
      );
  };
  s.pauseOnFailure.forEach((id, i) => stepRef(id, ['pauseOnFailure', i]));
  s.answers.forEach((a, i) => stepRef(a.step, ['answers', i, 'step']));
  return out;
}

function drillPlan(plan: Plan, rb: Runbook, s: Scenario, options: DrillOptions): Plan {
  // The scenario's simulation block, over the runbook's (latency and recovery point age stay unless given).
  const merged = { ...(rb.simulation ?? {}), ...s.simulation };
  const sim = simulation({ ...rb, simulation: merged });
  if (options.seed !== undefined) sim.seed = options.seed;
  const sites = Object.fromEntries(
    Object.entries(plan.sites).map(([name, site]) => [
      name,
      options.simulationDir && site.provider === 'simulator'
        ? { ...site, connection: { ...site.connection, stateDir: options.simulationDir } }
        : site,
    ]),
  );
  const simulated = new Set(
    Object.values(sites)
      .filter((x) => x.provider === 'simulator')
      .map((x) => x.name),
  );
  const steps = plan.steps.map((step) =>
    simulatedStep(simulated.has(step.site) ? onSimulator(step) : step, s.pauseOnFailure.includes(step.id)),
  );
  const body: Omit<Plan, 'planHash'> & { planHash?: string } = {
    ...plan,
    sites,
    steps,
    simulation: sim,
    labels: { ...plan.labels, 'drover.dev/scenario': s.name },
  };
  delete body.planHash;
  return { ...body, planHash: planHashOf(body) } as Plan;
}

/**
 * A workload of a simulator site recovered by another provider (`params.provider`, e.g. a real PostgreSQL
 * pair) is simulated in a drill like the others: its steps go to the simulated site, not to the servers.
 */
function onSimulator(step: PlanStep): PlanStep {
  if (step.params.provider === undefined) return step;
  const strip = (params: JsonObject): JsonObject => {
    const rest = { ...params };
    delete rest.provider;
    return rest;
  };
  const out: PlanStep = { ...step, params: strip(step.params) };
  if (step.compensation) out.compensation = { ...step.compensation, params: strip(step.compensation.params) };
  return out;
}

/** Custom commands and HTTP calls do not run in a drill: a wait stands in, saying what would have run. */
function simulatedStep(step: PlanStep, pause: boolean): PlanStep {
  let out = pause ? { ...step, onFailure: 'pause' as const } : step;
  if (step.kind === 'command' || step.kind === 'http') {
    const rest = { ...out };
    delete rest.compensation;
    out = {
      ...rest,
      kind: 'wait',
      params: { durationMs: 0, simulates: step.kind, wouldRun: describe(step) },
    };
  }
  return out;
}

function describe(step: PlanStep): string {
  const p = step.params as JsonObject;
  if (step.kind === 'http') return `${String(p.method ?? 'GET')} ${String(p.url)}`;
  return Array.isArray(p.argv) ? p.argv.join(' ') : step.id;
}
