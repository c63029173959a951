/** Compiles the wire schemas with ajv (JSON Schema 2020-12): the validators every request goes through. */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { loadSchemas } from './schema-files.js';

// ajv-formats ships CommonJS; its default export differs between loaders.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/u;
// eslint-disable-next-line no-control-regex
const CONTROL_EXCEPT_TAB_LF = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u;

/** A joint or model name: NFC, no control characters, no surrounding white space. */
function isValidName(s: string): boolean {
  return s.normalize('NFC') === s && !CONTROL.test(s) && s.trim() === s && !/^[\s\u200b\ufeff]|[\s\u200b\ufeff]$/u.test(s);
}

/** A prompt: NFC, no control characters other than tab and line feed, not only white space. */
function isValidText(s: string): boolean {
  return s.normalize('NFC') === s && !CONTROL_EXCEPT_TAB_LF.test(s) && s.trim().length > 0;
}

/**
 * The compiled schemas. `lenient` compiles the same schemas with ajv's removeAdditional: a property an
 * `additionalProperties: false` object does not declare is deleted instead of failing (see
 * lenientValidators).
 */
function createAjv(lenient = false): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, discriminator: true, allowUnionTypes: true, ...(lenient ? { removeAdditional: true as const } : {}) });
  addFormats(ajv);
  ajv.addFormat('mmcp-name', { type: 'string', validate: isValidName });
  ajv.addFormat('mmcp-text', { type: 'string', validate: isValidText });
  for (const schema of loadSchemas().values()) ajv.addSchema(schema);
  return ajv;
}

const ajv = createAjv();
let lenientAjv: Ajv2020 | undefined;

function compiled(id: string, pointer = '', from: Ajv2020 = ajv): ValidateFunction {
  const v = from.getSchema(`urn:mmcp:${id}${pointer}`);
  if (!v) throw new Error(`schema urn:mmcp:${id}${pointer} missing`);
  return v;
}

export const validators = {
  generateRequest: compiled('generate-request'),
  batchRequest: compiled('batch-request'),
  capabilities: compiled('capabilities'),
  errorEnvelope: compiled('error-envelope'),
  batchResponse: compiled('batch-response'),
  jobStatus: compiled('job', '#/$defs/JobStatus'),
  mmcpMotion: compiled('mmcp-motion'),
};

/**
 * Validators for requests of a newer minor protocol version than the one served: they delete the fields
 * these schemas do not declare (MMCP: "a v1.x server SHOULD ignore unknown additive fields") and so
 * mutate what they check; run them on a copy. Compiled on first use.
 */
export const lenientValidators = {
  get generateRequest(): ValidateFunction {
    lenientAjv ??= createAjv(true);
    return compiled('generate-request', '', lenientAjv);
  },
  get batchRequest(): ValidateFunction {
    lenientAjv ??= createAjv(true);
    return compiled('batch-request', '', lenientAjv);
  },
};

function enumOf(file: string, def: string): readonly string[] {
  const schema = loadSchemas().get(file)?.$defs?.[def] as { enum?: string[] } | undefined;
  if (!schema?.enum) throw new Error(`schema ${file}#/$defs/${def} has no enum`);
  return schema.enum;
}

/** The segment and constraint types these schemas know (the served protocol version's). */
export const KNOWN_SEGMENT_TYPES: readonly string[] = enumOf('capabilities', 'SegmentType');
export const KNOWN_CONSTRAINT_TYPES: readonly string[] = enumOf('capabilities', 'ConstraintType');

export interface SchemaIssue {
  /** JSON pointer into the request body. */
  path: string;
  message: string;
}

const MAX_ISSUES = 20;

/**
 * Turns ajv errors into short, user-safe issues. Messages never contain input values (names of unknown
 * fields are shown, truncated). With oneOf over a discriminated union, the discriminator's own error wins.
 */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of errors ?? []) {
    // The "must match exactly one schema in oneOf" summaries add nothing to the specific errors.
    if (err.keyword === 'oneOf' || err.keyword === 'anyOf' || err.keyword === 'if') continue;
    let message: string;
    const params = err.params as Record<string, unknown>;
    switch (err.keyword) {
      case 'additionalProperties':
        message = `unknown field "${String(params.additionalProperty).slice(0, 64)}"`;
        break;
      case 'required':
        message = `missing required field "${String(params.missingProperty)}"`;
        break;
      case 'format':
        message =
          params.format === 'mmcp-name'
            ? 'must be NFC, without control characters or surrounding white space'
            : params.format === 'mmcp-text'
              ? 'must be NFC text without control characters'
              : `must be a valid ${String(params.format)}`;
        break;
      case 'discriminator':
        message =
          params.error === 'mapping'
            ? `"${String(params.tag)}" must be one of the known types`
            : `must have a string "${String(params.tag)}"`;
        break;
      case 'const':
        message = `must be ${JSON.stringify(params.allowedValue)}`;
        break;
      case 'enum':
        message = `must be one of ${JSON.stringify(params.allowedValues)}`;
        break;
      default:
        message = err.message ?? 'is invalid';
    }
    const issue = { path: err.instancePath || '/', message };
    const key = `${issue.path} ${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(issue);
    if (out.length >= MAX_ISSUES) break;
  }
  return out;
}
