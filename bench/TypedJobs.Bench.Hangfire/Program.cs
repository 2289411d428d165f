// Hangfire.PostgreSql 1.21 on PostgreSQL, measured beside TypedJobs by bench/peers.sh: enqueues N no-op jobs, then times
// their processing with W workers. Hangfire has no batch enqueue in its free edition, so jobs are created one at a time
// from 8 concurrent producers.
// Usage: dotnet run -c Release --project bench/TypedJobs.Bench.Hangfire -- <connection-string> <jobs> <workers> <max-seconds>
// Prints one JSON line: {"peer":"Hangfire.PostgreSql …","enqueue":jobs/s,"process":jobs/s}
//
// With --sqlite it is Hangfire.Storage.SQLite 0.4.3 on a file instead, run by TypedJobs.Bench --peers hangfire-sqlite
// (a process of its own: its SQLitePCLRaw 2 cannot share a process with the SQLitePCLRaw 3 of the TypedJobs store):
//   dotnet TypedJobs.Bench.Hangfire.dll --sqlite <file> <jobs> <workers> <max-seconds> <latency-samples> <warmup-jobs>
// and prints {"enqueue":…,"process":…,"cpuUs":…,"bytes":…,"p50Us":…,"p99Us":…}.
using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;

if (args is ["--sqlite", ..])
{
    await SqlitePeer.RunAsync(args[1..]);
    return;
}

var connection = args[0];
var jobs = int.Parse(args[1], CultureInfo.InvariantCulture);
var workers = int.Parse(args[2], CultureInfo.InvariantCulture);
var maxSeconds = int.Parse(args[3], CultureInfo.InvariantCulture);

var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions
{
    SchemaName = "hangfire_bench",
    PrepareSchemaIfNecessary = true,
    QueuePollInterval = TimeSpan.FromMilliseconds(50),
});
GlobalConfiguration.Configuration.UseStorage(storage).UseIgnoredAssemblyVersionTypeResolver();
var client = new BackgroundJobClient(storage);

var sw = Stopwatch.StartNew();
var next = -1;
await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
{
    while (Interlocked.Increment(ref next) < jobs)
    {
        client.Enqueue(() => Noop.Run());
    }
})));
var enqueue = jobs / sw.Elapsed.TotalSeconds;

using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers, ServerName = "bench" }, storage))
{
    var deadline = Stopwatch.StartNew();
    while (Volatile.Read(ref Noop.Done) < jobs && deadline.Elapsed < TimeSpan.FromSeconds(maxSeconds))
    {
        await Task.Delay(20);
    }
}

var elapsed = Stopwatch.GetElapsedTime(Noop.First, Noop.Last).TotalSeconds;
var process = Noop.Done <= 1 ? 0 : Noop.Done / elapsed;
Console.WriteLine(FormattableString.Invariant($$"""{"peer":"Hangfire 1.8.25 PostgreSql 1.21 (workers {{workers}}, queue poll 50 ms)","enqueue":{{enqueue:0}},"process":{{process:0}}}"""));

public static class Noop
{
    public static int Done;
    public static long First;
    public static long Last;

    public static void Run()
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref First, now, 0);
        Interlocked.Exchange(ref Last, now);
        Interlocked.Increment(ref Done);
    }
}

