import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { newCid } from './cid.js';

/** What the `http` section of viaduct.yaml says about a cid a request brings. */
export interface IncomingCidSettings {
  /** Addresses and CIDR ranges whose X-Viaduct-CID is kept (a load balancer, another Viaduct). */
  readonly trust_cid_from: readonly string[];
  /** Whether a valid W3C `traceparent` gives the request its cid (its trace-id), from any caller. */
  readonly keep_traceparent: boolean;
}

/**
 * A cid a trusted caller may hand over: 1 to 64 letters, digits and `._:-`, starting with a letter
 * or digit. Nothing else: it is written into every log line and echoed as a response header.
 */
export const INCOMING_CID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** version-traceid-parentid-flags, lower-case hex (W3C Trace Context); later versions may add fields after a dash. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);

/** The trace-id of a valid `traceparent` header, or undefined. */
export function traceIdOf(header: string): string | undefined {
  if (header.length < 55 || header.length > 512) return undefined;
  const match = TRACEPARENT.exec(header);
  if (match === null) return undefined;
  const [, version, traceId, parentId, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return traceId;
}

/** Whether `entry` is an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrRange(entry: string): boolean {
  const [address, prefix, extra] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `::ffff:10.1.2.3`, as node reports an IPv4 peer on a dual-stack socket, as the IPv4 address it is. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * How the HTTP frontend gives a request its cid: the X-Viaduct-CID a trusted peer sent (when
 * well-formed), else the trace-id of a valid `traceparent`, else a new one. With nothing trusted
 * and traceparent off, it is newCid itself: a request pays nothing for the choice.
 */
export function cidSource(settings: IncomingCidSettings | undefined): (req: IncomingMessage) => string {
  const trustFrom = settings?.trust_cid_from ?? [];
  const keepTraceparent = settings?.keep_traceparent ?? false;
  if (trustFrom.length === 0 && !keepTraceparent) return newCid;
  const trusted = new BlockList();
  for (const entry of trustFrom) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(prefix), family);
  }
  const isTrusted = (peer: string | undefined): boolean => {
    if (peer === undefined) return false;
    const address = plainAddress(peer);
    return trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  };
  const checkTrusted = trustFrom.length > 0;
  return (req) => {
    const headers = req.headers;
    if (checkTrusted) {
      const given = headers['x-viaduct-cid'];
      if (typeof given === 'string' && INCOMING_CID.test(given) && isTrusted(req.socket.remoteAddress)) return given;
    }
    if (keepTraceparent) {
      const traceparent = headers.traceparent;
      if (typeof traceparent === 'string') {
        const traceId = traceIdOf(traceparent);
        if (traceId !== undefined) return traceId;
      }
    }
    return newCid();
  };
}
