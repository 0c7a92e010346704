/** The consumer group every member of a cluster reads the dispatch stream with. */
export const DISPATCH_GROUP = 'workers';

/**
 * Every key and channel one cluster uses. All of them start with `viaduct:<cluster>:`, so
 * clusters (and test runs) that share one Redis never see each other's messages.
 */
export interface RedisKeys {
  /** Sorted set: member id → time of its last heartbeat (Redis server time, ms). */
  readonly members: string;
  /** Pub/sub channel every member listens on: broadcasts, hellos after a reconnection, goodbyes. */
  readonly broadcast: string;
  /** Stream of dispatched messages, read through the consumer group DISPATCH_GROUP. */
  readonly dispatch: string;
  /** A dispatch's outcome, kept a while for a sender that missed its publication. */
  result(dispatchId: string): string;
  /** A member's own pub/sub channel: acks, dispatch results, broadcasts sent again to it. */
  inbox(member: string): string;
}

export function redisKeys(cluster: string): RedisKeys {
  const prefix = `viaduct:${cluster}:`;
  return {
    members: `${prefix}members`,
    broadcast: `${prefix}broadcast`,
    dispatch: `${prefix}dispatch`,
    result: (dispatchId) => `${prefix}result:${dispatchId}`,
    inbox: (member) => `${prefix}inbox:${member}`,
  };
}
