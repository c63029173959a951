/** The descriptive endpoints: capabilities, health and readiness, schemas, the OpenAPI document, metrics. */
import type { Request, Response } from 'express';
import { GatewayError } from '../../spec/errors.js';
import { loadSchemas } from '../../protocol/schema-files.js';
import { SERVED_VERSION } from '../../spec/version.js';
import type { Capabilities } from '../../spec/wire.js';
import type { GatewayContext } from '../context.js';
import { sendError } from '../http.js';
import { buildOpenApi } from '../openapi.js';

function capabilitiesOf(gw: GatewayContext): Capabilities {
  return {
    protocol_version: SERVED_VERSION,
    rotation_format: 'quaternion_xyzw',
    coordinate_system: 'right_handed_y_up',
    units: 'meters',
    response_formats: ['gltf_2.0_json', 'gltf_2.0_binary'],
    models: gw.registry.models(),
  };
}

export function getCapabilities(gw: GatewayContext) {
  return (_req: Request, res: Response): void => {
    res.setHeader('Cache-Control', 'no-cache');
    res.status(200).json(capabilitiesOf(gw));
  };
}

export function getHealth() {
  return (_req: Request, res: Response): void => {
    res.status(200).json({ status: 'ok' });
  };
}

/** Ready when the store is open and at least one adapter can take work; each adapter's state is listed. */
export function getReady(gw: GatewayContext) {
  return (_req: Request, res: Response): void => {
    const adapters = gw.registry.readiness();
    // A provider's open breaker keeps its models out of new work, not this instance out of service.
    const breakers = gw.registry.breakers.view(gw.registry.adapters.map((a) => a.provider));
    const storeStatus = gw.store.status();
    const store = storeStatus.state === 'ok' ? 'ok' : storeStatus.state === 'end' ? 'closed' : storeStatus.state;
    const anyReady = Object.values(adapters).some((a) => a.ready);
    if (store === 'ok' && anyReady) {
      res.status(200).json({ status: 'ready', store, store_kind: storeStatus.kind, adapters, breakers, jobs: gw.runner.stats() });
      return;
    }
    const why = store === 'ok' ? 'no model provider is ready' : store === 'closed' ? 'the job store is closed' : `the ${storeStatus.kind} store is ${store}`;
    sendError(res, new GatewayError('MG-SRV-003', `The gateway is not ready: ${why}.`, { retryAfterS: 10, details: { store, store_kind: storeStatus.kind, adapters, breakers } }));
  };
}

export function getSchemaIndex() {
  return (_req: Request, res: Response): void => {
    res.status(200).json({ schemas: [...loadSchemas().keys()].map((name) => ({ name, href: `/schemas/${name}` })) });
  };
}

export function getSchema() {
  const schemas = loadSchemas();
  return (req: Request, res: Response): void => {
    const name = String(req.params.name).replace(/\.schema\.json$|\.json$/, '');
    const schema = schemas.get(name);
    if (!schema) throw new GatewayError('MG-REQ-007', 'There is no such schema.', { details: { schemas: [...schemas.keys()] } });
    res.status(200).type('application/schema+json').send(JSON.stringify(schema, null, 2));
  };
}

export function getOpenApi() {
  const doc = JSON.stringify(buildOpenApi());
  return (_req: Request, res: Response): void => {
    res.status(200).type('application/json').send(doc);
  };
}

export function getMetrics(gw: GatewayContext) {
  return async (_req: Request, res: Response): Promise<void> => {
    const counts = gw.runner.stats();
    gw.metrics.jobsInFlight.set({ kind: 'running' }, counts.active);
    gw.metrics.jobsInFlight.set({ kind: 'queued' }, counts.queued);
    const work = gw.runner.workerStats();
    gw.metrics.workerTasks.set({ kind: 'running' }, work.running);
    gw.metrics.workerTasks.set({ kind: 'queued' }, work.queued);
    gw.metrics.workerThreads.set(work.threads);
    res.status(200).type(gw.metrics.registry.contentType).send(await gw.metrics.registry.metrics());
  };
}
