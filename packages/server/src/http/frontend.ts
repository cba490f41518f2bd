/**
 * A frontend: one HTTP API the server speaks (its own, and the Open Inference Protocol under /v2). Each
 * is mounted at its path, and every error answered there (its routes', its 404s and 405s, a body sent
 * there that cannot be read) has the frontend's body shape; error-mapping.ts gives all of them the same
 * status and Retry-After.
 */
import type { ServeError } from '../errors.js';

export interface Frontend {
  /** Where its routes are mounted; its routes' paths all lie under it. */
  readonly mountPath: string;
  /** An error answer's JSON body in this frontend's shape. */
  errorBody(error: ServeError, requestId: string | undefined): object;
}
