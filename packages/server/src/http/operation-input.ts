/**
 * What a route's handler receives from openapi.yaml's operations once validated, derived from the types
 * generated from the document (openapi-types.ts): the query or JSON body as the operation declares it,
 * with the fields the validators fill from the document's defaults no longer optional.
 */
import type { operations, requestDefaults } from './openapi-types.js';

export type OperationId = keyof operations;

/** Operations with query parameters. */
export type QueryOperation = {
  [Op in keyof requestDefaults]: requestDefaults[Op] extends { query: string } ? Op : never;
}[keyof requestDefaults];
/** Operations with a JSON body. */
export type BodyOperation = {
  [Op in keyof requestDefaults]: requestDefaults[Op] extends { body: string } ? Op : never;
}[keyof requestDefaults];

type WithDefaults<T, Filled extends PropertyKey> = Omit<T, Filled> & Required<Pick<T, Filled & keyof T>>;

/** The fields of an operation's query or body that the validators fill from the document's defaults. */
type Defaulted<Op extends OperationId, Part extends 'query' | 'body'> = Op extends keyof requestDefaults
  ? requestDefaults[Op] extends Record<Part, infer Field>
    ? Field
    : never
  : never;

type JsonBody<RequestBody> = RequestBody extends { content: { 'application/json': infer Body } } ? Body : never;

/** The operation's query after validation: coerced, defaults filled. */
export type QueryOf<Op extends QueryOperation> = WithDefaults<
  NonNullable<operations[Op]['parameters']['query']>,
  Defaulted<Op, 'query'>
>;

/** The operation's JSON body after validation, defaults filled. */
export type BodyOf<Op extends BodyOperation> = WithDefaults<
  JsonBody<operations[Op]['requestBody']>,
  Defaulted<Op, 'body'>
>;
