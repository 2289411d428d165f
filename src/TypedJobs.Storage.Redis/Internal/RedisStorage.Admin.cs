using System.Globalization;
using System.Text;
using StackExchange.Redis;
using static TypedJobs.Storage.Redis.Internal.RedisCodec;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Administration of the jobs role. Lookups by id go through the id index (16 hashes, by the id's last hex digit) and
/// then to the job's queue. Lists, counts and bulk actions walk each queue's list of jobs (newest first for lists,
/// oldest first for bulk actions) inside scripts that examine at most <see cref="ScanBudget"/> jobs per call, and are
/// called again until done, so a large queue never blocks the server for long: their cost is proportional to the jobs
/// of the queues they cover. Counts by queue and state alone read the state indexes (O(1) or O(log n)).
/// </summary>
internal sealed partial class RedisStorage
{
    /// <summary>The most jobs one list, count or bulk script examines.</summary>
    private const int ScanBudget = 2000;

    /// <summary>The most waiting jobs one clear script deletes.</summary>
    private const int ClearBatch = 1000;

    public async ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var id = Hex(parameters.Id);
        var queue = await Db.HashGetAsync(Keys.IndexShard(RedisKeys.Shard(id)), id, ReadFlags).ConfigureAwait(false);
        return new JobsGetResult(queue.IsNull ? null : await GetJobAsync((string)queue!, id).ConfigureAwait(false));
    }

    private async Task<JobRecord?> GetJobAsync(string queue, string id)
    {
        var key = RedisKeys.Job(Keys.QueueBase(queue), id);
        var result = (RedisResult[])(await connection.EvalAsync(Lua.GetJob, [key], [NowArg()], read: true).ConfigureAwait(false))!;
        return Job(id, queue, result[1], Long((RedisValue)result[0]));
    }

    public async ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var ids = parameters.Ids.Select(Hex).ToArray();
        var queues = ids.Select(id => Db.HashGetAsync(Keys.IndexShard(RedisKeys.Shard(id)), id, ReadFlags)).ToArray();
        var checks = new Task<bool>?[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var queue = await queues[i].ConfigureAwait(false);
            // The index may hold an id whose insert never completed: the job's own key decides.
            checks[i] = queue.IsNull ? null : Db.KeyExistsAsync(RedisKeys.Job(Keys.QueueBase((string)queue!), ids[i]), ReadFlags);
        }

        var found = new List<JobRef>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            if (checks[i] is { } check && await check.ConfigureAwait(false))
            {
                found.Add(new JobRef(parameters.Ids[i], (string)(await queues[i].ConfigureAwait(false))!));
            }
        }

        return new JobsLocateResult(found);
    }

    public async ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Filter);
        var limit = Math.Clamp(parameters.Limit, 1, 1000);
        var cursor = parameters.Cursor is { } text ? ListCursor.Parse(text) : (ListCursor?)null;
        var filter = FilterArgs(parameters.Filter);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queues = await FilteredQueuesAsync(parameters.Filter).ConfigureAwait(false);
        var page = new List<(JobRecord Job, long Seq)>();
        for (var round = 0; round < 20; round++)
        {
            // Each queue is read from the cursor on. A queue that stopped before its end (scan budget, or enough matches)
            // bounds what is certain: only jobs at or before the highest such frontier are taken in this round.
            var want = limit - page.Count + 1;
            var calls = queues.Select(q => (Queue: q, Result: connection.EvalAsync(Lua.Scan, [RedisKeys.Route(Keys.QueueBase(q))],
                [NowArg(), Keys.QueueBase(q), "list", UpperBound(cursor, q), want, ScanBudget, .. filter], read: true))).ToList();
            var matches = new List<(JobRecord Job, long Seq)>();
            ListCursor? frontier = null;
            foreach (var (queue, call) in calls)
            {
                var result = (RedisResult[])(await call.ConfigureAwait(false))!;
                var now = Long((RedisValue)result[3]);
                for (var k = 4; k + 1 < result.Length; k += 2)
                {
                    if (Job((string)result[k]!, queue, result[k + 1], now, out var seq) is { } job)
                    {
                        matches.Add((job, seq));
                    }
                }

                if ((int)result[2] == 0 && !string.IsNullOrEmpty((string?)result[1]))
                {
                    var stop = new ListCursor(Long((RedisValue)result[1]), queue);
                    if (frontier is null || stop.CompareTo(frontier.Value) > 0)
                    {
                        frontier = stop;
                    }
                }
            }

            matches.Sort(static (a, b) => new ListCursor(b.Seq, b.Job.Queue).CompareTo(new ListCursor(a.Seq, a.Job.Queue)));
            foreach (var match in matches)
            {
                if (frontier is { } f && new ListCursor(match.Seq, match.Job.Queue).CompareTo(f) < 0)
                {
                    break;
                }

                if (page.Count == limit)
                {
                    // A job beyond the page exists: the page ends with a cursor.
                    return new JobsListResult(page.Select(p => p.Job).ToArray(), new ListCursor(page[^1].Seq, page[^1].Job.Queue).ToString());
                }

                page.Add(match);
            }

            if (frontier is null)
            {
                // Every queue was read to its end.
                return new JobsListResult(page.Select(p => p.Job).ToArray(), null);
            }

            // Everything down to the frontier was examined: go on from there.
            cursor = frontier;
        }

        // Still not done after many budget-limited rounds: hand back what there is and where to go on.
        var next = page.Count > 0 ? new ListCursor(page[^1].Seq, page[^1].Job.Queue) : cursor;
        return new JobsListResult(page.Select(p => p.Job).ToArray(), next?.ToString());
    }

    private ValueTask<DateTimeOffset> NowAsync() => ClockNowAsync(CancellationToken.None);

    private static RedisValue UpperBound(ListCursor? cursor, string queue)
    {
        if (cursor is not { } c)
        {
            return "+inf";
        }

        // Jobs of one sequence are ordered by queue name (descending): a queue before the cursor's still has that sequence to come.
        return string.CompareOrdinal(queue, c.Queue) < 0 ? Text(c.Seq) : "(" + Text(c.Seq);
    }

    public async ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Filter);
        var f = parameters.Filter;
        var filter = FilterArgs(f);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queues = await FilteredQueuesAsync(f).ConfigureAwait(false);
        if (f.TaskName is null && f.Text is null && f.CreatedAfter is null && f.CreatedBefore is null)
        {
            // Queue and state only: the state indexes answer without reading jobs.
            long total = 0;
            foreach (var info in await CountsAsync(queues).ConfigureAwait(false))
            {
                total += f.State is { } state ? info.Counts[state] : info.All;
            }

            return new JobsCountResult(total);
        }

        var count = 0L;
        var work = queues.Select(q => (Queue: q, Bound: (RedisValue)"+inf")).ToList();
        while (work.Count > 0)
        {
            var calls = work.Select(w => (w.Queue, Result: connection.EvalAsync(Lua.Scan, [RedisKeys.Route(Keys.QueueBase(w.Queue))],
                [NowArg(), Keys.QueueBase(w.Queue), "count", w.Bound, long.MaxValue, ScanBudget, .. filter], read: true))).ToList();
            work.Clear();
            foreach (var (queue, call) in calls)
            {
                var result = (RedisResult[])(await call.ConfigureAwait(false))!;
                count += (long)result[0];
                if ((int)result[2] == 0)
                {
                    work.Add((queue, "(" + (string)result[1]!));
                }
            }
        }

        return new JobsCountResult(count);
    }

    private static RedisValue[] FilterArgs(JobFilter filter) =>
    [
        filter.State is { } state ? (int)state : RedisValue.EmptyString,
        Optional(filter.TaskName),
        filter.CreatedAfter is { } after ? Text(Micros(after)) : RedisValue.EmptyString,
        filter.CreatedBefore is { } before ? Text(Micros(before)) : RedisValue.EmptyString,
        filter.Text is { Length: > 0 } text ? Optional(AsciiLower(text)) : RedisValue.EmptyString,
    ];

    private static string AsciiLower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
        }
    });

    private async Task<string[]> FilteredQueuesAsync(JobFilter filter) =>
        filter.Queue is { } queue ? [queue] : await QueueNamesAsync().ConfigureAwait(false);

    public async ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queueBase = Keys.QueueBase(parameters.Job.Queue);
        var r = (RedisResult[])(await connection.EvalAsync(Lua.Cancel, [RedisKeys.Route(queueBase)], [NowArg(), queueBase, Hex(parameters.Job.Id)])
            .ConfigureAwait(false))!;
        return (int)r[0] == 0
            ? new JobsCancelResult(false, false, default)
            : new JobsCancelResult(true, (int)r[1] == 1, (JobState)(int)r[2], (string?)r[3], Int((RedisValue)r[4]));
    }

    public async ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queueBase = Keys.QueueBase(parameters.Job.Queue);
        var retried = (int)(await connection.EvalAsync(Lua.Retry, [RedisKeys.Route(queueBase)], [NowArg(), queueBase, Hex(parameters.Job.Id)])
            .ConfigureAwait(false)) == 1;
        if (retried)
        {
            wake.Notify(parameters.Job.Queue);
        }

        return new JobsRetryResult(retried);
    }

    public async ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queueBase = Keys.QueueBase(parameters.Job.Queue);
        var id = Hex(parameters.Job.Id);
        var deleted = (int)(await connection.EvalAsync(Lua.Delete, [RedisKeys.Route(queueBase)], [queueBase, id]).ConfigureAwait(false)) == 1;
        if (deleted)
        {
            await UnindexAsync([id]).ConfigureAwait(false);
        }

        return new JobsDeleteResult(deleted);
    }

    /// <summary>Removes deleted jobs from the id index (after the jobs themselves: a crash in between leaves an entry that lookups ignore).</summary>
    private Task UnindexAsync(IEnumerable<string> ids) =>
        Task.WhenAll(ids.GroupBy(RedisKeys.Shard).Select(g => Db.HashDeleteAsync(Keys.IndexShard(g.Key), g.Select(x => (RedisValue)x).ToArray())));

    public async ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken)
    {
        StorageRules.ValidateBulk(parameters);
        var filter = FilterArgs(parameters.Filter);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var changed = new List<JobsBulkItem>();
        // A cursor is "<sequence>:<queue>": the queues go in name order, each in sequence order, and a call goes on after
        // the last job the previous one examined, so no call examines again what one before did.
        string? fromQueue = null;
        RedisValue fromBound = "-inf";
        if (parameters.Cursor is { } cursor)
        {
            var colon = cursor.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !double.TryParse(cursor.AsSpan(0, colon), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                throw new ArgumentException($"'{cursor}' is not a bulk cursor of this store.", nameof(parameters));
            }

            fromQueue = cursor[(colon + 1)..];
            fromBound = "(" + cursor[..colon];
        }

        string? next = parameters.Cursor;
        foreach (var queue in await FilteredQueuesAsync(parameters.Filter).ConfigureAwait(false))
        {
            var order = fromQueue is null ? 1 : string.CompareOrdinal(queue, fromQueue);
            if (order < 0)
            {
                continue;
            }

            var queueBase = Keys.QueueBase(queue);
            var bound = order == 0 ? fromBound : (RedisValue)"-inf";
            while (changed.Count < parameters.Max)
            {
                var result = (RedisResult[])(await connection.EvalAsync(Lua.Bulk, [RedisKeys.Route(queueBase)],
                    [NowArg(), queueBase, (int)parameters.Action, bound, parameters.Max - changed.Count, ScanBudget, .. filter]).ConfigureAwait(false))!;
                var ids = new List<string>();
                for (var k = 3; k + 3 < result.Length; k += 4)
                {
                    var id = (string)result[k]!;
                    ids.Add(id);
                    changed.Add(new JobsBulkItem(new JobRef(Id(id), queue), (string)result[k + 1]!, (JobState)(int)result[k + 2],
                        Int((RedisValue)result[k + 3])));
                }

                if (parameters.Action == JobsBulkAction.Delete && ids.Count > 0)
                {
                    await UnindexAsync(ids).ConfigureAwait(false);
                }

                if ((int)result[2] == 1)
                {
                    wake.Notify(queue);
                }

                if (!string.IsNullOrEmpty((string?)result[0]))
                {
                    next = (string)result[0]! + ":" + queue;
                }

                if ((int)result[1] == 1 || string.IsNullOrEmpty((string?)result[0]))
                {
                    break;
                }

                bound = "(" + (string)result[0]!;
            }

            if (changed.Count >= parameters.Max)
            {
                break;
            }
        }

        return new JobsBulkResult(changed) { NextCursor = next };
    }

    /// <summary>Counts prune calls, to start each at another queue.</summary>
    private int pruneTurn;

    public async ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var states = parameters.States.Where(s => s.IsFinished()).Distinct().Select(s => (RedisValue)(int)s).ToArray();
        if (states.Length == 0 || parameters.Max <= 0)
        {
            return new JobsPruneResult(0);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        var queues = await QueueNamesAsync().ConfigureAwait(false);
        // Each call starts at the next queue, so a queue with more to prune than a call's maximum does not keep the queues
        // after it from being pruned.
        var start = queues.Length == 0 ? 0 : (int)((uint)Interlocked.Increment(ref pruneTurn) % (uint)queues.Length);
        for (var k = 0; k < queues.Length; k++)
        {
            if (deleted >= parameters.Max)
            {
                break;
            }

            var queueBase = Keys.QueueBase(queues[(start + k) % queues.Length]);
            var result = (RedisResult[])(await connection.EvalAsync(Lua.Prune, [RedisKeys.Route(queueBase)],
                [NowArg(), queueBase, Text(Micros(parameters.OlderThan)), parameters.Max - deleted, .. states]).ConfigureAwait(false))!;
            var ids = result.Select(r => (string)r!).ToArray();
            deleted += ids.Length;
            await UnindexAsync(ids).ConfigureAwait(false);
        }

        return new JobsPruneResult(deleted);
    }

    public async ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var counts = await CountsAsync(await QueueNamesAsync().ConfigureAwait(false)).ConfigureAwait(false);
        return new QueuesListResult(counts.Where(c => c.Paused || c.All > 0 || c.Counts.Values.Any(v => v > 0))
            .Select(c => new QueueInfo { Name = c.Name, Paused = c.Paused, Counts = c.Counts }).ToArray());
    }

    private async Task<List<(string Name, bool Paused, Dictionary<JobState, long> Counts, long All)>> CountsAsync(IReadOnlyList<string> queues)
    {
        var calls = queues.Select(q => connection.EvalAsync(Lua.QueueCounts, [RedisKeys.Route(Keys.QueueBase(q))], [NowArg(), Keys.QueueBase(q)], read: true))
            .ToArray();
        var list = new List<(string, bool, Dictionary<JobState, long>, long)>(queues.Count);
        for (var i = 0; i < calls.Length; i++)
        {
            var r = (RedisResult[])(await calls[i].ConfigureAwait(false))!;
            var counts = new Dictionary<JobState, long>
            {
                [JobState.Scheduled] = (long)r[1],
                [JobState.Ready] = (long)r[2],
                [JobState.Running] = (long)r[3],
                [JobState.Succeeded] = (long)r[4],
                [JobState.Dead] = (long)r[5],
                [JobState.Cancelled] = (long)r[6],
            };
            list.Add((queues[i], (long)r[7] == 1, counts, (long)r[8]));
        }

        return list;
    }

    public async ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await Db.SetAddAsync(Keys.Queues, parameters.Queue).ConfigureAwait(false);
        await Db.StringSetAsync(Keys.QueueBase(parameters.Queue) + ":p", "1").ConfigureAwait(false);
        return new QueuesPauseResult();
    }

    public async ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        await Db.KeyDeleteAsync(Keys.QueueBase(parameters.Queue) + ":p").ConfigureAwait(false);
        wake.Notify(parameters.Queue);
        return new QueuesResumeResult();
    }

    public async ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var queueBase = Keys.QueueBase(parameters.Queue);
        var deleted = 0;
        while (true)
        {
            var result = (RedisResult[])(await connection.EvalAsync(Lua.Clear, [RedisKeys.Route(queueBase)], [queueBase, ClearBatch]).ConfigureAwait(false))!;
            var ids = result.Select(r => (string)r!).ToArray();
            deleted += ids.Length;
            await UnindexAsync(ids).ConfigureAwait(false);
            if (ids.Length < ClearBatch)
            {
                return new QueuesClearResult(deleted);
            }
        }
    }

    // ---------------------------------------------------------------- workers and statistics

    public async ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Worker);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var now = await connection.EvalAsync(Lua.WorkerHeartbeat, [Keys.Workers],
            [NowArg(), parameters.Worker.Id, StorageRules.SerializeWorker(parameters.Worker)]).ConfigureAwait(false);
        return new WorkersHeartbeatResult(Time((RedisValue)now));
    }

    public async ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var result = (RedisResult[])(await connection.EvalAsync(Lua.WorkerList, [Keys.Workers], [NowArg()], read: true).ConfigureAwait(false))!;
        var hash = Hash(result[1]);
        var workers = new List<WorkerInfo>();
        foreach (var (field, value) in hash)
        {
            if (!field.StartsWith("r|", StringComparison.Ordinal))
            {
                continue;
            }

            var id = field[2..];
            workers.Add(new WorkerInfo
            {
                Registration = StorageRules.DeserializeWorker((string)value!),
                StartedAt = Time(hash["s|" + id]),
                LastHeartbeatAt = Time(hash["h|" + id]),
            });
        }

        workers.Sort(static (a, b) => string.CompareOrdinal(a.Registration.Id, b.Registration.Id));
        return new WorkersListResult(workers, Time((RedisValue)result[0]));
    }

    public async ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var removed = await connection.EvalAsync(Lua.WorkerRemove, [Keys.Workers], [parameters.WorkerId]).ConfigureAwait(false);
        return new WorkersRemoveResult((int)removed == 1);
    }

    public async ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var removed = await connection.EvalAsync(Lua.WorkerPrune, [Keys.Workers], [NowArg(), Text(Micros(parameters.OlderThan))]).ConfigureAwait(false);
        return new WorkersPruneResult((int)removed);
    }

    public async ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var minutes = StorageRules.ThroughputMinutes(await NowAsync().ConfigureAwait(false), parameters.Window);
        var fields = minutes.SelectMany(m => new RedisValue[] { MinuteField(m, 's'), MinuteField(m, 'f') }).ToArray();
        var calls = (await QueueNamesAsync().ConfigureAwait(false))
            .Select(q => Db.HashGetAsync(Keys.QueueBase(q) + ":t", fields, ReadFlags)).ToArray();
        var succeeded = new long[minutes.Count];
        var failed = new long[minutes.Count];
        foreach (var call in calls)
        {
            var values = await call.ConfigureAwait(false);
            for (var i = 0; i < minutes.Count; i++)
            {
                succeeded[i] += values[2 * i].IsNull ? 0 : (long)values[2 * i];
                failed[i] += values[(2 * i) + 1].IsNull ? 0 : (long)values[(2 * i) + 1];
            }
        }

        return new StatsThroughputResult(minutes.Select((m, i) => new ThroughputBucket(m, succeeded[i], failed[i])).ToArray());
    }

    private static string MinuteField(DateTimeOffset minute, char kind) =>
        minute.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) + ":" + kind;

    public async ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var cutoff = StorageRules.MinuteOf(await NowAsync().ConfigureAwait(false) - parameters.OlderThan).ToUnixTimeSeconds();
        var calls = (await QueueNamesAsync().ConfigureAwait(false))
            .Select(q => connection.EvalAsync(Lua.StatsPrune, [Keys.QueueBase(q) + ":t"], [cutoff])).ToArray();
        var minutes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var call in calls)
        {
            foreach (var minute in (RedisResult[])(await call.ConfigureAwait(false))!)
            {
                minutes.Add((string)minute!);
            }
        }

        return new StatsPruneResult(minutes.Count);
    }

    /// <summary>A position in the newest-first order of job lists: by sequence, then by queue name (both descending).</summary>
    private readonly record struct ListCursor(long Seq, string Queue) : IComparable<ListCursor>
    {
        private const string Tag = "r1.";

        public int CompareTo(ListCursor other)
        {
            var c = Seq.CompareTo(other.Seq);
            return c != 0 ? c : string.CompareOrdinal(Queue, other.Queue);
        }

        public override string ToString() =>
            Tag + Seq.ToString(CultureInfo.InvariantCulture) + "." + Convert.ToHexString(Encoding.UTF8.GetBytes(Queue));

        public static ListCursor Parse(string text)
        {
            var parts = text.Split('.');
            if (parts.Length == 3 && parts[0] + "." == Tag
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && parts[2].Length % 2 == 0)
            {
                try
                {
                    return new ListCursor(seq, Encoding.UTF8.GetString(Convert.FromHexString(parts[2])));
                }
                catch (FormatException)
                {
                }
            }

            throw new ArgumentException($"'{text}' is not a cursor returned by this store.", "parameters");
        }
    }
}
