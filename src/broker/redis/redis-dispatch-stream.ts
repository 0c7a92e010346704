import type { Redis } from 'ioredis';
import { dropConnection } from './redis-connections.js';
import { DISPATCH_GROUP } from './redis-keys.js';
import { decodeEntry, encode, type DispatchEntry } from './redis-protocol.js';

/** One stream entry: its Redis id and what it carries (undefined when it is not ours to read). */
export interface StreamEntry {
  readonly entryId: string;
  readonly entry: DispatchEntry | undefined;
}

/**
 * Resets the idle time of the entries this member is still working on, but only those still
 * pending to it: a long handler must not look like a dead member's, and an entry another member
 * has claimed meanwhile stays with that member.
 */
const KEEP_CLAIMED = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local kept = 0
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #p > 0 then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    kept = kept + 1
  end
end
return kept`;

/**
 * Deletes the group's consumers that belong to no living member and own nothing: every process
 * start is a new member, so without this the group would collect one consumer per restart.
 * Checked and deleted in one script, so a consumer cannot take an entry in between.
 */
const DROP_GONE_CONSUMERS = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then return 0 end
local dropped = 0
for _, c in ipairs(consumers) do
  local info = {}
  for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
  if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) and not redis.call('ZSCORE', KEYS[2], info['name']) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    dropped = dropped + 1
  end
end
return dropped`;

/**
 * The dispatch stream and its consumer group. Entries are deleted once handled, so the stream
 * holds only work not done yet; that is what lets a re-created group start from the beginning.
 */
export class DispatchStream {
  readonly #command: Redis;
  /** Its own connection: XREADGROUP BLOCK holds a connection for as long as it blocks. */
  readonly #reader: Redis;
  readonly #key: string;
  readonly #membersKey: string;
  readonly #member: string;

  constructor(command: Redis, reader: Redis, key: string, membersKey: string, member: string) {
    this.#command = command;
    this.#reader = reader;
    this.#key = key;
    this.#membersKey = membersKey;
    this.#member = member;
  }

  /**
   * Creates the group (and the stream) unless it exists. It starts at 0, not $: after Redis lost
   * everything, senders add their entries again, maybe before the group exists.
   */
  async ensureGroup(): Promise<void> {
    try {
      await this.#command.xgroup('CREATE', this.#key, DISPATCH_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  /** Appends an entry; resolves to its stream id. */
  async add(entry: DispatchEntry): Promise<string> {
    return (await this.#command.xadd(this.#key, '*', 'data', encode(entry))) as string;
  }

  /** New entries for this member, waiting up to `blockMs` for the first. */
  async read(count: number, blockMs: number): Promise<StreamEntry[]> {
    const reply = (await this.#reader.xreadgroup(
      'GROUP',
      DISPATCH_GROUP,
      this.#member,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.#key,
      '>',
    )) as Array<[string, Array<[string, string[]]>]> | null;
    return reply === null ? [] : reply.flatMap(([, entries]) => entries.map(toStreamEntry));
  }

  /**
   * Takes over entries left untouched for `minIdleMs`: their member died holding them. This
   * member's own come back too; the caller skips those it is still working on.
   */
  async claimIdle(minIdleMs: number, count: number): Promise<StreamEntry[]> {
    const reply = (await this.#command.xautoclaim(
      this.#key,
      DISPATCH_GROUP,
      this.#member,
      minIdleMs,
      '0-0',
      'COUNT',
      count,
    )) as [string, Array<[string, string[]] | null>, string[]?];
    return reply[1].filter((e): e is [string, string[]] => e !== null).map(toStreamEntry);
  }

  /**
   * The entry is handled: in one transaction it leaves the stream, and its outcome is kept for
   * `keepMs` and published to the sender. A sender that missed the publication finds the kept
   * outcome (see `lookup`) instead of adding the entry again.
   */
  async finish(
    entryId: string,
    reply?: { readonly key: string; readonly channel: string; readonly wire: string; readonly keepMs: number },
  ): Promise<void> {
    const transaction = this.#command.multi().xack(this.#key, DISPATCH_GROUP, entryId).xdel(this.#key, entryId);
    if (reply !== undefined)
      transaction.set(reply.key, reply.wire, 'PX', reply.keepMs).publish(reply.channel, reply.wire);
    await transaction.exec();
  }

  /** Read in one transaction, so an entry is seen either in the stream or finished, never in between. */
  async lookup(entryId: string, resultKey: string): Promise<{ inStream: boolean; kept: string | null }> {
    const replies = await this.#command.multi().xrange(this.#key, entryId, entryId).get(resultKey).exec();
    const [range, kept] = (replies ?? []).map(([error, value]) => {
      if (error !== null) throw error;
      return value;
    });
    return {
      inStream: ((range as unknown[] | undefined)?.length ?? 0) > 0,
      kept: (kept as string | null | undefined) ?? null,
    };
  }

  /** Resets the idle time of entries this member is still working on (see KEEP_CLAIMED). */
  async keepClaimed(entryIds: readonly string[]): Promise<void> {
    if (entryIds.length === 0) return;
    await this.#command.eval(KEEP_CLAIMED, 1, this.#key, DISPATCH_GROUP, this.#member, ...entryIds);
  }

  /** Drops consumers gone for longer than `goneForMs` that own no entry. */
  async dropGoneConsumers(goneForMs: number): Promise<number> {
    return (await this.#command.eval(
      DROP_GONE_CONSUMERS,
      2,
      this.#key,
      this.#membersKey,
      DISPATCH_GROUP,
      goneForMs,
    )) as number;
  }

  /** Ends a blocked read at once (close): the reader's connection is dropped. */
  stopReading(): void {
    dropConnection(this.#reader);
  }
}

function toStreamEntry([entryId, fields]: [string, string[]]): StreamEntry {
  const at = fields.indexOf('data');
  return { entryId, entry: at >= 0 && at % 2 === 0 ? decodeEntry(fields[at + 1] ?? '') : undefined };
}
