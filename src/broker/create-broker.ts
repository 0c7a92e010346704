import type { Logger } from 'pino';
import { ViaductError } from '../errors.js';
import type { ProcessLink } from '../util/process-link/process-link.js';
import type { Broker, Port } from './broker.js';
import { LocalBroker } from './local/local-broker.js';
import { RedisBroker } from './redis/redis-broker.js';

export interface BrokerIdentity {
  readonly cluster: string;
  readonly server: string;
  readonly worker: string | number;
}

/**
 * The cluster broker named by the environment: 'local' (a server's workers through its primary,
 * over `link`) or redis://... (servers through Redis). The Redis driver loads only when used.
 */
export function createBroker(spec: string, link: Port | ProcessLink, identity: BrokerIdentity, logger: Logger): Broker {
  if (spec === 'local') return new LocalBroker(link);
  if (/^rediss?:\/\//.test(spec)) return new RedisBroker(spec, identity, logger);
  throw new ViaductError('VIA_ERR_ENV_CONFIG', `Unknown broker ${spec}: use 'local' or redis://HOST:PORT`);
}
