using System.Globalization;
using TypedJobs.Events;

namespace TypedJobs.Storage.Memory;

/// <summary>
/// The in-memory backend: every storage role with full semantics, for tests and single-process use.
/// Nothing survives the process. All operations take one lock; hot paths are O(log n).
/// </summary>
public sealed class MemoryStorage : IJobStore, IResultStore, IEventStore, IScheduleStore
{
    private readonly object gate = new();
    private readonly TimeProvider time;
    private readonly Dictionary<JobId, Entry> jobs = [];
    private readonly Dictionary<string, QueueState> queues = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(Entry Entry, int Version), (DateTimeOffset Due, long Seq)> scheduled = new();
    private readonly HashSet<Entry> running = [];
    private readonly Dictionary<string, Entry> uniqueKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Owner, DateTimeOffset Expires)> locks = new(StringComparer.Ordinal);
    private readonly Dictionary<JobId, StoredResult> results = [];
    private readonly List<JobEvent> events = [];
    private readonly SortedDictionary<string, ScheduleRecord> schedules = new(StringComparer.Ordinal);
    private readonly AsyncSignal signal = new();
    // Lease tokens only fence writes inside this store, so they need to be unique here, not unpredictable: a random
    // prefix drawn once and a counter (Guid.NewGuid per claim costs a system call for random bytes).
    private readonly ulong leasePrefix = BitConverter.ToUInt64(Guid.NewGuid().ToByteArray());
    private ulong leaseCounter;
    private long sequence;
    private long scheduleVersion;

    /// <summary>Creates an empty store on <paramref name="timeProvider"/>'s clock.</summary>
    public MemoryStorage(TimeProvider? timeProvider = null)
    {
        time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public StorageCapabilities Capabilities => StorageCapabilities.None;

    /// <summary>How many jobs the store holds in any state.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return jobs.Count;
            }
        }
    }

    /// <inheritdoc cref="IJobStore.InitializeAsync" />
    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask<JobsInsertResult> JobsInsertAsync(JobsInsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var outcomes = new JobInsertOutcome[parameters.Jobs.Count];
        var wake = false;
        lock (gate)
        {
            var now = time.GetUtcNow();
            // Validate the whole batch first so the insert is atomic.
            HashSet<string>? batchKeys = null;
            Dictionary<string, int>? firstOfKey = null;
            var batchIds = new HashSet<JobId>();
            for (var i = 0; i < parameters.Jobs.Count; i++)
            {
                var insert = parameters.Jobs[i];
                if (jobs.ContainsKey(insert.Id) || !batchIds.Add(insert.Id))
                {
                    throw new InvalidOperationException($"A job with id {insert.Id} already exists.");
                }

                if (insert.UniqueKey is { } key)
                {
                    batchKeys ??= new(StringComparer.Ordinal);
                    firstOfKey ??= new(StringComparer.Ordinal);
                    if (!batchKeys.Add(key))
                    {
                        continue;
                    }

                    firstOfKey[key] = i;
                }
            }

            for (var i = 0; i < parameters.Jobs.Count; i++)
            {
                var insert = parameters.Jobs[i];
                if (insert.UniqueKey is { } key)
                {
                    if (uniqueKeys.TryGetValue(key, out var existing))
                    {
                        outcomes[i] = new JobInsertOutcome(existing.Id, false);
                        continue;
                    }

                    if (firstOfKey![key] != i)
                    {
                        outcomes[i] = new JobInsertOutcome(outcomes[firstOfKey[key]].Id, false);
                        continue;
                    }
                }

                var due = (insert.RunAt ?? now) + (insert.Delay ?? TimeSpan.Zero);
                var entry = new Entry
                {
                    Id = insert.Id,
                    TaskName = insert.TaskName,
                    Queue = insert.Queue,
                    Priority = insert.Priority,
                    Payload = insert.Payload,
                    MaxRetries = insert.MaxRetries,
                    CreatedAt = now,
                    DueAt = due,
                    Sequence = ++sequence,
                    UniqueKey = insert.UniqueKey,
                    UniqueUntilPruned = insert.UniqueUntilPruned,
                    TraceParent = insert.TraceParent,
                    TraceState = insert.TraceState,
                    State = (JobState)(-1),
                };
                jobs.Add(entry.Id, entry);
                if (entry.UniqueKey is not null)
                {
                    uniqueKeys.Add(entry.UniqueKey, entry);
                }

                if (due > now)
                {
                    MakeScheduled(entry);
                }
                else
                {
                    MakeReady(entry);
                    wake = true;
                }

                outcomes[i] = new JobInsertOutcome(entry.Id, true);
            }
        }

        if (wake)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsInsertResult(outcomes));
    }

    /// <inheritdoc />
    public ValueTask<JobsClaimResult> JobsClaimAsync(JobsClaimParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var claimed = new List<JobRecord>(Math.Min(parameters.Max, 64));
        DateTimeOffset? nextDue;
        lock (gate)
        {
            var now = time.GetUtcNow();
            PromoteDue(now);
            var limits = parameters.TaskLimits is null ? null : new Dictionary<string, int>(parameters.TaskLimits, StringComparer.Ordinal);
            var quotas = new int[parameters.Queues.Count];
            var states = new QueueState?[parameters.Queues.Count];
            for (var i = 0; i < quotas.Length; i++)
            {
                quotas[i] = parameters.Queues[i].Max;
                states[i] = queues.TryGetValue(parameters.Queues[i].Name, out var q) && !q.Paused ? q : null;
            }

            List<(Entry, int)>? skipped = null;
            while (claimed.Count < parameters.Max)
            {
                // Pick the best head across the queues that still have quota.
                var best = -1;
                Entry? bestEntry = null;
                for (var i = 0; i < states.Length; i++)
                {
                    if (states[i] is not { } q || quotas[i] <= 0 || !TryPeekValid(q, out var head))
                    {
                        continue;
                    }

                    if (bestEntry is null || Compare(head, bestEntry) < 0)
                    {
                        best = i;
                        bestEntry = head;
                    }
                }

                if (bestEntry is null)
                {
                    break;
                }

                var item = states[best]!.Ready.Dequeue();
                if (limits is not null && limits.TryGetValue(bestEntry.TaskName, out var left))
                {
                    if (left <= 0)
                    {
                        (skipped ??= []).Add(item);
                        continue;
                    }

                    limits[bestEntry.TaskName] = left - 1;
                }

                quotas[best]--;
                bestEntry.Attempt++;
                bestEntry.LeaseToken = NextLeaseToken();
                bestEntry.LeaseExpiresAt = now + parameters.LeaseDuration;
                bestEntry.StartedAt = now;
                bestEntry.WorkerId = parameters.WorkerId;
                SetState(bestEntry, JobState.Running);
                running.Add(bestEntry);
                claimed.Add(bestEntry.ToRecord());
            }

            if (skipped is not null)
            {
                foreach (var item in skipped)
                {
                    queues[item.Item1.Queue].Ready.Enqueue(item, Key(item.Item1));
                }
            }

            nextDue = NextDueUnsafe();
            // The heap spans every queue: its head is the answer only when it belongs to a claimed queue.
            // Otherwise the earliest due time of the claimed queues is not known cheaply, so none is reported.
            if (nextDue is not null && scheduled.TryPeek(out var earliest, out _) && !ClaimsQueue(parameters.Queues, earliest.Entry.Queue))
            {
                nextDue = null;
            }
        }

        return ValueTask.FromResult(new JobsClaimResult(claimed, nextDue));
    }

    /// <inheritdoc />
    public ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var applied = new bool[parameters.Completions.Count];
        var wake = false;
        lock (gate)
        {
            var now = time.GetUtcNow();
            for (var i = 0; i < applied.Length; i++)
            {
                var c = parameters.Completions[i];
                if (!jobs.TryGetValue(c.Id, out var e) || e.State != JobState.Running || e.LeaseToken != c.LeaseToken)
                {
                    continue;
                }

                applied[i] = true;
                running.Remove(e);
                e.LeaseToken = null;
                e.LeaseExpiresAt = null;
                switch (c.Kind)
                {
                    case CompletionKind.Succeeded:
                        Finish(e, JobState.Succeeded, now);
                        break;
                    case CompletionKind.Dead:
                        e.LastError = c.Error;
                        Finish(e, JobState.Dead, now);
                        break;
                    case CompletionKind.Cancelled:
                        e.LastError = c.Error;
                        Finish(e, JobState.Cancelled, now);
                        break;
                    case CompletionKind.Retry:
                    case CompletionKind.Snooze:
                        e.LastError = c.Kind == CompletionKind.Retry ? c.Error : e.LastError;
                        if (c.Kind == CompletionKind.Snooze)
                        {
                            e.Attempt = Math.Max(0, e.Attempt - 1);
                        }

                        e.DueAt = now + c.Delay;
                        if (c.Delay > TimeSpan.Zero)
                        {
                            MakeScheduled(e);
                        }
                        else
                        {
                            MakeReady(e);
                            wake = true;
                        }

                        break;
                    case CompletionKind.Release:
                        e.Attempt = Math.Max(0, e.Attempt - 1);
                        MakeReady(e);
                        wake = true;
                        break;
                    default:
                        throw new ArgumentOutOfRangeException(nameof(parameters), c.Kind, "Unknown completion kind.");
                }
            }
        }

        if (wake)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsCompleteResult(applied));
    }

    /// <inheritdoc />
    public ValueTask<LeasesExtendResult> LeasesExtendAsync(LeasesExtendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        List<JobId>? lost = null;
        lock (gate)
        {
            var expires = time.GetUtcNow() + parameters.LeaseDuration;
            foreach (var lease in parameters.Leases)
            {
                if (jobs.TryGetValue(lease.Id, out var e) && e.State == JobState.Running && e.LeaseToken == lease.LeaseToken)
                {
                    e.LeaseExpiresAt = expires;
                }
                else
                {
                    (lost ??= []).Add(lease.Id);
                }
            }
        }

        return ValueTask.FromResult(new LeasesExtendResult(lost ?? (IReadOnlyList<JobId>)[]));
    }

    /// <inheritdoc />
    public ValueTask<JobsRescueResult> JobsRescueAsync(JobsRescueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var rescued = new List<RescuedJob>();
        var wake = false;
        lock (gate)
        {
            var now = time.GetUtcNow();
            var expired = running.Where(e => e.LeaseExpiresAt <= now).OrderBy(e => e.LeaseExpiresAt).Take(parameters.Max).ToList();
            foreach (var e in expired)
            {
                running.Remove(e);
                var worker = e.WorkerId;
                e.LeaseToken = null;
                e.LeaseExpiresAt = null;
                if (e.Attempt > e.MaxRetries)
                {
                    e.LastError = $"The lease of worker '{worker}' expired and the job has no attempts left.";
                    Finish(e, JobState.Dead, now);
                }
                else
                {
                    e.LastError = $"The lease of worker '{worker}' expired; the job was returned to the queue.";
                    MakeReady(e);
                    wake = true;
                }

                rescued.Add(new RescuedJob(e.Id, e.TaskName, e.Queue, e.Attempt, e.State));
            }
        }

        if (wake)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsRescueResult(rescued));
    }

    /// <inheritdoc />
    public ValueTask JobsWaitAsync(IReadOnlyCollection<string> queues, CancellationToken cancellationToken) =>
        signal.WaitAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask<JobRecord?> JobsGetAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            PromoteDue(time.GetUtcNow());
            return ValueTask.FromResult(jobs.TryGetValue(id, out var e) ? e.ToRecord() : null);
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
            var page = jobs.Values
                .Where(e => e.Sequence < before
                            && (parameters.Queue is null || e.Queue == parameters.Queue)
                            && (parameters.State is null || e.State == parameters.State)
                            && (parameters.TaskName is null || e.TaskName == parameters.TaskName))
                .OrderByDescending(e => e.Sequence)
                .Take(limit + 1)
                .ToList();
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
    public ValueTask<JobCancelResult> JobsCancelAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            PromoteDue(now);
            if (!jobs.TryGetValue(id, out var e))
            {
                return ValueTask.FromResult(new JobCancelResult(false, false, default));
            }

            var previous = e.State;
            if (previous.IsFinished())
            {
                return ValueTask.FromResult(new JobCancelResult(true, false, previous));
            }

            running.Remove(e);
            e.LeaseToken = null;
            e.LeaseExpiresAt = null;
            Finish(e, JobState.Cancelled, now);
            return ValueTask.FromResult(new JobCancelResult(true, true, previous));
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> JobsRetryAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!jobs.TryGetValue(id, out var e) || e.State is not (JobState.Dead or JobState.Cancelled))
            {
                return ValueTask.FromResult(false);
            }

            e.Attempt = 0;
            e.FinishedAt = null;
            e.DueAt = time.GetUtcNow();
            MakeReady(e);
        }

        signal.Set();
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask<bool> JobsDeleteAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!jobs.TryGetValue(id, out var e))
            {
                return ValueTask.FromResult(false);
            }

            Remove(e);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> JobsPruneAsync(JobsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var victims = jobs.Values
                .Where(e => e.State.IsFinished() && parameters.States.Contains(e.State) && e.FinishedAt < parameters.FinishedBefore)
                .Take(parameters.Max)
                .ToList();
            foreach (var e in victims)
            {
                Remove(e);
            }

            return ValueTask.FromResult(victims.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<QueueInfo>> QueuesListAsync(CancellationToken cancellationToken)
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
            return ValueTask.FromResult(list);
        }
    }

    /// <inheritdoc />
    public ValueTask QueuesPauseAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        lock (gate)
        {
            GetQueue(queue).Paused = true;
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask QueuesResumeAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        lock (gate)
        {
            GetQueue(queue).Paused = false;
        }

        signal.Set();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<int> QueuesClearAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(queue);
        lock (gate)
        {
            var victims = jobs.Values.Where(e => e.Queue == queue && e.State is JobState.Scheduled or JobState.Ready).ToList();
            foreach (var e in victims)
            {
                Remove(e);
            }

            return ValueTask.FromResult(victims.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> LocksAcquireAsync(LockAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            var now = time.GetUtcNow();
            if (locks.TryGetValue(parameters.Name, out var held) && held.Owner != parameters.Owner && held.Expires > now)
            {
                return ValueTask.FromResult(false);
            }

            locks[parameters.Name] = (parameters.Owner, now + parameters.Ttl);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> LocksReleaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (locks.TryGetValue(name, out var held) && held.Owner == owner)
            {
                locks.Remove(name);
                return ValueTask.FromResult(held.Expires > time.GetUtcNow());
            }

            return ValueTask.FromResult(false);
        }
    }

    /// <inheritdoc />
    public ValueTask ResultsSetAsync(IReadOnlyList<ResultWrite> results, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(results);
        lock (gate)
        {
            var now = time.GetUtcNow();
            foreach (var r in results)
            {
                this.results[r.JobId] = new StoredResult(r.Value, now + r.Ttl);
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<StoredResult?> ResultsGetAsync(JobId id, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(results.TryGetValue(id, out var r) && r.ExpiresAt > time.GetUtcNow() ? r : null);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> ResultsPruneAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var now = time.GetUtcNow();
            var expired = results.Where(r => r.Value.ExpiresAt <= now).Select(r => r.Key).ToList();
            foreach (var id in expired)
            {
                results.Remove(id);
            }

            return ValueTask.FromResult(expired.Count);
        }
    }

    /// <inheritdoc />
    public ValueTask EventsAppendAsync(IReadOnlyList<JobEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        lock (gate)
        {
            this.events.AddRange(events);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<JobEvent>> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        lock (gate)
        {
            IReadOnlyList<JobEvent> list = events.Where(e => parameters.JobId is null || e.JobId == parameters.JobId)
                .Take(parameters.Limit).ToList();
            return ValueTask.FromResult(list);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> EventsPruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(events.RemoveAll(e => e.Timestamp < before));
        }
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord> SchedulesUpsertAsync(ScheduleRecord schedule, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        lock (gate)
        {
            var stored = schedule with { Version = ++scheduleVersion };
            schedules[schedule.Name] = stored;
            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord?> SchedulesGetAsync(string name, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(schedules.GetValueOrDefault(name));
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesListAsync(CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult<IReadOnlyList<ScheduleRecord>>(schedules.Values.ToList());
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> SchedulesDeleteAsync(string name, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            return ValueTask.FromResult(schedules.Remove(name));
        }
    }

    /// <inheritdoc />
    public ValueTask<ScheduleRecord?> SchedulesAdvanceAsync(string name, long expectedVersion, DateTimeOffset? lastRunAt,
        DateTimeOffset? nextRunAt, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (!schedules.TryGetValue(name, out var s) || s.Version != expectedVersion)
            {
                return ValueTask.FromResult<ScheduleRecord?>(null);
            }

            var updated = s with { LastRunAt = lastRunAt ?? s.LastRunAt, NextRunAt = nextRunAt, Version = ++scheduleVersion };
            schedules[name] = updated;
            return ValueTask.FromResult<ScheduleRecord?>(updated);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<ScheduleRecord>> SchedulesDueAsync(DateTimeOffset now, int max, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            IReadOnlyList<ScheduleRecord> due = schedules.Values.Where(s => !s.Paused && s.NextRunAt <= now)
                .OrderBy(s => s.NextRunAt).Take(max).ToList();
            return ValueTask.FromResult(due);
        }
    }

    private static bool ClaimsQueue(IReadOnlyList<QueueClaim> claims, string queue)
    {
        foreach (var claim in claims)
        {
            if (string.Equals(claim.Name, queue, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static (int, DateTimeOffset, long) Key(Entry e) => (-(int)e.Priority, e.DueAt, e.Sequence);

    private static int Compare(Entry a, Entry b) => Key(a).CompareTo(Key(b));

    private static bool TryPeekValid(QueueState q, out Entry head)
    {
        while (q.Ready.TryPeek(out var item, out _))
        {
            if (item.Entry.State == JobState.Ready && item.Entry.Version == item.Version)
            {
                head = item.Entry;
                return true;
            }

            q.Ready.Dequeue();
        }

        head = null!;
        return false;
    }

    private QueueState GetQueue(string name)
    {
        if (!queues.TryGetValue(name, out var q))
        {
            q = new QueueState(name);
            queues.Add(name, q);
        }

        return q;
    }

    private void SetState(Entry e, JobState state)
    {
        var q = GetQueue(e.Queue);
        if ((int)e.State >= 0)
        {
            q.Counts[(int)e.State]--;
        }

        e.State = state;
        e.Version++;
        q.Counts[(int)state]++;
    }

    private void MakeReady(Entry e)
    {
        SetState(e, JobState.Ready);
        GetQueue(e.Queue).Ready.Enqueue((e, e.Version), Key(e));
    }

    private void MakeScheduled(Entry e)
    {
        SetState(e, JobState.Scheduled);
        scheduled.Enqueue((e, e.Version), (e.DueAt, e.Sequence));
    }

    private void Finish(Entry e, JobState state, DateTimeOffset now)
    {
        e.FinishedAt = now;
        SetState(e, state);
        if (e.UniqueKey is { } key && !e.UniqueUntilPruned)
        {
            uniqueKeys.Remove(key);
            e.UniqueKey = null;
        }
    }

    private void Remove(Entry e)
    {
        jobs.Remove(e.Id);
        running.Remove(e);
        GetQueue(e.Queue).Counts[(int)e.State]--;
        e.Version++;
        e.State = (JobState)(-1);
        if (e.UniqueKey is { } key && uniqueKeys.TryGetValue(key, out var owner) && ReferenceEquals(owner, e))
        {
            uniqueKeys.Remove(key);
        }

        results.Remove(e.Id);
    }

    private void PromoteDue(DateTimeOffset now)
    {
        while (scheduled.TryPeek(out var item, out var key) && key.Due <= now)
        {
            scheduled.Dequeue();
            if (item.Entry.State == JobState.Scheduled && item.Entry.Version == item.Version)
            {
                MakeReady(item.Entry);
            }
        }
    }

    private Guid NextLeaseToken()
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, leasePrefix);
        BitConverter.TryWriteBytes(bytes[8..], ++leaseCounter);
        return new Guid(bytes);
    }

    private DateTimeOffset? NextDueUnsafe()
    {
        while (scheduled.TryPeek(out var item, out var key))
        {
            if (item.Entry.State == JobState.Scheduled && item.Entry.Version == item.Version)
            {
                return key.Due;
            }

            scheduled.Dequeue();
        }

        return null;
    }

    private sealed class QueueState(string name)
    {
        public string Name { get; } = name;

        public bool Paused { get; set; }

        public long[] Counts { get; } = new long[6];

        public PriorityQueue<(Entry Entry, int Version), (int, DateTimeOffset, long)> Ready { get; } = new();
    }

    private sealed class Entry
    {
        public required JobId Id { get; init; }

        public required string TaskName { get; init; }

        public required string Queue { get; init; }

        public Priority Priority { get; init; }

        public JobState State { get; set; }

        public int Version { get; set; }

        public required byte[] Payload { get; init; }

        public int Attempt { get; set; }

        public int MaxRetries { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset DueAt { get; set; }

        public long Sequence { get; init; }

        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? FinishedAt { get; set; }

        public DateTimeOffset? LeaseExpiresAt { get; set; }

        public Guid? LeaseToken { get; set; }

        public string? WorkerId { get; set; }

        public string? UniqueKey { get; set; }

        public bool UniqueUntilPruned { get; init; }

        public string? LastError { get; set; }

        public string? TraceParent { get; init; }

        public string? TraceState { get; init; }

        public JobRecord ToRecord() => new()
        {
            Id = Id,
            TaskName = TaskName,
            Queue = Queue,
            Priority = Priority,
            State = State,
            Payload = Payload,
            Attempt = Attempt,
            MaxRetries = MaxRetries,
            CreatedAt = CreatedAt,
            DueAt = DueAt,
            StartedAt = StartedAt,
            FinishedAt = FinishedAt,
            LeaseExpiresAt = LeaseExpiresAt,
            LeaseToken = LeaseToken,
            WorkerId = WorkerId,
            UniqueKey = UniqueKey,
            LastError = LastError,
            TraceParent = TraceParent,
            TraceState = TraceState,
        };
    }
}
