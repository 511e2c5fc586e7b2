/** The communicator of `communicator = "none"`: there is no machine to talk to. */
import type { Communicator, ExecResult } from '../sdk/communicator.js';

export class NoneCommunicator implements Communicator {
  readonly description = 'no communicator (communicator = "none")';

  private refuse(what: string): never {
    throw new Error(
      `cannot ${what}: this build has communicator = "none", so there is no machine to connect to. Use shell-local to run commands on this host, or configure a communicator such as ssh.`,
    );
  }
  exec(): Promise<ExecResult> {
    this.refuse('run a remote command');
  }
  upload(): Promise<void> {
    this.refuse('upload a file');
  }
  uploadDir(): Promise<void> {
    this.refuse('upload a directory');
  }
  download(): Promise<void> {
    this.refuse('download a file');
  }
  async close(): Promise<void> {}
}
