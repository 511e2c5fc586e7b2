#!/usr/bin/env -S node --optimize-for-size
/**
 * kiln's command line. `--optimize-for-size` (in the line above) makes V8 keep its heap tight:
 * a run of a thousand builds holds ~110 MB instead of ~150 MB, at no measurable cost in time.
 * Commands are imported only when they run, so `kiln --version` and
 * `kiln validate` never load what `kiln build` needs (and no cloud SDK ever loads unless a
 * template uses that cloud).
 */
import { KILN_VERSION } from './version.js';

// Output piped into a reader that exits early (`kiln build … | head`) must not crash a build
// mid-way: the run goes on (and cleans up), its output only goes to the log files.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = (() => true) as typeof stream.write;
  });
}

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-version' || argv[0] === '-v' || argv[0] === 'version')) {
  process.stdout.write(`kiln ${KILN_VERSION}\n`);
} else {
  const { run } = await import('./program.js');
  process.exitCode = await run(argv);
}
