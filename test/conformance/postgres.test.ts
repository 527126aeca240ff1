/** The provider contract, run against the PostgreSQL provider and real PostgreSQL 15 servers (a streaming pair). */
import { postgresAdapter } from './postgres.adapter';
import { describeConformance } from './suite';

describeConformance(postgresAdapter);
