/**
 * A program that holds request bodies open against a server, as a slow or hostile client would:
 * COUNT connections each send BYTES of a chunked body to PATH and then wait, never ending it.
 * It prints `answer N STATUS` when connection N gets an answer, and runs until it is killed.
 * A separate process, so that the bytes it has yet to send do not count in the server's memory.
 *
 * Usage: node body-holder.js PORT PATH COUNT BYTES
 */
import { connect } from 'node:net';

const [port, path, count, bytes] = process.argv.slice(2);
const CHUNK = 64 * 1024;
const payload = Buffer.alloc(CHUNK, 'x');

for (let n = 0; n < Number(count); n++) {
  const socket = connect(Number(port), '127.0.0.1');
  let answered = false;
  socket.on('data', (data: Buffer) => {
    if (answered) return;
    answered = true;
    process.stdout.write(`answer ${n} ${data.toString('latin1').split(' ')[1]}\n`);
  });
  socket.on('error', () => {});
  socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
  for (let sent = 0; sent < Number(bytes); sent += CHUNK) socket.write(`${CHUNK.toString(16)}\r\n${payload}\r\n`);
}
setInterval(() => {}, 60_000);
