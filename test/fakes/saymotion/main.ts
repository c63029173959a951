/**
 * Runs the SayMotion simulator on its own, to try the `saymotion` model without a DeepMotion account:
 * `npm run sim:saymotion -- --port 18481`. Prints one JSON line (URL, storage URL, credentials) on stdout
 * and, on stderr, the command that starts a gateway against it. `--help` lists the options.
 */
import { parseArgs } from 'node:util';
import { SayMotionSimulator } from './server.js';

const USAGE = `Usage: npm run sim:saymotion -- [options]

A local stand-in for DeepMotion's SayMotion API (login, credits, text2motion jobs, batched status,
downloads). Its motion is simple and chosen by keyword: walk, run, wave, jump and dance are recognised,
any other prompt gets a near-idle stance. Use it to try the saymotion model, not to judge its quality.

Options:
  --port N            API port on 127.0.0.1 (default: any free port; downloads use a second free port)
  --client-id ID      accepted client id (default local-client)
  --client-secret S   accepted client secret (default local-secret)
  --job-ms N          how long a job runs after 500 ms in the queue (default 3000)
  -h, --help          this text
`;

function intOption(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    process.stderr.write(`--${name} must be an integer from 0 to ${max}, got "${raw}"\n\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'job-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }).values;
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const sim = new SayMotionSimulator({
  clientId: args['client-id'] ?? 'local-client',
  clientSecret: args['client-secret'] ?? 'local-secret',
  job: { queueMs: 500, queuePosition: 2, runMs: intOption('job-ms', args['job-ms'], 3_000, 600_000) },
});
try {
  await sim.start(intOption('port', args.port, 0, 65_535));
} catch (err) {
  process.stderr.write(`cannot listen: ${(err as Error).message}\n`);
  process.exit(1);
}
console.log(JSON.stringify({ url: sim.url, storageUrl: sim.storageUrl, clientId: sim.clientId, clientSecret: sim.clientSecret, characterId: sim.characterId }));
// Downloads come from the simulator's storage origin, a loopback http one: the gateway refuses such hosts
// unless they are allow-listed (docs/provider-security.md).
process.stderr.write(
  `SayMotion simulator on ${sim.url} (downloads from ${sim.storageUrl}). Start a gateway against it with:\n` +
    `  SAYMOTION_BASE_URL=${sim.url} SAYMOTION_CLIENT_ID=${sim.clientId} SAYMOTION_CLIENT_SECRET=${sim.clientSecret} SAYMOTION_CHARACTER_ID=${sim.characterId} PROVIDER_ASSET_ORIGINS=${new URL(sim.storageUrl).origin} npm run dev\n` +
    `Its motion is keyword-chosen (walk, run, wave, jump, dance; near-idle otherwise). Ctrl-C stops it.\n`,
);
const stop = () => void sim.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
