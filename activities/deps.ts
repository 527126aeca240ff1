import type winston from 'winston';
import type { ProviderName } from '../compiler';
import type { Provider } from '../providers/types';

/** What the worker gives its activities. */
export interface ActivityDeps {
  providers: Partial<Record<ProviderName, Provider>>;
  /** Runbook paths and state folders are relative to this. */
  cwd: string;
  logger: winston.Logger;
  env?: NodeJS.ProcessEnv;
}
