/** The provider contract, run against the simulated provider. */
import { simulatorAdapter } from './simulator.adapter';
import { describeConformance } from './suite';

describeConformance(simulatorAdapter);
