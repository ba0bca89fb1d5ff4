// The `winekernel` command line: a table of subcommands, each in its own
// module under cli/commands/ and loaded only when asked for, so that
// `winekernel protocol` does not pay for the proxy's native addon.

export interface Command {
  summary: string;
  /** Runs the command; resolves to the process exit status. */
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<{ command: Command }>> = {
  protocol: () => import('./commands/protocol.ts'),
  trace: () => import('./commands/trace.ts'),
  run: () => import('./commands/run.ts'),
  serve: () => import('./commands/serve.ts'),
  coverage: () => import('./commands/coverage.ts'),
  replay: () => import('./commands/replay.ts'),
};

function usage(): string {
  return [
    'usage: winekernel <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((name) => `  ${name}`),
    '',
    'winekernel <command> --help shows the options of one command.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`winekernel: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const { command } = await load();
  return command.run(rest);
}
