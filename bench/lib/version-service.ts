/** A trivial service whose answer names its version and the worker process that ran it: how the deployment benchmarks tell old code from new. */
export function versionServiceSource(serviceName: string, version: number): string {
  return `import { Service } from 'viaduct';

export default class Version extends Service {
  static serviceName = '${serviceName}';

  async handle() {
    this.response.payload = { version: ${version}, pid: process.pid };
  }
}
`;
}

/** What the version service answers. */
export interface VersionAnswer {
  readonly version: number;
  readonly pid: number;
}
