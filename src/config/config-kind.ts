import type { z } from 'zod';

/** A reference from one object to another, checked on every write. */
export interface Reference {
  /** A config type ('security.basic-auth'), a name space ('security'), or 'service'. */
  readonly to: string;
  readonly name: string;
  readonly field: string;
}

export interface NamedObject {
  readonly name: string;
}

/**
 * Describes one type of configuration object. Everything generic (storage, secrets, admin
 * services, enmasse, broadcasting the change) is driven by this descriptor.
 */
export interface ConfigKind<T extends NamedObject = NamedObject> {
  /** 'channel.rest', 'security.basic-auth' ... ; admin services are viaduct.<type>.create etc. */
  readonly type: string;
  /** For messages: 'REST channel'. */
  readonly label: string;
  /** Validates a whole object and fills in defaults. */
  readonly schema: z.ZodType<T>;
  /** Fields stored encrypted and never returned by the admin API. */
  readonly secretFields: readonly string[];
  /** Kinds sharing a name space ('security') must have distinct names across all of them. */
  readonly nameSpace?: string;
  /** Where the list lives in an enmasse file: ['channels', 'rest'], or ['scheduler'] for a section that is the list itself. */
  readonly enmasse: readonly [string, string] | readonly [string];
  /** Platform-owned (the admin credentials): no generic admin services, not in enmasse files. */
  readonly internal?: boolean;
  references?(object: T): readonly Reference[];
  /** A reason this object cannot stand beside `others` of its kind (e.g. a duplicate path). */
  conflict?(object: T, others: readonly T[]): string | undefined;
}

/** A stored object, secrets included (decrypted); treat as immutable. */
export interface ConfigObject<T extends NamedObject = NamedObject> {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly version: number;
  readonly data: T;
}
