using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Bench;
using TypedJobs.Registration;

// Throughput and latency of no-op jobs per store. Usage:
//   dotnet run -c Release --project bench/TypedJobs.Bench -- [--jobs N] [--stores memory,sqlite] [--concurrency 1,16,64]
//     [--latency-samples N] [--max-seconds S] [--warmup-jobs N]
//   Stores: memory, sqlite, sqlite-normal, label=URL ({run} in the URL becomes a fresh name per store opened), and the
//   servers of eng/servers/*.sh by name — postgres, mysql, redis read TYPEDJOBS_TEST_POSTGRES, TYPEDJOBS_TEST_MYSQL,
//   TYPEDJOBS_TEST_REDIS and give every round a throwaway schema, table prefix or key prefix:
//     source eng/servers/postgres.sh; source eng/servers/mysql.sh; start_postgres; start_mysql
//     dotnet run -c Release --project bench/TypedJobs.Bench -- --stores postgres,mysql --jobs 5000 --concurrency 16,64
//     stop_mysql; stop_postgres
//   With both postgres and mysql rows, a line per concurrency gives the MySQL ÷ PostgreSQL ratios.
//   Backlog mode: --backlog N --scheduled M [--backlog-jobs K] stores N waiting jobs of the same task and queue at Low
//   priority and M due in an hour, then drains K Normal-priority jobs; per store it prints the process and enqueue
//   rates with the backlog ÷ in an empty store, and on the memory store the managed heap bytes per waiting job
//   (GC.GetTotalMemory(true) before and after filling ÷ N). Same queue and task, lower priority: the worker cannot
//   filter the backlog out by queue or task name, it must order past it.
//   PostgreSQL insert ceiling: --stores postgres --insert-ceiling R [--jobs N] times, in R alternating rounds, TypedJobs'
//   bulk enqueue against the server inserting the same rows it generates itself (InsertCeiling.cs).
//   Engine split: --engine-split R [--jobs N] [--concurrency C] drains N jobs on the memory store, in R rotating rounds,
//   through a worker, through the store's contract with a thread-pool hop per job, and through the store alone, to show
//   how a job's CPU divides between the store, the dispatch and the engine (EngineSplit.cs).
//   dotnet run -c Release --project bench/TypedJobs.Bench -- --hangfire-redis host:port [--jobs N] [--concurrency C]  (the Hangfire peer)
//   Peers in the same run (--peers quartz,hangfire-memory,hangfire-sqlite): after each TypedJobs row, the peers of that
//   store kind (quartz and hangfire-memory beside memory, hangfire-sqlite beside sqlite) run the same no-op work, with
//   --peer-jobs N jobs (default --jobs) or, for Hangfire on SQLite, --slow-peer-jobs N (default 2000); a ratio table
//   follows. --json FILE appends every row as a JSON line (store, concurrency, system, label, enqueue, process, cpuUs,
//   bytes, p50Us, p99Us) for bench/compare.sh.
// Processing is timed from the first job's start until every job ran or S seconds passed (then the rate is what was
// processed in that time), so host start-up is not counted. Each row (and each in-process peer) first runs untimed rounds
// of --warmup-jobs jobs (default: the same as --jobs; 0 turns them off) until a round's drain spends less than 3% of its
// time in the JIT, at most 10 rounds (Warmup.cs), so the figures are a running worker's steady state rather than tier-0
// code and the recompilation of hot methods.
// A worker host's start-up check of the stored jobs against its task contracts (TypedJobsOptions.CheckStoredJobsAtStartup)
// is off: it reads up to 10,000 waiting jobs once when a worker starts, a cost per start rather than per job, and in a short
// round it would be a large share of the store's work beside the drain it times. --startup-check on keeps it on.
// "CPU µs/job" is the process's CPU time during the drain divided by the jobs processed: on a shared machine it moves
// far less with other load than the rate does. "bytes/job" is the managed memory allocated during the drain
// (GC.GetTotalAllocatedBytes(true), every thread of the process, the worker host's start included) divided by the
// jobs processed. --allocations N lists, after each TypedJobs row, the N types its measured drain allocated most (sampled
// by the runtime about every 100 KB; AllocationSampler.cs), in estimated bytes per job.
if (args is ["--hangfire-redis", var endpoint, .. var rest])
{
    // The Hangfire peer on the same Redis server: --hangfire-redis host:port [--jobs N] [--concurrency C] [--latency-samples S].
    var peer = BenchOptions.Parse(rest);
    foreach (var c in peer.Concurrency)
    {
        var row = await HangfirePeer.RunAsync(endpoint, peer.Jobs, c, peer.LatencySamples);
        Results.Write(peer.Json, "redis", c, "hangfire-redis", $"Hangfire 1.8.25 Redis.StackExchange 1.12 (workers {c}, fetch timeout 1 s)", row);
    }

    return;
}

