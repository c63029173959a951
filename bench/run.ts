/** `npm run bench`: runs every benchmark suite on loopback, prints a table and writes bench/RESULTS.md. */
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { asyncSuite } from './async.js';
import { clusterSuite } from './cluster.js';
import { gatewaySuite } from './gateway.js';
import { memorySuite } from './memory.js';
import { motionSuite } from './motion.js';
import { motionQualitySuite, withQualitySection } from './motion-quality.js';
import { responsivenessSuite } from './responsiveness.js';
import { saymotionSdkSuite } from './saymotion-sdk.js';
import { saymotionSuite } from './saymotion.js';
import { streamingSuite } from './streaming.js';
import { tracingSuite } from './tracing.js';
import { markdownTable, type Row } from './util.js';

const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const load1 = () => loadavg()[0].toFixed(2);

const started = performance.now();
const loadBefore = load1();
const rows: Row[] = [];
rows.push(...(await gatewaySuite(durationS)));
rows.push(...(await responsivenessSuite(durationS)));
rows.push(...(await tracingSuite(durationS)));
rows.push(...(await asyncSuite(durationS)));
rows.push(...(await clusterSuite()));
rows.push(...(await memorySuite()));
rows.push(...(await streamingSuite()));
rows.push(...(await motionSuite()));
const quality = await motionQualitySuite();
rows.push(...quality.rows);
rows.push(...(await saymotionSuite()));
rows.push(...(await saymotionSdkSuite()));
const loadAfter = load1();
const tookS = ((performance.now() - started) / 1000).toFixed(0);

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const table = markdownTable(rows);
console.log(table);
writeFileSync(
  new URL('./RESULTS.md', import.meta.url),
  withQualitySection(
    `# Benchmark results\n\nMeasured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (${machine}); ${durationS} s per load run, loopback, servers in child processes (LOG_LEVEL warn, worker threads at their default of cores − 1). The run took ${tookS} s; 1-minute load average ${loadBefore} before and ${loadAfter} after (other work on the machine shows there).\n\n${table}\n`,
    quality.markdown,
  ),
);
