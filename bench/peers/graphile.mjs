// graphile-worker 0.17 on PostgreSQL: enqueue N no-op jobs in batches of 1000 (addJobs), then time their processing.
// Usage: node graphile.mjs <connection-url> <jobs> <concurrency|default> <max-seconds>
// Prints one JSON line: {"peer":"graphile-worker …","enqueue":jobs/s,"process":jobs/s}
import { Logger, makeWorkerUtils, run } from "graphile-worker";

const silent = new Logger(() => () => {});

const [url, jobsText, concurrencyText, maxText] = process.argv.slice(2);
const jobs = Number(jobsText);
const maxMs = Number(maxText) * 1000;
const utils = await makeWorkerUtils({ connectionString: url, logger: silent });
await utils.migrate();
await utils.withPgClient((client) => client.query("TRUNCATE graphile_worker._private_jobs CASCADE"));

let started = Date.now();
for (let sent = 0; sent < jobs; sent += 1000) {
  const batch = Array.from({ length: Math.min(1000, jobs - sent) }, (_, i) => ({ identifier: "noop", payload: { n: sent + i } }));
  await utils.addJobs(batch);
}
const enqueue = jobs / ((Date.now() - started) / 1000);

let done = 0;
let first = 0;
let resolveDone;
const finished = new Promise((resolve) => (resolveDone = resolve));
const options = { connectionString: url, noHandleSignals: true, logger: silent, taskList: {
  noop: async () => {
    if (first === 0) first = Date.now();
    if (++done === jobs) resolveDone();
  },
} };
if (concurrencyText !== "default") options.concurrency = Number(concurrencyText);

const runner = await run(options);
await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, maxMs))]);
const elapsed = (Date.now() - first) / 1000;
await runner.stop();
await utils.release();
const label = concurrencyText === "default" ? "graphile-worker 0.17 defaults (concurrency 1, poll 2 s)" : `graphile-worker 0.17 (concurrency ${concurrencyText})`;
console.log(JSON.stringify({ peer: label, enqueue, process: first === 0 ? 0 : done / elapsed }));
