/** A two-way message channel: an IPC channel to a worker process, or an in-memory pair in tests. */
export interface Port {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}
