/** What a tabletop exercise finds, from its record; and how a typed answer is read. */
import { parseAnswer } from '../../cli/tabletop';
import { tabletopFindings } from '../../reports/gaps';
import type { RunRecord, StepRecord } from '../../contracts/record';

const MIN = 60_000;

function record(steps: Partial<StepRecord>[]): RunRecord {
  return {
    workflowId: 'tt',
    plan: {
      name: 'shop',
      mode: 'tabletop',
      planHash: 'h',
      sourceFile: 'f',
      sourceSha256: 's',
      from: 'a',
      to: 'b',
      estimatedRtoMs: 90 * MIN,
    },
    status: 'succeeded',
    startedAt: 0,
    endedAt: 30 * MIN,
    objectives: { rpoMs: 5 * MIN, rtoMs: 60 * MIN },
    achieved: {},
    steps: steps.map((s, i) => ({
      id: `s${i}`,
      kind: 'confirm',
      site: 'west',
      status: 'succeeded',
      attempts: 1,
      ...s,
    })),
    events: [],
  };
}
const answer = (decision: 'done' | 'blocked' | 'skipped', by = 'alice', comment?: string) => [
  { by, at: 1, decision, ...(comment ? { comment } : {}) },
];

test('blocked steps, slow steps and approvals nobody listed could give are gaps; the RTO estimate is judged', () => {
  const f = tabletopFindings(
    record([
      {
        id: 'db/restore',
        status: 'failed',
        error: { type: 'Blocked', message: 'no vault password' },
        decisions: answer('blocked', 'bob', 'no vault password'),
      },
      { id: 'db/powerOn', startedAt: 0, endedAt: 3 * MIN, estimateMs: 1 * MIN, decisions: answer('done') },
      { id: 'db/validate', startedAt: 0, endedAt: 10_000, estimateMs: 1 * MIN, decisions: answer('done') },
      { id: 'plan/approve', action: 'approval', approvers: ['carol'], decisions: answer('done', 'dave') },
      {
        id: 'plan/approve-2',
        action: 'approval',
        approvers: ['carol'],
        status: 'failed',
        error: { type: 'Blocked', message: 'carol is away' },
        decisions: answer('blocked', 'dave', 'carol is away'),
      },
      { id: 'web/warm', status: 'skipped', decisions: answer('skipped') },
      { id: 'plan/end', kind: 'barrier' },
    ]),
  );
  expect(f.gaps).toEqual([
    { kind: 'blocked', step: 'db/restore', text: 'blocked (bob): no vault password' },
    { kind: 'slow', step: 'db/powerOn', text: 'walking it took 3m; the runbook expects 1m' },
    { kind: 'approval', step: 'plan/approve', text: 'given by dave, who is not a listed approver (carol)' },
    { kind: 'approval', step: 'plan/approve-2', text: 'no listed approver (carol) could give it: carol is away' },
  ]);
  expect(f).toMatchObject({
    answered: 6,
    done: 3,
    blocked: 2,
    skipped: 1,
    estimatedRtoMs: 90 * MIN,
    rtoObjectiveMs: 60 * MIN,
    walkedMs: 30 * MIN,
  });
});

test('an exercise where everything was walked in time finds no gap', () => {
  expect(
    tabletopFindings(record([{ startedAt: 0, endedAt: 1000, estimateMs: MIN, decisions: answer('done') }])).gaps,
  ).toEqual([]);
});

test('typed answers: d, s, b <reason>, each with an optional # note; anything else is not an answer', () => {
  expect(parseAnswer('d')).toEqual({ outcome: 'done' });
  expect(parseAnswer('done # quick')).toEqual({ outcome: 'done', comment: 'quick' });
  expect(parseAnswer(' s ')).toEqual({ outcome: 'skipped' });
  expect(parseAnswer('b vault password unknown # ask sec')).toEqual({
    outcome: 'blocked',
    comment: 'vault password unknown (ask sec)',
  });
  expect(parseAnswer('b')).toBeUndefined();
  expect(parseAnswer('yes')).toBeUndefined();
  expect(parseAnswer('')).toBeUndefined();
});