var options = BenchOptions.Parse(args);
Runner.StartupCheck = options.StartupCheck;
AllocationSampler.Enable(options.Allocations);
if (options.EngineSplit > 0)
{
    await EngineSplit.RunAsync(options, options.EngineSplit);
    return;
}

if (options.InsertCeiling > 0)
{
    await InsertCeiling.RunAsync(options, options.InsertCeiling);
    return;
}

if (options.Backlog > 0 || options.Scheduled > 0)
{
    await Backlog.RunAsync(options);
    return;
}

Console.WriteLine($"TypedJobs bench: {options.Jobs:N0} no-op jobs per run, {Environment.ProcessorCount} cores, .NET {Environment.Version}, " +
    $"start-up check of stored jobs {(options.StartupCheck ? "on" : "off")}");
Console.WriteLine();
Console.WriteLine($"| {"store",-18} | {"concurrency",11} | {"enqueue jobs/s",14} | {"process jobs/s",14} | {"CPU µs/job",10} | {"bytes/job",10} | {"add→start p50",13} | {"add→start p99",13} |");
Console.WriteLine($"|{new string('-', 20)}|{new string('-', 13)}|{new string('-', 16)}|{new string('-', 16)}|{new string('-', 12)}|{new string('-', 12)}|{new string('-', 15)}|{new string('-', 15)}|");
var rows = new Dictionary<(string Store, int Concurrency), Row>();
var ratios = new List<string>();
foreach (var store in options.Stores)
{
    foreach (var concurrency in options.Concurrency)
    {
        var row = await Runner.RunAsync(store, concurrency, options);
        rows[(store.Name, concurrency)] = row;
        PrintRow(store.Name, concurrency, row);
        AllocationSampler.Print($"{store.Name} at concurrency {concurrency}");
        Results.Write(options.Json, store.Kind, concurrency, "TypedJobs", store.Name, row);
        // Peers beside this row, in the same process run: the same no-op work and columns.
        foreach (var peer in options.Peers.Where(p => p.Kind == store.Kind))
        {
            foreach (var (label, run) in peer.Variants(concurrency, options))
            {
                var peerRow = await run(concurrency, new PeerRun(options.PeerJobs, Math.Min(options.WarmupJobs, options.PeerJobs), options.LatencySamples, options.MaxProcessTime));
                PrintRow(label, concurrency, peerRow);
                Results.Write(options.Json, store.Kind, concurrency, peer.Option, label, peerRow);
                ratios.Add($"| {store.Kind} | {concurrency} | {label} | {Ratio(row.ProcessPerSecond, peerRow.ProcessPerSecond)} | {(peerRow.LatencyP50 == Row.None ? "n/a" : Ratio(peerRow.LatencyP50.TotalMicroseconds, row.LatencyP50.TotalMicroseconds))} |");
            }
        }
    }
}

