import type { BrokerMessage } from '../broker.js';
import { notification, request } from '../../util/process-link/message-definition.js';

/** A worker's broker has started: the hub delivers to it from now on. */
export const BROKER_HELLO = notification('vb:hello');

/** A worker asks the hub to broadcast; the reply comes once every worker applied the message. */
export const BROKER_BROADCAST = request<{ message: BrokerMessage }, void>('vb:broadcast');

/** A worker asks the hub to have one worker handle the message; the reply is that worker's result. */
export const BROKER_DISPATCH = request<{ message: BrokerMessage }, unknown>('vb:dispatch');

/** The hub hands a worker a message to handle; the reply is the handler's result or error. */
export const BROKER_DELIVER = request<{ message: BrokerMessage }, unknown>('vb:deliver');
