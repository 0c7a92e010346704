/** A request a sender waits on: its timeout clock and how to fail it. */
export interface PendingRequest {
  readonly timer: NodeJS.Timeout;
  readonly reject: (error: Error) => void;
}

/** A sender's requests still waiting, by request id. */
export class PendingRequests<P extends PendingRequest> extends Map<string, P> {
  /** Removes the request and stops its clock; undefined when it is settled already. */
  take(id: string): P | undefined {
    const pending = this.get(id);
    if (pending === undefined) return undefined;
    this.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  fail(id: string, error: Error): void {
    this.take(id)?.reject(error);
  }

  failAll(error: Error): void {
    for (const id of [...this.keys()]) this.fail(id, error);
  }
}
