// A lower bound for a durable Redis job queue: the least a queue with leases and fencing must do per job on the server,
// measured as redis-server CPU per job. Not a product and not a peer: each job is one string value (no hash, no id index,
// no admin index, no counters), and every step is batched as TypedJobs batches it:
//   insert:   SET job, ZADD ready                               (one script per 1000 jobs)
//   claim:    ZPOPMIN ready; per job GET job, SET job (state + lease token), ZADD running   (one script per claim)
//   complete: per job GET job (token check), ZREM running, SET job (finished), ZADD finished (one script per batch)
// Several worker loops claim up to a batch each and complete it at once, so the server is the bottleneck.
//   node floor.mjs HOST PORT JOBS [LOOPS] [BATCH]
// Prints the processed rate, redis-server CPU per job (from /proc, so run it on the server's machine) and commands per job.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../bullmq/package.json', import.meta.url));
const Redis = require('ioredis');
const [host, port, jobsArg, loopsArg, batchArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const loops = Number(loopsArg ?? 4);
const batch = Number(batchArg ?? 16);
const q = `{floor:${process.pid}}`;

const insert = `
local n = 0
for i = 1, #ARGV, 2 do
  redis.call('SET', KEYS[1] .. ':j:' .. ARGV[i], '1|0|' .. ARGV[i + 1])
  redis.call('ZADD', KEYS[1] .. ':r', ARGV[i], ARGV[i])
  n = n + 1
end
return n`;
const claim = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local popped = redis.call('ZPOPMIN', KEYS[1] .. ':r', tonumber(ARGV[1]))
local out = {}
for k = 1, #popped, 2 do
  local id = popped[k]
  local key = KEYS[1] .. ':j:' .. id
  local v = redis.call('GET', key)
  local token = ARGV[2] .. k
  redis.call('SET', key, '2|' .. token .. '|' .. v)
  redis.call('ZADD', KEYS[1] .. ':w', now + 30000000, id)
  out[#out + 1] = id
  out[#out + 1] = token
end
return out`;
const complete = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = 0
for i = 1, #ARGV, 2 do
  local key = KEYS[1] .. ':j:' .. ARGV[i]
  local v = redis.call('GET', key)
  if v and string.sub(v, 3, 2 + #ARGV[i + 1]) == ARGV[i + 1] then
    redis.call('ZREM', KEYS[1] .. ':w', ARGV[i])
    redis.call('SET', key, '3|' .. string.sub(v, 4 + #ARGV[i + 1]))
    redis.call('ZADD', KEYS[1] .. ':f', now, ARGV[i])
    n = n + 1
  end
end
return n`;

const admin = new Redis({ host, port: Number(port) });
const pid = Number((await admin.info('server')).match(/process_id:(\d+)/)[1]);
const cpu = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000; // utime + stime, clock ticks (100/s) to µs
};
const calls = async () => {
  const stats = await admin.info('commandstats');
  let total = 0;
  for (const m of stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    if (!['evalsha', 'eval', 'info', 'script|load', 'config|resetstat'].includes(m[1])) total += Number(m[2]);
  }
  return total;
};
const [insertSha, claimSha, completeSha] = await Promise.all([insert, claim, complete].map((s) => admin.script('LOAD', s)));
await admin.config('RESETSTAT');
const cpuBefore = cpu();

const payload = '{}';
for (let sent = 0; sent < jobs; sent += 1000) {
  const args = [];
  for (let i = sent; i < Math.min(jobs, sent + 1000); i++) args.push(String(i).padStart(12, '0'), payload);
  await admin.evalsha(insertSha, 1, q, ...args);
}

const start = process.hrtime.bigint();
let done = 0;
const worker = async (w) => {
  const conn = new Redis({ host, port: Number(port) });
  for (;;) {
    const got = await conn.evalsha(claimSha, 1, q, batch, `w${w}-${done}-`);
    if (got.length === 0) break;
    await conn.evalsha(completeSha, 1, q, ...got); // the no-op jobs ran; their outcomes go back in one call
    done += got.length / 2;
  }
  conn.disconnect();
};
await Promise.all(Array.from({ length: loops }, (_, w) => worker(w)));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const serverUs = (cpu() - cpuBefore) / done;
const perJob = (await calls()) / done;
console.log(`floor: ${done} jobs, processed ${Math.round(done / seconds).toLocaleString('en-US')} jobs/s, ` +
  `redis-server CPU ${serverUs.toFixed(1)} µs/job (insert, claim and completion), ${perJob.toFixed(1)} commands/job`);
await admin.del(`${q}:r`, `${q}:w`, `${q}:f`);
for (let i = 0; i < jobs; i += 1000) {
  await admin.del(...Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => `${q}:j:${String(i + k).padStart(12, '0')}`));
}
admin.disconnect();
