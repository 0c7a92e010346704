import type * as Undici from 'undici';
import { requireDriver } from '../../util/lazy-require.js';
import type { OutgoingConnectionType } from '../outgoing-connection.js';
import type { RestClient } from './rest-client.js';
import { RestConnection } from './rest-connection.js';
import { restConnectionKind, type RestConnectionConfig } from './rest-kind.js';

/** REST / HTTP(S) over undici: a pool of keep-alive connections per outgoing connection. */
export const restConnectionType: OutgoingConnectionType<RestConnectionConfig, RestClient> = {
  kind: restConnectionKind,
  create(config, context) {
    const undici = requireDriver<typeof Undici>('undici');
    return new RestConnection(undici, config, context);
  },
};
