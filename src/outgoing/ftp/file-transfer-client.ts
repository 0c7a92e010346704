export interface RemoteFile {
  readonly name: string;
  readonly size: number;
  readonly type: 'file' | 'directory' | 'link' | 'other';
  /** ISO 8601, when the server tells. */
  readonly modifiedAt: string | undefined;
}

/** What a service gets from `this.out.ftp(name)` (FTP and FTPS) and `this.out.sftp(name)`. */
export interface FileTransferClient {
  list(path?: string): Promise<RemoteFile[]>;
  get(remotePath: string): Promise<Buffer>;
  put(content: Buffer | string, remotePath: string): Promise<void>;
  delete(remotePath: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
}
