/** The adapter registry: which providers are configured, and which adapter serves which model. Adding a provider touches only this file and its own folder. */
import type { Config } from '../config.js';
import type { ModelCapabilities } from '../protocol/wire.js';
import type { ModelCatalog } from '../protocol/validate.js';
import type { Adapter, Readiness } from './contract.js';
import { createMeshyAdapter } from './meshy/index.js';
import { createProceduralAdapter } from './procedural/index.js';
import { createSayMotionAdapter } from './saymotion/index.js';

export class AdapterRegistry implements ModelCatalog {
  constructor(readonly adapters: readonly Adapter[]) {}

  model(id: string): ModelCapabilities | undefined {
    for (const a of this.adapters) {
      const m = a.models().find((x) => x.id === id);
      if (m) return m;
    }
    return undefined;
  }

  modelIds(): string[] {
    return this.adapters.flatMap((a) => a.models().map((m) => m.id));
  }

  models(): ModelCapabilities[] {
    return this.adapters.flatMap((a) => a.models());
  }

  adapterFor(modelId: string): Adapter | undefined {
    return this.adapters.find((a) => a.models().some((m) => m.id === modelId));
  }

  readiness(): Record<string, Readiness> {
    return Object.fromEntries(this.adapters.map((a) => [a.provider, a.readiness()]));
  }

  async close(): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.close?.()));
  }
}

/** The adapters the configuration asks for; the procedural model is always there. */
export function createAdapters(config: Config): Adapter[] {
  const adapters: Adapter[] = [createProceduralAdapter()];
  if (config.saymotion) adapters.push(createSayMotionAdapter(config.saymotion));
  if (config.meshy) adapters.push(createMeshyAdapter(config.meshy));
  return adapters;
}
