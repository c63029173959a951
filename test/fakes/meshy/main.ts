/**
 * Runs the Meshy simulator on its own, to try the `meshy` model without a Meshy account:
 * `npm run sim:meshy -- --port 18482`. Prints its URL, API key and the command that starts a gateway
 * against it. `--help` lists the options.
 */
import { parseArgs } from 'node:util';
import { startMeshySimulator } from './server.js';

const USAGE = `Usage: npm run sim:meshy -- [options]

A local stand-in for Meshy's API (rigging, the animation library, tasks with SSE progress, downloads).
Every library action is a simple, deterministic clip on a Meshy-style rig (walks travel, waves wave,
jumps leave the ground), not Meshy's motion capture. Tasks take about 5 s, and stall at 99 % for 3 s
as Meshy's do.

Options:
  --port N       API port on 127.0.0.1 (default: any free port); files are served from the same origin
  --key KEY      the accepted API key (default: a generated msy_sim_… key)
  -h, --help     this text
`;

let args;
try {
  args = parseArgs({ options: { port: { type: 'string' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const port = args.port === undefined ? 0 : Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`--port must be an integer from 0 to 65535, got "${args.port}"\n\n${USAGE}`);
  process.exit(2);
}

let sim;
try {
  sim = await startMeshySimulator({
    // Slow enough to watch progress and the 99 % stall, quick enough to wait for.
    timing: { pendingMs: 1_000, runMs: 4_000, stallMs: 3_000, tickMs: 100 },
    rateLimitPerSecond: 20,
    keys: args.key ? [args.key] : undefined,
    // Files on the API's own origin: the gateway accepts them without PROVIDER_ASSET_ORIGINS.
    assetsOnApiOrigin: true,
    port,
  });
} catch (err) {
  process.stderr.write(`cannot listen: ${(err as Error).message}\n`);
  process.exit(1);
}
console.log(`Meshy simulator on ${sim.url}`);
console.log(`API key: ${sim.apiKey}`);
console.log(`Start a gateway against it with:`);
console.log(`  MESHY_BASE_URL=${sim.url} MESHY_API_KEY=${sim.apiKey} MESHY_CHARACTER_URL=${sim.sampleUrl('humanoid')} npm run dev`);
console.log(`Its clips are simple stand-ins for the library's motion capture. Ctrl-C stops it.`);
const running = sim;
const stop = () => void running.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
