import { ViaductError } from '../errors.js';
import { invocationScope } from '../service/invocation-scope.js';

/**
 * Keeps deployed code from ending its worker. process.exit, process.abort and process.kill of
 * the worker or its primary throw VIA_ERR_PROCESS_EXIT when called in a service's scope (an
 * invocation, or a deployed file's top-level code while it loads), and work as usual for the
 * platform. The guard is on the process itself rather than on a `process` handed to deployed
 * code, so it also holds for npm packages a service requires and for `globalThis.process`.
 */
export function guardProcessExit(primaryPid: number): void {
  const refuse = (what: string): void => {
    const invocation = invocationScope.getStore();
    if (invocation !== undefined)
      throw new ViaductError(
        'VIA_ERR_PROCESS_EXIT',
        `Service ${invocation.service} called ${what}: a service cannot end its worker`,
      );
  };
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    refuse('process.exit()');
    return exit(code);
  }) as typeof process.exit;
  const abort = process.abort.bind(process);
  process.abort = (() => {
    refuse('process.abort()');
    return abort();
  }) as typeof process.abort;
  const kill = process.kill.bind(process);
  process.kill = ((pid: number, signal?: string | number) => {
    if (pid === process.pid || pid === primaryPid || pid === 0 || pid === -process.pid) refuse('process.kill()');
    return kill(pid, signal);
  }) as typeof process.kill;
  // What process.exit calls in the end; deployed code could reach it directly.
  const internal = process as unknown as { reallyExit?: (code?: number) => void };
  const reallyExit = internal.reallyExit?.bind(process);
  if (reallyExit !== undefined)
    internal.reallyExit = (code?: number) => {
      refuse('process.reallyExit()');
      reallyExit(code);
    };
}
