/**
 * The `motion-gateway` command line: serve the gateway, or talk to one through the typed client
 * (generate, batch, capabilities, jobs). Failures print `error:`/`action:` and exit with a code of exit-codes.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MotionGatewayClient } from '../client/index.js';
import { batchCommand } from './batch.js';
import { capabilitiesTable } from './capabilities.js';
import { EXIT, exitCodeHelp, exitCodeOf } from './exit-codes.js';
import { generateCommand, type GenerateFlags } from './generate.js';
import { jobCancelCommand, jobStatusCommand } from './jobs.js';
import { printFailure } from './output.js';

/** The package's version: package.json two levels up from src/cli, three from dist/src/cli. */
function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'motion-gateway' && pkg.version) return pkg.version;
    } catch {
      // Not this level.
    }
  }
  return '0.0.0';
}

const positive = (what: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number.`);
  return n;
};
const positiveInt = (what: string) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer.`);
  return n;
};
const seedOf = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('the seed must be a non-negative integer.');
  return n;
};
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

interface GlobalFlags {
  url: string;
  apiKey?: string;
}

/** True once `serve` runs: the process then lives until a signal stops the gateway. */
let serving = false;

function buildProgram(): Command {
  const program = new Command('motion-gateway')
    .description('Serve a motion-generation gateway (MMCP), or generate animations from one.')
    .version(packageVersion())
    // commander reads the variables itself; help names them, and never prints the key's value (no default).
    .addOption(new Option('--url <url>', 'the gateway').env('MOTION_GATEWAY_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--api-key <key>', 'API key sent as a Bearer token').env('MOTION_GATEWAY_API_KEY'))
    .addHelpText('after', `\n${exitCodeHelp()}`)
    .showSuggestionAfterError()
    .exitOverride();

  const clientOf = (cmd: Command): MotionGatewayClient => {
    const g = cmd.optsWithGlobals<GlobalFlags>();
    return new MotionGatewayClient({ baseUrl: g.url || 'http://127.0.0.1:8080', apiKey: g.apiKey || undefined });
  };

  program
    .command('serve')
    .description('run the gateway, as `npm start` does (configured by the environment: PORT, GATEWAY_API_KEYS, …)')
    .action(async () => {
      serving = true;
      const { serve } = await import('../serve.js');
      await serve().catch((err: unknown) => {
        console.error('failed to start:', err instanceof Error ? err.message : err);
        process.exit(1);
      });
    });

  program
    .command('generate')
    .description('generate one animation and write it to --out (GLB, or JSON glTF for .gltf)')
    .option('--prompt <text>', 'a text segment (repeat for several, in order)', collect)
    .option('--seconds <n>', `seconds of each prompt's segment: once for all, or once per --prompt in order (default 4)`, (value: string, previous: number[] | undefined) => [...(previous ?? []), positive('--seconds')(value)])
    .option('--model <id>', 'model id (default: the first of /capabilities)')
    .option('--skeleton <file>', 'your character: a .glb/.gltf (its first skin) or a .json skeleton (default: the model\'s canonical skeleton)')
    .option('--request <file.json>', 'a whole request body (docs/cookbook.md); the flags given override its fields')
    .option('--seed <n>', 'options.seed, for a reproducible answer', seedOf)
    .option('--fps <n>', 'timing.fps of the answer', positive('--fps'))
    .option('--samples <n>', 'options.num_samples', positiveInt('--samples'))
    .addOption(new Option('--format <format>', 'answer format (default: from --out: .gltf → json, else glb)').choices(['glb', 'json']))
    .requiredOption('-o, --out <file>', 'where to write the answer (atomically)')
    .option('--json', 'print a JSON summary on stdout (file, job id, served_by, bytes, duration)')
    .addHelpText('after', '\nExample:\n  motion-gateway generate --prompt "walk forward" --seconds 4 --prompt "wave hello" --seconds 2 --skeleton hero.glb -o walk-wave.glb')
    .action(async (flags: GenerateFlags, cmd: Command) => generateCommand(clientOf(cmd), flags));

  program
    .command('batch')
    .description('generate every clip of a manifest into --out/<name>.glb; re-running skips files that exist')
    .argument('<manifest.json>', 'the manifest')
    .requiredOption('--out <dir>', 'directory for <name>.glb and batch-report.json')
    .option('--concurrency <n>', 'clips generated at once', positiveInt('--concurrency'), 2)
    .addHelpText(
      'after',
      `
Manifest:
  {"defaults": {"model": "procedural", "skeleton": "hero.glb", "options": {"seed": 7}, "seconds": 4},
   "clips": [{"name": "walk", "prompt": "walk forward", "seconds": 4},
             {"name": "wave", "request": {"segments": [{"type": "text", "prompt": "wave", "duration_frames": 60}]}}]}
  defaults: request fields for every clip (a "skeleton" string is a file, relative to the manifest).
  names: unique, letters, digits, ".", "_", "-". Each clip's Idempotency-Key is a hash of its request,
  so a re-run after a crash gets an already-paid job replayed instead of paying again.`,
    )
    .action(async (manifest: string, flags: { out: string; concurrency: number }, cmd: Command) => {
      process.exitCode = await batchCommand(clientOf(cmd), manifest, flags);
    });

  program
    .command('capabilities')
    .description('the models of the gateway: provider, async, limits, constraints')
    .option('--json', 'print the raw /capabilities JSON')
    .action(async (flags: { json?: boolean }, cmd: Command) => {
      const caps = await clientOf(cmd).capabilities();
      process.stdout.write(flags.json ? `${JSON.stringify(caps, null, 2)}\n` : `${capabilitiesTable(caps)}\n`);
    });

  const jobs = program.command('jobs').description('one job of the gateway, by id');
  jobs
    .command('status')
    .description('print the job status JSON (state, progress, queue position, timestamps)')
    .argument('<id>', 'job id')
    .action(async (id: string, _flags: unknown, cmd: Command) => jobStatusCommand(clientOf(cmd), id));
  jobs
    .command('cancel')
    .description('cancel a queued or running job (a finished one is deleted)')
    .argument('<id>', 'job id')
    .action(async (id: string, _flags: unknown, cmd: Command) => jobCancelCommand(clientOf(cmd), id));
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    // Commander has already printed its own `error: …` (or the help / version).
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    printFailure(err);
    process.exit(exitCodeOf(err));
  }
  if (!serving) process.exit(process.exitCode ?? EXIT.ok);
}

await main(process.argv);
