using StackExchange.Redis;
using static TypedJobs.Storage.Redis.Internal.RedisCodec;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// The hot path of the jobs role. Each queue's step is one script; a call about several queues runs one script per
/// queue, all sent together (one round trip), so in a cluster each queue's part is atomic on its own slot.
/// </summary>
internal sealed partial class RedisStorage
{
    /// <summary>How many due scheduled jobs one claim moves to ready at most (the rest follow with the next claims).</summary>
    private const int PromoteLimit = 1000;

    /// <summary>How many ready jobs a claim with task caps examines at most while skipping capped tasks.</summary>
    private const int ClaimScanBudget = 10_000;

    public async ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var jobs = parameters.Jobs;
        if (jobs.Count == 0)
        {
            return new JobsInsertResult([]);
        }

        // Everything that can be wrong with the batch is found before anything is written.
        var ids = new string[jobs.Count];
        var args = new RedisValue[jobs.Count][];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            ArgumentNullException.ThrowIfNull(job, nameof(parameters));
            if (job.TaskName is null || job.Queue is null || job.Payload is null || job.Queue.Length == 0)
            {
                throw new ArgumentException($"Job {job.Id} lacks a task name, queue or payload.", nameof(parameters));
            }

            ids[i] = Hex(job.Id);
            args[i] = InsertArgs(ids[i], job);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = new JobInsertOutcome?[jobs.Count];
        var first = new Dictionary<string, int>(jobs.Count, StringComparer.Ordinal);
        for (var i = 0; i < jobs.Count; i++)
        {
            if (!first.TryAdd(ids[i], i))
            {
                // An id given twice in one batch: the first one counts.
                outcomes[i] = new JobInsertOutcome(jobs[i].Id, false);
            }
        }

        // 1. Record each id in the id index (its queue), which also finds an id that another queue already holds.
        var foreign = await ClaimIdsAsync(jobs, ids, outcomes).ConfigureAwait(false);
        if (foreign.Count > 0)
        {
            var checks = foreign.Select(f => (f.Index, f.Queue, Exists: Db.KeyExistsAsync(RedisKeys.Job(Keys.QueueBase(f.Queue), ids[f.Index])))).ToList();
            foreach (var (index, _, exists) in checks)
            {
                if (await exists.ConfigureAwait(false))
                {
                    outcomes[index] = new JobInsertOutcome(jobs[index].Id, false);
                }
                else
                {
                    // A leftover of an insert that never happened (a crash between the two steps): take the entry over.
                    await Db.HashSetAsync(Keys.IndexShard(RedisKeys.Shard(ids[index])), ids[index], jobs[index].Queue).ConfigureAwait(false);
                }
            }
        }

        // 2. One insert script per queue: atomic for the queue's jobs (unique keys by SET NX inside it).
        var calls = new List<(string Queue, List<int> Indexes, Task<RedisResult> Result)>();
        foreach (var group in Enumerable.Range(0, jobs.Count).Where(i => outcomes[i] is null).GroupBy(i => jobs[i].Queue, StringComparer.Ordinal))
        {
            var indexes = group.ToList();
            var queueBase = Keys.QueueBase(group.Key);
            var values = new List<RedisValue>(3 + (indexes.Count * 11)) { NowArg(), queueBase, indexes.Count };
            foreach (var i in indexes)
            {
                values.AddRange(args[i]);
            }

            calls.Add((group.Key, indexes, connection.EvalAsync(Lua.Insert, [RedisKeys.Route(queueBase)], [.. values], hot: true)));
        }

        var unused = new List<string>();
        foreach (var (queue, indexes, call) in calls)
        {
            var result = (RedisResult[])(await call.ConfigureAwait(false))!;
            for (var k = 0; k < indexes.Count; k++)
            {
                var i = indexes[k];
                var status = (int)result[2 * k];
                var id = Id((RedisValue)result[(2 * k) + 1]);
                outcomes[i] = new JobInsertOutcome(id, status == 1);
                if (status == 2)
                {
                    unused.Add(ids[i]);
                }
            }

            if ((int)result[^1] == 1)
            {
                wake.Notify(queue);
            }
        }

