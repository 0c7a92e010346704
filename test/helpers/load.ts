/** What a steady client saw: answers other than 200 and requests that got no answer at all. */
export interface LoadResult {
  ok: number;
  failed: number;
  statuses: Record<string, number>;
}

/**
 * Calls `url` one request after another (as a steady client would) until `until` settles,
 * counting what failed. A misbehaving service's neighbours are measured with it.
 */
export function steadyLoad(url: string, until: Promise<unknown>, body = '{"name":"load"}'): Promise<LoadResult> {
  let done = false;
  void until.finally(() => (done = true)).catch(() => undefined);
  const result: LoadResult = { ok: 0, failed: 0, statuses: {} };
  return (async () => {
    while (!done) {
      const response = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(10_000) }).catch(
        (error: unknown) => (error instanceof Error ? error.name : 'error'),
      );
      const status = typeof response === 'string' ? response : String(response.status);
      if (typeof response !== 'string') await response.arrayBuffer();
      if (status === '200') result.ok++;
      else {
        result.failed++;
        result.statuses[status] = (result.statuses[status] ?? 0) + 1;
      }
    }
    return result;
  })();
}

/** Calls `url` `times` times, `perSecond` a second, each without waiting for the last; the statuses. */
export async function paced(url: string, times: number, perSecond: number, body = '{}'): Promise<string[]> {
  const calls: Array<Promise<string>> = [];
  for (let i = 0; i < times; i++) {
    calls.push(
      fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(30_000) }).then(
        async (r) => (await r.arrayBuffer(), String(r.status)),
        (error: unknown) => (error instanceof Error ? error.name : 'error'),
      ),
    );
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  return Promise.all(calls);
}
