using System.Buffers;
using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;
using TypedJobs.Registration;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// <c>bench</c>: enqueues N no-op jobs (batches of 1000) into a paused queue, then resumes it and times how fast an
/// in-process worker drains them, then measures add→start latency one job at a time into the idle worker. It runs on a
/// throwaway area of the chosen store (<see cref="BenchTargets"/>), never among the application's jobs, and is bounded
/// by <c>--timeout</c>.
/// </summary>
internal static class BenchCommand
{
    private const string Queue = "typedjobs-bench";

    public static void AddTo(Command root, CliEnvironment environment)
    {
        var jobs = new Option<int>("--jobs", "-n") { Description = "No-op jobs to enqueue and drain", DefaultValueFactory = _ => 10_000 };
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "The worker's concurrency", DefaultValueFactory = _ => 32 };
        var samples = new Option<int>("--latency-samples") { Description = "Jobs enqueued one at a time to measure add→start latency", DefaultValueFactory = _ => 200 };
        var timeout = new Option<string>("--timeout") { Description = "Give up after this long (e.g. 5m)", DefaultValueFactory = _ => "5m" };
        var command = new Command("bench", "Enqueue and drain N no-op jobs through the chosen store (on a throwaway area of it); print rates and latency percentiles");
        command.Add(jobs);
        command.Add(concurrency);
        command.Add(samples);
        command.Add(timeout);
        CliApp.SetAction(command, environment, async context =>
        {
            var n = context.Value(jobs);
            var c = context.Value(concurrency);
            var s = context.Value(samples);
            if (n < 1 || c < 1 || s < 0)
            {
                throw CliException.Usage("--jobs and --concurrency must be at least 1, --latency-samples at least 0");
            }

            var limit = Parsing.Duration("--timeout", context.Value(timeout)!);
            var target = BenchTargets.Isolate(context.Selection.Jobs.Url);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
            deadline.CancelAfter(limit);
            BenchDocument result;
            try
            {
                result = await RunAsync(context, target, n, c, s, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
            {
                throw CliException.Error($"bench did not finish within {Formats.Duration(limit)} (--timeout)");
            }
            finally
            {
                target.Cleanup();
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Relaxed.BenchDocument);
                return ExitCodes.Ok;
            }

            var output = context.Output;
            output.Line($"Bench on {target.Description}: {Formats.Number(n)} no-op jobs, concurrency {c}.");
            var table = output.NewTable(">Enqueue jobs/s", ">Process jobs/s", ">Latency p50", ">p90", ">p99", ">max");
            CliOutput.AddRow(table, Rate(result.EnqueuePerSecond), Rate(result.ProcessPerSecond),
                Ms(result.LatencyP50Ms), Ms(result.LatencyP90Ms), Ms(result.LatencyP99Ms), Ms(result.LatencyMaxMs));
            output.Write(table);
            output.Line($"Latency is add→start of {s} job(s) enqueued one at a time into the idle worker.");
            if (target.Leftover is { } leftover)
            {
                output.Line(leftover);
            }

            return ExitCodes.Ok;
        });
        root.Add(command);
    }

    private static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture);

    private static string Ms(double? value) => value is not { } ms ? "" : ms < 1 ? $"{(ms * 1000).ToString("0", CultureInfo.InvariantCulture)} µs" : $"{ms.ToString("0.00", CultureInfo.InvariantCulture)} ms";

    private static async Task<BenchDocument> RunAsync(CommandContext context, BenchTargets.Target target, int total, int concurrency, int samples,
        CancellationToken ct)
    {
        var done = 0;
        long firstStart = 0;
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latencies = new double[samples];
        var sampling = 0;
        var sampled = new SemaphoreSlim(0);
        var task = JobTask.Create<long>("typedjobs.bench.noop", new StampSerializer(), (stamp, _) =>
        {
            if (stamp != 0)
            {
                latencies[Volatile.Read(ref sampling)] = Stopwatch.GetElapsedTime(stamp).TotalMilliseconds;
                sampled.Release();
                return ValueTask.CompletedTask;
            }

            Interlocked.CompareExchange(ref firstStart, Stopwatch.GetTimestamp(), 0);
            if (Interlocked.Increment(ref done) == total)
            {
                drained.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }, new TaskSettings { Queue = Queue, MaxRetries = 0 });

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = context.Environment.WorkingDirectory });
        builder.Services.AddSingleton(context.Environment.Time);
        builder.Services.AddTypedJobs(o => o.UseStorage(target.Url))
            .AddTask(task)
            .AddWorker(w =>
            {
                w.Queues = [Queue];
                w.Concurrency = concurrency;
            });
        using var host = builder.Build();
        var admin = host.Services.GetRequiredService<IJobAdmin>();
        var client = host.Services.GetRequiredService<IJobClient>();

        // Enqueue into the paused queue, so the drain is timed on its own.
        await admin.PauseQueueAsync(Queue, ct).ConfigureAwait(false);
        await host.StartAsync(ct).ConfigureAwait(false);
        try
        {
            var batch = new long[Math.Min(1000, total)];
            var watch = Stopwatch.StartNew();
            for (var sent = 0; sent < total; sent += batch.Length)
            {
                await client.EnqueueBatchAsync(task, total - sent >= batch.Length ? batch : batch[..(total - sent)], null, ct).ConfigureAwait(false);
            }

            var enqueueRate = total / watch.Elapsed.TotalSeconds;
            await admin.ResumeQueueAsync(Queue, ct).ConfigureAwait(false);
            await drained.Task.WaitAsync(ct).ConfigureAwait(false);
            var processRate = total / Stopwatch.GetElapsedTime(Interlocked.Read(ref firstStart)).TotalSeconds;

            for (var i = 0; i < samples; i++)
            {
                Volatile.Write(ref sampling, i);
                await client.EnqueueAsync(task, Stopwatch.GetTimestamp(), null, ct).ConfigureAwait(false);
                await sampled.WaitAsync(ct).ConfigureAwait(false);
            }

            Array.Sort(latencies);
            double? Percentile(double p) => samples == 0 ? null : latencies[Math.Min(samples - 1, (int)Math.Ceiling(p * samples) - 1)];

            // Leave nothing behind in the throwaway area but its (empty) schema.
            await admin.BulkAsync(TypedJobs.Storage.JobsBulkAction.Delete, new TypedJobs.Storage.JobFilter { Queue = Queue }, null, ct).ConfigureAwait(false);
            return new BenchDocument(StorageRedacted(target.Url), total, concurrency, enqueueRate, processRate, total, samples,
                Percentile(0.50), Percentile(0.90), Percentile(0.99), samples == 0 ? null : latencies[^1]);
        }
        finally
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stop.Token).ConfigureAwait(false);
        }
    }

    private static string StorageRedacted(string url) => TypedJobs.Storage.StorageUrl.RedactText(url);

    /// <summary>The payload: 0 for throughput jobs, or the enqueue timestamp of a latency sample.</summary>
    private sealed class StampSerializer : JobSerializer<long>
    {
        public override void Serialize(long value, IBufferWriter<byte> destination)
        {
            BinaryPrimitives.WriteInt64LittleEndian(destination.GetSpan(8), value);
            destination.Advance(8);
        }

        public override long Deserialize(ReadOnlySpan<byte> data) => BinaryPrimitives.ReadInt64LittleEndian(data);
    }
}
