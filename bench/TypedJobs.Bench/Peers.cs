using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Hangfire;
using Hangfire.InMemory;
using Quartz;

namespace TypedJobs.Bench;

/// <summary>
/// A framework measured beside a TypedJobs row in the same process run (<c>--peers</c>): the same no-op work, the same
/// columns where the framework allows them. Peers exist in the bench only; no product project references one.
/// </summary>
internal abstract class Peer
{
    /// <summary>The name given to <c>--peers</c>.</summary>
    public abstract string Option { get; }

    /// <summary>The store kind (<see cref="StoreSetup.Kind"/>) whose rows this peer sits beside.</summary>
    public abstract string Kind { get; }

    /// <summary>The variants to run at one concurrency: a label naming every setting, and how to run it.</summary>
    public abstract IEnumerable<(string Label, Func<int, PeerRun, Task<Row>> Run)> Variants(int concurrency, BenchOptions options);

    public static IReadOnlyList<Peer> Parse(string names) => names.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(name => name.Trim() switch
    {
        "quartz" => (Peer)new QuartzPeer(),
        "hangfire-memory" => new HangfireMemoryPeer(),
        "hangfire-sqlite" => new HangfireSqlitePeer(),
        _ => throw new ArgumentException($"Unknown peer '{name}'; valid: quartz, hangfire-memory, hangfire-sqlite"),
    }).ToArray();
}

/// <summary>How many jobs one peer round runs, and for how long a drain may go on.</summary>
internal sealed record PeerRun(int Jobs, int Warmup, int LatencySamples, TimeSpan MaxProcessTime);

/// <summary>Counts the no-op jobs of one round, timed from the first job's start like the TypedJobs rows.</summary>
internal static class PeerCounter
{
    private static int done;
    private static int total;
    private static long first;
    private static TaskCompletionSource finished = new();
    private static TaskCompletionSource<double>? latency;

    public static int Done => Volatile.Read(ref done);

    public static Task Finished => finished.Task;

    public static void Reset(int jobs)
    {
        (total, done, first) = (jobs, 0, 0);
        finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static void Ran()
    {
        if (Volatile.Read(ref first) == 0)
        {
            Interlocked.CompareExchange(ref first, Stopwatch.GetTimestamp(), 0);
        }

        if (Interlocked.Increment(ref done) == total)
        {
            finished.TrySetResult();
        }
    }

    public static Task<double> ExpectStamp()
    {
        latency = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        return latency.Task;
    }

    public static void Stamped(long stamp) => latency?.TrySetResult(Stopwatch.GetElapsedTime(stamp).TotalMicroseconds);

    /// <summary>
    /// Waits for the drain (bounded by <paramref name="max"/>) and returns the process rate, CPU and bytes per job,
    /// measured from <paramref name="cpuBefore"/> and <paramref name="allocatedBefore"/> like <see cref="Runner.ThroughputAsync"/>.
    /// </summary>
    public static async Task<(double Process, TimeSpan CpuPerJob, double BytesPerJob)> DrainAsync(TimeSpan max, TimeSpan cpuBefore, long allocatedBefore)
    {
        await Task.WhenAny(Finished, Task.Delay(max));
        var end = Stopwatch.GetTimestamp();
        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        Warmup.DrainEnded();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var processed = Done;
        var start = Volatile.Read(ref first);
        var rate = start == 0 ? 0 : processed / Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        return (rate, processed == 0 ? TimeSpan.Zero : cpu / processed, processed == 0 ? 0 : (double)allocated / processed);
    }

    /// <summary>Add→start of <paramref name="samples"/> jobs one at a time; p50 and p99 (NaN when none ran within 30 s).</summary>
    public static async Task<(TimeSpan P50, TimeSpan P99)> LatencyAsync(int samples, Func<long, Task> enqueue)
    {
        var measured = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var ran = ExpectStamp();
            await enqueue(Stopwatch.GetTimestamp());
            if (await Task.WhenAny(ran, Task.Delay(TimeSpan.FromSeconds(30))) == ran)
            {
                measured.Add(ran.Result);
            }
        }

        measured.Sort();
        return measured.Count == 0
            ? (Row.None, Row.None)
            : (TimeSpan.FromMicroseconds(measured[measured.Count / 2]), TimeSpan.FromMicroseconds(measured[(int)(measured.Count * 0.99)]));
    }
}

