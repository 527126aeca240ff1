/**
 * How a failed pg_basebackup of the standby fails the restore (providers/postgres/copy.ts `backupFailure`):
 * the messages are pg_basebackup's own, as `mustRun` reports them (its last lines), from real runs.
 */
import { ProviderError } from '../../providers/errors';
import { backupFailure } from '../../providers/postgres/copy';

const exited = (out: string) =>
  new ProviderError('InvalidState', `pg_basebackup -D /tmp/x/copy.drover-partial on orders test copy exited 1: ${out}`);

const typeOf = (e: unknown, aborted = false) => (backupFailure(e, aborted) as ProviderError).type;

test("a standby stopped mid-stream (only libpq's second line left in the message) is unreachable: retried", () => {
  // npm run chaos, pg_ctl stop -m fast while the backup streamed: the first line fell out of the last four.
  const cut = exited(
    '\tThis probably means the server terminated abnormally | \tbefore or while processing the request. | pg_basebackup: error: background process terminated unexpectedly | pg_basebackup: removing contents of data directory "/tmp/x/copy.drover-partial"',
  );
  expect(typeOf(cut)).toBe('SiteUnreachable');
  expect(
    typeOf(exited('pg_basebackup: error: connection to server at "127.0.0.1", port 5 failed: Connection refused')),
  ).toBe('SiteUnreachable');
  expect(
    typeOf(exited('connection to server at "127.0.0.1", port 5 failed: FATAL:  the database system is shutting down')),
  ).toBe('SiteUnreachable');
});

test('a standby that answered and refused, a cancelled step, or another failure is not retried as unreachable', () => {
  const refused = exited(
    'pg_basebackup: error: connection to server at "127.0.0.1", port 5 failed: FATAL:  password authentication failed for user "postgres"',
  );
  expect(typeOf(refused)).toBe('InvalidState');
  expect(typeOf(exited('server closed the connection unexpectedly'), true)).toBe('InvalidState');
  expect(typeOf(exited('pg_basebackup: error: could not create directory "/x": File exists'))).toBe('InvalidState');
  const full = new ProviderError('StorageFull', 'pg_basebackup on orders: No space left on device');
  expect(backupFailure(full, false)).toBe(full);
});
