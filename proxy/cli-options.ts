// Option parsing shared by `winekernel run` and `winekernel serve`.

import { z } from 'zod';
import { ProxyError } from './errors.ts';
import { logLevelSchema } from './logger.ts';

export const proxyOptionsSchema = z.object({
  prefix: z.string().min(1).optional(),
  record: z.string().min(1).optional(),
  logLevel: logLevelSchema.default('warn'),
  logFile: z.string().min(1).optional(),
  serverStderr: z.string().min(1).optional(),
  help: z.boolean().default(false),
  /** Answer translated requests in the proxy (proxy/translate/, docs/translation.md). */
  translate: z.boolean().default(false),
  /** The primitives backend translated requests use. */
  backend: z.enum(['inprocess', 'device']).default('inprocess'),
  /** With --translate: seconds between saves of a changed registry into the prefix (wineserver's own period is 30 s). */
  registrySavePeriod: z.coerce.number().positive().max(86400).default(30),
});

export type ProxyCliOptions = z.infer<typeof proxyOptionsSchema>;

const VALUE_OPTIONS: Record<string, keyof ProxyCliOptions> = {
  '--prefix': 'prefix',
  '--record': 'record',
  '--log-level': 'logLevel',
  '--log-file': 'logFile',
  '--server-stderr': 'serverStderr',
  '--backend': 'backend',
  '--registry-save-period': 'registrySavePeriod',
};

/** Splits `args` at `--`; options before, the command after. */
export function parseProxyArgs(args: string[], allowCommand: boolean): { options: ProxyCliOptions; command: string[] } {
  const raw: Record<string, unknown> = {};
  let index = 0;
  for (; index < args.length; index++) {
    const arg = args[index];
    if (arg === '--') {
      index++;
      break;
    }
    if (arg === '--help' || arg === '-h') {
      raw.help = true;
      continue;
    }
    if (arg === '--translate') {
      raw.translate = true;
      continue;
    }
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = VALUE_OPTIONS[name];
    if (!key) {
      if (allowCommand && !arg.startsWith('-')) break; // the command starts here (no `--`)
      throw new ProxyError('USAGE', `unknown option '${arg}'`);
    }
    const value = inline ?? args[++index];
    if (value === undefined) throw new ProxyError('USAGE', `option ${name} needs a value`);
    raw[key] = value;
  }
  const command = args.slice(index);
  const parsed = proxyOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ProxyError('USAGE', parsed.error.issues.map((i) => `--${String(i.path[0]).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ${i.message}`).join('; '));
  }
  if (!allowCommand && command.length > 0) throw new ProxyError('USAGE', `unexpected arguments: ${command.join(' ')}`);
  return { options: parsed.data, command };
}

/** Prints a ProxyError (or anything else) as one line, no stack; returns the exit status. */
export function reportFailure(commandName: string, error: unknown): number {
  if (error instanceof ProxyError || (error instanceof Error && typeof (error as { code?: unknown }).code === 'string')) {
    process.stderr.write(`winekernel ${commandName}: ${error.message}\n`);
    return (error as ProxyError).code === 'USAGE' ? 2 : 125;
  }
  throw error;
}
