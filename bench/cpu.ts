/**
 * CPU time spent so far by this process (Drover's workers: main thread and workflow threads) and by its
 * child processes (the Temporal dev server the testing environment started), from /proc on Linux.
 * What the benchmark prints to show where a run's time goes on a machine with few cores.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface CpuSeconds {
  workers: number;
  server: number;
}

const TICKS = 100; // USER_HZ on Linux

export function cpuSeconds(): CpuSeconds {
  const own = process.cpuUsage();
  return { workers: (own.user + own.system) / 1e6, server: childrenSeconds() };
}

export function cpuSince(start: CpuSeconds): CpuSeconds {
  const now = cpuSeconds();
  return { workers: now.workers - start.workers, server: now.server - start.server };
}

function childrenSeconds(): number {
  let ticks = 0;
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return NaN; // not Linux
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command's closing parenthesis: state ppid ... utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks / TICKS;
}