if (ratios.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine("| store | concurrency | peer | process rate TypedJobs ÷ peer | add→start p50 peer ÷ TypedJobs |");
    Console.WriteLine("|---|---:|---|---:|---:|");
    ratios.ForEach(Console.WriteLine);
}

if (options.Stores.Any(s => s.Name == "postgres") && options.Stores.Any(s => s.Name == "mysql"))
{
    Console.WriteLine();
    foreach (var c in options.Concurrency)
    {
        var (my, pg) = (rows[("mysql", c)], rows[("postgres", c)]);
        Console.WriteLine($"MySQL ÷ PostgreSQL at concurrency {c}: enqueue {my.EnqueuePerSecond / pg.EnqueuePerSecond:0.00}×, process {my.ProcessPerSecond / pg.ProcessPerSecond:0.00}×, add→start p50 {my.LatencyP50 / pg.LatencyP50:0.00}×");
    }
}

static void PrintRow(string name, int concurrency, Row row) =>
    Console.WriteLine($"| {name,-18} | {concurrency,11} | {row.EnqueuePerSecond,14:N0} | {row.ProcessPerSecond,14:N0} | {(row.CpuPerJob == Row.None ? "n/a" : row.CpuPerJob.TotalMicroseconds.ToString("N1", System.Globalization.CultureInfo.CurrentCulture)),10} | {row.BytesPerJob,10:N0} | {Format(row.LatencyP50),13} | {Format(row.LatencyP99),13} |");

static string Ratio(double a, double b) => b > 0 && a > 0 && double.IsFinite(a / b) ? $"{a / b:0.00}×" : "n/a";

static string Format(TimeSpan t) => t == Row.None ? "n/a" : t.TotalMilliseconds >= 1 ? $"{t.TotalMilliseconds:0.00} ms" : $"{t.TotalMicroseconds:0} µs";

