#!/usr/bin/env node
// Entry point of the `winekernel` command. The project is TypeScript run
// through tsx's loader, so there is no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
// `winekernel trace FILE | head` closes our stdout early: that ends the
// output, it is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
