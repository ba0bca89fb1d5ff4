// The Node servers of the relay-floor benchmark (bench/relay-floor.ts), on
// the proxy's own I/O layer (proxy/io/pipe-io.ts: the addon's watcher on
// Node's loop, nonblocking read and write):
//   echo     answers every 64-byte message read on fd 3 with 64 bytes on fd 4,
//            as the proxy answers a translated request;
//   forward  passes every message from fd 3 to fd 5, and every answer from
//            fd 6 back to fd 4, as the proxy forwards a request to wineserver.
import { FdReader, FdWriter } from '../../proxy/io/pipe-io.ts';

const MESSAGE = 64;
const mode = process.argv[2];

/** Calls `each` with every whole message read from `fd`; exits when it ends. */
function messages(fd: number, each: (message: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  const reader = new FdReader(fd, {
    data(chunk) {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= MESSAGE) {
        each(pending.subarray(0, MESSAGE));
        pending = pending.subarray(MESSAGE);
      }
      if (pending.length) {
        pending = Buffer.from(pending);
        reader.detachBuffer();
      }
    },
    end: () => process.exit(0),
  });
}

const failed = (error: Error) => {
  console.error(`node-echo: ${error.message}`);
  process.exit(1);
};

if (mode === 'echo') {
  const answer = Buffer.alloc(MESSAGE, 0x33);
  const toClient = new FdWriter(4, { error: failed });
  messages(3, () => toClient.write(answer));
} else if (mode === 'forward') {
  const toClient = new FdWriter(4, { error: failed });
  const toServer = new FdWriter(5, { error: failed });
  messages(3, (message) => toServer.write(message));
  messages(6, (message) => toClient.write(message));
} else {
  console.error('usage: node-echo.ts echo|forward');
  process.exit(2);
}