        if (unused.Count > 0)
        {
            // Ids that a unique key turned away were recorded in the index in step 1.
            await Task.WhenAll(unused.GroupBy(RedisKeys.Shard)
                .Select(g => Db.HashDeleteAsync(Keys.IndexShard(g.Key), g.Select(x => (RedisValue)x).ToArray()))).ConfigureAwait(false);
        }

        return new JobsInsertResult(outcomes.Select(o => o!.Value).ToArray());
    }

    private static RedisValue[] InsertArgs(string id, JobInsert job)
    {
        RedisValue due = RedisValue.EmptyString;
        if (job.RunAt is { } runAt)
        {
            due = Text(Micros(runAt + (job.Delay ?? TimeSpan.Zero)));
        }

        return
        [
            id, job.TaskName, (int)job.Priority, job.Payload, job.MaxRetries, due, Text(Micros(job.Delay ?? TimeSpan.Zero)),
            Optional(job.UniqueKey), job.UniqueUntilPruned ? "1" : "0", Optional(job.TraceParent), Optional(job.TraceState),
        ];
    }

    /// <summary>Records the ids of the batch in the id index; returns the ones another queue holds.</summary>
    private async Task<List<(int Index, string Queue)>> ClaimIdsAsync(IReadOnlyList<JobInsert> jobs, string[] ids, JobInsertOutcome?[] outcomes)
    {
        var calls = new List<(List<int> Indexes, Task<RedisResult> Result)>();
        foreach (var shard in Enumerable.Range(0, jobs.Count).Where(i => outcomes[i] is null).GroupBy(i => RedisKeys.Shard(ids[i])))
        {
            var indexes = shard.ToList();
            var values = new RedisValue[indexes.Count * 2];
            for (var k = 0; k < indexes.Count; k++)
            {
                values[2 * k] = ids[indexes[k]];
                values[(2 * k) + 1] = jobs[indexes[k]].Queue;
            }

            calls.Add((indexes, connection.EvalAsync(Lua.IndexClaim, [Keys.IndexShard(shard.Key)], values, hot: true)));
        }

        var queues = jobs.Select(j => (RedisValue)j.Queue).Distinct().ToArray();
        var registered = Db.SetAddAsync(Keys.Queues, queues);
        var foreign = new List<(int, string)>();
        foreach (var (indexes, call) in calls)
        {
            var result = (RedisResult[])(await call.ConfigureAwait(false))!;
            for (var k = 0; k < indexes.Count; k++)
            {
                var other = (string?)result[k];
                if (!string.IsNullOrEmpty(other))
                {
                    foreign.Add((indexes[k], other));
                }
            }
        }

        await registered.ConfigureAwait(false);
        return foreign;
    }

    public async ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var queues = StorageRules.ClaimQueues(parameters);
        if (queues.Length == 0)
        {
            return new JobsClaimResult([], null);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var limits = parameters.TaskLimits is { Count: > 0 } l ? l : null;
        var lease = Text(Micros(parameters.LeaseDuration));
        var plan = queues.Length == 1 || (queues.Sum(q => (long)q.Max) <= parameters.Max && limits is null)
            ? queues.Select(q => (q.Name, q.Max, Limits: limits)).ToArray()
            : await PlanClaimAsync(queues, parameters.Max, limits).ConfigureAwait(false);

        var calls = new List<(string Queue, string QueueBase, string TokenBase, int Max, Task<RedisResult> Result)>(plan.Length);
        foreach (var (name, max, queueLimits) in plan)
        {
            if (max <= 0)
            {
                continue;
            }

            var queueBase = Keys.QueueBase(name);
            var tokenBase = System.Guid.NewGuid().ToString("N")[..28];
            var values = new List<RedisValue>(9 + ((queueLimits?.Count ?? 0) * 2))
            {
                NowArg(), queueBase, max, lease, parameters.WorkerId, tokenBase, PromoteLimit, ClaimScanBudget, queueLimits?.Count ?? 0,
            };
            foreach (var (task, left) in queueLimits ?? new Dictionary<string, int>())
            {
                values.Add(task);
                values.Add(Math.Max(0, left));
            }

            // Not a hot call of the connection: the wait below gives up after the hot-path timeout, but the call itself is
            // kept, so that an abandoned claim's leases can be put back once it is over (see ReleaseClaimAsync).
            calls.Add((name, queueBase, tokenBase, max, connection.EvalAsync(Lua.Claim, [RedisKeys.Route(queueBase)], [.. values])));
        }

        // Every queue's answer is awaited before anything is decided: the jobs of the queues whose scripts succeeded are
        // leased and must reach this worker even when another queue's script failed. The claim fails only when no queue's
        // script succeeded.
        var claimed = new List<(JobRecord Job, long Seq)>();
        long? nextDue = null;
        var succeeded = 0;
        Exception? firstError = null;
        List<(string Queue, Exception Error)>? failed = null;
        foreach (var (queue, queueBase, tokenBase, max, call) in calls)
        {
            RedisResult[] result;
            try
            {
                result = (RedisResult[])(await call.WaitAsync(connection.CommandTimeout).ConfigureAwait(false))!;
            }
            catch (Exception ex)
            {
                firstError ??= ex;
                (failed ??= []).Add((queue, ex));
                var release = ReleaseClaimAsync(queue, queueBase, tokenBase, max, call);
                if (call.IsCompleted)
                {
                    await release.ConfigureAwait(false);
                }

                continue;
            }

            succeeded++;
            var now = Long((RedisValue)result[0]);
            var next = Long((RedisValue)result[1]);
            if (next >= 0 && (nextDue is null || next < nextDue))
            {
                nextDue = next;
            }

            for (var k = 2; k + 1 < result.Length; k += 2)
            {
                if (Job((string)result[k]!, queue, result[k + 1], now, out var seq) is { } job)
                {
                    claimed.Add((job, seq));
                }
            }
        }

        if (failed is not null)
        {
            if (succeeded == 0)
            {
                // Nothing was handed out: the caller sees the error (the other queues' errors usually share its cause).
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(firstError!);
            }

            foreach (var (queue, error) in failed)
            {
                LogClaimQueueFailed(logger, queue, error.GetType().Name, error.Message);
            }
        }

        if (calls.Count > 1)
        {
            // Each queue's jobs come in claim order; merge the queues by the same order (the sequence is the insert time
            // in µs, so it orders inserts of different queues too).
            claimed.Sort(static (a, b) =>
            {
                var c = ((int)b.Job.Priority).CompareTo((int)a.Job.Priority);
                if (c == 0)
                {
                    c = (Micros(a.Job.DueAt) / 1000).CompareTo(Micros(b.Job.DueAt) / 1000);
                }

                return c != 0 ? c : a.Seq.CompareTo(b.Seq);
            });
        }

        TimeSpan? nextDueIn = claimed.Count < parameters.Max && nextDue is { } due ? TimeSpan.FromTicks(due * 10) : null;
        return new JobsClaimResult(claimed.Select(c => c.Job).ToArray(), nextDueIn);
    }

    /// <summary>
    /// Puts back whatever a failed or abandoned claim of one queue leased. A call that failed may still have leased jobs:
    /// a script that fails half-way keeps its writes, and a call the client gave up on (the hot-path timeout, the
    /// multiplexer's own timeout, a broken connection) may run on the server afterwards. Those leases carry tokens no
    /// worker knows, so without this they would sit until rescue, a full lease later, and rescue counts the attempt
    /// (a job with no retries left would be dead-lettered without ever running).
    /// <para>
    /// The release must run on the server after the claim script, never before it: so it is sent only once the claim call
    /// itself is over (answered, failed, or timed out by the multiplexer). A command the multiplexer timed out is still
    /// ahead of the release on the same connection, and a claim whose connection broke ran before the break or never runs;
    /// either way the release comes after it. The simpler choice — never time a claim out on the client — would not do:
    /// the multiplexer's timeout and a broken connection abandon a claim just the same.
    /// </para>
    /// </summary>
    private async Task ReleaseClaimAsync(string queue, string queueBase, string tokenBase, int max, Task<RedisResult> call)
    {
        try
        {
            await call.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its outcome is unknown either way: the release finds what it leased, if anything.
        }

        try
        {
            var result = (RedisResult[])(await connection.EvalAsync(Lua.ClaimRelease, [RedisKeys.Route(queueBase)], [NowArg(), queueBase, tokenBase, max])
                .ConfigureAwait(false))!;
            var released = (int)result[0];
            if (released > 0)
            {
                LogClaimReleased(logger, released, queue);
            }

            if ((int)result[1] == 1)
            {
                wake.Notify(queue);
            }
        }
        catch (Exception ex)
        {
            // The leases then expire and rescue returns the jobs to the queue, as before.
            LogClaimReleaseFailed(logger, queue, ex.GetType().Name, ex.Message);
        }
    }

    /// <summary>
    /// Decides how many jobs to claim from each queue when several queues compete for fewer slots than they could fill
    /// (or share task caps): each queue reports the jobs it would hand out, the lists are merged in claim order, and each
    /// queue is then claimed for its share. Between the two steps other workers may take or add jobs; the shares still
    /// hold the totals and caps, and each queue's claim takes its best jobs at that moment.
    /// </summary>
    private async Task<(string Name, int Max, IReadOnlyDictionary<string, int>? Limits)[]> PlanClaimAsync(QueueClaim[] queues, int total,
        IReadOnlyDictionary<string, int>? limits)
    {
        // Each queue reports what it could give towards the total, plus as many jobs as the task caps allow in all: the
        // merge may skip up to that many of its jobs (their task's cap taken by another queue's jobs first), and what is
        // left must still reach as far in claim order as the jobs the merge takes from the other queues. With only its
        // own share read, a queue whose capped jobs were skipped had more jobs waiting right behind its last one, yet the
        // merge went on to the other queues' later (lower priority) jobs.
        var capped = limits?.Values.Sum(v => (long)Math.Max(0, v)) ?? 0;
        var peeks = queues.Select(q =>
        {
            var queueBase = Keys.QueueBase(q.Name);
            var most = (int)Math.Min(int.MaxValue, Math.Min(q.Max, total) + capped);
            var values = new List<RedisValue> { NowArg(), queueBase, most, ClaimScanBudget, limits?.Count ?? 0 };
            foreach (var (task, left) in limits ?? new Dictionary<string, int>())
            {
                values.Add(task);
                values.Add(Math.Max(0, left));
            }

            return connection.EvalAsync(Lua.Peek, [RedisKeys.Route(queueBase)], [.. values], hot: true);
        }).ToArray();

        // A queue whose read fails gets no share (logged like a failed claim); the others are claimed. Nothing is leased
        // yet, so failing the whole claim is left for when no queue answered.
        var candidates = new List<(int Queue, string Member, long Score)>();
        var left = queues.Select(q => q.Max).ToArray();
        List<(string Queue, Exception Error)>? failed = null;
        for (var q = 0; q < peeks.Length; q++)
        {
            RedisResult[] result;
            try
            {
                result = (RedisResult[])(await peeks[q].ConfigureAwait(false))!;
            }
            catch (Exception ex)
            {
                (failed ??= []).Add((queues[q].Name, ex));
                left[q] = 0;
                continue;
            }

            for (var k = 0; k + 1 < result.Length; k += 2)
            {
                candidates.Add((q, (string)result[k]!, Long((RedisValue)result[k + 1])));
            }
        }

        if (failed is not null)
        {
            if (failed.Count == peeks.Length)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed[0].Error);
            }

            foreach (var (queue, error) in failed)
            {
                LogClaimQueueFailed(logger, queue, error.GetType().Name, error.Message);
            }
        }

        candidates.Sort(static (a, b) =>
        {
            var c = a.Score.CompareTo(b.Score);
            return c != 0 ? c : string.CompareOrdinal(a.Member, b.Member);
        });
        var taskLeft = limits is null ? null : new Dictionary<string, int>(limits, StringComparer.Ordinal);
        var counts = new int[queues.Length];
        var shares = queues.Select(_ => limits is null ? null : limits.Keys.ToDictionary(k => k, _ => 0, StringComparer.Ordinal)).ToArray();
        var taken = 0;
        foreach (var (q, member, _) in candidates)
        {
            if (taken >= total)
            {
                break;
            }

            if (left[q] <= 0)
            {
                continue;
            }

            var task = member[49..];
            if (taskLeft is not null && taskLeft.TryGetValue(task, out var cap))
            {
                if (cap <= 0)
                {
                    continue;
                }

                taskLeft[task] = cap - 1;
                shares[q]![task]++;
            }

            left[q]--;
            counts[q]++;
            taken++;
        }

        return queues.Select((q, i) => (q.Name, counts[i], (IReadOnlyDictionary<string, int>?)shares[i])).ToArray();
    }

    public async ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var completions = parameters.Completions;
        if (completions.Count == 0)
        {
            return new JobsCompleteResult([]);
        }

        foreach (var completion in completions)
        {
            StorageRules.ValidateCompletion(completion);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var calls = new List<(string Queue, List<int> Indexes, Task<RedisResult> Result)>();
        foreach (var group in Enumerable.Range(0, completions.Count).GroupBy(i => completions[i].Job.Queue, StringComparer.Ordinal))
        {
            var indexes = group.ToList();
            var queueBase = Keys.QueueBase(group.Key);
            var values = new List<RedisValue>(3 + (indexes.Count * 10)) { NowArg(), queueBase, indexes.Count };
            foreach (var i in indexes)
            {
                var c = completions[i];
                var finished = c.TargetState.IsFinished();
                values.Add(Hex(c.Job.Id));
                values.Add(Hex(c.LeaseToken));
                values.Add(finished ? (int)c.TargetState : 1);
                values.Add(!finished && c.Delay is { } delay ? Text(Micros(delay)) : RedisValue.EmptyString);
                values.Add(c.AttemptDelta);
                values.Add(Optional(c.Error));
                values.Add(c.Failed ? "1" : "0");
                values.Add(c.MarkUnknownTask ? "1" : "0");
                values.Add(c.TargetState == JobState.Succeeded ? Optional(c.Result) : RedisValue.EmptyString);
                values.Add(Text(Micros(c.ResultTtl)));
            }

            calls.Add((group.Key, indexes, connection.EvalAsync(Lua.Complete, [RedisKeys.Route(queueBase)], [.. values], hot: true)));
        }

        var applied = new bool[completions.Count];
        foreach (var (queue, indexes, call) in calls)
        {
            var result = (RedisResult[])(await call.ConfigureAwait(false))!;
            for (var k = 0; k < indexes.Count; k++)
            {
                applied[indexes[k]] = (int)result[k] == 1;
            }

            if ((int)result[indexes.Count] == 1)
            {
                wake.Notify(queue);
            }
        }

        return new JobsCompleteResult(applied);
    }

    public async ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var leases = parameters.Leases;
        if (leases.Count == 0)
        {
            return new LeasesExtendResult([]);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var lease = Text(Micros(parameters.LeaseDuration));
        var calls = leases.Select((l, i) => (Lease: l, Index: i)).GroupBy(x => x.Lease.Job.Queue, StringComparer.Ordinal).Select(group =>
        {
            var items = group.ToList();
            var queueBase = Keys.QueueBase(group.Key);
            var values = new List<RedisValue>(4 + (items.Count * 2)) { NowArg(), queueBase, lease, items.Count };
            foreach (var (l, _) in items)
            {
                values.Add(Hex(l.Job.Id));
                values.Add(Hex(l.LeaseToken));
            }

            return (Items: items, Result: connection.EvalAsync(Lua.Extend, [RedisKeys.Route(queueBase)], [.. values], hot: true));
        }).ToList();

        var lost = new List<JobLease>();
        foreach (var (items, call) in calls)
        {
            foreach (var index in (RedisResult[])(await call.ConfigureAwait(false))!)
            {
                lost.Add(items[(int)index - 1].Lease);
            }
        }

        return new LeasesExtendResult(lost);
    }

    public async ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new JobsRescueResult([]);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queues = await QueueNamesAsync().ConfigureAwait(false);
        var now = NowArg();
        var counts = queues.Select(q => connection.EvalAsync(Lua.ExpiredCount, [RedisKeys.Route(Keys.QueueBase(q))], [now, Keys.QueueBase(q)], hot: true)).ToArray();
        var (deadPre, deadPost) = Split(StorageRules.RescuedDeadError("\0"));
        var (_, readyPost) = Split(StorageRules.RescuedReadyError("\0"));
        // A queue whose step fails does not hide what the others rescued (their jobs are already back or dead on the
        // server, and the caller reports them); the failed queue's expired leases stay for the next rescue. The call
        // fails only when no queue answered.
        var rescued = new List<RescuedJob>();
        var answered = 0;
        List<(string Queue, Exception Error)>? failed = null;
        for (var q = 0; q < queues.Length; q++)
        {
            try
            {
                if ((long)(await counts[q].ConfigureAwait(false)) == 0 || rescued.Count >= parameters.Max)
                {
                    answered++;
                    continue;
                }

                var queueBase = Keys.QueueBase(queues[q]);
                var result = (RedisResult[])(await connection.EvalAsync(Lua.Rescue, [RedisKeys.Route(queueBase)],
                    [NowArg(), queueBase, parameters.Max - rescued.Count, deadPre, deadPost, readyPost], hot: true).ConfigureAwait(false))!;
                answered++;
                for (var k = 1; k + 4 < result.Length; k += 5)
                {
                    var worker = (string?)result[k + 4];
                    rescued.Add(new RescuedJob(new JobRef(Id((RedisValue)result[k]), queues[q]), (string)result[k + 1]!, Int((RedisValue)result[k + 2]),
                        (string)result[k + 3]! == "4" ? JobState.Dead : JobState.Ready, string.IsNullOrEmpty(worker) ? null : worker));
                }

                if ((int)result[0] == 1)
                {
                    wake.Notify(queues[q]);
                }
            }
            catch (Exception ex)
            {
                (failed ??= []).Add((queues[q], ex));
            }
        }

        if (failed is not null)
        {
            if (answered == 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed[0].Error);
            }

            foreach (var (queue, error) in failed)
            {
                LogRescueQueueFailed(logger, queue, error.GetType().Name, error.Message);
            }
        }

        return new JobsRescueResult(rescued);
    }

    private static (string Before, string After) Split(string text)
    {
        var at = text.IndexOf('\0', StringComparison.Ordinal);
        return (text[..at], text[(at + 1)..]);
    }

    public async ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var updates = parameters.Updates;
        if (updates.Count == 0)
        {
            return new JobsProgressResult([]);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var calls = updates.Select((u, i) => (Update: u, Index: i)).GroupBy(x => x.Update.Lease.Job.Queue, StringComparer.Ordinal).Select(group =>
        {
            var items = group.ToList();
            var queueBase = Keys.QueueBase(group.Key);
            var values = new List<RedisValue>(2 + (items.Count * 4)) { queueBase, items.Count };
            foreach (var (u, _) in items)
            {
                values.Add(Hex(u.Lease.Job.Id));
                values.Add(Hex(u.Lease.LeaseToken));
                values.Add(Math.Clamp(u.Progress, 0, 1).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                values.Add(Optional(u.Message));
            }

            return (Items: items, Result: connection.EvalAsync(Lua.Progress, [RedisKeys.Route(queueBase)], [.. values], hot: true));
        }).ToList();

        var applied = new bool[updates.Count];
        foreach (var (items, call) in calls)
        {
            var result = (RedisResult[])(await call.ConfigureAwait(false))!;
            for (var k = 0; k < items.Count; k++)
            {
                applied[items[k].Index] = (int)result[k] == 1;
            }
        }

        return new JobsProgressResult(applied);
    }

    public async ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Queues.Count == 0)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await wake.WaitAsync(parameters.Queues, cancellationToken).ConfigureAwait(false);
    }
}
