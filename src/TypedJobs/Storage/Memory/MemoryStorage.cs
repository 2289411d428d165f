using System.Diagnostics;

namespace TypedJobs.Storage.Memory;

/// <summary>
/// The in-memory backend: every storage role with full semantics, for tests and single-process use. Nothing survives
/// the process. All operations take one lock; hot paths are O(log n). The store's clock is the
/// <see cref="TimeProvider"/> it was created with.
/// </summary>
public sealed partial class MemoryStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore
{
    private readonly object gate = new();
    private readonly TimeProvider time;
    private readonly Dictionary<JobId, Entry> jobs = [];
    // Every job in insertion order (sequence ascending), so a listing page reads back from its cursor instead of sorting
    // the whole store; removed jobs are skipped and compacted away once they are half the list.
    private readonly List<Entry> bySequence = [];
    private int removedInOrder;
    private readonly Dictionary<string, QueueState> queues = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(Entry Entry, int Version), (long DueTicks, long Seq)> scheduled = new();
    private readonly PriorityQueue<(Entry Entry, int Version), (long ExpiresTicks, long Seq)> leases = new();
    private readonly Dictionary<(string Queue, string Key), Entry> uniqueKeys = [];
    private readonly AsyncSignal signal = new();
    // Lease tokens only fence writes inside this store, so they need to be unique here, not unpredictable: a random
    // prefix drawn once and a counter (Guid.NewGuid per claim costs a system call for random bytes).
    private readonly ulong leasePrefix = BitConverter.ToUInt64(Guid.NewGuid().ToByteArray());
    private ulong leaseCounter;
    private int leasesSinceCompaction;
    private long sequence;

    // Scratch of the claim, reused under the lock so a claim allocates only what it returns.
    private readonly Dictionary<string, int> claimLimits = new(StringComparer.Ordinal);
    private int[] claimQuotas = [];
    private QueueState?[] claimStates = [];

    /// <summary>Creates an empty store on <paramref name="timeProvider"/>'s clock.</summary>
    public MemoryStorage(TimeProvider? timeProvider = null)
    {
        time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public StorageCapabilities Capabilities => StorageCapabilities.TextSearch;

    /// <inheritdoc />
    public TimeSpan HotPathTimeout => TimeSpan.Zero;

    /// <summary>How many ready jobs claims have taken off their ready queues (for tests: a capped task's backlog is never walked).</summary>
    internal long ClaimVisits { get; private set; }

    /// <summary>How many entries the lease heap holds, stale ones included (for tests).</summary>
    internal int LeaseEntries
    {
        get
        {
            lock (gate)
            {
                return leases.Count;
            }
        }
    }

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

    /// <inheritdoc />
    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken) => ValueTask.FromResult(time.GetUtcNow());

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
            Dictionary<(string, string), int>? firstOfKey = null;
            for (var i = 0; i < parameters.Jobs.Count; i++)
            {
                var insert = parameters.Jobs[i];
                ArgumentNullException.ThrowIfNull(insert);
                if (insert.TaskName is null || insert.Queue is null || insert.Payload is null)
                {
                    throw new ArgumentException($"Job {insert.Id} lacks a task name, queue or payload.", nameof(parameters));
                }

                if (insert.UniqueKey is { } key)
                {
                    firstOfKey ??= [];
                    firstOfKey.TryAdd((insert.Queue, key), i);
                }
            }

