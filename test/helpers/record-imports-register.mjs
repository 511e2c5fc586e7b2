// Loaded with `node --import`: installs record-imports.mjs as a resolution hook.
import { register } from 'node:module';

register('./record-imports.mjs', import.meta.url);
