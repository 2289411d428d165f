using System.Diagnostics;
using Hangfire;
using Hangfire.Redis.StackExchange;
using HangfireStorage = Hangfire.Redis.StackExchange.RedisStorage;
using HangfireStorageOptions = Hangfire.Redis.StackExchange.RedisStorageOptions;

namespace TypedJobs.Bench;

/// <summary>
/// Hangfire 1.8 with Hangfire.Redis.StackExchange 1.12 on the same Redis server, measured like the TypedJobs rows:
/// enqueue (Hangfire has no batch API: one call per job, from 8 callers at once), then a server with the given worker
/// count drains them, then add→start one job at a time. A peer for comparison only.
/// </summary>
internal static class HangfirePeer
{
    private static int done;
    private static int total;
    private static long first;
    private static TaskCompletionSource finished = new();
    private static TaskCompletionSource<double>? latency;

    public static async Task<Row> RunAsync(string endpoint, int jobs, int concurrency, int samples)
    {
        var storage = new HangfireStorage(endpoint, new HangfireStorageOptions
        {
            Prefix = "hangfire-bench-" + Guid.NewGuid().ToString("N")[..8] + ":",
            FetchTimeout = TimeSpan.FromSeconds(1),
        });
        GlobalConfiguration.Configuration.UseStorage(storage).UseIgnoredAssemblyVersionTypeResolver();
        var client = new BackgroundJobClient(storage);

        (total, done, first) = (jobs, 0, 0);
        finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Hangfire's client is synchronous: enough threads up front so its blocking calls do not starve the pool.
        ThreadPool.SetMinThreads(Math.Max(64, concurrency * 2), 64);
        var sw = Stopwatch.StartNew();
        Parallel.For(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => client.Enqueue(() => Noop()));
        var enqueueRate = jobs / sw.Elapsed.TotalSeconds;

        double processRate;
        using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = concurrency, Queues = ["default"] }, storage))
        {
            await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(60)));
            var end = Stopwatch.GetTimestamp();
            processRate = first == 0 ? 0 : Volatile.Read(ref done) / Stopwatch.GetElapsedTime(Volatile.Read(ref first), end).TotalSeconds;

            var measured = new List<double>(samples);
            for (var i = 0; i < samples; i++)
            {
                latency = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
                client.Enqueue(() => Stamp(Stopwatch.GetTimestamp()));
                var result = await Task.WhenAny(latency.Task, Task.Delay(TimeSpan.FromSeconds(30)));
                if (result == latency.Task)
                {
                    measured.Add(latency.Task.Result);
                }
            }

            measured.Sort();
            var p50 = measured.Count == 0 ? double.NaN : measured[measured.Count / 2];
            var p99 = measured.Count == 0 ? double.NaN : measured[(int)(measured.Count * 0.99)];
            Console.WriteLine($"| {"hangfire-redis",-18} | {concurrency,11} | {enqueueRate,14:N0} | {processRate,14:N0} | {"",10} | {"",10} | {p50 / 1000,10:0.00} ms | {p99 / 1000,10:0.00} ms |");
            return new Row(enqueueRate, processRate, Row.None, double.NaN, Row.Micros(p50), Row.Micros(p99));
        }
    }

    /// <summary>The no-op job.</summary>
    public static void Noop()
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

    /// <summary>The latency job: how long since it was enqueued, in µs.</summary>
    public static void Stamp(long stamp) => latency?.TrySetResult(Stopwatch.GetElapsedTime(stamp).TotalMicroseconds);
}
