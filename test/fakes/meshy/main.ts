/** Runs the Meshy simulator on its own: `npx tsx test/fakes/meshy/main.ts [port-less; prints URL and key]`. */
import { startMeshySimulator } from './server.js';

const sim = await startMeshySimulator({
  // Slow enough to watch progress and the 99 % stall, quick enough to wait for.
  timing: { pendingMs: 1_000, runMs: 4_000, stallMs: 3_000, tickMs: 100 },
  rateLimitPerSecond: 20,
  keys: process.env.MESHY_SIM_KEY ? [process.env.MESHY_SIM_KEY] : undefined,
});
console.log(`Meshy simulator on ${sim.url} (assets on ${sim.assetOrigin})`);
console.log(`API key: ${sim.apiKey}`);
console.log(`Try: MESHY_BASE_URL=${sim.url} MESHY_API_KEY=${sim.apiKey} MESHY_CHARACTER_URL=${sim.sampleUrl('humanoid')} npm run dev`);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
