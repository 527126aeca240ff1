/**
 * Golden plans for the example runbooks in every mode, and properties every plan must have.
 * Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 npx jest test/compiler/plans`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compile, MODES } from '../../compiler';
import type { Mode, Plan } from '../../compiler';
import { waitsFor } from '../helpers';

const ROOT = join(__dirname, '..', '..');
const GOLDEN = join(ROOT, 'test', 'golden');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const planOf = (file: string, mode: Mode): Plan => {
  const r = compile(read(file), { file, mode });
  if (!r.plan) throw new Error(JSON.stringify(r.diagnostics));
  return r.plan;
};

describe('golden plans', () => {
  for (const file of ['runbooks/webshop.yaml', 'runbooks/orders-db.yaml']) {
    for (const mode of MODES) {
      test(`${file} in ${mode} mode`, () => {
        const json = JSON.stringify(planOf(file, mode), null, 2) + '\n';
        const golden = join(GOLDEN, `${file.replace(/^runbooks\/|\.yaml$/g, '')}.${mode}.json`);
        if (process.env.UPDATE_GOLDEN) {
          mkdirSync(GOLDEN, { recursive: true });
          writeFileSync(golden, json);
        }
        if (!existsSync(golden)) throw new Error(`missing ${golden}: run with UPDATE_GOLDEN=1 and review it`);
        expect(json).toBe(readFileSync(golden, 'utf8'));
      });
    }
  }
});

describe('plan properties', () => {
  const runbooks = ['runbooks/webshop.yaml', 'runbooks/orders-db.yaml', 'runbooks/large-estate.yaml'];
  for (const file of runbooks) {
    for (const mode of MODES) {
      test(`${file} ${mode}: deterministic, ordered, acyclic, hashed`, () => {
        const a = planOf(file, mode);
        const b = planOf(file, mode);
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
        const position = new Map(a.steps.map((s, i) => [s.id, i]));
        expect(position.size).toBe(a.steps.length); // ids are unique
        for (const s of a.steps) {
          for (const d of s.dependsOn) {
            // Every dependency exists and comes earlier: the list is a topological order, so no cycle.
            expect(position.get(d)).toBeLessThan(position.get(s.id)!);
          }
        }
        expect(a.planHash).toMatch(/^[0-9a-f]{64}$/);
        expect(a.criticalPath.stepIds.every((id) => position.has(id))).toBe(true);
      });
    }
  }

  test('the hash changes when the runbook does', () => {
    const text = read('runbooks/webshop.yaml');
    const a = compile(text, { file: 'w.yaml', mode: 'test' }).plan!;
    const b = compile(text.replace('rto: 1h', 'rto: 2h'), { file: 'w.yaml', mode: 'test' }).plan!;
    expect(a.planHash).not.toBe(b.planHash);
    expect(a.source.sha256).not.toBe(b.source.sha256);
  });

  test('the hash covers the content only: the git commit is recorded beside it, not hashed', () => {
    // A commit elsewhere in the repository moves HEAD but does not change what the plan does.
    const text = read('runbooks/webshop.yaml');
    const a = compile(text, { file: 'w.yaml', mode: 'test', gitCommit: 'a'.repeat(40) }).plan!;
    const b = compile(text, { file: 'w.yaml', mode: 'test', gitCommit: 'b'.repeat(40) }).plan!;
    const none = compile(text, { file: 'w.yaml', mode: 'test' }).plan!;
    expect(a.source.gitCommit).toBe('a'.repeat(40));
    expect(b.source.gitCommit).toBe('b'.repeat(40));
    expect(none.source.gitCommit).toBeUndefined();
    expect(a.planHash).toBe(b.planHash);
    expect(a.planHash).toBe(none.planHash);
  });
});

describe('recovery order', () => {
  const plan = planOf('runbooks/webshop.yaml', 'planned-migration');

  test('priorities: every priority-3 power-on waits for every priority-2 workload to validate', () => {
    for (const web of ['web-1', 'web-2']) {
      for (const app of ['app-1', 'app-2', 'payments'])
        expect(waitsFor(plan, `${web}/powerOn`, `${app}/validate`)).toBe(true);
    }
  });

  test('dependsOn across the group: payments powers on after orders-db, not after the rest of its tier', () => {
    expect(waitsFor(plan, 'payments/powerOn', 'orders-db/validate')).toBe(true);
    expect(waitsFor(plan, 'payments/powerOn', 'app-1/validate')).toBe(false);
  });

  test('storage work is not held back by the order: restores run before the database is up', () => {
    expect(waitsFor(plan, 'web-1/restore', 'orders-db/validate')).toBe(false);
  });

  test('shutdown goes in reverse: web first, the database last', () => {
    expect(waitsFor(plan, 'orders-db/shutdown', 'payments/shutdown')).toBe(true);
    expect(waitsFor(plan, 'app-1/shutdown', 'web-1/shutdown')).toBe(true);
    expect(waitsFor(plan, 'web-1/shutdown', 'orders-db/shutdown')).toBe(false);
  });

  test('the approval gates everything, and DNS switches last', () => {
    for (const s of plan.steps.filter((s) => s.workload))
      expect(waitsFor(plan, s.id, 'plan/approve-failover')).toBe(true);
    for (const s of plan.steps.filter((s) => s.kind === 'validate'))
      expect(waitsFor(plan, 'plan/switch-dns', s.id)).toBe(true);
  });

  test('cross-priority dependsOn in the large estate is honoured', () => {
    const estate = planOf('runbooks/large-estate.yaml', 'test');
    const rb = read('runbooks/large-estate.yaml');
    const m = /- name: (vm-\d+)\n\s+simulator:[^\n]*\n(?:\s+\w+:[^\n]*\n)*?\s+dependsOn:\n\s+- (vm-\d+)/.exec(rb);
    expect(m).not.toBeNull();
    expect(
      waitsFor(estate, `${m![1]}/powerOn`, `${m![2]}/validate`) ||
        waitsFor(estate, `${m![1]}/powerOn`, `${m![2]}/waitReady`),
    ).toBe(true);
  });

  test('test mode never touches the protected site beyond replication, and restores into the test network', () => {
    const t = planOf('runbooks/webshop.yaml', 'test');
    const east = t.steps.filter((s) => s.site === 'dc-east').map((s) => s.kind);
    expect(new Set(east)).toEqual(new Set(['syncReplication']));
    for (const r of t.steps.filter((s) => s.kind === 'restore')) expect(r.params.network).toBe('shop-test-bubble');
  });

  test('every step that changes something in test mode has a compensation, so cleanup-on-abort is complete', () => {
    const t = planOf('runbooks/webshop.yaml', 'test');
    for (const s of t.steps.filter((s) => ['snapshot', 'restore', 'powerOn', 'createTestNetwork'].includes(s.kind))) {
      expect(s.compensation).toBeDefined();
    }
  });

  test('failback runs from the recovery site back to the protected one', () => {
    const f = planOf('runbooks/webshop.yaml', 'failback');
    expect([f.from, f.to]).toEqual(['dc-west', 'dc-east']);
    expect(f.steps.find((s) => s.id === 'orders-db/shutdown')?.site).toBe('dc-west');
  });

  test('disaster recovery treats the protected site as best effort', () => {
    const dr = planOf('runbooks/webshop.yaml', 'disaster-recovery');
    for (const s of dr.steps.filter((s) => s.site === 'dc-east')) {
      expect(s.onFailure).toBe('continue');
      expect(s.retry.maximumAttempts).toBe(1);
    }
  });

  test('tabletop touches nothing: every step is a confirmation', () => {
    const tt = planOf('runbooks/webshop.yaml', 'tabletop');
    expect(new Set(tt.steps.map((s) => s.kind))).toEqual(new Set(['confirm', 'barrier']));
    expect(tt.steps.some((s) => s.compensation)).toBe(false);
  });
});
