/** Pieces of the shell provisioner and the ssh options that behave as Packer's do. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import nullPlugin from '../../../plugins/builder-null/index.js';
import { envVars, formatVars } from '../../../plugins/provisioner-shell/env-vars.js';
import { inlineScript, scriptBytes } from '../../../plugins/provisioner-shell/script.js';
import { resolveSsh } from '../../../src/sdk/ssh-config.js';

describe('shell provisioner: {{.Vars}}', () => {
  it("sorts by name, lets env override environment_vars, and escapes ' as Packer does", () => {
    const vars = envVars({ PACKER_BUILD_NAME: 't' }, ['B=1', "A=it's"], { B: '2' });
    expect(formatVars(vars, "%s='%s' ")).toBe(`A='it'"'"'s' B='2' PACKER_BUILD_NAME='t' `);
    expect(formatVars({ K: 'v' }, "export %s='%s'\n")).toBe("export K='v'\n");
  });
});

describe('shell provisioner: scripts', () => {
  it('always puts inline_shebang (default /bin/sh -e) first, as Packer does, even before a #! line of its own', () => {
    expect(inlineScript(['echo a', 'echo b'], undefined).toString()).toBe('#!/bin/sh -e\necho a\necho b\n');
    expect(inlineScript(['#!/bin/bash', 'echo a'], undefined).toString()).toBe('#!/bin/sh -e\n#!/bin/bash\necho a\n');
    expect(inlineScript(['#!/bin/bash', 'echo a'], '/bin/dash').toString()).toBe('#!/bin/dash\n#!/bin/bash\necho a\n');
  });

  it('turns CRLF into LF and ends the last line, unless binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-script-'));
    writeFileSync(join(dir, 's.sh'), 'echo a\r\necho b');
    expect((await scriptBytes(join(dir, 's.sh'), false)).toString()).toBe('echo a\necho b\n');
    expect((await scriptBytes(join(dir, 's.sh'), true)).toString()).toBe('echo a\r\necho b');
  });
});

describe('ssh options', () => {
  const schema = nullPlugin.builders[0]!.schema;

  it("applies Packer's defaults", () => {
    const s = resolveSsh({ ssh_host: 'h', ssh_username: 'u' }, {}, () => '');
    expect(s).toMatchObject({ timeoutMs: 300_000, handshakeAttempts: 10, keepAliveIntervalMs: 5000, fileTransfer: 'sftp', target: { host: 'h', port: 22, username: 'u' } });
    // Setting only one of ssh_timeout / ssh_handshake_attempts leaves the other unlimited, as in Packer.
    expect(resolveSsh({ ssh_timeout: 1000 }, {}, () => '')).toMatchObject({ timeoutMs: 1000, handshakeAttempts: 0 });
    expect(resolveSsh({ ssh_private_key_file: 'k', ssh_bastion_host: 'b' }, {}, (p) => `key:${p}`).bastion).toMatchObject({ port: 22, privateKey: 'key:k' });
  });

  it('the null builder asks for a host, a user and one way to log in', () => {
    const r = schema.safeParse({});
    expect(r.success).toBe(false);
    const messages = r.success ? [] : r.error.issues.map((i) => i.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'ssh_host must be set: the address of the machine to provision',
        'ssh_username must be set (some builders used to default it to "root")',
        'one authentication method must be set: ssh_private_key_file, ssh_password or ssh_agent_auth',
      ]),
    );
    expect(schema.safeParse({ communicator: 'none' }).success).toBe(true);
    expect(schema.safeParse({ ssh_host: 'h', ssh_username: 'u', ssh_password: 'p' }).success).toBe(true);
  });

  it('checks the form of a pinned fingerprint and that key files exist', () => {
    const r = schema.safeParse({ ssh_host: 'h', ssh_username: 'u', ssh_private_key_file: '/nonexistent/key', ssh_host_key_fingerprint: 'MD5:aa' });
    const messages = r.success ? [] : r.error.issues.map((i) => i.message).join('\n');
    expect(messages).toContain('the key file "/nonexistent/key" does not exist');
    expect(messages).toContain('SHA256: followed by 43 base64 characters');
  });
});
