import { createServer } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A TCP server on 127.0.0.1 that accepts connections and reads them but never answers: a remote
 * end that hangs before its greeting. Closed when the test ends; resolves to its port.
 */
export async function silentServer(t: TestContext): Promise<number> {
  const server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}
