/** The fuzz campaign's worker thread: judges the inputs it is sent, one at a time (bench/fuzz.ts). */
import { parentPort } from 'node:worker_threads';
import { judge } from './fuzz-judge';
import type { FuzzInput } from './fuzz-judge';

parentPort!.on('message', (input: FuzzInput) => parentPort!.postMessage(judge(input)));
