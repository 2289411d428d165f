// pg-boss 10 on PostgreSQL: enqueue N no-op jobs in batches of 1000 (insert), then time their processing.
// Usage: node pgboss.mjs <connection-url> <jobs> <batch-size> <max-seconds>
// Prints one JSON line: {"peer":"pg-boss …","enqueue":jobs/s,"process":jobs/s}
import PgBoss from "pg-boss";

const [url, jobsText, batchText, maxText] = process.argv.slice(2);
const jobs = Number(jobsText);
const batchSize = Number(batchText);
const maxMs = Number(maxText) * 1000;
const boss = new PgBoss({ connectionString: url, schema: "pgboss_bench" });
boss.on("error", () => {});
await boss.start();
await boss.deleteQueue("noop").catch(() => {});
await boss.createQueue("noop");

let started = Date.now();
for (let sent = 0; sent < jobs; sent += 1000) {
  await boss.insert(Array.from({ length: Math.min(1000, jobs - sent) }, (_, i) => ({ name: "noop", data: { n: sent + i } })));
}
const enqueue = jobs / ((Date.now() - started) / 1000);

let done = 0;
let first = 0;
let resolveDone;
const finished = new Promise((resolve) => (resolveDone = resolve));
await boss.work("noop", { batchSize, pollingIntervalSeconds: 0.5 }, async (batch) => {
  if (first === 0) first = Date.now();
  done += batch.length;
  if (done >= jobs) resolveDone();
});
await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, maxMs))]);
const elapsed = (Date.now() - first) / 1000;
await boss.stop({ graceful: false, wait: false });
console.log(JSON.stringify({ peer: `pg-boss 10 (batchSize ${batchSize}, poll 0.5 s)`, enqueue, process: first === 0 ? 0 : done / elapsed }));
