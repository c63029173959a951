/**
 * Runs the SayMotion simulator on its own for local development: `npx tsx test/fakes/saymotion/main.ts`
 * prints one JSON line with its URL and credentials (and the matching SAYMOTION_* variables on stderr).
 * SAYMOTION_SIM_PORT, SAYMOTION_SIM_CLIENT_ID, SAYMOTION_SIM_CLIENT_SECRET, SAYMOTION_SIM_JOB_MS tune it.
 */
import { SayMotionSimulator } from './server.js';

const env = process.env;
const sim = new SayMotionSimulator({
  clientId: env.SAYMOTION_SIM_CLIENT_ID ?? 'local-client',
  clientSecret: env.SAYMOTION_SIM_CLIENT_SECRET ?? 'local-secret',
  job: { queueMs: 500, queuePosition: 2, runMs: Number(env.SAYMOTION_SIM_JOB_MS ?? 3_000) },
});
await sim.start(Number(env.SAYMOTION_SIM_PORT ?? 0));
console.log(JSON.stringify({ url: sim.url, storageUrl: sim.storageUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, characterId: sim.characterId }));
process.stderr.write(
  `SayMotion simulator ready. Run the gateway against it with:\n` +
    `  SAYMOTION_BASE_URL=${sim.url} SAYMOTION_CLIENT_ID=${sim.clientId} SAYMOTION_CLIENT_SECRET=${sim.clientSecret} SAYMOTION_CHARACTER_ID=${sim.characterId}\n`,
);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
