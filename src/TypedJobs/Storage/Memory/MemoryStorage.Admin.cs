using System.Globalization;
using TypedJobs.Events;

namespace TypedJobs.Storage.Memory;

/// <summary>Administration, locks, results, events, schedules, workers and statistics of the in-memory backend.</summary>
public sealed partial class MemoryStorage
{
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> locks = new(StringComparer.Ordinal);
    private readonly Dictionary<JobId, List<(Guid Token, StoredResult Result)>> results = [];
    private readonly List<JobEvent> events = [];
    private readonly SortedDictionary<string, ScheduleRecord> schedules = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, WorkerInfo> workers = new(StringComparer.Ordinal);
    private readonly SortedDictionary<long, (long Succeeded, long Failed)> throughput = [];
    private long scheduleVersion;

    /// <inheritdoc />
    public ValueTask<JobsGetResult> JobsGetAsync(JobsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            PromoteDue(time.GetUtcNow());
            return ValueTask.FromResult(new JobsGetResult(jobs.TryGetValue(parameters.Id, out var e) ? e.ToRecord() : null));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsLocateResult> JobsLocateAsync(JobsLocateParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var found = new List<JobRef>(parameters.Ids.Count);
            foreach (var id in parameters.Ids)
            {
                if (jobs.TryGetValue(id, out var e))
                {
                    found.Add(e.Ref);
                }
            }

            return ValueTask.FromResult(new JobsLocateResult(found));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsListResult> JobsListAsync(JobsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var limit = Math.Clamp(parameters.Limit, 1, 1000);
        var before = long.MaxValue;
        if (parameters.Cursor is { } cursor && !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out before))
        {
            throw new ArgumentException($"'{cursor}' is not a cursor returned by this store.", nameof(parameters));
        }

        lock (gate)
        {
            PromoteDue(time.GetUtcNow());
            // Newest first from the cursor: the last job inserted before it, then back in insertion order.
            var page = new List<Entry>(Math.Min(limit + 1, 64));
            for (var i = FirstAtOrAfter(before) - 1; i >= 0 && page.Count <= limit; i--)
            {
                var e = bySequence[i];
                if ((int)e.State >= 0 && Matches(e, parameters.Filter))
                {
                    page.Add(e);
                }
            }
            var more = page.Count > limit;
            if (more)
            {
                page.RemoveAt(limit);
            }

            var records = page.Select(e => e.ToRecord()).ToList();
            var next = more ? page[^1].Sequence.ToString(CultureInfo.InvariantCulture) : null;
            return ValueTask.FromResult(new JobsListResult(records, next));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsCountResult> JobsCountAsync(JobsCountParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            PromoteDue(time.GetUtcNow());
            return ValueTask.FromResult(new JobsCountResult(jobs.Values.LongCount(e => Matches(e, parameters.Filter))));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsCancelResult> JobsCancelAsync(JobsCancelParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            PromoteDue(now);
            if (!TryFind(parameters.Job, out var e))
            {
                return ValueTask.FromResult(new JobsCancelResult(false, false, default));
            }

            var previous = e.State;
            if (previous.IsFinished())
            {
                return ValueTask.FromResult(new JobsCancelResult(true, false, previous, e.TaskName, e.Attempt));
            }

            Finish(e, JobState.Cancelled, now);
            return ValueTask.FromResult(new JobsCancelResult(true, true, previous, e.TaskName, e.Attempt));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsRetryResult> JobsRetryAsync(JobsRetryParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        bool retried;
        lock (gate)
        {
            retried = TryFind(parameters.Job, out var e) && RetryUnsafe(e, time.GetUtcNow());
        }

        if (retried)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsRetryResult(retried));
    }

    /// <inheritdoc />
    public ValueTask<JobsDeleteResult> JobsDeleteAsync(JobsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            if (!TryFind(parameters.Job, out var e))
            {
                return ValueTask.FromResult(new JobsDeleteResult(false));
            }

            Remove(e);
            return ValueTask.FromResult(new JobsDeleteResult(true));
        }
    }

    /// <inheritdoc />
    public ValueTask<JobsBulkResult> JobsBulkAsync(JobsBulkParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        StorageRules.ValidateBulk(parameters);
        var changed = new List<JobsBulkItem>();
        string? next = parameters.Cursor;
        lock (gate)
        {
            var now = time.GetUtcNow();
            PromoteDue(now);
            var after = parameters.Cursor is { } cursor ? ParseCursor(cursor) : long.MinValue;
            var victims = jobs.Values
                .Where(e => e.Sequence > after && StorageRules.BulkApplies(parameters.Action, e.State) && Matches(e, parameters.Filter))
                .OrderBy(e => e.Sequence)
                .Take(parameters.Max)
                .ToList();
            if (victims.Count > 0)
            {
                next = victims[^1].Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            foreach (var e in victims)
            {
                changed.Add(new JobsBulkItem(e.Ref, e.TaskName, e.State, e.Attempt));
                switch (parameters.Action)
                {
                    case JobsBulkAction.Retry:
                        RetryUnsafe(e, now);
                        break;
                    case JobsBulkAction.Cancel:
                        Finish(e, JobState.Cancelled, now);
                        break;
                    default:
                        Remove(e);
                        break;
                }
            }
        }

        if (parameters.Action == JobsBulkAction.Retry && changed.Count > 0)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsBulkResult(changed) { NextCursor = next });
    }

    /// <summary>The sequence a bulk cursor of this store holds.</summary>
    private static long ParseCursor(string cursor) =>
        long.TryParse(cursor, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var after)
            ? after
            : throw new ArgumentException($"'{cursor}' is not a bulk cursor of this store.", nameof(cursor));

    /// <inheritdoc />
    public ValueTask<JobsPruneResult> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var before = time.GetUtcNow() - parameters.OlderThan;
            var victims = jobs.Values
                .Where(e => e.State.IsFinished() && parameters.States.Contains(e.State) && e.FinishedAt < before)
                .OrderBy(e => e.FinishedAt)
                .Take(parameters.Max)
                .ToList();
            foreach (var e in victims)
            {
                Remove(e);
            }

            return ValueTask.FromResult(new JobsPruneResult(victims.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<QueuesListResult> QueuesListAsync(QueuesListParams parameters, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            PromoteDue(time.GetUtcNow());
            IReadOnlyList<QueueInfo> list = queues.Values
                .Where(q => q.Paused || q.Counts.Any(c => c != 0))
                .OrderBy(q => q.Name, StringComparer.Ordinal)
                .Select(q => new QueueInfo
                {
                    Name = q.Name,
                    Paused = q.Paused,
                    Counts = JobStates.All.ToDictionary(s => s, s => q.Counts[(int)s]),
                })
                .ToList();
            return ValueTask.FromResult(new QueuesListResult(list));
        }
    }

    /// <inheritdoc />
    public ValueTask<QueuesPauseResult> QueuesPauseAsync(QueuesPauseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        lock (gate)
        {
            GetQueue(parameters.Queue).Paused = true;
        }

        return ValueTask.FromResult(new QueuesPauseResult());
    }

    /// <inheritdoc />
    public ValueTask<QueuesResumeResult> QueuesResumeAsync(QueuesResumeParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        lock (gate)
        {
            GetQueue(parameters.Queue).Paused = false;
        }

        signal.Set();
        return ValueTask.FromResult(new QueuesResumeResult());
    }

    /// <inheritdoc />
    public ValueTask<QueuesClearResult> QueuesClearAsync(QueuesClearParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentException.ThrowIfNullOrWhiteSpace(parameters.Queue);
        lock (gate)
        {
            var victims = jobs.Values.Where(e => e.Queue == parameters.Queue && e.State is JobState.Scheduled or JobState.Ready).ToList();
            foreach (var e in victims)
            {
                Remove(e);
            }

            return ValueTask.FromResult(new QueuesClearResult(victims.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<WorkersHeartbeatResult> WorkersHeartbeatAsync(WorkersHeartbeatParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            var started = workers.TryGetValue(parameters.Worker.Id, out var existing) ? existing.StartedAt : now;
            workers[parameters.Worker.Id] = new WorkerInfo { Registration = parameters.Worker, StartedAt = started, LastHeartbeatAt = now };
            return ValueTask.FromResult(new WorkersHeartbeatResult(now));
        }
    }

    /// <inheritdoc />
    public ValueTask<WorkersListResult> WorkersListAsync(WorkersListParams parameters, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(new WorkersListResult(workers.Values.ToList(), time.GetUtcNow()));
        }
    }

    /// <inheritdoc />
    public ValueTask<WorkersRemoveResult> WorkersRemoveAsync(WorkersRemoveParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            return ValueTask.FromResult(new WorkersRemoveResult(workers.Remove(parameters.WorkerId)));
        }
    }

    /// <inheritdoc />
    public ValueTask<WorkersPruneResult> WorkersPruneAsync(WorkersPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var before = time.GetUtcNow() - parameters.OlderThan;
            var stale = workers.Values.Where(w => w.LastHeartbeatAt < before).Select(w => w.Registration.Id).ToList();
            foreach (var id in stale)
            {
                workers.Remove(id);
            }

            return ValueTask.FromResult(new WorkersPruneResult(stale.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<StatsThroughputResult> StatsThroughputAsync(StatsThroughputParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var buckets = StorageRules.ThroughputMinutes(time.GetUtcNow(), parameters.Window)
                .Select(minute => throughput.TryGetValue(minute.UtcTicks, out var c)
                    ? new ThroughputBucket(minute, c.Succeeded, c.Failed)
                    : new ThroughputBucket(minute, 0, 0))
                .ToList();
            return ValueTask.FromResult(new StatsThroughputResult(buckets));
        }
    }

    /// <inheritdoc />
    public ValueTask<StatsPruneResult> StatsPruneAsync(StatsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var before = (time.GetUtcNow() - parameters.OlderThan).UtcTicks;
            var old = throughput.Keys.TakeWhile(k => k < StorageRules.MinuteOf(new DateTimeOffset(before, TimeSpan.Zero)).UtcTicks).ToList();
            foreach (var key in old)
            {
                throughput.Remove(key);
            }

            return ValueTask.FromResult(new StatsPruneResult(old.Count));
        }
    }

    /// <inheritdoc />
    public ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (locks.TryGetValue(parameters.Name, out var held) && held.Owner != parameters.Owner && held.Expires > now)
            {
                return ValueTask.FromResult(new LocksAcquireResult(false));
            }

            locks[parameters.Name] = (parameters.Owner, now + parameters.Ttl);
            return ValueTask.FromResult(new LocksAcquireResult(true));
        }
    }

    /// <inheritdoc />
    public ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            if (locks.TryGetValue(parameters.Name, out var held) && held.Owner == parameters.Owner)
            {
                locks.Remove(parameters.Name);
                return ValueTask.FromResult(new LocksReleaseResult(held.Expires > time.GetUtcNow()));
            }

            return ValueTask.FromResult(new LocksReleaseResult(false));
        }
    }

    /// <inheritdoc />
    public ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            foreach (var r in parameters.Results)
            {
                SetResult(r, now);
            }
        }

        return ValueTask.FromResult(new ResultsSetResult());
    }

