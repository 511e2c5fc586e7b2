/**
 * How provisioners reach the machine being built: SSH, a container exec, or the local host.
 * Output arrives line by line as it is produced; transfers stream and report progress.
 */
import type { Readable } from 'node:stream';

export interface ExecOptions {
  /** Environment values passed so that any byte arrives unchanged (no shell quoting by the caller). */
  env?: Readonly<Record<string, string>>;
  onStdout?: (line: string) => void;
  onStderr?: (line: string) => void;
  signal?: AbortSignal;
  /** Allocate a terminal (ssh_pty). */
  pty?: boolean;
  /** Standard input for the command. */
  stdin?: Readable | string;
}

export interface ExecResult {
  /** Exit status; null when the command was ended by a signal or the connection dropped. */
  exitCode: number | null;
  signal?: string;
  /** The connection dropped before the command reported its exit (a reboot, a network failure). */
  disconnected?: boolean;
}

export interface TransferProgress {
  (done: number, total: number): void;
}

export interface TransferOptions {
  mode?: number;
  signal?: AbortSignal;
  onProgress?: TransferProgress;
}

export interface Communicator {
  /** What it talks to, for messages: "ssh root@127.0.0.1:2222", "local", "container 3f2a…". */
  readonly description: string;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Uploads a file (by path) or a stream of `size` bytes to `dst`, creating missing parent directories. */
  upload(src: string | { stream: Readable; size: number }, dst: string, opts?: TransferOptions): Promise<void>;
  /** Uploads a directory tree; Packer's trailing-slash rule applies to `src`. */
  uploadDir(src: string, dst: string, opts?: TransferOptions & { exclude?: readonly string[] }): Promise<void>;
  download(src: string, dst: string, opts?: TransferOptions): Promise<void>;
  /** Downloads a directory tree; Packer's trailing-slash rule applies to `src`. */
  downloadDir?(src: string, dst: string, opts?: TransferOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * A communicator failure that trying again cannot fix (a refused host key, an unusable key):
 * retry loops such as start_retry_timeout stop at once on it.
 */
export class PermanentCommunicatorError extends Error {
  override name = 'PermanentCommunicatorError';
}