namespace TypedJobs.Bench
{
    internal sealed record BenchOptions(int Jobs, int LatencySamples, IReadOnlyList<StoreSetup> Stores, IReadOnlyList<int> Concurrency, TimeSpan MaxProcessTime,
        int WarmupJobs, int Backlog = 0, int Scheduled = 0, int BacklogJobs = 0)
    {
        /// <summary>Frameworks measured beside the rows of their store kind (<c>--peers</c>); none by default.</summary>
        public IReadOnlyList<Peer> Peers { get; init; } = [];

        /// <summary>Jobs per round of the in-process peers (<c>--peer-jobs</c>, default <c>--jobs</c>).</summary>
        public int PeerJobs { get; init; }

        /// <summary>Jobs per round of the slow peers, Hangfire on SQLite (<c>--slow-peer-jobs</c>, default 2000).</summary>
        public int SlowPeerJobs { get; init; } = 2000;

        /// <summary>A file every row is appended to as a JSON line (<c>--json</c>), for scripts; none by default.</summary>
        public string? Json { get; init; }

        /// <summary>Whether worker hosts run the start-up check of stored jobs (<c>--startup-check on|off</c>, default off).</summary>
        public bool StartupCheck { get; init; }

        /// <summary>How many allocated types to list after each TypedJobs row (<c>--allocations N</c>, <see cref="AllocationSampler"/>); 0, the default, samples nothing.</summary>
        public int Allocations { get; init; }

        /// <summary>Rounds of the PostgreSQL insert-ceiling mode (<c>--insert-ceiling N</c>, <see cref="InsertCeiling"/>); 0, the default, runs the normal rows.</summary>
        public int InsertCeiling { get; init; }

        /// <summary>Rounds of the memory store's engine-split mode (<c>--engine-split N</c>, <see cref="EngineSplit"/>); 0, the default, runs the normal rows.</summary>
        public int EngineSplit { get; init; }

        public static BenchOptions Parse(string[] args)
        {
            var jobs = 200_000;
            var samples = 2_000;
            var stores = "memory";
            var concurrency = "1,16,64";
            var maxSeconds = 20;
            int? warmup = null;
            var backlog = 0;
            var scheduled = 0;
            int? backlogJobs = null;
            var peers = "";
            int? peerJobs = null;
            var slowPeerJobs = 2000;
            string? json = null;
            var startupCheck = false;
            var allocations = 0;
            var insertCeiling = 0;
            var engineSplit = 0;
            for (var i = 0; i < args.Length - 1; i += 2)
            {
                switch (args[i])
                {
                    case "--jobs": jobs = int.Parse(args[i + 1]); break;
                    case "--latency-samples": samples = int.Parse(args[i + 1]); break;
                    case "--stores": stores = args[i + 1]; break;
                    case "--concurrency": concurrency = args[i + 1]; break;
                    case "--max-seconds": maxSeconds = int.Parse(args[i + 1]); break;
                    case "--warmup-jobs": warmup = int.Parse(args[i + 1]); break;
                    case "--backlog": backlog = int.Parse(args[i + 1]); break;
                    case "--scheduled": scheduled = int.Parse(args[i + 1]); break;
                    case "--backlog-jobs": backlogJobs = int.Parse(args[i + 1]); break;
                    case "--peers": peers = args[i + 1]; break;
                    case "--peer-jobs": peerJobs = int.Parse(args[i + 1]); break;
                    case "--slow-peer-jobs": slowPeerJobs = int.Parse(args[i + 1]); break;
                    case "--json": json = args[i + 1]; break;
                    case "--allocations": allocations = int.Parse(args[i + 1]); break;
                    case "--insert-ceiling": insertCeiling = int.Parse(args[i + 1]); break;
                    case "--engine-split": engineSplit = int.Parse(args[i + 1]); break;
                    case "--startup-check":
                        startupCheck = args[i + 1] switch
                        {
                            "on" => true,
                            "off" => false,
                            _ => throw new ArgumentException($"--startup-check takes on or off, not '{args[i + 1]}'"),
                        };
                        break;
                    default: throw new ArgumentException(
                        $"Unknown option {args[i]}; valid: --jobs, --latency-samples, --stores, --concurrency, --max-seconds, --warmup-jobs, --backlog, --scheduled, " +
                        "--backlog-jobs, --peers, --peer-jobs, --slow-peer-jobs, --json, --startup-check, --allocations, --insert-ceiling, --engine-split");
                }
            }

            return new BenchOptions(jobs, samples,
                stores.Split(',').Select(StoreSetup.Get).ToArray(),
                concurrency.Split(',').Select(int.Parse).ToArray(),
                TimeSpan.FromSeconds(maxSeconds), warmup ?? jobs, backlog, scheduled, backlogJobs ?? jobs)
            {
                Peers = Peer.Parse(peers),
                PeerJobs = peerJobs ?? jobs,
                SlowPeerJobs = slowPeerJobs,
                Json = json,
                StartupCheck = startupCheck,
                Allocations = allocations,
                InsertCeiling = insertCeiling,
                EngineSplit = engineSplit,
            };
        }
    }

    /// <param name="Name">The row's label.</param>
    /// <param name="Use">Configures the store on a fresh path.</param>
    /// <param name="KindName">What rows of peers and result files group it under (memory, sqlite, postgres, …); the name when not given.</param>
    internal sealed record StoreSetup(string Name, Action<TypedJobsOptions, string> Use, string? KindName = null)
    {
        public string Kind => KindName ?? Name;

        public static StoreSetup Get(string name) => name switch
        {
            "memory" => new StoreSetup("memory", (o, _) => o.UseInMemory()),
            _ => StoreSetups.Extra(name) ?? throw new ArgumentException($"Unknown store '{name}'; valid: memory{StoreSetups.ExtraNames}"),
        };
    }

    /// <summary>Rows appended to the <c>--json</c> file, one JSON object a line, for scripts such as bench/compare.sh.</summary>
    internal static class Results
    {
        private static readonly Lock Gate = new();

