import type SftpClient from 'ssh2-sftp-client';
import type { FileTransferClient, RemoteFile } from '../ftp/file-transfer-client.js';
import type { SessionPool } from '../ftp/session-pool.js';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import { classifySftpError, sshClientOf, type SftpSession } from './sftp-session.js';

const TYPE = 'outgoing.sftp';
const FILE_TYPES: Record<string, RemoteFile['type']> = { '-': 'file', d: 'directory', l: 'link' };

/**
 * The FileTransferClient over a pool of SFTP sessions. Relative paths are relative to the
 * directory the server starts the user in (usually the home directory).
 */
export class SftpFileTransfer implements FileTransferClient {
  readonly #pool: SessionPool<SftpSession>;
  readonly #name: string;
  readonly #timeoutMs: number;
  readonly #call: CallContext;

  constructor(pool: SessionPool<SftpSession>, name: string, timeoutMs: number, call: CallContext) {
    this.#pool = pool;
    this.#name = name;
    this.#timeoutMs = timeoutMs;
    this.#call = call;
  }

  list(path = '.'): Promise<RemoteFile[]> {
    return this.#run('list', async (sftp) => {
      const entries = await sftp.list(path);
      return entries
        .filter((e) => e.name !== '.' && e.name !== '..')
        .map((e) => ({
          name: e.name,
          size: e.size,
          type: FILE_TYPES[e.type] ?? 'other',
          modifiedAt: e.modifyTime ? new Date(e.modifyTime).toISOString() : undefined,
        }));
    });
  }

  get(remotePath: string): Promise<Buffer> {
    return this.#run('get', async (sftp) => {
      const content = await sftp.get(remotePath);
      // The library collects the stream with concat-stream, which gives [] for an empty file.
      return Buffer.isBuffer(content) ? content : Buffer.alloc(0);
    });
  }

  put(content: Buffer | string, remotePath: string): Promise<void> {
    return this.#run('put', async (sftp) => {
      await sftp.put(typeof content === 'string' ? Buffer.from(content, 'utf8') : content, remotePath);
    });
  }

  delete(remotePath: string): Promise<void> {
    return this.#run('delete', async (sftp) => {
      await sftp.delete(remotePath);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run('rename', async (sftp) => {
      await sftp.rename(from, to);
    });
  }

  mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.#run('mkdir', async (sftp) => {
      await sftp.mkdir(path, options.recursive ?? false);
    });
  }

  #run<T>(operation: string, work: (sftp: SftpClient) => Promise<T>): Promise<T> {
    return outgoingCall(this.#call, TYPE, this.#name, operation, () =>
      this.#pool.use((session) => withDeadline(session, this.#timeoutMs, work)),
    );
  }
}

/**
 * SFTP has no timeout of its own for a request the server never answers: after `timeoutMs` the
 * session's SSH connection is cut (so the pool replaces it) and the call fails as timed out.
 */
export async function withDeadline<T>(
  session: SftpSession,
  timeoutMs: number,
  work: (sftp: SftpClient) => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      session.dead = true;
      sshClientOf(session.sftp).destroy();
      reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
  });
  try {
    return await Promise.race([
      work(session.sftp).catch((error: unknown) => Promise.reject(classifySftpError(error, session.dead))),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
