/** The broker action by which a server's primary hands a file from its pickup directory to one of its workers. */
export const PICKUP_DEPLOY = 'pickup.deploy';
