// A peer process for the conformance suite (started by harness.ts startPeer).
// It opens one session on the backend named by WINEKERNEL_BACKEND, after
// optionally dropping to other credentials, and runs what the parent asks.
import type { Session } from '../../backends/primitives.js';

interface Request {
  id: number;
  op: string;
  method?: string;
  args?: unknown[];
  credentials?: { uid?: number; gid?: number; groups?: number[] } | null;
  handle?: number;
  durationMs?: number;
  size?: number;
}

let session: Session | null = null;

async function start(credentials: Request['credentials']): Promise<number> {
  if (credentials) {
    // order matters: groups and gid while still root, uid last
    process.setgroups!(credentials.groups ?? []);
    if (credentials.gid !== undefined) process.setgid!(credentials.gid);
    if (credentials.uid !== undefined) process.setuid!(credentials.uid);
  }
  const kind = process.env.WINEKERNEL_BACKEND ?? 'inprocess';
  if (kind !== 'device') throw new Error('peer processes need the device backend (in-process state is per process)');
  const { createDeviceBackend } = await import('../../backends/device/index.js');
  session = createDeviceBackend().openSession();
  return process.pid;
}

// Rewrites every byte of the object with one value per round, as one
// setdata each, for durationMs: a reader must never see two values at once.
function hammer(handle: number, size: number, durationMs: number): number {
  const deadline = Date.now() + durationMs;
  const buf = Buffer.alloc(size);
  let rounds = 0;
  while (Date.now() < deadline) {
    buf.fill(rounds & 0xff);
    const result = session!.setdata(handle, buf, 0, 0);
    if (result < 0) return result;
    rounds++;
  }
  return rounds;
}

process.on('message', (request: Request) => {
  void (async () => {
    try {
      let result: unknown;
      switch (request.op) {
        case 'start':
          result = await start(request.credentials ?? null);
          break;
        case 'call': {
          const method = (session as unknown as Record<string, (...a: unknown[]) => unknown>)[request.method!];
          if (typeof method !== 'function') throw new Error(`no session method ${request.method}`);
          result = await method.apply(session, request.args ?? []);
          break;
        }
        case 'read': {
          const buf = Buffer.alloc(request.size!);
          const got = session!.getdata(request.handle!, buf, 0);
          result = got < 0 ? got : buf.subarray(0, got);
          break;
        }
        case 'hammer':
          result = hammer(request.handle!, request.size!, request.durationMs!);
          break;
        default:
          throw new Error(`unknown op ${request.op}`);
      }
      process.send!({ id: request.id, result });
    } catch (error) {
      process.send!({ id: request.id, error: (error as Error).stack ?? String(error) });
    }
  })();
});
