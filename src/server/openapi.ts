/** Builds the OpenAPI 3.1 document of the gateway from the wire schemas (no second copy of any shape). */
import { flattenComponents, loadSchemas } from '../protocol/schema-files.js';
import { SERVED_VERSION } from '../spec/version.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref('ErrorEnvelope') } } });
const retryAfter = { 'Retry-After': { description: 'Seconds to wait before retrying or polling.', schema: { type: 'integer' } } };
const requestId = { 'X-Request-ID': { description: 'The request id (echoed when the client sent a sane one).', schema: { type: 'string' } } };
/** On a motion answer whose prompt(s) the model did not recognize (see x_understood). */
const promptUnrecognized = {
  'X-Prompt-Unrecognized': {
    description: 'Present when a text segment named no motion the model knows: one RFC 8941 list item per such segment, its index with the nearest known motions, e.g. 1;nearest="walk,push,pull". The segment got a neutral motion; x_understood in MMCP_motion has the details.',
    schema: { type: 'string' },
  },
};
const errors = {
  '400': errorResponse('Semantically invalid request (MMCP code in error.code).'),
  '401': errorResponse('Missing API key.'),
  '403': errorResponse('API key not accepted.'),
  '413': errorResponse('Body too large.'),
  '415': errorResponse('Body is not application/json.'),
  '422': errorResponse('Body does not match the schema.'),
  '429': { ...errorResponse('Rate limited.'), headers: retryAfter },
  '500': errorResponse('Internal failure.'),
  '503': { ...errorResponse('At capacity or model unavailable.'), headers: retryAfter },
  '504': errorResponse('Deadline exceeded.'),
};
const gltf = {
  'model/gltf+json': { schema: { type: 'object', description: 'glTF 2.0 JSON with embedded data: URIs and extensions.MMCP_motion.' } },
  'model/gltf-binary': { schema: { type: 'string', format: 'binary' } },
};
const jobId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

export function buildOpenApi(): Record<string, unknown> {
  const components = Object.fromEntries(flattenComponents(loadSchemas(), (c) => `#/components/schemas/${c}`));
  return {
    openapi: '3.1.0',
    info: {
      title: 'Motion gateway (MMCP)',
      version: SERVED_VERSION,
      description: 'One vendor-neutral protocol (MMCP 1.x) in front of motion providers; answers are glTF 2.0 animations on the caller\'s skeleton. Error codes: docs/errors.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Required only when the gateway is configured with API keys.' } },
    },
    security: [{}, { bearer: [] }],
    paths: {
      '/capabilities': {
        get: { summary: 'Models, canonical skeletons and limits', responses: { '200': { description: 'Capabilities', headers: requestId, content: { 'application/json': { schema: ref('Capabilities') } } }, '401': errors['401'], '403': errors['403'], '429': errors['429'] } },
      },
      '/generate': {
        post: {
          summary: 'Generate motion (single request or batch)',
          parameters: [
            { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 }, description: 'Replays the first answer for the same body; 409 for a different body.' },
            { name: 'Prefer', in: 'header', schema: { type: 'string' }, description: 'respond-async: answer 202 at once; wait=N: hold at most N seconds.' },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: { oneOf: [ref('GenerateRequest'), ref('BatchRequest')] } } } },
          responses: {
            '200': { description: 'The animation (or, for a batch, the results).', headers: promptUnrecognized, content: { ...gltf, 'application/json': { schema: { oneOf: [{ type: 'object' }, ref('BatchResponse')] } } } },
            '202': { description: 'Accepted; poll Location.', headers: { ...retryAfter, Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: ref('JobAccepted') } } },
            '409': errorResponse('Idempotency-Key reused with a different body.'),
            ...errors,
          },
        },
      },
      '/generate/jobs/{id}': {
        parameters: [jobId],
        get: {
          summary: 'Poll an async job',
          responses: {
            '200': { description: 'Finished: the animation.', headers: promptUnrecognized, content: gltf },
            '202': { description: 'Still running.', headers: retryAfter, content: { 'application/json': { schema: ref('JobAccepted') } } },
            '404': errorResponse('Unknown or expired job.'),
            '410': errorResponse('The job was cancelled.'),
            ...errors,
          },
        },
        delete: { summary: 'Cancel a job (or forget a finished one)', responses: { '204': { description: 'Cancelled.' }, '404': errorResponse('Unknown or expired job.') } },
      },
      '/generate/jobs/{id}/status': {
        parameters: [jobId],
        get: { summary: 'Job state, progress and queue position (not part of MMCP)', responses: { '200': { description: 'Status', content: { 'application/json': { schema: ref('JobStatus') } } }, '404': errorResponse('Unknown or expired job.') } },
      },
      '/generate/jobs/{id}/events': {
        parameters: [jobId],
        get: {
          summary: 'Live job status as Server-Sent Events (not part of MMCP)',
          description:
            'A `status` event whenever the state, progress, queue position or serving model changes, then one `done` event with the final status, after which the stream ends; each event\'s data is the JobStatus JSON. A comment line every 15 s keeps proxies from closing a quiet stream. A client whose stream fails carries on polling /status.',
          responses: {
            '200': { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string', description: '`event: status|done` lines, each with `data: <JobStatus JSON>`.' } } } },
            '404': errorResponse('Unknown or expired job.'),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'The process is alive.' } } } },
      '/readyz': { get: { summary: 'Readiness (store open, adapters ready)', security: [], responses: { '200': { description: 'Ready.' }, '503': errors['503'] } } },
      '/schemas': { get: { summary: 'Index of the wire schemas', security: [], responses: { '200': { description: 'Schema list.' } } } },
      '/schemas/{name}': { get: { summary: 'One wire schema (JSON Schema 2020-12)', security: [], parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'The schema.' }, '404': errorResponse('No such schema.') } } },
      '/openapi.json': { get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1.' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'Metrics in text format.' } } } },
    },
  };
}
