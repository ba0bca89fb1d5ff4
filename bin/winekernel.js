#!/usr/bin/env node
// Entry point of the `winekernel` command. The project is TypeScript run
// through tsx's loader, so there is no separate build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
