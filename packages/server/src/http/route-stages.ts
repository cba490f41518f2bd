/**
 * A route as one declaration: its openapi.yaml operation, what its requests need, and its handler.
 *
 *   route({ method: 'POST', path: '/v1/models/:model/samples', operationId: 'samples', queuesWork: true })
 *     .readyModel()
 *     .jsonBody()
 *     .handle(({ model, body, res }) => ...);
 *
 * One runner (`handle`'s createHandler) runs the declared stages in a fixed order, whatever order they are
 * declared in: the model first (an unknown model says so first, and shedding load stays cheap), then the
 * query, then the JSON body. A stage that fails throws its ServeError; the handler runs only when every
 * stage has passed, and gets what each produced. The query and body are validated against the operation's
 * schema and typed from the same document (operation-input.ts), so the handler's input needs no cast.
 */
import type { Response } from 'express';
import type { ModelVersion, ReadyModel } from '../models/model-version.js';
import type { RouteContext } from './app-deps.js';
import type { BodyOf, BodyOperation, OperationId, QueryOf, QueryOperation } from './operation-input.js';
import { defaultModelName, findModel, namedInPath, requireReady } from './request-model.js';
import { splitTensorBody, TENSOR_BODY_TYPES } from './binary-tensor-body.js';
import type { Validator } from './openapi-validation.js';
import { requireJson } from './require-json.js';
import type { RouteDefinition, RouteRequest, RouteStageName } from './route.js';

/** What every stage reads, and what the handler gets besides the stages' results. */
export interface RouteCall {
  context: RouteContext;
  req: RouteRequest;
  res: Response;
}

/** A stage: prepared once per app (validators compiled), then run on each request. */
interface Stage<Result> {
  /** Absent for an undeclared stage, which adds nothing. */
  name?: RouteStageName;
  prepare: (context: RouteContext) => (call: RouteCall) => Result;
}

type Nothing = Record<never, never>;
const NOTHING: Nothing = Object.freeze({});
const nothing: Stage<Nothing> = { prepare: () => () => NOTHING };

/** What RouteDefinition says about a route besides its stages and handler; the operation's schemas validate and type its input. */
export type RouteHead<Op extends OperationId> = Pick<RouteDefinition, 'method' | 'path' | 'queuesWork' | 'frontend'> & {
  operationId: Op;
};

export interface JsonBodyInput<Op extends BodyOperation> {
  body: BodyOf<Op>;
  /** The body's top-level fields as the client sent them, before defaults were filled. */
  sentFields: ReadonlySet<string>;
}

export interface TensorBodyInput<Op extends BodyOperation> extends JsonBodyInput<Op> {
  /** The bytes after the JSON header of a binary-form body; empty for a JSON body. */
  binaryData: Buffer;
}

const NO_BYTES = Buffer.alloc(0);

function validatedBody<B extends BodyOperation>(validate: Validator<BodyOf<B>>, raw: unknown): JsonBodyInput<B> {
  const sentFields = new Set(typeof raw === 'object' && raw !== null ? Object.keys(raw) : []);
  return { body: validate(raw), sentFields };
}

class RouteStages<Op extends OperationId, ModelResult, QueryResult, BodyResult> {
  constructor(
    private readonly head: RouteHead<Op>,
    private readonly modelStage: Stage<ModelResult>,
    private readonly queryStage: Stage<QueryResult>,
    private readonly bodyStage: Stage<BodyResult>,
  ) {}

  /** The model (and version) the path names, in whatever state: UNKNOWN_MODEL / UNKNOWN_VERSION. */
  knownModel(): RouteStages<Op, { model: ModelVersion }, QueryResult, BodyResult> {
    const model: Stage<{ model: ModelVersion }> = {
      name: 'known-model',
      prepare:
        ({ registry }) =>
        ({ req }) => {
          const { name, version } = namedInPath(req);
          return { model: findModel(registry, name, version) };
        },
    };
    return new RouteStages(this.head, model, this.queryStage, this.bodyStage);
  }

  /**
   * The model (and version) the path names, admitted for work (request-model.ts requireReady: known, ready,
   * room in its queue), and held until the response ends.
   */
  readyModel(): RouteStages<Op, { model: ReadyModel }, QueryResult, BodyResult> {
    const model: Stage<{ model: ReadyModel }> = {
      name: 'ready-model',
      prepare:
        (context) =>
        ({ req, res }) => {
          const { name, version } = namedInPath(req);
          return { model: requireReady(context, name, res, version) };
        },
    };
    return new RouteStages(this.head, model, this.queryStage, this.bodyStage);
  }

