import type { OutgoingConnectionType } from './outgoing-connection.js';

/**
 * Every outgoing connection type, in the order enmasse applies them. Each lives in its own folder
 * and loads its driver package only when a connection of its type is created.
 */
export const outgoingTypes: readonly OutgoingConnectionType[] = [
];
