/** kiln's own version; a unit test keeps it equal to package.json's. */
export const KILN_VERSION = '0.1.0';
