// `npm run bench [-- NAME...]`: runs the benchmarks and records each under
// docs/benchmarks/NAME.md (and .json) with the machine and date.
const benches: Record<string, () => Promise<{ run(): Promise<{ path: string; result: unknown }> }>> = {
  protocol: () => import('./protocol.ts'),
  'proxy-overhead': () => import('./proxy-overhead.ts'),
  primitives: () => import('./primitives-all.ts'),
  translate: () => import('./translate.ts'),
  replay: () => import('./replay.ts'),
  'relay-floor': () => import('./relay-floor.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(benches);
for (const name of names) {
  const load = benches[name];
  if (!load) {
    console.error(`bench: unknown benchmark '${name}' (known: ${Object.keys(benches).join(', ')})`);
    process.exitCode = 2;
    continue;
  }
  console.error(`bench: ${name}...`);
  const { path, result } = await (await load()).run();
  console.log(JSON.stringify(result, null, 2));
  console.error(`bench: ${name} recorded in ${path}`);
}
