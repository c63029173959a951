/** Both provider simulators behind a gateway each, for tests that run one request through every provider. */
import { afterAll, beforeAll } from 'vitest';
import { setup as sayMotionSetup, type Setup } from '../adapters/saymotion/harness.js';
import { startRig, type Rig } from '../adapters/meshy/harness.js';

export interface Providers {
  say: Setup;
  meshy: Rig;
}

/** Starts a SayMotion and a Meshy gateway (each on its simulator) before the describe block's tests, and stops them after. */
export function withProviderSimulators(): Providers {
  const p = {} as Providers;
  beforeAll(async () => {
    [p.say, p.meshy] = await Promise.all([sayMotionSetup(), startRig()]);
  });
  afterAll(() => Promise.all([p.say?.close(), p.meshy?.close()]));
  return p;
}
