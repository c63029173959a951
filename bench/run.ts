/** `npm run bench`: runs every benchmark suite on loopback, prints a table and writes bench/RESULTS.md. */
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { gatewaySuite } from './gateway.js';
import { motionSuite } from './motion.js';
import { saymotionSuite } from './saymotion.js';
import { markdownTable, type Row } from './util.js';

const durationS = Number(process.env.BENCH_DURATION_S ?? 5);

const rows: Row[] = [];
rows.push(...(await gatewaySuite(durationS)));
rows.push(...(await motionSuite()));
rows.push(...(await saymotionSuite()));

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const table = markdownTable(rows);
console.log(table);
writeFileSync(
  new URL('./RESULTS.md', import.meta.url),
  `# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (${machine}); ${durationS} s per load run, loopback, servers in child processes.\n\n${table}\n`,
);
