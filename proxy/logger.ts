// The proxy's pino logger: JSON lines on stderr (or a file), synchronous so
// that the last lines before a crash are not lost.

import pino, { type Logger } from 'pino';
import { z } from 'zod';

export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof logLevelSchema>;

export function createProxyLogger(level: LogLevel, file?: string): Logger {
  const destination = file ? pino.destination({ dest: file, sync: true, mkdir: true }) : pino.destination({ fd: 2, sync: true });
  return pino({ level, base: { component: 'proxy', proxyPid: process.pid } }, destination);
}
