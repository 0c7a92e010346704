import { Readable, Writable } from 'node:stream';
import type { FileInfo } from 'basic-ftp';
import { outgoingCall } from '../outgoing-call.js';
import type { CallContext } from '../outgoing-connection.js';
import type { FileTransferClient, RemoteFile } from './file-transfer-client.js';
import { classifyFtpError, type FtpSession } from './ftp-session.js';
import type { SessionPool } from './session-pool.js';

const TYPE = 'outgoing.ftp';
const FILE_TYPES: Record<number, RemoteFile['type']> = { 1: 'file', 2: 'directory', 3: 'link' };

/**
 * The FileTransferClient over a pool of basic-ftp sessions. Relative paths are relative to the
 * directory the server puts the user in at login; every operation leaves a session there.
 */
export class FtpFileTransfer implements FileTransferClient {
  readonly #pool: SessionPool<FtpSession>;
  readonly #name: string;
  readonly #call: CallContext;

  constructor(pool: SessionPool<FtpSession>, name: string, call: CallContext) {
    this.#pool = pool;
    this.#name = name;
    this.#call = call;
  }

  list(path = '.'): Promise<RemoteFile[]> {
    return this.#run('list', async ({ client }) => {
      const entries = await client.list(path);
      return entries.filter((e) => e.name !== '.' && e.name !== '..').map(toRemoteFile);
    });
  }

  get(remotePath: string): Promise<Buffer> {
    return this.#run('get', async ({ client }) => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      });
      await client.downloadTo(sink, remotePath);
      return Buffer.concat(chunks);
    });
  }

  put(content: Buffer | string, remotePath: string): Promise<void> {
    return this.#run('put', async ({ client }) => {
      await client.uploadFrom(
        Readable.from(typeof content === 'string' ? Buffer.from(content, 'utf8') : content),
        remotePath,
      );
    });
  }

  delete(remotePath: string): Promise<void> {
    return this.#run('delete', async ({ client }) => {
      await client.remove(remotePath);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run('rename', async ({ client }) => {
      await client.rename(from, to);
    });
  }

  mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.#run('mkdir', async ({ client, home }) => {
      if (!options.recursive) {
        await client.send(`MKD ${await client.protectWhitespace(path)}`);
        return;
      }
      // basic-ftp creates the levels by changing into each one: go back home afterwards, and drop
      // the session if that fails, so no later call runs in the wrong directory.
      try {
        await client.ensureDir(path);
      } finally {
        await client.cd(home).catch(() => client.close());
      }
    });
  }

  #run<T>(operation: string, work: (session: FtpSession) => Promise<T>): Promise<T> {
    return outgoingCall(this.#call, TYPE, this.#name, operation, () =>
      this.#pool.use(async (session) => {
        try {
          return await work(session);
        } catch (error) {
          throw classifyFtpError(error, session.client);
        }
      }),
    );
  }
}

function toRemoteFile(entry: FileInfo): RemoteFile {
  return {
    name: entry.name,
    size: entry.size,
    type: FILE_TYPES[entry.type] ?? 'other',
    modifiedAt: entry.modifiedAt?.toISOString(),
  };
}
