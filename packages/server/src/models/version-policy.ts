/**
 * Which versions of a model are served (Triton's version_policy), from the optional
 * `<MODELS_DIR>/<model>/config.json`:
 *
 *   {"version_policy": {"latest": {"num_versions": 1}}}      the newest N versions (the default, N = 1)
 *   {"version_policy": {"specific": {"versions": ["3", "5"]}}} exactly these
 *   {"version_policy": {"all": {}}}                           every version found
 *
 * Versions are ordered by their names with numbers compared as numbers ("10" after "9", "step-900"
 * before "step-12000"); the newest ready selected version answers the routes without a version.
 */
import { Ajv } from 'ajv';

export type VersionPolicy =
  { kind: 'latest'; numVersions: number } | { kind: 'specific'; versions: string[] } | { kind: 'all' };

export const DEFAULT_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version_policy: {
      type: 'object',
      minProperties: 1,
      maxProperties: 1,
      additionalProperties: false,
      properties: {
        latest: {
          type: 'object',
          additionalProperties: false,
          required: ['num_versions'],
          properties: { num_versions: { type: 'integer', minimum: 1, maximum: 64 } },
        },
        specific: {
          type: 'object',
          additionalProperties: false,
          required: ['versions'],
          properties: {
            versions: {
              type: 'array',
              minItems: 1,
              maxItems: 64,
              items: { type: 'string', minLength: 1, maxLength: 128 },
            },
          },
        },
        all: { type: 'object', additionalProperties: false, maxProperties: 0 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile(schema);

export class VersionPolicyError extends Error {}

/** The policy of a parsed config.json (an absent version_policy is the default). */
export function parseVersionPolicy(json: unknown): VersionPolicy {
  if (!validate(json)) {
    const e = validate.errors?.[0];
    throw new VersionPolicyError(
      `config.json: ${e ? `${e.instancePath || '/'} ${e.message}` : 'invalid'} (version_policy is {"latest": {"num_versions": N}}, {"specific": {"versions": [...]}} or {"all": {}})`,
    );
  }
  const p = (
    json as { version_policy?: { latest?: { num_versions: number }; specific?: { versions: string[] }; all?: object } }
  ).version_policy;
  if (!p) return DEFAULT_POLICY;
  if (p.latest) return { kind: 'latest', numVersions: p.latest.num_versions };
  if (p.specific) return { kind: 'specific', versions: [...p.specific.versions] };
  return { kind: 'all' };
}

/** Oldest to newest: numeric runs compare as numbers. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The versions the policy serves, oldest first. */
export function selectVersions(policy: VersionPolicy, available: readonly string[]): string[] {
  const sorted = [...available].sort(compareVersions);
  if (policy.kind === 'all') return sorted;
  if (policy.kind === 'latest') return sorted.slice(-policy.numVersions);
  return sorted.filter((v) => policy.versions.includes(v));
}