/// <summary>
/// Quartz 4.7.3 on its in-memory job store (RAMJobStore): each job is a job detail with a one-shot trigger firing now,
/// scheduled 1000 at a time with <c>ScheduleJobs</c> into a scheduler in standby; starting the scheduler is the drain.
/// </summary>
internal sealed class QuartzPeer : Peer
{
    /// <summary>A misfire threshold no trigger of a run can exceed: no firing of a deep backlog goes through misfire handling.</summary>
    private static readonly TimeSpan NoMisfire = TimeSpan.FromDays(3650);

    public override string Option => "quartz";

    public override string Kind => "memory";

    public override IEnumerable<(string Label, Func<int, PeerRun, Task<Row>> Run)> Variants(int concurrency, BenchOptions options)
    {
        yield return ($"Quartz 4.7.3 RAMJobStore defaults (threads {ThreadPoolOptions.DefaultMaxConcurrency}, batch 1, idle wait 30 s, misfire 5 s)",
            (c, run) => RunAsync(run, threads: null, batch: null, misfireThreshold: null));
        yield return ($"Quartz 4.7.3 RAMJobStore tuned (threads {concurrency}, batch {concurrency}, idle wait 1 s, misfire {NoMisfire.TotalDays:0} d)",
            (c, run) => RunAsync(run, threads: c, batch: c, misfireThreshold: NoMisfire));
    }

    private static async Task<Row> RunAsync(PeerRun run, int? threads, int? batch, TimeSpan? misfireThreshold)
    {
        await Warmup.UntilQuietAsync(run.Warmup, () => ThroughputAsync(run.Warmup, run.MaxProcessTime, threads, batch, misfireThreshold));

        var (enqueue, process, cpu, bytes) = await ThroughputAsync(run.Jobs, run.MaxProcessTime, threads, batch, misfireThreshold);
        await using var factory = Build(threads, batch, misfireThreshold);
        var scheduler = await factory.GetScheduler();
        await scheduler.Start();
        var (p50, p99) = await PeerCounter.LatencyAsync(run.LatencySamples, async stamp =>
            await scheduler.ScheduleJob(JobBuilder.Create<StampJob>().UsingJobData("t", stamp).Build(), TriggerBuilder.Create().StartNow().Build()));
        await scheduler.Shutdown(waitForJobsToComplete: false);
        return new Row(enqueue, process, cpu, bytes, p50, p99);
    }

    private static StandaloneSchedulerFactory Build(int? threads, int? batch, TimeSpan? misfireThreshold) => QuartzSchedulerBuilder.Create(q =>
    {
        q.ConfigureScheduler(s =>
        {
            s.InstanceName = "bench-" + Guid.NewGuid().ToString("N")[..8];
            if (batch is { } b)
            {
                s.MaxBatchSize = b;
                s.IdleWaitTime = TimeSpan.FromSeconds(1);
            }
        });
        if (threads is { } t)
        {
            q.UseDefaultThreadPool(t);
        }

        q.UseInMemoryStore(store =>
        {
            if (misfireThreshold is { } m)
            {
                store.MisfireThreshold = m;
            }
        });
    }).Build();

