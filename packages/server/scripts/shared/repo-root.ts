/**
 * The workspace root, two levels above the server package: models/, deploy/, the Dockerfile, README.md
 * and the hoisted node_modules live there. Only scripts and tests look there; the server itself finds
 * models through MODELS_DIR.
 */
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';

export const REPO_ROOT = path.resolve(PACKAGE_ROOT, '..', '..');
