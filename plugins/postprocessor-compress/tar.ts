/**
 * The tar stream of the artifact files, with the shared ustar/PAX header writer (the one image
 * layers use). File data is streamed, never held whole in memory.
 *
 * Entries are what Packer's compress writes: each artifact file under its base name, its
 * permission bits, owner and group, and modification time 0 (Packer zeroes times so archives
 * are reproducible).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { END_OF_ARCHIVE, encodeTarHeader, tarPadding, sparseFileChunks } from '../../src/sdk/images.js';

/** uid → user name and gid → group name from /etc/passwd and /etc/group ("" when unknown, as tar does). */
let idNames: Promise<{ users: Map<number, string>; groups: Map<number, string> }> | undefined;
function loadIdNames() {
  const parse = async (file: string) => {
    const names = new Map<number, string>();
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const [name, , id] = line.split(':');
      if (name && id !== undefined && /^\d+$/.test(id) && !names.has(Number(id))) names.set(Number(id), name);
    }
    return names;
  };
  idNames ??= Promise.all([parse('/etc/passwd'), parse('/etc/group')]).then(([users, groups]) => ({ users, groups }));
  return idNames;
}

/**
 * The tar archive of `files`, as a stream of chunks. A file that changes size while it is read
 * is an error: its header already promised the old size.
 */
export async function* tarStream(files: readonly string[], signal?: AbortSignal): AsyncGenerator<Buffer> {
  const { users, groups } = await loadIdNames();
  for (const path of files) {
    signal?.throwIfAborted();
    const st = await stat(path);
    if (!st.isFile()) throw new Error(`${path} is not a regular file: only files can be archived`);
    const size = st.size;
    yield encodeTarHeader({
      name: basename(path),
      type: 'file',
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size,
      mtime: 0,
      uname: users.get(st.uid) ?? '',
      gname: groups.get(st.gid) ?? '',
    });
    let read = 0;
    if (size > 0) {
      // Sparse-aware: a disk image's holes are not read, only emitted as zeros.
      for await (const chunk of sparseFileChunks(path, size, { signal })) {
        read += chunk.length;
        yield chunk;
      }
    }
    if (read !== size) throw new Error(`${path} shrank from ${size} to ${read} bytes while it was being archived`);
    yield tarPadding(size);
  }
  yield END_OF_ARCHIVE;
}
