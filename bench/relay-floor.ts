// The floor under every request the proxy handles: one 64-byte message and
// its 64-byte answer over pipes, the shape of a Wine thread's fixed-size
// request, measured by a C client (bench/relay-floor/pingpong.c) against
//   * a C epoll loop (echo-server.c): what wineserver's main loop costs at
//     least for a request that needs no work;
//   * Node on the proxy's own I/O layer answering itself (node-echo.ts echo):
//     the least a translated request can cost through the proxy;
//   * Node passing each message to the C loop and its answer back
//     (node-echo.ts forward): the least a forwarded request can cost.
// Each setup is measured unpinned and with every process on one CPU
// (taskset), which separates the cost of the code from that of waking a
// process on another CPU. Rounds interleave the setups; medians of rounds.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdAddon } from '../proxy/native.ts';
import { machine, machineLine, median, writeReport } from './harness.ts';

const SOURCES = join(import.meta.dirname, 'relay-floor');
const ROUNDS = 5;
const COUNT = 20_000;
const WARMUP = 2_000;

type Setup = 'c-echo' | 'node-echo' | 'node-forward';
const SETUPS: Setup[] = ['c-echo', 'node-echo', 'node-forward'];
const LABELS: Record<Setup, string> = {
  'c-echo': 'C epoll loop answers (wineserver-like)',
  'node-echo': 'Node (proxy I/O layer) answers (translated-like)',
  'node-forward': 'Node passes to the C loop and back (forwarded-like)',
};

interface Sample {
  p50_ns: number;
  p99_ns: number;
  mean_ns: number;
}

function build(dir: string): { client: string; echo: string } {
  const client = join(dir, 'pingpong');
  const echo = join(dir, 'echo-server');
  execFileSync('gcc', ['-O2', '-o', client, join(SOURCES, 'pingpong.c')]);
  execFileSync('gcc', ['-O2', '-o', echo, join(SOURCES, 'echo-server.c')]);
  return { client, echo };
}

/** Spawns `argv` with the given descriptors at 3, 4, ...; resolves with its stdout at exit. */
function start(argv: string[], fds: number[], pin: boolean): { done: Promise<string> } {
  const [cmd, ...args] = pin ? ['taskset', '-c', '0', ...argv] : argv;
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit', ...fds] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')} exited with ${code}`))));
  });
  return { done };
}

async function measure(setup: Setup, bins: { client: string; echo: string }, pin: boolean): Promise<Sample> {
  const [toServerRead, toServerWrite] = fdAddon.pipe();
  const [toClientRead, toClientWrite] = fdAddon.pipe();
  const opened = [toServerRead, toServerWrite, toClientRead, toClientWrite];
  const servers: Promise<string>[] = [];
  const node = [process.execPath, '--import', 'tsx', join(SOURCES, 'node-echo.ts')];
  if (setup === 'c-echo') {
    servers.push(start([bins.echo], [toServerRead, toClientWrite], pin).done);
  } else if (setup === 'node-echo') {
    servers.push(start([...node, 'echo'], [toServerRead, toClientWrite], pin).done);
  } else {
    const [onwardRead, onwardWrite] = fdAddon.pipe();
    const [backRead, backWrite] = fdAddon.pipe();
    opened.push(onwardRead, onwardWrite, backRead, backWrite);
    servers.push(start([bins.echo], [onwardRead, backWrite], pin).done);
    servers.push(start([...node, 'forward'], [toServerRead, toClientWrite, onwardWrite, backRead], pin).done);
  }
  const client = start([bins.client, String(COUNT), String(WARMUP)], [toServerWrite, toClientRead], pin).done;
  // The children hold their own copies: closing ours lets each see its input end.
  for (const fd of opened) fdAddon.close(fd);
  const sample = JSON.parse(await client) as Sample;
  await Promise.all(servers);
  return sample;
}

export async function run() {
  const m = machine();
  const dir = mkdtempSync(join(tmpdir(), 'winekernel-relay-floor-'));
  try {
    const bins = build(dir);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const pin of [false, true]) {
        for (const setup of SETUPS) {
          const key = `${setup}${pin ? ' pinned' : ''}`;
          const list = samples.get(key) ?? [];
          list.push(await measure(setup, bins, pin));
          samples.set(key, list);
        }
      }
    }
    const figures = Object.fromEntries(
      [...samples].map(([key, list]) => [key, { p50_us: +(median(list.map((s) => s.p50_ns)) / 1000).toFixed(2), p99_us: +(median(list.map((s) => s.p99_ns)) / 1000).toFixed(2) }]),
    );
    const result = { machine: m, rounds: ROUNDS, count: COUNT, warmup: WARMUP, figures };
    const row = (setup: Setup, pin: boolean) => {
      const f = figures[`${setup}${pin ? ' pinned' : ''}`];
      const base = figures[`c-echo${pin ? ' pinned' : ''}`];
      return `| ${LABELS[setup]} | ${pin ? 'one CPU' : 'any CPU'} | ${f.p50_us} | ${f.p99_us} | ${(f.p50_us / base.p50_us).toFixed(2)}× |`;
    };
    const md = [
      '# Relay floor: one message and its answer over pipes',
      '',
      machineLine(m),
      '',
      `A C client (\`bench/relay-floor/pingpong.c\`) writes 64 bytes and reads 64 bytes back, ${COUNT} times after ${WARMUP} unmeasured, against each server below; µs per round trip, medians over ${ROUNDS} interleaved rounds. "one CPU": every process of the setup pinned to CPU 0 with \`taskset\`, so no wake-up crosses CPUs. This is the floor under bench.exe's figures in [translate.md](translate.md): a translated request pays the Node answer\'s floor before any translation work, a forwarded one the forwarding floor.`,
      '',
      '| server | placement | p50 | p99 | p50 / C loop |',
      '| --- | --- | ---: | ---: | ---: |',
      ...SETUPS.map((s) => row(s, false)),
      ...SETUPS.map((s) => row(s, true)),
      '',
      'Regenerate with `npm run bench -- relay-floor` (needs gcc and taskset).',
      '',
    ].join('\n');
    return { path: writeReport('relay-floor', md, result), result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