        public static void Write(string? path, string store, int concurrency, string system, string label, Row row)
        {
            if (path is null)
            {
                return;
            }

            static double? Finite(double v) => double.IsFinite(v) ? Math.Round(v, 2) : null;
            static double? Micros(TimeSpan t) => t == Row.None ? null : Finite(t.TotalMicroseconds);
            var line = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["store"] = store,
                ["concurrency"] = concurrency,
                ["system"] = system,
                ["label"] = label,
                ["enqueue"] = Finite(row.EnqueuePerSecond),
                ["process"] = Finite(row.ProcessPerSecond),
                ["cpuUs"] = Micros(row.CpuPerJob),
                ["bytes"] = Finite(row.BytesPerJob),
                ["p50Us"] = Micros(row.LatencyP50),
                ["p99Us"] = Micros(row.LatencyP99),
            });
            lock (Gate)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    internal sealed record Row(double EnqueuePerSecond, double ProcessPerSecond, TimeSpan CpuPerJob, double BytesPerJob, TimeSpan LatencyP50, TimeSpan LatencyP99)
    {
        /// <summary>A duration that was not measured (printed as n/a, written as null).</summary>
        public static readonly TimeSpan None = TimeSpan.MinValue;

        /// <summary>Microseconds as a duration, <see cref="None"/> when not a number.</summary>
        public static TimeSpan Micros(double value) => double.IsFinite(value) ? TimeSpan.FromMicroseconds(value) : None;
    }

    /// <summary>The payload: the enqueue timestamp, so the handler can measure add→start latency.</summary>
    internal sealed class StampSerializer : JobSerializer<long>
    {
        public override void Serialize(long value, IBufferWriter<byte> destination)
        {
            BinaryPrimitives.WriteInt64LittleEndian(destination.GetSpan(8), value);
            destination.Advance(8);
        }

        public override long Deserialize(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadInt64LittleEndian(data);
    }

    internal static class Runner
    {
        /// <summary>Whether worker hosts run the start-up check of stored jobs (<see cref="BenchOptions.StartupCheck"/>).</summary>
        public static bool StartupCheck { get; set; }

        public static async Task<Row> RunAsync(StoreSetup store, int concurrency, BenchOptions options)
        {
            var dir = Directory.CreateTempSubdirectory("typedjobs-bench-");
            try
            {
                var warmups = 0;
                await Warmup.UntilQuietAsync(options.WarmupJobs, () =>
                    ThroughputAsync(store, concurrency, options.WarmupJobs, Path.Combine(dir.FullName, "warmup-" + warmups++), options.MaxProcessTime));
                AllocationSampler.Arm();
                var (enqueueRate, processRate, cpuPerJob, bytesPerJob, _, _) = await ThroughputAsync(store, concurrency, options.Jobs, Path.Combine(dir.FullName, "throughput"),
                    options.MaxProcessTime);

                // Latency: one job at a time into an idle worker, add→start measured in the handler.
                var samples = new double[options.LatencySamples];
                {
                    var index = 0;
                    var ran = new SemaphoreSlim(0);
                    var task = JobTask.Create<long>("stamp", new StampSerializer(), (stamp, _) =>
                    {
                        samples[Interlocked.Increment(ref index) - 1] = Stopwatch.GetElapsedTime(stamp).TotalMicroseconds;
                        ran.Release();
                        return ValueTask.CompletedTask;
                    });
                    await using var host = await StartAsync(store, Path.Combine(dir.FullName, "latency"), task, worker: true, concurrency);
                    var client = host.Services.GetRequiredService<IJobClient>();
                    for (var i = 0; i < samples.Length; i++)
                    {
                        await client.EnqueueAsync(task, Stopwatch.GetTimestamp());
                        await ran.WaitAsync(TimeSpan.FromSeconds(30));
                    }
                }

                Array.Sort(samples);
                return new Row(enqueueRate, processRate, cpuPerJob, bytesPerJob,
                    TimeSpan.FromMicroseconds(samples[samples.Length / 2]),
                    TimeSpan.FromMicroseconds(samples[(int)(samples.Length * 0.99)]));
            }
            finally
            {
                dir.Delete(recursive: true);
            }
        }

