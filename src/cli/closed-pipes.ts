/**
 * What the CLI prints is a report; the work is starting servers, deploying, stopping. A reader
 * that goes away early (`viaduct start DIR | head -1`) makes the next write fail with EPIPE, which
 * node raises as an uncaught error: the command would die halfway, with servers started and the
 * load balancer not. So a closed stdout or stderr is ignored, the command finishes its work,
 * and exits with its own status. Any other failure of the streams is still raised.
 */
export function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreIfClosed);
}

/** EPIPE for the write that found the pipe closed; ERR_STREAM_DESTROYED for writes after it. */
const CLOSED = new Set(['EPIPE', 'ERR_STREAM_DESTROYED']);

function ignoreIfClosed(error: NodeJS.ErrnoException): void {
  if (CLOSED.has(error.code ?? '')) return;
  throw error;
}