/// <summary>Hangfire on Hangfire.Storage.SQLite, measured like the TypedJobs rows: enqueue, drain, then add→start one at a time.</summary>
internal static class SqlitePeer
{
    public static async Task RunAsync(string[] args)
    {
        var path = args[0];
        var jobs = int.Parse(args[1], CultureInfo.InvariantCulture);
        var workers = int.Parse(args[2], CultureInfo.InvariantCulture);
        var max = TimeSpan.FromSeconds(int.Parse(args[3], CultureInfo.InvariantCulture));
        var samples = int.Parse(args[4], CultureInfo.InvariantCulture);
        var warmup = int.Parse(args[5], CultureInfo.InvariantCulture);
        GlobalConfiguration.Configuration.UseIgnoredAssemblyVersionTypeResolver();
        ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, Math.Max(64, workers * 2)), minIo);
        if (warmup > 0)
        {
            await RoundAsync(path + ".warmup", warmup, workers, max, 0);
        }

        await RoundAsync(path, jobs, workers, max, samples);
    }

    private static async Task RoundAsync(string path, int jobs, int workers, TimeSpan max, int samples)
    {
        // Defaults but the queue poll: 15 s by default, which would make every add→start sample a poll interval.
        var storage = new SQLiteStorage(path, new SQLiteStorageOptions { QueuePollInterval = TimeSpan.FromMilliseconds(50) });
        var client = new BackgroundJobClient(storage);
        SqliteJobs.Reset(jobs);
        var sw = Stopwatch.StartNew();
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => client.Enqueue(() => SqliteJobs.Noop()));
        var enqueue = jobs / sw.Elapsed.TotalSeconds;
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        using var server = new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers }, storage);
        await Task.WhenAny(SqliteJobs.Finished.Task, Task.Delay(max));
        var end = Stopwatch.GetTimestamp();
        var cpu = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMicroseconds;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var done = Volatile.Read(ref SqliteJobs.Done);
        var first = Volatile.Read(ref SqliteJobs.First);
        var process = first == 0 ? 0 : done / Stopwatch.GetElapsedTime(first, end).TotalSeconds;

        var measured = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var latency = SqliteJobs.ExpectStamp();
            var stamp = Stopwatch.GetTimestamp();
            client.Enqueue(() => SqliteJobs.Stamp(stamp));
            if (await Task.WhenAny(latency, Task.Delay(TimeSpan.FromSeconds(30))) == latency)
            {
                measured.Add(latency.Result);
            }
        }

        server.SendStop();
        if (samples == 0)
        {
            return;
        }

        measured.Sort();
        string Percentile(double p) => measured.Count == 0 ? "null" : measured[Math.Min(measured.Count - 1, (int)(measured.Count * p))].ToString("0.0", CultureInfo.InvariantCulture);
        Console.WriteLine(FormattableString.Invariant(
            $$"""{"enqueue":{{enqueue:0}},"process":{{process:0}},"cpuUs":{{(done == 0 ? 0 : cpu / done):0.0}},"bytes":{{(done == 0 ? 0 : (double)allocated / done):0}},"p50Us":{{Percentile(0.5)}},"p99Us":{{Percentile(0.99)}},"processed":{{done}}}"""));
    }
}

/// <summary>The jobs of the SQLite peer.</summary>
public static class SqliteJobs
{
    /// <summary>Jobs run in this round.</summary>
    public static int Done;

    /// <summary>When the first one started (a <see cref="Stopwatch"/> timestamp).</summary>
    public static long First;

    private static int total;
    private static TaskCompletionSource<double>? latency;

    /// <summary>Completed once every job of the round ran.</summary>
    public static TaskCompletionSource Finished { get; private set; } = new();

    /// <summary>Starts a round of <paramref name="jobs"/> jobs.</summary>
    /// <param name="jobs">How many jobs finish the round.</param>
    public static void Reset(int jobs)
    {
        (total, Done, First) = (jobs, 0, 0);
        Finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The no-op job.</summary>
    public static void Noop()
    {
        Interlocked.CompareExchange(ref First, Stopwatch.GetTimestamp(), 0);
        if (Interlocked.Increment(ref Done) == total)
        {
            Finished.TrySetResult();
        }
    }

    /// <summary>Waits for the next <see cref="Stamp"/>.</summary>
    /// <returns>Microseconds from the stamp to the job's start.</returns>
    public static Task<double> ExpectStamp()
    {
        latency = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        return latency.Task;
    }

    /// <summary>The latency job.</summary>
    /// <param name="stamp">The <see cref="Stopwatch"/> timestamp taken just before the enqueue.</param>
    public static void Stamp(long stamp) => latency?.TrySetResult(Stopwatch.GetElapsedTime(stamp).TotalMicroseconds);
}
