/**
 * Which remote tars a tree is streamed to: the probe's answer as a remote shell prints it,
 * profile noise included. Real GNU and BusyBox tars are exercised in the integration tests;
 * an old GNU tar and a non-POSIX shell are not installed here, so their answers are given.
 */
import { describe, expect, it } from 'vitest';
import { parseProbe } from '../../../src/communicator/ssh/tar-tree.js';

describe('tar probe', () => {
  it('accepts GNU tar 1.27 and later, and BusyBox, among other output', () => {
    expect(parseProbe('Welcome!\nkiln-tar: tar (GNU tar) 1.34\nCopyright (C) 2021 Free Software Foundation, Inc.\n')).toEqual({ tar: 'gnu' });
    expect(parseProbe('kiln-tar: tar (GNU tar) 1.27.1\n')).toEqual({ tar: 'gnu' });
    expect(parseProbe('kiln-tar: BusyBox\n')).toEqual({ tar: 'busybox' });
  });

  it('sends the tree file by file for GNU tar before 1.27, no tar or no POSIX shell', () => {
    expect(parseProbe('kiln-tar: tar (GNU tar) 1.26\n')).toEqual({ reason: 'GNU tar 1.26 is older than 1.27 (no --keep-directory-symlink)' });
    expect(parseProbe('').reason).toBe('no tar found by the remote shell');
    expect(parseProbe("'command' is not recognized as an internal or external command\r\n").reason).toBe('no tar found by the remote shell');
  });
});
