import type { SendMailOptions, Transporter } from 'nodemailer';
import { ViaductError } from '../../errors.js';
import { RetryGate } from '../ftp/retry-gate.js';
import { scrub, toOutgoingError } from '../outgoing-call.js';
import type { Mail, SentMail } from './smtp-client.js';

/**
 * nodemailer's codes for a connection that failed. It keeps the system's code (ECONNREFUSED, or
 * a certificate's DEPTH_ZERO_SELF_SIGNED_CERT) in originalCode: only a network one, or none (the
 * server hung up), means the server cannot be reached; a refused certificate is a failure.
 */
const CONNECTION_FAILED = new Set(['ECONNECTION', 'ESOCKET', 'EDNS']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

type Address = string | { address: string };

/**
 * One pooled nodemailer transport: sends mails, remembers a server that could not be reached
 * (so the next sends fail at once for a short, growing while), and closes only after the sends in
 * flight are done.
 */
export class SmtpMailer {
  readonly #transporter: Transporter;
  readonly #label: string;
  readonly #defaultFrom: string | undefined;
  readonly #gate = new RetryGate();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;

  constructor(transporter: Transporter, label: string, defaultFrom: string | undefined) {
    this.#transporter = transporter;
    this.#label = label;
    this.#defaultFrom = defaultFrom;
  }

  async send(mail: Mail): Promise<SentMail> {
    if (this.#closed)
      throw new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', `${this.#label}: the connection is closed`);
    const from = mail.from ?? this.#defaultFrom;
    if (from === undefined)
      throw new ViaductError(
        'VIA_ERR_OUTGOING_FAILED',
        `${this.#label}: the mail has no from, and the connection no default from`,
      );
    this.#gate.check();
    const sending = this.#transporter.sendMail(toNodemailer(mail, from));
    this.#inFlight.add(sending);
    try {
      const info = (await sending) as { messageId: string; accepted: Address[]; rejected: Address[] };
      this.#gate.succeeded();
      return {
        messageId: info.messageId,
        accepted: info.accepted.map(addressOf),
        rejected: info.rejected.map(addressOf),
      };
    } catch (error) {
      throw this.#failed(error);
    } finally {
      this.#inFlight.delete(sending);
    }
  }

  /** Connects, greets and logs in on a connection of its own, then quits. */
  async ping(): Promise<void> {
    try {
      await this.#transporter.verify();
      this.#gate.succeeded();
    } catch (error) {
      throw this.#failed(error);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inFlight]);
    this.#transporter.close();
  }

  #failed(error: unknown): ViaductError {
    const { code, originalCode } = (error ?? {}) as { code?: unknown; originalCode?: unknown };
    const failedToConnect = CONNECTION_FAILED.has(String(code));
    const message = `${this.#label}: ${scrub((error as Error).message)}`;
    const coded =
      failedToConnect && (originalCode === undefined || NETWORK.has(String(originalCode)))
        ? new ViaductError('VIA_ERR_OUTGOING_UNAVAILABLE', message, { cause: error })
        : failedToConnect && originalCode === 'ETIMEDOUT'
          ? new ViaductError('VIA_ERR_OUTGOING_TIMEOUT', message, { cause: error })
          : toOutgoingError(error, this.#label);
    if (coded.code === 'VIA_ERR_OUTGOING_UNAVAILABLE' || coded.code === 'VIA_ERR_OUTGOING_TIMEOUT')
      this.#gate.failed(coded);
    return coded;
  }
}

/** Only the fields of the contract: an attachment given by path or URL would read files or fetch. */
function toNodemailer(mail: Mail, from: string): SendMailOptions {
  return {
    from,
    to: list(mail.to),
    cc: list(mail.cc),
    bcc: list(mail.bcc),
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: mail.headers === undefined ? undefined : { ...mail.headers },
    attachments: mail.attachments?.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    })),
  };
}

function list(value: string | readonly string[] | undefined): string | string[] | undefined {
  return value === undefined || typeof value === 'string' ? value : [...value];
}

function addressOf(value: Address): string {
  return typeof value === 'string' ? value : value.address;
}
