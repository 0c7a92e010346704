import { timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { AuthContext, Connection, ParsedKey, SFTPWrapper } from 'ssh2';
import { hostKeyFingerprint } from '../../src/outgoing/sftp/host-key.js';
import { tempDir } from './env.js';

const ssh2 = createRequire(import.meta.url)('ssh2') as typeof import('ssh2');
const { STATUS_CODE } = ssh2.utils.sftp;

export interface TestSftpServer {
  readonly host: string;
  readonly port: number;
  /** The directory the SFTP user sees as /. */
  readonly root: string;
  readonly username: string;
  readonly password: string;
  /** The host key's SHA256 fingerprint, as a client configures it. */
  readonly fingerprint: string;
  /** SSH connections open now, and the most open at once since start (or the last reset). */
  openConnections(): number;
  peakConnections(): number;
  resetPeak(): void;
  /** Cuts every client off, as a server restart would. */
  dropClients(): void;
  close(): Promise<void>;
}

export interface TestSftpServerOptions {
  /** A client public key (OpenSSH format) that may log in instead of the password. */
  readonly authorizedKey?: string;
  /** Opening a file whose path matches is never answered: a server that hangs. */
  readonly unanswered?: RegExp;
}

/**
 * An SSH server (ssh2's Server, a fresh ed25519 host key) on 127.0.0.1 with a random port whose
 * SFTP subsystem serves a temp directory: just the requests ssh2-sftp-client makes, answered
 * from the real file system, with paths confined to the directory.
 */
/**
 * An ed25519 key pair that ssh2 can read back. ssh2's own generator makes, about twice in a
 * thousand, a private key its parser then rejects ("Malformed OpenSSH private key"), so a key
 * is made again until it parses.
 */
export function generateUsableKeyPair(options: { passphrase?: string; cipher?: string; rounds?: number } = {}): {
  private: string;
  public: string;
} {
  for (;;) {
    const pair =
      options.passphrase === undefined
        ? ssh2.utils.generateKeyPairSync('ed25519')
        : ssh2.utils.generateKeyPairSync('ed25519', {
            passphrase: options.passphrase,
            cipher: options.cipher ?? 'aes256-ctr',
            rounds: options.rounds ?? 4,
          });
    if (!(ssh2.utils.parseKey(pair.private, options.passphrase) instanceof Error)) return pair;
  }
}

export async function startSftpServer(options: TestSftpServerOptions = {}): Promise<TestSftpServer> {
  const root = await tempDir('viaduct-sftp-');
  const username = 'sftpuser';
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const hostKey = generateUsableKeyPair();
  const hostPublic = ssh2.utils.parseKey(hostKey.public) as ParsedKey;
  const authorized =
    options.authorizedKey === undefined ? undefined : (ssh2.utils.parseKey(options.authorizedKey) as ParsedKey);
  const clients = new Set<Connection>();
  let peak = 0;

  const authenticate = (ctx: AuthContext): void => {
    if (ctx.username === username && ctx.method === 'password' && ctx.password === password) return ctx.accept();
    if (ctx.username === username && ctx.method === 'publickey' && authorized !== undefined) {
      const sameKey =
        ctx.key.algo === authorized.type &&
        ctx.key.data.length === authorized.getPublicSSH().length &&
        timingSafeEqual(ctx.key.data, authorized.getPublicSSH());
      // Without a signature the client only asks whether the key would do; with one, it proves it holds the private key.
      if (sameKey && (ctx.signature === undefined || authorized.verify(ctx.blob!, ctx.signature, ctx.hashAlgo)))
        return ctx.accept();
    }
    ctx.reject(authorized === undefined ? ['password'] : ['password', 'publickey']);
  };

  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    peak = Math.max(peak, clients.size);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', authenticate);
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('sftp', (acceptSftp) => serveDirectory(acceptSftp(), root, options.unanswered));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    root,
    username,
    password,
    fingerprint: hostKeyFingerprint(hostPublic.getPublicSSH()),
    openConnections: () => clients.size,
    peakConnections: () => peak,
    resetPeak: () => (peak = clients.size),
    dropClients() {
      for (const client of clients) client.end();
    },
    async close() {
      for (const client of clients) client.end();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

type Handle = { kind: 'file'; fd: number } | { kind: 'dir'; dir: string; listed: boolean };

function serveDirectory(sftp: SFTPWrapper, root: string, unanswered: RegExp | undefined): void {
  const handles = new Map<number, Handle>();
  let nextHandle = 1;
  /** SFTP paths are absolute or relative to /, which is `root`; `..` cannot climb above it. */
  const real = (p: string): string => path.join(root, path.posix.resolve('/', p));
  const newHandle = (handle: Handle): Buffer => {
    const id = nextHandle++;
    handles.set(id, handle);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(id);
    return buffer;
  };
  const handleOf = (buffer: Buffer): Handle | undefined =>
    buffer.length === 4 ? handles.get(buffer.readUInt32BE()) : undefined;
  /** Runs one request; a file system error becomes the matching SFTP status. */
  const answer = (reqId: number, work: () => void): void => {
    try {
      work();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const status =
        code === 'ENOENT'
          ? STATUS_CODE.NO_SUCH_FILE
          : code === 'EACCES' || code === 'EPERM'
            ? STATUS_CODE.PERMISSION_DENIED
            : STATUS_CODE.FAILURE;
      sftp.status(reqId, status, (error as Error).message);
    }
  };
  const ok = (reqId: number): void => sftp.status(reqId, STATUS_CODE.OK);
  const badHandle = (reqId: number): void => sftp.status(reqId, STATUS_CODE.FAILURE, 'bad handle');

  sftp
    .on('OPEN', (reqId, filename, flags) => {
      if (unanswered?.test(filename)) return;
      answer(reqId, () =>
        sftp.handle(
          reqId,
          newHandle({ kind: 'file', fd: fs.openSync(real(filename), ssh2.utils.sftp.flagsToString(flags) ?? 'r') }),
        ),
      );
    })
    .on('READ', (reqId, handle, offset, length) => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return badHandle(reqId);
      answer(reqId, () => {
        const buffer = Buffer.alloc(length);
        const read = fs.readSync(h.fd, buffer, 0, length, offset);
        if (read === 0) sftp.status(reqId, STATUS_CODE.EOF);
        else sftp.data(reqId, buffer.subarray(0, read));
      });
    })
    .on('WRITE', (reqId, handle, offset, data) => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return badHandle(reqId);
      answer(reqId, () => {
        fs.writeSync(h.fd, data, 0, data.length, offset);
        ok(reqId);
      });
    })
    .on('FSTAT', (reqId, handle) => {
      const h = handleOf(handle);
      if (h?.kind !== 'file') return badHandle(reqId);
      answer(reqId, () => sftp.attrs(reqId, attributes(fs.fstatSync(h.fd))));
    })
    .on('FSETSTAT', (reqId) => ok(reqId))
    .on('SETSTAT', (reqId) => ok(reqId))
    .on('CLOSE', (reqId, handle) => {
      const h = handleOf(handle);
      if (h === undefined) return badHandle(reqId);
      handles.delete(handle.readUInt32BE());
      answer(reqId, () => {
        if (h.kind === 'file') fs.closeSync(h.fd);
        ok(reqId);
      });
    })
    .on('OPENDIR', (reqId, dir) => {
      answer(reqId, () => {
        if (!fs.statSync(real(dir)).isDirectory())
          throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
        sftp.handle(reqId, newHandle({ kind: 'dir', dir: real(dir), listed: false }));
      });
    })
    .on('READDIR', (reqId, handle) => {
      const h = handleOf(handle);
      if (h?.kind !== 'dir') return badHandle(reqId);
      // Everything in one answer, then EOF: enough for a test directory.
      if (h.listed) return sftp.status(reqId, STATUS_CODE.EOF);
      h.listed = true;
      answer(reqId, () => {
        const names = fs.readdirSync(h.dir).map((filename) => {
          const stats = fs.lstatSync(path.join(h.dir, filename));
          return { filename, longname: longname(filename, stats), attrs: attributes(stats) };
        });
        sftp.name(reqId, names);
      });
    })
    .on('STAT', (reqId, p) => answer(reqId, () => sftp.attrs(reqId, attributes(fs.statSync(real(p))))))
    .on('LSTAT', (reqId, p) => answer(reqId, () => sftp.attrs(reqId, attributes(fs.lstatSync(real(p))))))
    .on('REMOVE', (reqId, p) => answer(reqId, () => (fs.unlinkSync(real(p)), ok(reqId))))
    .on('RMDIR', (reqId, p) => answer(reqId, () => (fs.rmdirSync(real(p)), ok(reqId))))
    .on('MKDIR', (reqId, p) => answer(reqId, () => (fs.mkdirSync(real(p)), ok(reqId))))
    .on('RENAME', (reqId, from, to) => {
      answer(reqId, () => {
        // SFTP v3 RENAME does not replace an existing target, unlike rename(2).
        if (fs.existsSync(real(to))) throw new Error(`${to} exists`);
        fs.renameSync(real(from), real(to));
        ok(reqId);
      });
    })
    .on('REALPATH', (reqId, p) => {
      const resolved = path.posix.resolve('/', p);
      sftp.name(reqId, [{ filename: resolved, longname: resolved, attrs: {} as never }]);
    });
}

function attributes(stats: fs.Stats): {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
} {
  return {
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000),
    mtime: Math.floor(stats.mtimeMs / 1000),
  };
}

/** An `ls -l` line: clients read the entry's type from its first character. */
function longname(name: string, stats: fs.Stats): string {
  const type = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (stats.mode & (0o400 >> i) ? c : '-'))
    .join('');
  return `${type}${bits} 1 ${stats.uid} ${stats.gid} ${stats.size} ${stats.mtime.toISOString().slice(0, 10)} ${name}`;
}
