// BullMQ measured like the TypedJobs bench rows: addBulk in batches of 1000, then a Worker with the given concurrency
// drains the queue (timed from the first job's start), then add→start of one job at a time into an idle worker.
//   node bench.mjs HOST PORT JOBS CONCURRENCY LATENCY_SAMPLES [JSON_FILE]
// With JSON_FILE the row is also appended to it as a JSON line (store, concurrency, system, label, enqueue, process, …).
import { appendFileSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';

const [host, port, jobsArg, concurrencyArg, samplesArg, jsonFile] = process.argv.slice(2);
const connection = { host, port: Number(port), maxRetriesPerRequest: null };
const jobs = Number(jobsArg);
const concurrency = Number(concurrencyArg);
const samples = Number(samplesArg);
const name = `bullmq-bench-${process.pid}-${Date.now()}`;
const queue = new Queue(name, { connection });

let start = Date.now();
for (let sent = 0; sent < jobs; sent += 1000) {
  const n = Math.min(1000, jobs - sent);
  await queue.addBulk(Array.from({ length: n }, () => ({ name: 'noop', data: {} })));
}
const enqueueRate = jobs / ((Date.now() - start) / 1000);

let done = 0;
let first = 0n;
let finish;
const finished = new Promise((resolve) => { finish = resolve; });
let latencyResolve = null;
const worker = new Worker(name, async (job) => {
  if (job.name === 'stamp') {
    latencyResolve?.(Number(process.hrtime.bigint() - BigInt(job.data.t)) / 1000);
    return;
  }
  if (first === 0n) first = process.hrtime.bigint();
  if (++done === jobs) finish();
}, { connection, concurrency });
await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
const processRate = first === 0n ? 0 : done / (Number(process.hrtime.bigint() - first) / 1e9);

const measured = [];
for (let i = 0; i < samples; i++) {
  const latency = new Promise((resolve) => { latencyResolve = resolve; });
  await queue.add('stamp', { t: process.hrtime.bigint().toString() });
  measured.push(await Promise.race([latency, new Promise((r) => setTimeout(() => r(NaN), 30_000))]));
}
measured.sort((a, b) => a - b);
const p50 = measured[Math.floor(measured.length / 2)] / 1000;
const p99 = measured[Math.floor(measured.length * 0.99)] / 1000;
const pad = (v, n) => String(v).padStart(n);
console.log(`| ${'bullmq'.padEnd(18)} | ${pad(concurrency, 11)} | ${pad(Math.round(enqueueRate).toLocaleString('en-US'), 14)} | ${pad(Math.round(processRate).toLocaleString('en-US'), 14)} | ${pad('', 10)} | ${pad('', 10)} | ${pad(p50.toFixed(2), 10)} ms | ${pad(p99.toFixed(2), 10)} ms |`);
if (jsonFile) {
  const finite = (v) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  appendFileSync(jsonFile, JSON.stringify({
    store: 'redis', concurrency, system: 'bullmq', label: `BullMQ 6 (concurrency ${concurrency})`,
    enqueue: finite(enqueueRate), process: finite(processRate), cpuUs: null, bytes: null, p50Us: finite(p50 * 1000), p99Us: finite(p99 * 1000),
  }) + '\n');
}
await worker.close();
await queue.obliterate({ force: true });
await queue.close();
process.exit(0);
