import type { Redis } from 'ioredis';

/*
 * Both scripts read the time from Redis itself, so members on hosts whose clocks disagree still
 * agree on who is alive. Lua turns numbers of up to 14 digits into exact strings, enough for ms.
 */

/** Records the member's heartbeat, forgets members dead for long, and lets the set expire with the cluster. */
const BEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadAfter = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - deadAfter)
redis.call('PEXPIRE', KEYS[1], deadAfter * 2)
return now`;

/** The members whose last heartbeat is recent enough. */
const ALIVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]) + 1, '+inf')`;

/**
 * Who is in the cluster: each member writes a heartbeat into one sorted set, scored by when it
 * was last seen; a member not seen for `deadAfterMs` is dead, whether it crashed or lost Redis.
 */
export class RedisMembership {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #member: string;
  readonly #deadAfterMs: number;

  constructor(redis: Redis, key: string, member: string, deadAfterMs: number) {
    this.#redis = redis;
    this.#key = key;
    this.#member = member;
    this.#deadAfterMs = deadAfterMs;
  }

  async beat(): Promise<void> {
    await this.#redis.eval(BEAT, 1, this.#key, this.#member, this.#deadAfterMs);
  }

  async alive(): Promise<Set<string>> {
    const members = (await this.#redis.eval(ALIVE, 1, this.#key, this.#deadAfterMs)) as string[];
    return new Set(members);
  }

  async leave(): Promise<void> {
    await this.#redis.zrem(this.#key, this.#member);
  }
}