  /** The server's default model, admitted like readyModel. */
  readyDefaultModel(): RouteStages<Op, { model: ReadyModel }, QueryResult, BodyResult> {
    const model: Stage<{ model: ReadyModel }> = {
      name: 'ready-default-model',
      prepare:
        (context) =>
        ({ res }) => ({ model: requireReady(context, defaultModelName(context.registry), res) }),
    };
    return new RouteStages(this.head, model, this.queryStage, this.bodyStage);
  }

  /** The query, validated against the operation's query parameters (coerced, defaults filled). */
  query<Q extends QueryOperation>(
    this: RouteStages<Q, ModelResult, QueryResult, BodyResult>,
  ): RouteStages<Q, ModelResult, { query: QueryOf<Q> }, BodyResult> {
    const { operationId } = this.head;
    const query: Stage<{ query: QueryOf<Q> }> = {
      name: 'query',
      prepare: ({ validators }) => {
        const validate = validators.query(operationId);
        // A copy: validation coerces and fills defaults in place.
        return ({ req }) => ({ query: validate({ ...req.query }) });
      },
    };
    return new RouteStages(this.head, this.modelStage, query, this.bodyStage);
  }

  /** A JSON body (UNSUPPORTED_MEDIA_TYPE otherwise), validated against the operation's request body (defaults filled). */
  jsonBody<B extends BodyOperation>(
    this: RouteStages<B, ModelResult, QueryResult, BodyResult>,
  ): RouteStages<B, ModelResult, QueryResult, JsonBodyInput<B>> {
    const { operationId } = this.head;
    const body: Stage<JsonBodyInput<B>> = {
      name: 'json-body',
      prepare: ({ validators }) => {
        const validate = validators.body(operationId);
        return ({ req }) => {
          requireJson(req);
          return validatedBody(validate, req.body);
        };
      },
    };
    return new RouteStages(this.head, this.modelStage, this.queryStage, body);
  }

  /**
   * A JSON body, or the binary tensor data extension's form of one (binary-tensor-body.ts: a JSON header,
   * then tensor bytes), which the /v2 router reads as bytes. The JSON is validated as jsonBody validates
   * it (the stage is the same `json-body` stage); the bytes after it are `binaryData` (none for a JSON body).
   */
  tensorBody<B extends BodyOperation>(
    this: RouteStages<B, ModelResult, QueryResult, BodyResult>,
  ): RouteStages<B, ModelResult, QueryResult, TensorBodyInput<B>> {
    const { operationId } = this.head;
    const body: Stage<TensorBodyInput<B>> = {
      name: 'json-body',
      prepare: ({ validators }) => {
        const validate = validators.body(operationId);
        return ({ req }) => {
          const raw: unknown = req.body;
          if (Buffer.isBuffer(raw)) {
            const { header, binaryData } = splitTensorBody(req, raw);
            return { ...validatedBody(validate, header), binaryData };
          }
          requireJson(req, TENSOR_BODY_TYPES);
          return { ...validatedBody(validate, raw), binaryData: NO_BYTES };
        };
      },
    };
    return new RouteStages(this.head, this.modelStage, this.queryStage, body);
  }

  /** The route, with a handler that gets the call and every declared stage's result. */
  handle(handler: (call: RouteCall & ModelResult & QueryResult & BodyResult) => void | Promise<void>): RouteDefinition {
    const { head, modelStage, queryStage, bodyStage } = this;
    return {
      method: head.method,
      path: head.path,
      operationId: head.operationId,
      queuesWork: head.queuesWork,
      ...(head.frontend !== undefined ? { frontend: head.frontend } : {}),
      stages: [modelStage.name, queryStage.name, bodyStage.name].filter((name) => name !== undefined),
      createHandler: (context) => {
        const model = modelStage.prepare(context);
        const query = queryStage.prepare(context);
        const body = bodyStage.prepare(context);
        return (req, res) => {
          const call: RouteCall = { context, req, res };
          // Spread in stage order: each stage runs only when the ones before it passed.
          return handler({ ...call, ...model(call), ...query(call), ...body(call) });
        };
      },
    };
  }
}

/** Starts a route's declaration; without stages its handler gets only the call. */
export function route<Op extends OperationId>(head: RouteHead<Op>): RouteStages<Op, Nothing, Nothing, Nothing> {
  return new RouteStages(head, nothing, nothing, nothing);
}
