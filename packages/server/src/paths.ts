/** Files that ship with the package, located from the compiled output (dist/src/paths.js). */
import { fileURLToPath } from 'node:url';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