            for (var i = 0; i < parameters.Jobs.Count; i++)
            {
                var insert = parameters.Jobs[i];
                if (jobs.ContainsKey(insert.Id))
                {
                    // An id that exists (from an earlier call or earlier in this batch): the insert is idempotent.
                    outcomes[i] = new JobInsertOutcome(insert.Id, false);
                    continue;
                }

                if (insert.UniqueKey is { } key)
                {
                    if (uniqueKeys.TryGetValue((insert.Queue, key), out var existing))
                    {
                        outcomes[i] = new JobInsertOutcome(existing.Id, false);
                        continue;
                    }

                    var first = firstOfKey![(insert.Queue, key)];
                    if (first != i)
                    {
                        outcomes[i] = new JobInsertOutcome(outcomes[first].Id, false);
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
                bySequence.Add(entry);
                if (entry.UniqueKey is not null)
                {
                    uniqueKeys.Add((entry.Queue, entry.UniqueKey), entry);
                }

                wake |= MakeWaiting(entry, now);
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
        List<JobRecord> claimed;
        TimeSpan? nextDueIn = null;
        lock (gate)
        {
            var now = time.GetUtcNow();
            PromoteDue(now);
            Dictionary<string, int>? limits = null;
            if (parameters.TaskLimits is { } taskLimits)
            {
                limits = claimLimits;
                limits.Clear();
                foreach (var (task, limit) in taskLimits)
                {
                    limits[task] = limit;
                }
            }

            var count = parameters.Queues.Count;
            if (claimQuotas.Length < count)
            {
                claimQuotas = new int[count];
                claimStates = new QueueState?[count];
            }

            var quotas = claimQuotas;
            var states = claimStates;
            long ready = 0;
            for (var i = 0; i < count; i++)
            {
                quotas[i] = parameters.Queues[i].Max;
                states[i] = queues.TryGetValue(parameters.Queues[i].Name, out var q) && !q.Paused ? q : null;
                ready += states[i]?.Counts[(int)JobState.Ready] ?? 0;
            }

            // Sized to what can be claimed, so the list never grows and an empty claim allocates no array.
            claimed = new List<JobRecord>((int)Math.Clamp(ready, 0, Math.Max(parameters.Max, 0)));

            if (limits is not null)
            {
                // A capped task's ready jobs wait apart from the queue's others, so a claim skips a task at its cap
                // without walking past its backlog (set apart once per queue and task, at the first claim that caps it;
                // a task with room is set apart too, so one that reaches its cap within this claim is skipped as well).
                for (var i = 0; i < count; i++)
                {
                    if (states[i] is { } q)
                    {
                        SetApart(q, limits);
                    }
                }
            }

            while (claimed.Count < parameters.Max)
            {
                // Pick the best head across the queues that still have quota: each queue's common ready jobs, and those
                // of its set-apart tasks that this claim does not hold at their cap.
                ReadyQueue<Entry>? bestSource = null;
                var best = -1;
                Entry? bestEntry = null;
                for (var i = 0; i < count; i++)
                {
                    if (states[i] is not { } q || quotas[i] <= 0)
                    {
                        continue;
                    }

                    if (q.Ready.TryPeek(out var head) && (bestEntry is null || Compare(head, bestEntry) < 0))
                    {
                        (best, bestEntry, bestSource) = (i, head, q.Ready);
                    }

                    if (q.Apart is not { } apart)
                    {
                        continue;
                    }

                    foreach (var (task, own) in apart)
                    {
                        if ((limits is null || !limits.TryGetValue(task, out var left) || left > 0)
                            && own.TryPeek(out head) && (bestEntry is null || Compare(head, bestEntry) < 0))
                        {
                            (best, bestEntry, bestSource) = (i, head, own);
                        }
                    }
                }

                if (bestEntry is null)
                {
                    break;
                }

                bestSource!.TryDequeue(out _, out _);
                ClaimVisits++;
                if (limits is not null && limits.TryGetValue(bestEntry.TaskName, out var remaining))
                {
                    limits[bestEntry.TaskName] = remaining - 1;
                }

                quotas[best]--;
                bestEntry.Attempt++;
                bestEntry.LeaseToken = NextLeaseToken();
                bestEntry.StartedAt = now;
                bestEntry.WorkerId = parameters.WorkerId;
                bestEntry.Progress = null;
                bestEntry.ProgressMessage = null;
                SetState(bestEntry, JobState.Running);
                SetLease(bestEntry, now + parameters.LeaseDuration);
                claimed.Add(bestEntry.ToRecord());
            }

            Array.Clear(states, 0, count);
            if (claimed.Count < parameters.Max && NextDue(parameters.Queues) is { } due)
            {
                nextDueIn = due - now;
            }
        }

        return ValueTask.FromResult(new JobsClaimResult(claimed, nextDueIn));
    }

    /// <inheritdoc />
    public ValueTask<JobsCompleteResult> JobsCompleteAsync(JobsCompleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        // Indexed: a foreach over the list's interface would allocate an enumerator per call.
        for (var i = 0; i < parameters.Completions.Count; i++)
        {
            StorageRules.ValidateCompletion(parameters.Completions[i]);
        }

        var applied = new bool[parameters.Completions.Count];
        var wake = false;
        var succeeded = 0;
        var failed = 0;
        lock (gate)
        {
            var now = time.GetUtcNow();
            for (var i = 0; i < applied.Length; i++)
            {
                var c = parameters.Completions[i];
                if (!jobs.TryGetValue(c.Job.Id, out var e) || e.State != JobState.Running || e.LeaseToken != c.LeaseToken)
                {
                    continue;
                }

                applied[i] = true;
                var token = e.LeaseToken!.Value;
                e.LeaseToken = null;
                e.LeaseExpiresAt = null;
                e.Attempt = Math.Max(0, e.Attempt + c.AttemptDelta);
                e.LastError = c.Error ?? e.LastError;
                if (c.MarkUnknownTask)
                {
                    e.UnknownTaskSince ??= now;
                }

                if (c.TargetState.IsFinished())
                {
                    if (c.TargetState == JobState.Succeeded)
                    {
                        e.SucceededLeaseToken = token;
                        if (c.Result is { } value)
                        {
                            SetResult(new ResultWrite(e.Id, token, value, c.ResultTtl), now);
                        }
                    }

                    Finish(e, c.TargetState, now);
                }
                else
                {
                    if (c.Delay is { } delay)
                    {
                        e.DueAt = now + delay;
                    }

                    wake |= MakeWaiting(e, now);
                }

                succeeded += c.TargetState == JobState.Succeeded ? 1 : 0;
                failed += c.Failed ? 1 : 0;
            }

            // One throughput update per batch: every completion of it falls in the minute of the same clock reading.
            Tally(now, succeeded, failed);
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
        List<JobLease>? lost = null;
        lock (gate)
        {
            var expires = time.GetUtcNow() + parameters.LeaseDuration;
            foreach (var lease in parameters.Leases)
            {
                if (jobs.TryGetValue(lease.Job.Id, out var e) && e.State == JobState.Running && e.LeaseToken == lease.LeaseToken)
                {
                    SetLease(e, expires);
                }
                else
                {
                    (lost ??= []).Add(lease);
                }
            }
        }

        return ValueTask.FromResult(new LeasesExtendResult(lost ?? (IReadOnlyList<JobLease>)[]));
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
            while (rescued.Count < parameters.Max && leases.TryPeek(out var item, out var key) && key.ExpiresTicks <= now.UtcTicks)
            {
                leases.Dequeue();
                var e = item.Entry;
                if (e.State != JobState.Running || e.LeaseVersion != item.Version)
                {
                    continue;
                }

                var worker = e.WorkerId;
                e.LeaseToken = null;
                e.LeaseExpiresAt = null;
                if (e.Attempt > e.MaxRetries)
                {
                    e.LastError = StorageRules.RescuedDeadError(worker);
                    Finish(e, JobState.Dead, now);
                    Tally(now, 0, 1);
                }
                else
                {
                    e.LastError = StorageRules.RescuedReadyError(worker);
                    wake |= MakeWaiting(e, now);
                }

                rescued.Add(new RescuedJob(e.Ref, e.TaskName, e.Attempt, e.State, worker));
            }
        }

        if (wake)
        {
            signal.Set();
        }

        return ValueTask.FromResult(new JobsRescueResult(rescued));
    }

    /// <inheritdoc />
    public ValueTask<JobsProgressResult> JobsProgressAsync(JobsProgressParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var applied = new bool[parameters.Updates.Count];
        lock (gate)
        {
            for (var i = 0; i < applied.Length; i++)
            {
                var u = parameters.Updates[i];
                if (jobs.TryGetValue(u.Lease.Job.Id, out var e) && e.State == JobState.Running && e.LeaseToken == u.Lease.LeaseToken)
                {
                    e.Progress = Math.Clamp(u.Progress, 0, 1);
                    e.ProgressMessage = u.Message;
                    applied[i] = true;
                }
            }
        }

        return ValueTask.FromResult(new JobsProgressResult(applied));
    }

    /// <inheritdoc />
    public ValueTask JobsWaitAsync(JobsWaitParams parameters, CancellationToken cancellationToken) => signal.WaitAsync(cancellationToken);

    /// <summary>Claim order: priority (highest first), then due time, then insertion order.</summary>
    private static int Compare(Entry a, Entry b) =>
        a.Priority != b.Priority ? ((int)b.Priority).CompareTo((int)a.Priority)
        : a.DueTicks != b.DueTicks ? a.DueTicks.CompareTo(b.DueTicks)
        : a.Sequence.CompareTo(b.Sequence);

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

    private void SetLease(Entry e, DateTimeOffset expires)
    {
        e.LeaseExpiresAt = expires;
        e.LeaseVersion++;
        leases.Enqueue((e, e.LeaseVersion), (expires.UtcTicks, e.Sequence));
        if (++leasesSinceCompaction >= 4096)
        {
            CompactLeases();
        }
    }

    /// <summary>
    /// Drops the lease heap's stale entries (jobs finished, released or extended since) once they outnumber the live
    /// ones: otherwise every claim and every extension leaves an entry until its lease would have expired, so the heap
    /// (and its growth) is the throughput times the lease duration rather than the jobs running.
    /// </summary>
    private void CompactLeases()
    {
        leasesSinceCompaction = 0;
        long running = 0;
        foreach (var queue in queues.Values)
        {
            running += queue.Counts[(int)JobState.Running];
        }

        if (leases.Count <= (2 * running) + 4096)
        {
            return;
        }

        var live = new List<((Entry Entry, int Version), (long ExpiresTicks, long Seq))>((int)Math.Min(running, int.MaxValue));
        foreach (var (item, key) in leases.UnorderedItems)
        {
            if (item.Entry.State == JobState.Running && item.Entry.LeaseVersion == item.Version)
            {
                live.Add((item, key));
            }
        }

        leases.Clear();
        leases.EnqueueRange(live);
    }

    /// <summary>Makes the job wait for its due time; returns whether it is ready now.</summary>
    private bool MakeWaiting(Entry e, DateTimeOffset now)
    {
        if (e.DueAt > now)
        {
            SetState(e, JobState.Scheduled);
            scheduled.Enqueue((e, e.Version), (e.DueTicks, e.Sequence));
            return false;
        }

        SetState(e, JobState.Ready);
        GetQueue(e.Queue).ReadyFor(e.TaskName).Enqueue(e, e.Version, (int)e.Priority);
        return true;
    }

    private void Finish(Entry e, JobState state, DateTimeOffset now)
    {
        e.FinishedAt = now;
        e.LeaseToken = null;
        e.LeaseExpiresAt = null;
        SetState(e, state);
        if (e.UniqueKey is { } key && !e.UniqueUntilPruned)
        {
            ReleaseKey(e, key);
            e.UniqueKey = null;
        }
    }

    private void ReleaseKey(Entry e, string key)
    {
        if (uniqueKeys.TryGetValue((e.Queue, key), out var owner) && ReferenceEquals(owner, e))
        {
            uniqueKeys.Remove((e.Queue, key));
        }
    }

    private void Remove(Entry e)
    {
        jobs.Remove(e.Id);
        GetQueue(e.Queue).Counts[(int)e.State]--;
        e.Version++;
        e.LeaseVersion++;
        e.State = (JobState)(-1);
        if (e.UniqueKey is { } key)
        {
            ReleaseKey(e, key);
        }

        if (++removedInOrder > 1024 && removedInOrder > bySequence.Count / 2)
        {
            bySequence.RemoveAll(static x => (int)x.State < 0);
            removedInOrder = 0;
        }
    }

    private void PromoteDue(DateTimeOffset now)
    {
        var nowTicks = now.UtcTicks;
        while (scheduled.TryPeek(out var item, out var key) && key.DueTicks <= nowTicks)
        {
            scheduled.Dequeue();
            var e = item.Entry;
            if (e.State == JobState.Scheduled && e.Version == item.Version)
            {
                SetState(e, JobState.Ready);
                GetQueue(e.Queue).ReadyFor(e.TaskName).Enqueue(e, e.Version, (int)e.Priority);
            }
        }
    }

    /// <summary>
    /// Moves the ready jobs of <paramref name="q"/> whose task is one of <paramref name="tasks"/> and not yet set apart to
    /// a ready queue of their task's own; from then on its jobs become ready there. One pass over the queue's ready jobs
    /// for all such tasks, in claim order, so every queue stays in order; nothing when every task is set apart already.
    /// </summary>
    private static void SetApart(QueueState q, Dictionary<string, int> tasks)
    {
        Dictionary<string, ReadyQueue<Entry>>? added = null;
        foreach (var task in tasks.Keys)
        {
            if (q.Apart is not { } apart || !apart.ContainsKey(task))
            {
                (added ??= new(StringComparer.Ordinal))[task] = new ReadyQueue<Entry>();
            }
        }

        if (added is null)
        {
            return;
        }

        var rest = new ReadyQueue<Entry>();
        while (q.Ready.TryDequeue(out var e, out var version))
        {
            (added.TryGetValue(e.TaskName, out var own) ? own : rest).Enqueue(e, version, (int)e.Priority);
        }

        q.Ready = rest;
        q.Apart ??= new(StringComparer.Ordinal);
        foreach (var (task, own) in added)
        {
            q.Apart[task] = own;
        }
    }

    private Guid NextLeaseToken()
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, leasePrefix);
        BitConverter.TryWriteBytes(bytes[8..], ++leaseCounter);
        return new Guid(bytes);
    }

