/**
 * The modules the CLI loads only when a command needs them, typed as their static imports would be.
 *
 * Why `require` and not `await import()`: Drover compiles to CommonJS under `module: nodenext`, and there
 * TypeScript emits `import()` as written, a real ECMAScript import at run time: it resolves paths as ESM
 * does (an extensionless `./main` is not found) and jest runs it only with --experimental-vm-modules.
 * `require` is what `await import()` compiled to under `module: commonjs`; the `import type`s below load
 * nothing. eslint allows `require` in this file only (eslint.config.mjs). Everything else is imported
 * statically: loading it costs milliseconds.
 */
import type * as TemporalWorker from '@temporalio/worker';
import type * as DroverWorker from '../worker';
import type * as Main from './main';

/** Temporal's worker SDK (its webpack workflow bundler, the native core): only `drover server` and `worker` run one. */
export function temporalWorker(): typeof TemporalWorker {
  return require('@temporalio/worker');
}

/** Drover's workers: every activity and provider (about 500 modules, a fifth of a second with the SDK). */
export function droverWorker(): typeof DroverWorker {
  return require('../worker');
}

/** main.ts lists every command, `drover completion` among them: a static import of it from there is a cycle. */
export function mainModule(): typeof Main {
  return require('./main');
}
