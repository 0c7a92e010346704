import type { Redis } from 'ioredis';

/** What a service gets from `this.out.redis(name)`: an ioredis client with the connection's key prefix and database. */
export type RedisClient = Redis;