    private static async Task<(double Enqueue, double Process, TimeSpan Cpu, double Bytes)> ThroughputAsync(int jobs, TimeSpan max, int? threads, int? batch,
        TimeSpan? misfireThreshold)
    {
        await using var factory = Build(threads, batch, misfireThreshold);
        var scheduler = await factory.GetScheduler();
        PeerCounter.Reset(jobs);
        var sw = Stopwatch.StartNew();
        for (var sent = 0; sent < jobs; sent += 1000)
        {
            var group = new Dictionary<IJobDetail, IReadOnlyCollection<ITrigger>>();
            for (var i = sent; i < Math.Min(jobs, sent + 1000); i++)
            {
                group[JobBuilder.Create<NoopJob>().WithIdentity("noop-" + i.ToString(CultureInfo.InvariantCulture)).Build()] = [TriggerBuilder.Create().StartNow().Build()];
            }

            await scheduler.ScheduleJobs(group);
        }

        var enqueue = jobs / sw.Elapsed.TotalSeconds;
        Warmup.DrainStarting();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        await scheduler.Start();
        var (process, cpu, bytes) = await PeerCounter.DrainAsync(max, cpuBefore, allocatedBefore);
        await scheduler.Shutdown(waitForJobsToComplete: false);
        return (enqueue, process, cpu, bytes);
    }

    /// <summary>The no-op job.</summary>
    internal sealed class NoopJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            PeerCounter.Ran();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The latency job: reports how long since its stamp.</summary>
    internal sealed class StampJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            PeerCounter.Stamped(context.MergedJobDataMap.GetLong("t"));
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// Hangfire 1.8.25 on Hangfire.InMemory 1.0.0. Hangfire's free edition has no batch enqueue: one call per job from 8
/// callers at once, with no server running; starting the server is the drain.
/// </summary>
internal sealed class HangfireMemoryPeer : Peer
{
    public override string Option => "hangfire-memory";

    public override string Kind => "memory";

    public override IEnumerable<(string Label, Func<int, PeerRun, Task<Row>> Run)> Variants(int concurrency, BenchOptions options)
    {
        var defaults = new BackgroundJobServerOptions();
        yield return ($"Hangfire 1.8.25 InMemory 1.0.0 defaults (workers {defaults.WorkerCount})", (_, run) => RunAsync(run, defaults.WorkerCount, null));
        yield return ($"Hangfire 1.8.25 InMemory 1.0.0 tuned (workers {concurrency}, schedule poll 1 s)", (c, run) => RunAsync(run, c, TimeSpan.FromSeconds(1)));
    }

    private static async Task<Row> RunAsync(PeerRun run, int workers, TimeSpan? schedulePoll)
    {
        // Hangfire's client and workers block threads: enough of them up front so the pool does not ramp up mid-drain;
        // put back afterwards, so the TypedJobs rows that follow in this process run with the pool as they found it.
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, Math.Max(64, workers * 2)), minIo);
        try
        {
            await Warmup.UntilQuietAsync(run.Warmup, () => ThroughputAsync(run.Warmup, run.MaxProcessTime, workers, schedulePoll, latencySamples: 0));

            return await ThroughputAsync(run.Jobs, run.MaxProcessTime, workers, schedulePoll, run.LatencySamples);
        }
        finally
        {
            ThreadPool.SetMinThreads(minWorkers, minIo);
        }
    }

    private static async Task<Row> ThroughputAsync(int jobs, TimeSpan max, int workers, TimeSpan? schedulePoll, int latencySamples)
    {
        using var storage = new InMemoryStorage(new InMemoryStorageOptions());
        var client = new BackgroundJobClient(storage);
        PeerCounter.Reset(jobs);
        var sw = Stopwatch.StartNew();
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => client.Enqueue(() => HangfireJobs.Noop()));
        var enqueue = jobs / sw.Elapsed.TotalSeconds;
        Warmup.DrainStarting();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var serverOptions = new BackgroundJobServerOptions { WorkerCount = workers };
        if (schedulePoll is { } poll)
        {
            serverOptions.SchedulePollingInterval = poll;
        }

        using var server = new BackgroundJobServer(serverOptions, storage);
        var (process, cpu, bytes) = await PeerCounter.DrainAsync(max, cpuBefore, allocatedBefore);
        var (p50, p99) = await PeerCounter.LatencyAsync(latencySamples, stamp =>
        {
            client.Enqueue(() => HangfireJobs.Stamp(stamp));
            return Task.CompletedTask;
        });
        server.SendStop();
        return new Row(enqueue, process, cpu, bytes, p50, p99);
    }
}

