/** The SSH communicator on ssh2: connection, wait-for-SSH, host keys, exec, SFTP/scp transfers. */
export { SshCommunicator } from './communicator.js';
export { waitForSsh, SshWaitError, type WaitUi } from './wait.js';
export { HostKeyGuard, fingerprint } from './host-keys.js';
export { generateKeyPair, type TemporaryKeyPair } from './keypair.js';
export { endpointName } from './connect.js';
