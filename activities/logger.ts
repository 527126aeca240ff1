import winston from 'winston';

/** The worker's log: JSON lines, one per event, with the workflow id, step and attempt. */
export function createWorkerLogger(level = process.env.DROVER_LOG_LEVEL ?? 'info'): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
