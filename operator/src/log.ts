// Structured JSON logs (winston) on stdout: one object per line with level, time, message and the
// lake job's namespace, name and runId when a line is about one.
import winston from 'winston';

export type Logger = winston.Logger;

export function createLogger(level = process.env.SPARKIFY_LOG_LEVEL ?? 'info', silent = false): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    defaultMeta: { component: 'operator' },
    transports: [new winston.transports.Console()],
  });
}
