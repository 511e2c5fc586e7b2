#!/usr/bin/env node
/**
 * kiln's command line. Commands are imported only when they run, so `kiln --version` and
 * `kiln validate` never load what `kiln build` needs (and no cloud SDK ever loads unless a
 * template uses that cloud).
 */
import { KILN_VERSION } from './version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-version' || argv[0] === '-v' || argv[0] === 'version')) {
  process.stdout.write(`kiln ${KILN_VERSION}\n`);
} else {
  const { run } = await import('./program.js');
  process.exitCode = await run(argv);
}