/// <summary>The job methods of the in-process Hangfire peer.</summary>
public static class HangfireJobs
{
    /// <summary>The no-op job.</summary>
    public static void Noop() => PeerCounter.Ran();

    /// <summary>The latency job.</summary>
    /// <param name="stamp">The <see cref="Stopwatch"/> timestamp taken just before the enqueue.</param>
    public static void Stamp(long stamp) => PeerCounter.Stamped(stamp);
}

/// <summary>
/// Hangfire 1.8.25 on Hangfire.Storage.SQLite 0.4.3, run as a child process (TypedJobs.Bench.Hangfire --sqlite):
/// its SQLitePCLRaw 2 cannot be loaded beside the SQLitePCLRaw 3 of the TypedJobs SQLite store. It is slow, so it runs
/// <c>--slow-peer-jobs</c> jobs and its drain is cut off at <c>--max-seconds</c>.
/// </summary>
internal sealed class HangfireSqlitePeer : Peer
{
    public override string Option => "hangfire-sqlite";

    public override string Kind => "sqlite";

    public override IEnumerable<(string Label, Func<int, PeerRun, Task<Row>> Run)> Variants(int concurrency, BenchOptions options)
    {
        var defaults = new BackgroundJobServerOptions();
        yield return ($"Hangfire 1.8.25 Storage.SQLite 0.4.3 defaults (workers {defaults.WorkerCount}) but queue poll 50 ms; " +
            $"{options.SlowPeerJobs:N0} jobs, cut at {options.MaxProcessTime.TotalSeconds:0} s", (_, run) => RunAsync(run, options.SlowPeerJobs, defaults.WorkerCount));
    }

    private static async Task<Row> RunAsync(PeerRun run, int jobs, int workers)
    {
        var dll = Environment.GetEnvironmentVariable("TYPEDJOBS_BENCH_HANGFIRE_DLL");
        if (string.IsNullOrEmpty(dll))
        {
            // bench/TypedJobs.Bench/bin/<configuration>/<framework>/ → bench/TypedJobs.Bench.Hangfire/bin/<configuration>/<framework>/
            var framework = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = framework.Parent!;
            dll = Path.Combine(configuration.Parent!.Parent!.Parent!.FullName, "TypedJobs.Bench.Hangfire", "bin", configuration.Name, framework.Name,
                "TypedJobs.Bench.Hangfire.dll");
        }

        var dir = Directory.CreateTempSubdirectory("typedjobs-bench-hangfire-sqlite-");
        try
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[]
            {
                dll, "--sqlite", Path.Combine(dir.FullName, "hangfire.db"), jobs.ToString(CultureInfo.InvariantCulture), workers.ToString(CultureInfo.InvariantCulture),
                ((int)run.MaxProcessTime.TotalSeconds).ToString(CultureInfo.InvariantCulture), Math.Min(run.LatencySamples, 50).ToString(CultureInfo.InvariantCulture),
                Math.Min(run.Warmup, jobs / 10).ToString(CultureInfo.InvariantCulture),
            })
            {
                start.ArgumentList.Add(arg);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + dll);
            var stderr = process.StandardError.ReadToEndAsync();
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'))
                ?? throw new InvalidOperationException($"{dll} printed no result (exit {process.ExitCode}): {await stderr}");
            using var json = JsonDocument.Parse(line);
            var r = json.RootElement;
            double Get(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.NaN;
            return new Row(Get("enqueue"), Get("process"), Row.Micros(Get("cpuUs")), Get("bytes"), Row.Micros(Get("p50Us")), Row.Micros(Get("p99Us")));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