    /// <inheritdoc />
    public ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            StoredResult? found = null;
            if (results.TryGetValue(parameters.JobId, out var list))
            {
                var now = time.GetUtcNow();
                foreach (var (token, result) in list)
                {
                    if (token == parameters.LeaseToken && result.ExpiresAt > now)
                    {
                        found = result;
                    }
                }
            }

            return ValueTask.FromResult(new ResultsGetResult(found));
        }
    }

    /// <inheritdoc />
    public ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var deleted = 0;
            foreach (var id in parameters.JobIds)
            {
                if (results.Remove(id, out var list))
                {
                    deleted += list.Count;
                }
            }

            return ValueTask.FromResult(new ResultsDeleteResult(deleted));
        }
    }

    /// <inheritdoc />
    public ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            var deleted = 0;
            foreach (var (id, list) in results.ToList())
            {
                deleted += list.RemoveAll(r => r.Result.ExpiresAt <= now && deleted < parameters.Max);
                if (list.Count == 0)
                {
                    results.Remove(id);
                }

                if (deleted >= parameters.Max)
                {
                    break;
                }
            }

            return ValueTask.FromResult(new ResultsPruneResult(deleted));
        }
    }

    /// <inheritdoc />
    public ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            events.AddRange(parameters.Events);
        }

        return ValueTask.FromResult(new EventsAppendResult());
    }

    /// <inheritdoc />
    public ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            IReadOnlyList<JobEvent> list = events.Where(e => parameters.JobId is null || e.JobId == parameters.JobId)
                .Take(Math.Max(0, parameters.Limit)).ToList();
            return ValueTask.FromResult(new EventsListResult(list));
        }
    }

    /// <inheritdoc />
    public ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var before = time.GetUtcNow() - parameters.OlderThan;
            var deleted = 0;
            events.RemoveAll(e => e.Timestamp < before && deleted++ < parameters.Max);
            return ValueTask.FromResult(new EventsPruneResult(Math.Min(deleted, parameters.Max)));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        lock (gate)
        {
            var schedule = parameters.Schedule;
            if (parameters.ExpectedVersion is { } expected
                && (schedules.TryGetValue(schedule.Name, out var current) ? current.Version : 0) != expected)
            {
                return ValueTask.FromResult(new SchedulesUpsertResult(null));
            }

            var stored = schedule with { Version = ++scheduleVersion };
            schedules[schedule.Name] = stored;
            return ValueTask.FromResult(new SchedulesUpsertResult(stored));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            return ValueTask.FromResult(new SchedulesGetResult(schedules.GetValueOrDefault(parameters.Name)));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(new SchedulesListResult(schedules.Values.ToList()));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            return ValueTask.FromResult(new SchedulesDeleteResult(schedules.Remove(parameters.Name)));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            if (!schedules.TryGetValue(parameters.Name, out var s) || s.Version != parameters.ExpectedVersion)
            {
                return ValueTask.FromResult(new SchedulesAdvanceResult(null));
            }

            var updated = s with { LastRunAt = parameters.LastRunAt ?? s.LastRunAt, NextRunAt = parameters.NextRunAt, Version = ++scheduleVersion };
            schedules[parameters.Name] = updated;
            return ValueTask.FromResult(new SchedulesAdvanceResult(updated));
        }
    }

    /// <inheritdoc />
    public ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            var active = schedules.Values.Where(s => s is { Paused: false, NextRunAt: not null }).ToList();
            IReadOnlyList<ScheduleRecord> due = active.Where(s => s.NextRunAt <= now)
                .OrderBy(s => s.NextRunAt).ThenBy(s => s.Name, StringComparer.Ordinal).Take(parameters.Max).ToList();
            var next = active.Where(s => s.NextRunAt > now).Min(s => s.NextRunAt);
            return ValueTask.FromResult(new SchedulesDueResult(due, now, next));
        }
    }

    /// <summary>The index in <see cref="bySequence"/> of the first job inserted at or after <paramref name="sequence"/>.</summary>
    private int FirstAtOrAfter(long sequence)
    {
        int lo = 0, hi = bySequence.Count;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (bySequence[mid].Sequence < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private bool TryFind(JobRef job, out Entry entry)
    {
        // The reference carries the queue; a job of another queue with the same id does not exist here.
        if (jobs.TryGetValue(job.Id, out entry!) && string.Equals(entry.Queue, job.Queue, StringComparison.Ordinal))
        {
            return true;
        }

        entry = null!;
        return false;
    }

    private bool RetryUnsafe(Entry e, DateTimeOffset now)
    {
        if (e.State is not (JobState.Dead or JobState.Cancelled))
        {
            return false;
        }

        e.Attempt = 0;
        e.FinishedAt = null;
        e.DueAt = now;
        e.UnknownTaskSince = null;
        MakeWaiting(e, now);
        return true;
    }

    private static bool Matches(Entry e, JobFilter filter)
    {
        if ((filter.Queue is not null && !string.Equals(e.Queue, filter.Queue, StringComparison.Ordinal))
            || (filter.State is not null && e.State != filter.State)
            || (filter.TaskName is not null && !string.Equals(e.TaskName, filter.TaskName, StringComparison.Ordinal))
            || (filter.CreatedAfter is not null && e.CreatedAt < filter.CreatedAfter)
            || (filter.CreatedBefore is not null && e.CreatedAt >= filter.CreatedBefore))
        {
            return false;
        }

        return filter.Text is not { } text || StorageRules.ContainsText(e.Payload, e.LastError, text);
    }

    private void SetResult(ResultWrite write, DateTimeOffset now)
    {
        if (!results.TryGetValue(write.JobId, out var list))
        {
            list = [];
            results.Add(write.JobId, list);
        }

        list.RemoveAll(r => r.Token == write.LeaseToken);
        list.Add((write.LeaseToken, new StoredResult(write.Value, now + write.Ttl)));
    }

    private void Tally(DateTimeOffset now, int succeeded, int failed)
    {
        if (succeeded == 0 && failed == 0)
        {
            return;
        }

        var minute = StorageRules.MinuteOf(now).UtcTicks;
        var c = throughput.GetValueOrDefault(minute);
        throughput[minute] = (c.Succeeded + succeeded, c.Failed + failed);
    }
}
