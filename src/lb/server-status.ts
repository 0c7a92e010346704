/** Whether HAProxy sends a server new requests, in four words. */
export type LbServerState = 'UP' | 'DOWN' | 'DRAIN' | 'MAINT';

/** One server as HAProxy sees it now. */
export interface LbServerStatus {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /**
   * UP: gets new requests. DOWN: fails its health check. DRAIN: finishes what it has, gets no
   * new requests, is still checked. MAINT: gets nothing and is not checked (also the state of a
   * server that sync is removing).
   */
  readonly state: LbServerState;
  /** HAProxy's own words, e.g. "UP 1/2": up, one failed check counted towards going down. */
  readonly haproxyStatus: string;
  /** The last health check: L7OK, L7STS (wrong status), L4CON (refused), L4TOUT, INI ... */
  readonly checkStatus: string;
  /** The HTTP status of the last check's answer, when there was one. */
  readonly checkCode: number | undefined;
  /** What the last check found, e.g. "Connection refused". */
  readonly checkDetail: string;
  /** Requests on this server now. */
  readonly activeRequests: number;
}

/** `show stat BACKEND 4 -1` (the servers of one backend, CSV) into statuses. */
export function parseShowStat(csv: string): LbServerStatus[] {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift();
  if (header === undefined || !header.startsWith('# '))
    throw new Error(`Not a 'show stat' answer: ${csv.slice(0, 200)}`);
  const columns = parseCsvLine(header.slice(2));
  const at = (row: string[], name: string): string => row[columns.indexOf(name)] ?? '';
  return lines
    .map(parseCsvLine)
    .filter((row) => at(row, 'svname') !== 'BACKEND' && at(row, 'svname') !== 'FRONTEND')
    .map((row) => {
      const { address, port } = splitAddress(at(row, 'addr'));
      const haproxyStatus = at(row, 'status');
      const code = at(row, 'check_code');
      return {
        name: at(row, 'svname'),
        address,
        port,
        state: stateOf(haproxyStatus),
        haproxyStatus,
        // "* L7OK": a check is running right now; the result shown is the last one.
        checkStatus: at(row, 'check_status').replace(/^\* /, ''),
        checkCode: code === '' ? undefined : Number(code),
        checkDetail: at(row, 'last_chk'),
        activeRequests: Number(at(row, 'scur') || 0),
      };
    });
}

function stateOf(status: string): LbServerState {
  if (status.startsWith('MAINT')) return 'MAINT';
  // NOLB: the server asked to be left out (soft stop); to the clients it is the same as drain.
  if (status.startsWith('DRAIN') || status.startsWith('NOLB')) return 'DRAIN';
  if (status.startsWith('UP') || status === 'no check') return 'UP';
  return 'DOWN';
}

/** "127.0.0.1:8080" or "[::1]:8080"; an unset address is "". */
function splitAddress(value: string): { address: string; port: number } {
  const colon = value.lastIndexOf(':');
  if (colon < 0) return { address: value, port: 0 };
  return { address: value.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(value.slice(colon + 1)) };
}

/** One CSV line: HAProxy quotes a field that holds a comma or a quote, doubling the quotes. */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"') {
      quoted = true;
    } else if (char === ',') {
      fields.push(field);
      field = '';
    } else {
      field += char;
    }
  }
  fields.push(field);
  return fields;
}