        /// <summary>Enqueues <paramref name="total"/> jobs in batches of 1000, then starts a worker and times the drain.</summary>
        /// <remarks>
        /// With a backlog, <paramref name="backlog"/> jobs of the same task and queue at Low priority and
        /// <paramref name="scheduled"/> due in an hour are stored first (payload -1, not counted by the handler); the timed
        /// jobs are Normal priority, so the worker has to find them among the waiting ones in the same queue.
        /// </remarks>
        public static async Task<(double Enqueue, double Process, TimeSpan CpuPerJob, double BytesPerJob, double HeapPerWaiting, double HeapPerScheduled)>
            ThroughputAsync(StoreSetup store, int concurrency, int total, string path, TimeSpan maxProcessTime, int backlog = 0, int scheduled = 0)
        {
            var done = 0;
            long first = 0;
            var finished = new TaskCompletionSource();
            var task = JobTask.Create<long>("noop", new StampSerializer(), (stamp, _) =>
            {
                if (stamp < 0)
                {
                    return ValueTask.CompletedTask;
                }

                if (Volatile.Read(ref first) == 0)
                {
                    Interlocked.CompareExchange(ref first, Stopwatch.GetTimestamp(), 0);
                }

                if (Interlocked.Increment(ref done) == total)
                {
                    finished.TrySetResult();
                }

                return ValueTask.CompletedTask;
            });
            await using var producer = await StartAsync(store, path, task, worker: false, concurrency);
            var client = producer.Services.GetRequiredService<IJobClient>();
            var filler = new long[1000];
            Array.Fill(filler, -1L);
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            for (var sent = 0; sent < backlog; sent += filler.Length)
            {
                await client.EnqueueBatchAsync(task, filler[..Math.Min(filler.Length, backlog - sent)], new JobOptions { Priority = Priority.Low });
            }

            var heapWaiting = GC.GetTotalMemory(forceFullCollection: true);
            for (var sent = 0; sent < scheduled; sent += filler.Length)
            {
                await client.EnqueueBatchAsync(task, filler[..Math.Min(filler.Length, scheduled - sent)], new JobOptions { Delay = TimeSpan.FromHours(1) });
            }

            var heapScheduled = GC.GetTotalMemory(forceFullCollection: true);
            var sw = Stopwatch.StartNew();
            var batch = new long[1000];
            for (var sent = 0; sent < total; sent += batch.Length)
            {
                await client.EnqueueBatchAsync(task, sent + batch.Length <= total ? batch : batch[..(total - sent)]);
            }

            var enqueueRate = total / sw.Elapsed.TotalSeconds;

            Warmup.DrainStarting();
            AllocationSampler.DrainStarting();
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            await using var consumer = await StartAsync(store, path, task, worker: true, concurrency, sharedStorage: producer.Storage);
            // Bounded: a slow store is measured on what it processed within the time limit.
            await Task.WhenAny(finished.Task, Task.Delay(maxProcessTime));
            var end = Stopwatch.GetTimestamp();
            var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
            Warmup.DrainEnded();
            AllocationSampler.DrainEnded(Volatile.Read(ref done));
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var start = Volatile.Read(ref first);
            var processRate = start == 0 ? 0 : Volatile.Read(ref done) / Stopwatch.GetElapsedTime(start, end).TotalSeconds;
            var processed = Volatile.Read(ref done);
            return (enqueueRate, processRate, processed == 0 ? TimeSpan.Zero : cpu / processed, processed == 0 ? 0 : (double)allocated / processed,
                backlog == 0 ? 0 : (double)(heapWaiting - heapBefore) / backlog, scheduled == 0 ? 0 : (double)(heapScheduled - heapWaiting) / scheduled);
        }