    /// <summary>The earliest due time of a scheduled job in one of <paramref name="claims"/>, if the heap's head tells cheaply.</summary>
    private DateTimeOffset? NextDue(IReadOnlyList<QueueClaim> claims)
    {
        while (scheduled.TryPeek(out var item, out var key))
        {
            if (item.Entry.State == JobState.Scheduled && item.Entry.Version == item.Version)
            {
                // The heap spans every queue: its head answers only when it belongs to a claimed queue. Otherwise the
                // earliest due time of the claimed queues is not known cheaply, so none is reported.
                foreach (var claim in claims)
                {
                    if (string.Equals(claim.Name, item.Entry.Queue, StringComparison.Ordinal))
                    {
                        return new DateTimeOffset(key.DueTicks, TimeSpan.Zero);
                    }
                }

                return null;
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

        /// <summary>The ready jobs of the tasks not set apart, in claim order.</summary>
        public ReadyQueue<Entry> Ready { get; set; } = new();

        /// <summary>The ready jobs of each task a claim has capped, in claim order (null until one has).</summary>
        public Dictionary<string, ReadyQueue<Entry>>? Apart { get; set; }

        /// <summary>Where a ready job of <paramref name="task"/> waits.</summary>
        public ReadyQueue<Entry> ReadyFor(string task) =>
            Apart is { } apart && apart.TryGetValue(task, out var ready) ? ready : Ready;
    }

    /// <summary>
    /// One job. A waiting job is the hot case (a backlog may hold millions), so it is kept compact: times as UTC ticks
    /// with presence flags, the state in a byte, one token field for the current lease (Running) or the succeeded
    /// attempt's lease (Succeeded), which never coexist. What a job that simply runs and succeeds never sets (progress,
    /// unique key, error, unknown-task mark, trace context) lives in a <see cref="Details"/> object allocated on the
    /// first write of a value, so claiming and finishing such a job allocates nothing that outlives the call.
    /// </summary>
    private sealed class Entry : IReadyItem
    {
        private const byte HasLeaseToken = 1;
        private const byte HasSucceededToken = 2;
        private const byte HasStarted = 4;
        private const byte HasFinished = 8;
        private const byte HasLeaseExpiry = 16;

        private Details? details;
        private Guid token;
        private long createdTicks;
        private long dueTicks;
        private long startedTicks;
        private long finishedTicks;
        private long leaseExpiresTicks;
        private sbyte state;
        private byte present;

        public required JobId Id { get; init; }

        public required string TaskName { get; init; }

        public required string Queue { get; init; }

        public required byte[] Payload { get; init; }

        public Priority Priority { get; init; }

        public JobState State
        {
            get => (JobState)state;
            set => state = (sbyte)value;
        }

        public int Version { get; set; }

        public int LeaseVersion { get; set; }

        public int Attempt { get; set; }

        public int MaxRetries { get; init; }

        public DateTimeOffset CreatedAt
        {
            get => new(createdTicks, TimeSpan.Zero);
            init => createdTicks = value.UtcTicks;
        }

        public DateTimeOffset DueAt
        {
            get => new(dueTicks, TimeSpan.Zero);
            set => dueTicks = value.UtcTicks;
        }

        public long DueTicks => dueTicks;

        public long Sequence { get; init; }

        public bool UniqueUntilPruned { get; init; }

        public DateTimeOffset? StartedAt
        {
            get => Time(HasStarted, startedTicks);
            set => startedTicks = SetTime(HasStarted, value);
        }

        public DateTimeOffset? FinishedAt
        {
            get => Time(HasFinished, finishedTicks);
            set => finishedTicks = SetTime(HasFinished, value);
        }

        public DateTimeOffset? LeaseExpiresAt
        {
            get => Time(HasLeaseExpiry, leaseExpiresTicks);
            set => leaseExpiresTicks = SetTime(HasLeaseExpiry, value);
        }

        public Guid? LeaseToken
        {
            get => (present & HasLeaseToken) != 0 ? token : null;
            set => SetToken(HasLeaseToken, HasSucceededToken, value);
        }

        public Guid? SucceededLeaseToken
        {
            get => (present & HasSucceededToken) != 0 ? token : null;
            set => SetToken(HasSucceededToken, HasLeaseToken, value);
        }

        public string? WorkerId { get; set; }

        public string? UniqueKey
        {
            get => details?.UniqueKey;
            set => Set(value).UniqueKey = value;
        }

        public string? LastError
        {
            get => details?.LastError;
            set => Set(value).LastError = value;
        }

        public DateTimeOffset? UnknownTaskSince
        {
            get => details?.UnknownTaskSince;
            set => Set(value).UnknownTaskSince = value;
        }

        public double? Progress
        {
            get => details?.Progress;
            set => Set(value).Progress = value;
        }

        public string? ProgressMessage
        {
            get => details?.ProgressMessage;
            set => Set(value).ProgressMessage = value;
        }

        public string? TraceParent
        {
            get => details?.TraceParent;
            init => Set(value).TraceParent = value;
        }

        public string? TraceState
        {
            get => details?.TraceState;
            init => Set(value).TraceState = value;
        }

        public JobRef Ref => new(Id, Queue);

        public bool IsCurrent(int version) => State == JobState.Ready && Version == version;

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
            SucceededLeaseToken = SucceededLeaseToken,
            WorkerId = WorkerId,
            UniqueKey = details?.UniqueKey,
            LastError = details?.LastError,
            UnknownTaskSince = details?.UnknownTaskSince,
            Progress = details?.Progress,
            ProgressMessage = details?.ProgressMessage,
            TraceParent = details?.TraceParent,
            TraceState = details?.TraceState,
        };

        // The details to write a field into: a value to store allocates them; clearing a field they never held needs
        // none (a scratch object absorbs the write).
        private Details Set<TValue>(TValue value) => details ?? (value is null ? Details.Discard : details = new Details());

        private DateTimeOffset? Time(byte flag, long ticks) => (present & flag) != 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

        private long SetTime(byte flag, DateTimeOffset? value)
        {
            if (value is { } v)
            {
                present |= flag;
                return v.UtcTicks;
            }

            present &= (byte)~flag;
            return 0;
        }

        private void SetToken(byte flag, byte other, Guid? value)
        {
            if (value is { } v)
            {
                // The lease token (Running) and the succeeded attempt's token (Succeeded) never coexist.
                Debug.Assert((present & other) == 0, "A job holds either a lease token or a succeeded attempt's token.");
                token = v;
                present |= flag;
            }
            else
            {
                present &= (byte)~flag;
            }
        }
    }

    private sealed class Details
    {
        /// <summary>Absorbs the writes of null into entries that have no details: only ever holds nulls, never read.</summary>
        public static readonly Details Discard = new();

        public string? UniqueKey { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? UnknownTaskSince { get; set; }

        public double? Progress { get; set; }

        public string? ProgressMessage { get; set; }

        public string? TraceParent { get; set; }

        public string? TraceState { get; set; }
    }
}
