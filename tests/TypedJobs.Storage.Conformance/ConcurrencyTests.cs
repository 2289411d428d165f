using System.Collections.Concurrent;

namespace TypedJobs.Storage.Conformance;

/// <summary>Many callers at once: no job is claimed twice while its lease is live, none is lost, counts add up.</summary>
public abstract class ConcurrencyTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    /// <summary>How many jobs the hammering tests push through; backends may lower it to keep the run short.</summary>
    protected virtual int JobCount => 2000;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ManyWorkers_ClaimAndComplete_EveryJobExactlyOnce()
    {
        var ids = new List<JobId>();
        for (var i = 0; i < JobCount; i += 200)
        {
            ids.AddRange(await InsertManyAsync(Math.Min(200, JobCount - i), queue: i % 400 == 0 ? "a" : "b"));
        }

        var claims = new ConcurrentDictionary<JobId, int>();
        var done = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Deadline);

        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            while (Volatile.Read(ref done) < JobCount)
            {
                deadline.Token.ThrowIfCancellationRequested();
                var result = await Jobs.JobsClaimAsync(new JobsClaimParams
                {
                    WorkerId = $"w{w}",
                    Queues = [new QueueClaim("a", 10), new QueueClaim("b", 10)],
                    Max = 10,
                    LeaseDuration = TimeSpan.FromHours(1),
                }, deadline.Token);
                if (result.Jobs.Count == 0)
                {
                    await Task.Yield();
                    continue;
                }

                foreach (var job in result.Jobs)
                {
                    claims.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
                }

                var completed = await Jobs.JobsCompleteAsync(new JobsCompleteParams(result.Jobs
                    .Select(j => new JobCompletion { Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = JobState.Succeeded })
                    .ToArray()), deadline.Token);
                Assert.All(completed.Applied, Assert.True);
                Interlocked.Add(ref done, result.Jobs.Count);
            }
        })).ToArray();
        await Task.WhenAll(workers);

        Assert.Equal(JobCount, claims.Count);
        Assert.All(claims.Values, n => Assert.Equal(1, n));
        Assert.Equal(ids.OrderBy(i => i), claims.Keys.OrderBy(i => i));
        await AssertAllSucceededAsync(JobCount);
    }

    [Fact]
    public async Task EnqueueWhileClaiming_LosesNothing()
    {
        var total = JobCount / 2;
        var inserted = new ConcurrentBag<JobId>();
        var claims = new ConcurrentDictionary<JobId, int>();
        var done = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Deadline);

        var producers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var n = 0; n < total / 2; n += 25)
            {
                var batch = Enumerable.Range(0, 25).Select(_ => NewJob()).ToArray();
                await Jobs.JobsInsertAsync(new JobsInsertParams(batch), deadline.Token);
                foreach (var job in batch)
                {
                    inserted.Add(job.Id);
                }
            }
        })).ToArray();
        var expected = producers.Length * ((total / 2 + 24) / 25) * 25;
        var consumers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            while (Volatile.Read(ref done) < expected)
            {
                deadline.Token.ThrowIfCancellationRequested();
                var jobs = await ClaimAsync(5, worker: $"w{w}", lease: TimeSpan.FromHours(1));
                if (jobs.Count == 0)
                {
                    await Task.Yield();
                    continue;
                }

                foreach (var job in jobs)
                {
                    claims.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
                }

                var completed = await Jobs.JobsCompleteAsync(new JobsCompleteParams(jobs
                    .Select(j => new JobCompletion { Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = JobState.Succeeded })
                    .ToArray()), deadline.Token);
                Assert.All(completed.Applied, Assert.True);
                Interlocked.Add(ref done, jobs.Count);
            }
        })).ToArray();
        await Task.WhenAll(producers.Concat(consumers));

        Assert.Equal(expected, inserted.Count);
        Assert.Equal(inserted.OrderBy(i => i), claims.Keys.OrderBy(i => i));
        Assert.All(claims.Values, n => Assert.Equal(1, n));
        await AssertAllSucceededAsync(expected);
    }

    [Fact]
    public async Task RescueRacingWithWorkers_StaleCompletionsAreRefused_AndEveryJobSucceedsOnce()
    {
        var total = JobCount / 4;
        await InsertAsync(Enumerable.Range(0, total).Select(_ => NewJob(maxRetries: 1_000_000)).ToArray());
        var applied = new ConcurrentDictionary<JobId, int>();
        var done = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Deadline);

        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            while (Volatile.Read(ref done) < total)
            {
                deadline.Token.ThrowIfCancellationRequested();
                var jobs = await ClaimAsync(4, worker: $"w{w}", lease: TimeSpan.FromSeconds(10));
                if (jobs.Count == 0)
                {
                    await Task.Yield();
                    continue;
                }

                // Let the rescuer and other workers run between claim and completion.
                await Task.Yield();
                var completed = await Jobs.JobsCompleteAsync(new JobsCompleteParams(jobs
                    .Select(j => new JobCompletion { Job = j.Ref, LeaseToken = j.LeaseToken!.Value, TargetState = JobState.Succeeded })
                    .ToArray()), deadline.Token);
                for (var i = 0; i < jobs.Count; i++)
                {
                    if (completed.Applied[i])
                    {
                        applied.AddOrUpdate(jobs[i].Id, 1, (_, n) => n + 1);
                        Interlocked.Increment(ref done);
                    }
                }
            }
        })).ToArray();
        var rescuer = Task.Run(async () =>
        {
            var rounds = 0;
            while (Volatile.Read(ref done) < total && rounds++ < 200)
            {
                Clock.Advance(TimeSpan.FromSeconds(11));
                await Jobs.JobsRescueAsync(new JobsRescueParams(1000), deadline.Token);
                await Task.Yield();
            }
        });
        await Task.WhenAll(workers.Append(rescuer));

        Assert.Equal(total, applied.Count);
        Assert.All(applied.Values, n => Assert.Equal(1, n));
        await AssertAllSucceededAsync(total);
    }

    private async Task AssertAllSucceededAsync(int expected)
    {
        var queues = await QueuesAsync();
        Assert.Equal(expected, queues.Sum(q => q.Counts[JobState.Succeeded]));
        Assert.Equal(expected, queues.Sum(q => q.Counts.Values.Sum()));
        var listed = 0;
        string? cursor = null;
        do
        {
            var page = await Admin.JobsListAsync(new JobsListParams { Filter = new() { State = JobState.Succeeded }, Limit = 1000, Cursor = cursor }, Ct);
            listed += page.Jobs.Count;
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        Assert.Equal(expected, listed);
    }
}