        internal static async Task<BenchHost> StartAsync(StoreSetup store, string path, JobTask task, bool worker, int concurrency,
            object? sharedStorage = null)
        {
            Directory.CreateDirectory(path);
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            object? storage = sharedStorage;
            var jobs = builder.Services.AddTypedJobs(o =>
            {
                if (sharedStorage is not null)
                {
                    o.UseStorage(_ => sharedStorage);
                }
                else
                {
                    store.Use(o, Path.Combine(path, "jobs.db"));
                }

                o.SucceededRetention = TimeSpan.Zero;
                o.CheckStoredJobsAtStartup = StartupCheck;
            }).AddTask(task);
            if (worker)
            {
                jobs.AddWorker(w =>
                {
                    w.Concurrency = concurrency;
                    w.CompletionBatchSize = 1000;
                });
            }

            var host = builder.Build();
            await host.StartAsync();
            storage ??= host.Services.GetRequiredService<TypedJobs.Storage.IJobStore>();
            return new BenchHost(host, storage);
        }
    }

    /// <summary>
    /// Backlog mode: K timed Normal-priority jobs drained with N Low-priority jobs waiting in the same queue and M
    /// scheduled an hour ahead, against the same K jobs in an empty store.
    /// </summary>
    internal static class Backlog
    {
        public static async Task RunAsync(BenchOptions options)
        {
            Console.WriteLine($"TypedJobs backlog bench: {options.BacklogJobs:N0} timed Normal-priority jobs; backlog {options.Backlog:N0} Low-priority jobs in the same queue " +
                $"and {options.Scheduled:N0} due in an hour; {Environment.ProcessorCount} cores");
            foreach (var store in options.Stores)
            {
                foreach (var c in options.Concurrency)
                {
                    var dir = Directory.CreateTempSubdirectory("typedjobs-bench-");
                    try
                    {
                        var jobs = Math.Min(options.WarmupJobs, options.BacklogJobs);
                        var warmups = 0;
                        await Warmup.UntilQuietAsync(jobs, () =>
                            Runner.ThroughputAsync(store, c, jobs, Path.Combine(dir.FullName, "warmup-" + warmups++), options.MaxProcessTime));

                        var empty = await Runner.ThroughputAsync(store, c, options.BacklogJobs, Path.Combine(dir.FullName, "empty"), options.MaxProcessTime);
                        var full = await Runner.ThroughputAsync(store, c, options.BacklogJobs, Path.Combine(dir.FullName, "full"), options.MaxProcessTime,
                            options.Backlog, options.Scheduled);
                        var process = full.Process / empty.Process;
                        var enqueue = full.Enqueue / empty.Enqueue;
                        Console.WriteLine($"{store.Name} c={c}: process {full.Process:N0}/s with backlog vs {empty.Process:N0}/s empty = {process:0.00}× " +
                            $"({(process >= 0.8 ? "within" : "outside")} the 20% target); enqueue {full.Enqueue:N0}/s into the full store vs {empty.Enqueue:N0}/s empty = {enqueue:0.00}× " +
                            $"({(enqueue >= 0.7 ? "within" : "outside")} the 30% target)");
                        if (store.Name == "memory")
                        {
                            Console.WriteLine($"{store.Name} c={c}: managed heap {full.HeapPerWaiting:N0} bytes per waiting job " +
                                $"({(full.HeapPerWaiting <= 300 ? "within" : "over")} the 300-byte target), {full.HeapPerScheduled:N0} bytes per scheduled job");
                        }
                    }
                    finally
                    {
                        dir.Delete(recursive: true);
                    }
                }
            }
        }
    }

    internal sealed class BenchHost(IHost host, object storage) : IAsyncDisposable
    {
        public IServiceProvider Services => host.Services;

        public object Storage { get; } = storage;

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync();
            host.Dispose();
        }
    }
}
