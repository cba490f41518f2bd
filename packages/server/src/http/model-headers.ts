import type { Response } from 'express';
import type { ModelManifest } from '@sagan-serve/model-contract/manifest';
import { headerValue } from './header-value.js';

/** X-Model and X-Model-Version: which model and version made the response (encoded by headerValue). */
export function setModelHeaders(res: Response, manifest: Pick<ModelManifest, 'name' | 'version'>): void {
  res.setHeader('X-Model', headerValue(manifest.name));
  res.setHeader('X-Model-Version', headerValue(manifest.version));
}
