/**
 * The error catalogue: every failure the gateway can answer, in one place. Errors are created where the
 * failure is understood (as GatewayError values) and rendered once, at the HTTP edge, as the envelope of
 * docs/errors.md: the MMCP view (`error`) and the support view (`detail`).
 */
import type { ErrorEnvelope } from './wire.js';

export interface CatalogueEntry {
  /** HTTP status. */
  status: number;
  /** MMCP `error.code`. */
  code: string;
  /** Default user-safe message. */
  message: string;
  /** What the caller can do about it (may mention `{retry_after_s}`). */
  action: string;
  /** Whether retrying the same request later can succeed. */
  retryable: boolean;
}

const e = (status: number, code: string, message: string, action: string, retryable = false): CatalogueEntry => ({
  status,
  code,
  message,
  action,
  retryable,
});

export const CATALOGUE = {
  // Transport and request shape.
  'MG-REQ-001': e(422, 'schema_validation', 'The request body does not match the MMCP schema.', 'Fix the fields listed in error.details.errors; schemas are served at /schemas and /openapi.json.'),
  'MG-REQ-002': e(422, 'schema_validation', 'The request body is not valid JSON.', 'Send a UTF-8 JSON document (NaN and Infinity are not JSON).'),
  'MG-REQ-003': e(422, 'schema_validation', 'The request body is nested too deeply.', 'Flatten the document; see error.details.max_depth.'),
  'MG-REQ-004': e(413, 'payload_too_large', 'The request body is larger than the server accepts.', 'Send at most error.details.max_request_bytes bytes (error.details.request_bytes is what was sent, or received before the limit was crossed); split work into several requests.'),
  'MG-REQ-005': e(415, 'unsupported_media_type', 'The request body must be sent as application/json.', 'Send the header Content-Type: application/json; charset=utf-8.'),
  'MG-REQ-006': e(406, 'not_acceptable', 'None of the media types in the Accept header can be produced.', 'Accept model/gltf+json, application/json or model/gltf-binary.'),
  'MG-REQ-007': e(404, 'not_found', 'There is no such endpoint.', 'See /openapi.json for the endpoints this server offers.'),
  'MG-REQ-008': e(405, 'method_not_allowed', 'This endpoint does not support that HTTP method.', 'Use one of the methods listed in the Allow header.'),
  'MG-REQ-009': e(422, 'schema_validation', 'Joint names must be unique within a skeleton.', 'Rename or remove the duplicate joints listed in error.details.errors.'),
  'MG-REQ-010': e(422, 'schema_validation', 'The request must have segments, or duration_frames with at least one constraint.', 'Give segments (without duration_frames), or duration_frames with constraints.'),
  'MG-REQ-011': e(422, 'schema_validation', 'Arrays of a constraint or segment are inconsistent.', 'Make the listed arrays equal in length and frames strictly ascending.'),
  'MG-REQ-012': e(400, 'invalid_request', 'A rotation in the request is not a valid quaternion.', 'Send unit quaternions [x, y, z, w]; a zero quaternion has no meaning.'),
  'MG-REQ-013': e(422, 'schema_validation', 'The request has an invalid header value.', 'Fix the header named in error.details.header.'),
  'MG-REQ-014': e(400, 'invalid_request', 'The request URL is malformed.', 'Percent-encode the URL correctly.'),
  'MG-REQ-015': e(422, 'schema_validation', 'The body is not a batch: a batch needs a non-empty requests list.', 'Send {"protocol_version": "1.3", "requests": [...]} with at least one request, or a single GenerateRequest.'),
  'MG-REQ-016': e(415, 'unsupported_media_type', 'The request body must not be content-encoded.', 'Send the body uncompressed: no Content-Encoding header, or Content-Encoding: identity.'),
  'MG-REQ-017': e(400, 'invalid_request', 'The request is not valid HTTP/1.1.', 'Check the request line and headers (visible ASCII names, no bare CR or LF, one Content-Length).'),
  'MG-REQ-018': e(431, 'invalid_request', 'The request headers are too large.', 'Send fewer or shorter headers (cookies and tokens included).'),
  'MG-REQ-019': e(408, 'timeout', 'The request was not received in time.', 'Send the request line, headers and body without pausing; retry on a new connection.', true),

  // Protocol semantics, in the spec's validation order.
  'MG-PRO-001': e(400, 'version_unsupported', 'This protocol major version is not supported.', 'Send protocol_version "1.x" (see error.details.supported_majors).'),
  'MG-PRO-002': e(400, 'unknown_model', 'The requested model is not offered by this server.', 'Use one of error.details.available_models (see GET /capabilities).'),
  'MG-PRO-003': e(400, 'invalid_skeleton', 'The skeleton topology is invalid.', 'Send exactly one root (parent null), every parent listed before its children, no cycles.'),
  'MG-PRO-004': e(400, 'invalid_skeleton', 'The skeleton could not be mapped to a humanoid.', 'Check the joints named in error.details.missing_roles; a humanoid needs hips, spine, head, two arms and two legs.'),
  'MG-PRO-005': e(400, 'retargeting_unsupported', 'This model needs its canonical skeleton verbatim.', 'Send the canonical_skeleton of the model from GET /capabilities.'),
  'MG-PRO-006': e(400, 'unsupported_segment', 'A segment type is not supported by this model.', 'Use one of error.details.supported_segments.'),
  'MG-PRO-007': e(400, 'invalid_options', 'The options are not valid for this request.', 'Fix the option named in error.details.option.'),
  'MG-PRO-008': e(400, 'invalid_request', 'A motion reference must animate the skeleton root.', 'Include the root joint in joint_names.'),
  'MG-PRO-009': e(400, 'unknown_joint', 'A joint named in the request is not in the skeleton.', 'Use joints from error.details.skeleton_joints.'),
  'MG-PRO-010': e(400, 'unsupported_constraint', 'A constraint type is not supported by this model.', 'Use one of error.details.supported_constraints.'),
  'MG-PRO-011': e(400, 'frame_out_of_range', 'A frame number is outside the clip.', 'Use frames in [0, total_frames - 1] (see error.details).'),
  'MG-PRO-012': e(400, 'invalid_options', 'The request exceeds a limit of this model.', 'Stay within the limit named in error.details (see GET /capabilities).'),
  'MG-PRO-013': e(400, 'invalid_options', 'The batch has more requests than this server accepts.', 'Send at most error.details.max_batch_size requests per batch.'),
  'MG-PRO-014': e(400, 'invalid_request', 'The prompt could not be matched to a motion this model can produce.', 'Rephrase the prompt; error.details.alternatives lists close matches.'),
  'MG-PRO-015': e(400, 'invalid_request', 'The request is not valid for this model.', 'Fix the field named in error.details.'),
  'MG-PRO-016': e(400, 'invalid_options', 'The request asks for more output or work than this server accepts.', 'Lower what error.details.lower lists until error.details.estimate is within error.details.max (budgets in GET /capabilities, see docs/limits.md).'),

  // Gateway authentication and each API key's limits.
  'MG-AUT-001': e(401, 'unauthorized', 'An API key is required.', 'Send Authorization: Bearer <your gateway API key>.'),
  'MG-AUT-002': e(403, 'forbidden', 'This API key is not accepted.', 'Check the key with the operator of this gateway.'),
  'MG-AUT-003': e(429, 'rate_limited', 'This API key is over a rate limit of this gateway.', 'Retry after {retry_after_s} seconds (see the Retry-After header); error.details.limit names the limit.', true),

  // Jobs and idempotency.
  'MG-JOB-001': e(404, 'job_not_found', 'No such job (it may have expired).', 'Results are kept for a limited time; submit the request again.'),
  'MG-JOB-002': e(409, 'idempotency_conflict', 'This Idempotency-Key was used with a different request body.', 'Use a new Idempotency-Key for a different request.'),
  'MG-JOB-003': e(503, 'resource_exhausted', 'The gateway is at capacity.', 'Retry after {retry_after_s} seconds (see the Retry-After header).', true),
  'MG-JOB-004': e(504, 'timeout', 'The generation did not finish within its deadline.', 'Retry, or ask for a shorter clip.', true),
  'MG-JOB-005': e(410, 'job_cancelled', 'The job was cancelled.', 'Submit the request again if you still need it.'),
  'MG-JOB-006': e(400, 'invalid_request', 'The Idempotency-Key header is not valid.', 'Send 1-255 printable ASCII characters.'),
  'MG-JOB-007': e(404, 'job_not_found', 'The result of this job is no longer stored on the gateway.', 'Submit the request again (a seeded request gives the same answer); tell the operator if this repeats.'),

  // The server itself.
  'MG-SRV-001': e(500, 'internal_error', 'The gateway failed unexpectedly.', 'Retry later; quote the X-Request-ID to the operator if it persists.'),
  'MG-SRV-002': e(503, 'model_unavailable', 'The gateway is shutting down.', 'Retry after {retry_after_s} seconds.', true),
  'MG-SRV-003': e(503, 'model_unavailable', 'The model is not available right now.', 'Retry after {retry_after_s} seconds; /readyz tells why.', true),
  'MG-SRV-004': e(503, 'model_unavailable', 'The provider has been failing; the gateway sends it no new work for a while (its circuit breaker is open).', 'Retry after {retry_after_s} seconds, or use a route with another target; /readyz shows the breaker.', true),

  // Providers (the origin is kept in error.details: provider, provider_status, provider_code, provider_job_id).
  'MG-PRV-400': e(400, 'invalid_request', 'The provider could not animate this request.', 'Change the prompt or the character; error.details.provider_message says why.'),
  'MG-PRV-401': e(503, 'model_unavailable', 'The provider refused the gateway\'s credentials.', 'Contact the operator of this gateway (the provider account needs attention).', true),
  'MG-PRV-402': e(402, 'insufficient_credits', 'The provider account has no credits left.', 'Top up the credits of the provider account, then retry.'),
  'MG-PRV-422': e(400, 'invalid_request', 'The provider could not rig this character (not a humanoid?).', 'Use a textured humanoid .glb facing +Z.'),
  'MG-PRV-429': e(503, 'resource_exhausted', 'The provider is rate-limiting this gateway.', 'Retry after {retry_after_s} seconds (see the Retry-After header).', true),
  'MG-PRV-451': e(400, 'invalid_request', 'The provider refused this content.', 'Change the prompt.'),
  'MG-PRV-500': e(500, 'internal_error', 'The provider failed to generate the motion.', 'Retry later; error.details.provider_code identifies the failure.'),
  'MG-PRV-502': e(500, 'internal_error', 'The provider answered something the gateway could not read.', 'Retry later; quote the X-Request-ID to the operator if it persists.'),
  'MG-PRV-503': e(503, 'model_unavailable', 'The provider is temporarily unavailable.', 'Retry after {retry_after_s} seconds.', true),
  'MG-PRV-504': e(504, 'timeout', 'The provider did not finish in time.', 'Retry, or ask for a shorter clip.', true),
  'MG-PRV-410': e(500, 'internal_error', 'The provider no longer has this result.', 'Submit the request again.'),
  'MG-PRV-412': e(503, 'model_unavailable', 'The provider cannot animate the character configured for this model.', 'Contact the operator of this gateway (the configured character needs attention); other models still work.'),
  'MG-PRV-403': e(503, 'model_unavailable', 'The provider pointed the gateway at a file host it does not fetch from.', 'Contact the operator of this gateway: result files must come from https on a public address, or from an origin listed in PROVIDER_ASSET_ORIGINS (see error.details.provider_message).', true),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorId = keyof typeof CATALOGUE;

export interface GatewayErrorOptions {
  details?: Record<string, unknown> | null;
  /** Seconds before a retry can succeed (sent as Retry-After). */
  retryAfterS?: number;
  /** An action more specific than the catalogue's. */
  action?: string;
  cause?: unknown;
}

/** A failure of the catalogue, with a user-safe message and details that never echo input or secrets. */
export class GatewayError extends Error {
  readonly id: ErrorId;
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | null;
  readonly retryAfterS: number | undefined;
  readonly action: string;
  readonly retryable: boolean;

  constructor(id: ErrorId, message?: string, opts: GatewayErrorOptions = {}) {
    const entry: CatalogueEntry = CATALOGUE[id];
    super(message ?? entry.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.id = id;
    this.status = entry.status;
    this.code = entry.code;
    this.details = opts.details ?? null;
    this.retryAfterS = opts.retryAfterS ?? (entry.status === 429 || entry.status === 503 ? 5 : undefined);
    this.retryable = entry.retryable;
    const action = opts.action ?? entry.action;
    this.action = action.replace('{retry_after_s}', String(this.retryAfterS ?? 5));
  }

  /** The wire envelope (both views). */
  toEnvelope(): ErrorEnvelope {
    return {
      error: { code: this.code, message: this.message, details: this.details },
      detail: { error_code: this.id, message: this.message, action: this.action },
    };
  }

  /** A plain JSON form for storing in the job store. */
  toJSON(): StoredError {
    return { id: this.id, message: this.message, details: this.details, retryAfterS: this.retryAfterS, action: this.action };
  }

  static fromJSON(s: StoredError): GatewayError {
    const id = (s.id in CATALOGUE ? s.id : 'MG-SRV-001') as ErrorId;
    return new GatewayError(id, s.message, { details: s.details, retryAfterS: s.retryAfterS, action: s.action });
  }
}

export interface StoredError {
  id: string;
  message: string;
  details: Record<string, unknown> | null;
  retryAfterS?: number;
  action?: string;
}

/** A configuration value that stops start-up; its message names the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Any thrown value as a GatewayError; unknown failures become MG-SRV-001 without leaking their text. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('MG-SRV-001', undefined, { cause: err });
}
