/**
 * The Open Inference Protocol (KServe v2 REST), mounted at /v2. Its errors keep the spec's shape, `error`
 * being the message, with this server's code, field and allowed beside it.
 */
import type { ServeError } from '../errors.js';
import type { Frontend } from './frontend.js';

export interface InferenceProtocolErrorBody {
  error: string;
  code: string;
  field?: string;
  allowed?: unknown;
  request_id?: string;
}

export function inferenceProtocolErrorBody(
  error: ServeError,
  requestId: string | undefined,
): InferenceProtocolErrorBody {
  const body: InferenceProtocolErrorBody = { error: error.message, code: error.code };
  if (error.details.field !== undefined) body.field = error.details.field;
  if (error.details.allowed !== undefined) body.allowed = error.details.allowed;
  if (requestId !== undefined) body.request_id = requestId;
  return body;
}

export const INFERENCE_PROTOCOL_FRONTEND: Frontend = { mountPath: '/v2', errorBody: inferenceProtocolErrorBody };
