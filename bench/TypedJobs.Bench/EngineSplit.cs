using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Bench;

/// <summary>
/// <c>--engine-split ROUNDS</c> (memory store): where a no-op job's CPU goes. Each round drains <c>--jobs</c> jobs three
/// ways on a fresh in-memory store, in an order that rotates from round to round:
/// <list type="bullet">
/// <item><b>worker</b>: the bench's normal drain, a worker at the first <c>--concurrency</c>: everything a job costs.</item>
/// <item><b>store + dispatch</b>: one loop claims up to that many jobs through the store's own contract
/// (<see cref="IJobStore.JobsClaimAsync"/>, leases and all), runs each as its own thread-pool work item that does nothing,
/// and completes the batch in one fenced <see cref="IJobStore.JobsCompleteAsync"/> once they ran, claiming the next
/// batch meanwhile: the store and the hop to
/// the thread pool, without the engine (slots, prefetch, lease keeping, the attempt, its context, log scope, metrics,
/// events, the outcome writer, and reading the payload and calling the handler).</item>
/// <item><b>store alone</b>: the same claims and completions from one loop, no handler: what the store's part costs.</item>
/// </list>
/// CPU µs/job and bytes/job are the process's CPU time and managed allocations over each drain, divided by its jobs.
/// The worker's figure less the store-and-dispatch figure is what the engine adds per job. The loops' rates are not shown:
/// one caller claims and completes while at most two batches run, so only their CPU and bytes per job compare.
/// </summary>
internal static class EngineSplit
{
    public static async Task RunAsync(BenchOptions options, int rounds)
    {
        var concurrency = options.Concurrency[0];
        var store = new StoreSetup("memory", (o, _) => o.UseInMemory());
        Console.WriteLine($"Engine split on the memory store: {options.Jobs:N0} no-op jobs per drain, concurrency {concurrency}, {rounds} rounds, " +
            $"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine("| round | worker jobs/s | worker CPU µs/job | worker bytes/job | store + dispatch CPU µs/job | store + dispatch bytes/job | store alone CPU µs/job | store alone bytes/job |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        var dir = Directory.CreateTempSubdirectory("typedjobs-bench-");
        try
        {
            var n = 0;
            string Next() => Path.Combine(dir.FullName, "round-" + n++);
            await Warmup.UntilQuietAsync(options.WarmupJobs, () => Runner.ThroughputAsync(store, concurrency, options.WarmupJobs, Next(), options.MaxProcessTime));
            await Warmup.UntilQuietAsync(options.WarmupJobs, async () => await DirectAsync(store, concurrency, options.WarmupJobs, Next(), dispatch: true));
            await Warmup.UntilQuietAsync(options.WarmupJobs, async () => await DirectAsync(store, concurrency, options.WarmupJobs, Next(), dispatch: false));
            var worker = new List<(double Rate, double Cpu, double Bytes)>();
            var dispatched = new List<(double Cpu, double Bytes)>();
            var alone = new List<(double Cpu, double Bytes)>();
            for (var round = 1; round <= rounds; round++)
            {
                for (var k = 0; k < 3; k++)
                {
                    switch ((round + k) % 3)
                    {
                        case 0:
                            var (_, rate, cpu, bytes, _, _) = await Runner.ThroughputAsync(store, concurrency, options.Jobs, Next(), options.MaxProcessTime);
                            worker.Add((rate, cpu.TotalMicroseconds, bytes));
                            break;
                        case 1:
                            dispatched.Add(await DirectAsync(store, concurrency, options.Jobs, Next(), dispatch: true));
                            break;
                        default:
                            alone.Add(await DirectAsync(store, concurrency, options.Jobs, Next(), dispatch: false));
                            break;
                    }
                }

                Console.WriteLine($"| {round} | {worker[^1].Rate:N0} | {worker[^1].Cpu:0.00} | {worker[^1].Bytes:N0} | {dispatched[^1].Cpu:0.00} | {dispatched[^1].Bytes:N0} | " +
                    $"{alone[^1].Cpu:0.00} | {alone[^1].Bytes:N0} |");
            }

            var (workerCpu, dispatchCpu, aloneCpu) = (worker.Average(r => r.Cpu), dispatched.Average(r => r.Cpu), alone.Average(r => r.Cpu));
            Console.WriteLine($"| mean | {worker.Average(r => r.Rate):N0} | {workerCpu:0.00} | {worker.Average(r => r.Bytes):N0} | {dispatchCpu:0.00} | " +
                $"{dispatched.Average(r => r.Bytes):N0} | {aloneCpu:0.00} | {alone.Average(r => r.Bytes):N0} |");
            Console.WriteLine();
            Console.WriteLine($"Of the worker's {workerCpu:0.00} µs of CPU per job: the store {aloneCpu:0.00} ({aloneCpu / workerCpu:P0}), the hop to the thread pool " +
                $"{dispatchCpu - aloneCpu:0.00} ({(dispatchCpu - aloneCpu) / workerCpu:P0}), the engine's bookkeeping {workerCpu - dispatchCpu:0.00} ({(workerCpu - dispatchCpu) / workerCpu:P0}).");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Enqueues <paramref name="total"/> jobs, then claims and completes them through the store's contract from one loop.</summary>
    private static async Task<(double Cpu, double Bytes)> DirectAsync(StoreSetup store, int concurrency, int total, string path, bool dispatch)
    {
        var task = JobTask.Create<long>("noop", new StampSerializer(), static (_, _) => ValueTask.CompletedTask);
        await using var host = await Runner.StartAsync(store, path, task, worker: false, concurrency);
        var client = host.Services.GetRequiredService<IJobClient>();
        var jobs = host.Services.GetRequiredService<IJobStore>();
        var batch = new long[1000];
        for (var sent = 0; sent < total; sent += batch.Length)
        {
            await client.EnqueueBatchAsync(task, sent + batch.Length <= total ? batch : batch[..(total - sent)]);
        }

        var queues = new[] { new QueueClaim("default", concurrency) };
        var completions = new List<JobCompletion>(concurrency);
        // Two batches in flight: the next is claimed and queued while the last runs, so the thread pool is kept busy as
        // a worker keeps it busy, and its threads are not put to sleep and woken at every batch.
        var handlers = new[] { new Handler(), new Handler() };
        (IReadOnlyList<JobRecord> Jobs, Task Ran)? running = null;
        Warmup.DrainStarting();
        var cpuBefore = Environment.CpuUsage.TotalTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var claimedSoFar = 0;
        for (var n = 0; running is not null || claimedSoFar < total; n++)
        {
            (IReadOnlyList<JobRecord> Jobs, Task Ran)? next = null;
            if (claimedSoFar < total)
            {
                var claimed = await jobs.JobsClaimAsync(new JobsClaimParams
                {
                    WorkerId = "split",
                    Queues = queues,
                    Max = concurrency,
                    LeaseDuration = TimeSpan.FromMinutes(5),
                }, CancellationToken.None);
                if (claimed.Jobs.Count == 0)
                {
                    throw new InvalidOperationException($"The store had no job to claim after {claimedSoFar:N0} of {total:N0}.");
                }

                claimedSoFar += claimed.Jobs.Count;
                next = (claimed.Jobs, dispatch ? handlers[n % 2].RunAsync(claimed.Jobs) : Task.CompletedTask);
            }

            if (running is { } last)
            {
                await last.Ran;
                await CompleteAsync(jobs, last.Jobs, completions);
            }

            running = next;
        }

        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Warmup.DrainEnded();
        return (cpu.TotalMicroseconds / total, (double)allocated / total);
    }

    /// <summary>Completes a claimed batch as succeeded, fenced by each job's lease, in one call.</summary>
    private static async Task CompleteAsync(IJobStore jobs, IReadOnlyList<JobRecord> batch, List<JobCompletion> completions)
    {
        completions.Clear();
        for (var i = 0; i < batch.Count; i++)
        {
            var job = batch[i];
            completions.Add(new JobCompletion { Job = job.Ref, LeaseToken = job.LeaseToken!.Value, TargetState = JobState.Succeeded });
        }

        var written = await jobs.JobsCompleteAsync(new JobsCompleteParams(completions), CancellationToken.None);
        for (var i = 0; i < written.Applied.Count; i++)
        {
            if (!written.Applied[i])
            {
                throw new InvalidOperationException("The store refused a completion of a job this loop holds the lease of.");
            }
        }
    }

    /// <summary>Runs one empty thread-pool work item per job of a claimed batch and waits for them all.</summary>
    private sealed class Handler : IThreadPoolWorkItem
    {
        private readonly SemaphoreSlim finished = new(0);
        private int left;

        public Task RunAsync(IReadOnlyList<JobRecord> batch)
        {
            Volatile.Write(ref left, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }

            return finished.WaitAsync();
        }

        public void Execute()
        {
            if (Interlocked.Decrement(ref left) == 0)
            {
                finished.Release();
            }
        }
    }
}
