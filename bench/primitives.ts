// Per-call latency of the primitives from TypeScript, in nanoseconds: the
// median over many timed batches (a batch amortizes the clock reads). Runs
// the in-process backend always, and the device backend when /dev/winekernel
// exists, beside the floors of its path (an empty N-API call, a no-op ioctl).
// Prints JSON on stdout.
//
//   npx tsx bench/primitives.ts [--quick] [--only=inprocess|device]
//   (--quick: 100k instead of 1M objects)
//   in the VM: vm/run.sh -- npx tsx bench/primitives.ts --only=device
import { existsSync } from 'node:fs';
import {
  WK_ATTACH_CREATE,
  WK_CREATE_PERMANENT,
  WK_LOCK_EXCLUSIVE,
  type Backend,
  type Session,
} from '../backends/primitives.js';
import { createInProcessBackend } from '../backends/inprocess/index.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
if (only !== undefined && only !== 'inprocess' && only !== 'device') {
  throw new Error(`--only must be inprocess or device, not ${only}`);
}
const BIG = quick ? 100_000 : 1_000_000;
const BATCH = 1000;
const BATCHES = 200;

/** Median per-call ns of `run(i)` over BATCHES batches of BATCH calls. */
function measure(run: (i: number) => void, batch = BATCH, batches = BATCHES): number {
  for (let i = 0; i < batch * 10; i++) run(i); // warm up (JIT)
  const perCall: number[] = [];
  let i = 0;
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < batch; k++) run(i++);
    perCall.push(Number(process.hrtime.bigint() - start) / batch);
  }
  perCall.sort((x, y) => x - y);
  return Math.round(perCall[perCall.length >> 1] * 10) / 10;
}

function check(result: number, what: string): number {
  if (result < 0) throw new Error(`${what} failed: ${result}`);
  return result;
}

function populate(s: Session, namespace: string, count: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${namespace}:object-${i.toString(36)}-${(i * 2654435761) >>> 0}`;
    check(s.close(check(s.create(name, null, WK_CREATE_PERMANENT), 'create')), 'close');
    names.push(name);
  }
  return names;
}

// a fixed pseudo-random visiting order, so lookups do not walk memory in order
function shuffled(names: string[], count: number): string[] {
  const out: string[] = [];
  let x = 12345;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out.push(names[x % names.length]);
  }
  return out;
}

function benchBackend(backend: Backend, extra?: (s: Session) => Record<string, number>): Record<string, number> {
  const s = backend.openSession();
  check(s.attach(`bench-${process.pid}-${backend.kind}`, WK_ATTACH_CREATE), 'attach');
  const results: Record<string, number> = {};
  if (extra) Object.assign(results, extra(s));

  const h = check(s.create('bench:data', Buffer.alloc(64, 1), 0), 'create');
  results['open+close'] = measure(() => {
    s.close(s.open('bench:data'));
  });
  const buf64 = Buffer.alloc(64, 7);
  results['setdata 64B'] = measure(() => {
    s.setdata(h, buf64, 0, 0);
  });
  const out64 = Buffer.alloc(64);
  results['getdata 64B'] = measure(() => {
    s.getdata(h, out64, 0);
  });
  results['tryLock+unlock'] = measure(() => {
    s.tryLock(h, WK_LOCK_EXCLUSIVE);
    s.unlock(h);
  });
  results['lock (free)+unlock'] = measure(() => {
    s.lock(h, WK_LOCK_EXCLUSIVE);
    s.unlock(h);
  });

  populate(s, 'list1000', 1000);
  const listBuf = Buffer.alloc(64 * 1024);
  results['list 1000 names'] = measure(() => {
    s.list('list1000', listBuf, 0, 0);
  }, 20, 200);

  const small = populate(s, 'small', 1000);
  const smallOrder = shuffled(small, 1 << 16);
  results['lookup (open+close), 1k objects'] = measure((i) => {
    s.close(s.open(smallOrder[i & 0xffff]));
  });
  const started = Date.now();
  const big = populate(s, 'big', BIG - 1000);
  results[`populate ${BIG} objects, ms`] = Date.now() - started;
  const bigOrder = shuffled(big, 1 << 16);
  results[`lookup (open+close), ${BIG / 1000}k objects`] = measure((i) => {
    s.close(s.open(bigOrder[i & 0xffff]));
  });
  s.end();
  return results;
}

const report: Record<string, unknown> = {
  unit: 'ns per call (median of batch means)',
  node: process.version,
  batch: BATCH,
  batches: BATCHES,
};

if (only !== 'device') report.inprocess = benchBackend(createInProcessBackend());

if (only === 'inprocess') {
  // not asked for
} else if (existsSync('/dev/winekernel')) {
  const { createDeviceBackend } = await import('../backends/device/index.js');
  const { loadDeviceAddon } = await import('../backends/device/addon.js');
  const { addon } = loadDeviceAddon();
  report.device = benchBackend(createDeviceBackend(), (s) => {
    const slot = (s as unknown as { nativeSlot: number }).nativeSlot;
    return {
      'floor: empty N-API call': measure(() => {
        addon.noop(slot);
      }),
      'floor: no-op ioctl via N-API': measure(() => {
        addon.nop(slot);
      }),
    };
  });
} else if (only === 'device') {
  throw new Error('--only=device but /dev/winekernel does not exist (run it in the VM)');
} else {
  report.device = 'skipped: /dev/winekernel does not exist on this machine (run in the VM: vm/run.sh -- npx tsx bench/primitives.ts)';
}

process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
