/**
 * Signed approvals on a real Temporal dev server: an approval whose approvers declared Ed25519 keys counts
 * only decisions signed with them. Unsigned, forged (another key), and replayed (a signature made for
 * another decision) approvals are refused, as Updates and as Signals, and the verdict is in history; the
 * real `drover approve --key` is counted, and the report says the approval was signed.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toMarkdown } from '../../reports';
import { signApproval } from '../../security/signing';
import * as msg from '../../workflows/messages';
import type { RunRecord } from '../../contracts/record';
import { ROOT, Scenario, step, useHarness, waitForRecord } from './harness';

jest.setTimeout(120_000);
const t = useHarness();

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};

test('an approval with declared keys counts only a valid signature; unsigned, forged and replayed ones are refused', async () => {
  const alice = pair();
  const bob = pair();
  const mallory = pair();
  const s = Scenario.webshop(t.h, (doc) => {
    doc.setIn(['approvers'], { alice: { publicKey: alice.pub }, bob: { publicKey: bob.pub } });
    doc.setIn(
      ['steps'],
      [{ name: 'sign-off', modes: ['test'], approval: { approvers: ['alice', 'bob'], required: 1, timeout: '10m' } }],
    );
  });
  writeFileSync(join(s.dir, 'alice.pem'), alice.priv);
  await s.startWorkers();
  try {
    const handle = await s.start('test');
    const id = handle.workflowId;
    await waitForRecord(handle, 'the sign-off gate', (r) => step(r, 'plan/sign-off').status === 'waiting');
    const approve = (input: Record<string, unknown>) =>
      handle.executeUpdate(msg.approveUpdate, { args: [input as never] });
    const signed = (key: string, decision: 'approved' | 'rejected', by = 'alice') => {
      const at = new Date().toISOString();
      return { at, value: signApproval(key, { run: id, step: 'plan/sign-off', decision, by, at }) };
    };
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: Error & { cause?: Error }) => e.cause?.message ?? e.message,
      );

    expect(await refusal(approve({ step: 'plan/sign-off', by: 'alice' }))).toMatch(
      /counts only signed decisions: drover approve .* --key <your private key file>/,
    );
    // Mallory signs as alice; alice's rejection replayed as an approval; a signature for another run.
    expect(
      await refusal(approve({ step: 'plan/sign-off', by: 'alice', signature: signed(mallory.priv, 'approved') })),
    ).toMatch(/does not verify with the approver's declared key/);
    expect(
      await refusal(approve({ step: 'plan/sign-off', by: 'alice', signature: signed(alice.priv, 'rejected') })),
    ).toMatch(/does not verify/);
    const at = new Date().toISOString();
    const otherRun = {
      at,
      value: signApproval(alice.priv, {
        run: 'another-run',
        step: 'plan/sign-off',
        decision: 'approved',
        by: 'alice',
        at,
      }),
    };
    expect(await refusal(approve({ step: 'plan/sign-off', by: 'alice', signature: otherRun }))).toMatch(
      /does not verify/,
    );
    // As a Signal, a forged one is refused too, and said so in the run's events.
    await handle.signal(msg.approveSignal, {
      step: 'plan/sign-off',
      by: 'bob',
      signature: signed(mallory.priv, 'approved', 'bob'),
    });
    const after = await waitForRecord(handle, 'the refused signal', (r) =>
      r.events.some((e) => /refused approved of plan\/sign-off by bob/.test(e.text)),
    );
    expect(step(after, 'plan/sign-off').status).toBe('waiting');
    expect(step(after, 'plan/sign-off').decisions ?? []).toEqual([]);

    // The real CLI signs with alice's key file: counted, and the run goes on.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'dist', 'cli', 'bin.js'),
        'approve',
        id,
        '--step',
        'plan/sign-off',
        '--by',
        'alice',
        '--key',
        'alice.pem',
      ],
      { cwd: s.dir, env: { ...process.env, TEMPORAL_ADDRESS: t.h.address, TEMPORAL_NAMESPACE: 'default' } },
    );
    expect(stdout).toContain('approved plan/sign-off');
    const record = (await handle.result()) as RunRecord;
    expect(record.status).toBe('succeeded');
    expect(step(record, 'plan/sign-off').decisions).toEqual([
      expect.objectContaining({ by: 'alice', decision: 'approved', signed: true }),
    ]);
    expect(toMarkdown(record)).toContain('approved by alice (signed)');
    // The verdicts are in history: one verifyApproval activity per signed decision (4 refused + 1 counted).
    const history = await handle.fetchHistory();
    const verifications = history.events!.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'verifyApproval',
    );
    expect(verifications).toHaveLength(5);
  } finally {
    await s.stopWorkers();
  }
});
