import { ConsoleLogger, LogLevel } from '@nestjs/common';
import type { LogLevelName } from '../config/env.schema';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

export function logLevelsFrom(level: LogLevelName): LogLevel[] {
  return ORDER.slice(0, ORDER.indexOf(level) + 1);
}

/** Readable lines in development, one JSON object per line in production. */
export function createLogger(level: LogLevelName, json: boolean): ConsoleLogger {
  return new ConsoleLogger({ logLevels: logLevelsFrom(level), json, colors: !json && Boolean(process.stdout.isTTY), prefix: 'atlas-webhooks' });
}
