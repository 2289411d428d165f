using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>Why a running attempt was told to stop.</summary>
internal enum StopReason
{
    None,

    /// <summary>The job was cancelled (in this process, or the store took the lease away).</summary>
    Cancelled,

    /// <summary>The worker can no longer prove it holds the lease.</summary>
    LeaseLost,

    /// <summary>The task's timeout passed.</summary>
    Timeout,

    /// <summary>The worker is shutting down.</summary>
    Shutdown,
}

/// <summary>
/// One claim of a job: its cancellation (a source made when the token is first read), why it stops, its progress, its
/// lazily created DI scope, what the lease keeper knows about its lease, and whether it is finished. An attempt finishes
/// exactly once — when its handler returns, or earlier when the engine gives up on a handler that ignores its
/// cancellation — so a late handler can never report a second outcome. It is also the thread-pool work item that runs
/// the attempt, the host of its <see cref="JobContext"/> and the state of its log scope, so a no-op attempt allocates
/// little beyond this object.
/// </summary>
internal sealed class Execution : ILocalJob, IThreadPoolWorkItem, IJobContextHost, IDisposable, IReadOnlyList<KeyValuePair<string, object?>>
{
    private static readonly object Ended = new();
    private readonly JobExecutor executor;
    private int reason;
    private int finished;
    private bool launched;
    private ProgressUpdate? progress;

    // Created when the token is first asked for: a handler that never reads its token costs no source.
    private CancellationTokenSource? cts;

    // The attempt's DI scope: null until the handler first asks for services, then the scope, then Ended.
    private object? scope;

    public Execution(JobExecutor executor, JobRecord job)
    {
        this.executor = executor;
        Job = job;
        _ = job.LeaseToken ?? throw new ArgumentException($"Job {job.Id} was not claimed: it has no lease token.", nameof(job));
    }

    public JobRecord Job { get; }

    /// <summary>The id of the worker running the attempt.</summary>
    public string WorkerId => executor.WorkerId;

    public JobLease Lease => new(Job.Ref, Job.LeaseToken!.Value);

    public JobTask? Task { get; set; }

    /// <summary>
    /// The attempt's cancellation token. Its source is created at the first call; a stop that came before that gives a
    /// token that is already cancelled.
    /// </summary>
    public CancellationToken Token
    {
        get
        {
            var source = Volatile.Read(ref cts);
            if (source is null)
            {
                var created = new CancellationTokenSource();
                source = Interlocked.CompareExchange(ref cts, created, null) ?? created;
                if (!ReferenceEquals(source, created))
                {
                    created.Dispose();
                }

                // Published before the reason is read, and Cancel sets the reason before it reads the source: whichever
                // runs second sees the other's write, so a stop is never missed.
                if (Reason != StopReason.None)
                {
                    CancelSource(source);
                }
            }

            return source.Token;
        }
    }

    public StopReason Reason => (StopReason)Volatile.Read(ref reason);

    public bool IsFinished => Volatile.Read(ref finished) != 0;

    /// <summary>A <see cref="TimeProvider.GetTimestamp"/> reading until which the lease is proven (kept by the lease keeper).</summary>
    public long ProvenUntil { get; set; }

    /// <summary>Whether the attempt was started (a prefetched one waits for a slot first).</summary>
    public bool Launched
    {
        get => Volatile.Read(ref launched);
        set => Volatile.Write(ref launched, value);
    }

    /// <summary>Whether the store reported the lease lost (kept by the lease keeper).</summary>
    public bool LeaseLost { get; set; }

    /// <summary>
    /// The attempt's own DI scope, created at the first call: an attempt whose handler needs no services creates none.
    /// After the attempt it is a provider that throws <see cref="ObjectDisposedException"/>, as a disposed scope's would.
    /// </summary>
    public IServiceProvider Services
    {
        get
        {
            lock (this)
            {
                if (ReferenceEquals(scope, Ended))
                {
                    return DisposedServices.Instance;
                }

                scope ??= executor.Scopes.CreateAsyncScope();
                return ((AsyncServiceScope)scope).ServiceProvider;
            }
        }
    }

    /// <summary>Disposes the attempt's DI scope, if the handler created one; later calls to <see cref="Services"/> throw.</summary>
    public ValueTask EndScopeAsync()
    {
        object? created;
        lock (this)
        {
            created = scope;
            scope = Ended;
        }

        return created is AsyncServiceScope live ? live.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Fires the attempt's token once, remembering the first reason.</summary>
    public void Cancel(StopReason why)
    {
        if (Interlocked.CompareExchange(ref reason, (int)why, (int)StopReason.None) == (int)StopReason.None &&
            Volatile.Read(ref cts) is { } source)
        {
            CancelSource(source);
        }
    }

    /// <summary>Marks the attempt finished; only the first caller gets <see langword="true"/>.</summary>
    public bool TryFinish() => Interlocked.Exchange(ref finished, 1) == 0;

    /// <summary>Records the latest progress; the lease keeper writes it with the next heartbeat.</summary>
    public void SetProgress(double value, string? message) => Volatile.Write(ref progress, new ProgressUpdate(value, message));

    /// <summary>Takes the progress reported since the last call, if any.</summary>
    public ProgressUpdate? TakeProgress() => Interlocked.Exchange(ref progress, null);

    public void Dispose() => Volatile.Read(ref cts)?.Dispose();

    void IThreadPoolWorkItem.Execute() => executor.RunDetached(this);

    void ILocalJob.Cancel() => Cancel(StopReason.Cancelled);

    // The attempt is its own log scope (JobLogScope): the job's id, task, queue, attempt and worker.
    int IReadOnlyCollection<KeyValuePair<string, object?>>.Count => JobLogScope.Count;

    KeyValuePair<string, object?> IReadOnlyList<KeyValuePair<string, object?>>.this[int index] => JobLogScope.Property(Job, executor.WorkerId, index);

    IEnumerator<KeyValuePair<string, object?>> IEnumerable<KeyValuePair<string, object?>>.GetEnumerator()
    {
        for (var i = 0; i < JobLogScope.Count; i++)
        {
            yield return JobLogScope.Property(Job, executor.WorkerId, i);
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() =>
        ((IEnumerable<KeyValuePair<string, object?>>)this).GetEnumerator();

    /// <summary>The attempt's log scope as text.</summary>
    public override string ToString() => JobLogScope.Format(Job, executor.WorkerId);

    /// <summary>
    /// Cancels the attempt's token. Every callback registered on it runs; if some throw, that is logged and the stop goes
    /// on: user code must not crash a timer thread, a heartbeat sweep, a shutdown or a cancel request.
    /// </summary>
    private void CancelSource(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (AggregateException ex)
        {
            executor.CancellationCallbacksFailed(this, ex);
        }
    }

    internal sealed record ProgressUpdate(double Value, string? Message);

    /// <summary>The services of an attempt that has finished.</summary>
    private sealed class DisposedServices : IServiceProvider
    {
        public static readonly DisposedServices Instance = new();

        public object GetService(Type serviceType) =>
            throw new ObjectDisposedException(nameof(IServiceProvider), "The attempt has finished; its services are disposed.");
    }
}

/// <summary>The engine's decision about one attempt, waiting for the completer to write it.</summary>
/// <remarks>
/// The completion is kept without the job's reference and lease token, which are the claimed job's own (every
/// <see cref="JobTransitions"/> function builds it from the job), and rebuilt when written. What the events, logs and
/// the testing kit read (error, delay, whether it failed) is the completion's own, kept once: one outcome per attempt,
/// so each field saved is saved per job.
/// </remarks>
internal sealed class Outcome
{
    private const long NoDelay = long.MinValue;
    private readonly string? error;
    private readonly byte[]? result;
    private readonly long delayTicks;
    private readonly TimeSpan resultTtl;
    private readonly int attemptDelta;
    private readonly JobState targetState;
    private readonly bool failed;
    private readonly bool markUnknownTask;
    private readonly bool resultInCompletion;

    /// <param name="job">The claimed job.</param>
    /// <param name="kind">How the attempt ended.</param>
    /// <param name="completion">The completion the store applies (a result in it is written with it).</param>
    /// <param name="task">The job's task, when known.</param>
    /// <param name="separateResult">A result for a results store that is not the jobs store, when the completion has none.</param>
    /// <param name="separateResultTtl">How long <paramref name="separateResult"/> is kept.</param>
    public Outcome(JobRecord job, AttemptOutcome kind, JobCompletion completion, JobTask? task, byte[]? separateResult = null,
        TimeSpan separateResultTtl = default)
    {
        Debug.Assert(completion.Job == job.Ref && completion.LeaseToken == job.LeaseToken, "A completion is about the claimed job and its lease.");
        Debug.Assert(completion.Result is null || separateResult is null, "A result goes with the completion or to the results store, not both.");
        Job = job;
        Kind = kind;
        Task = task;
        targetState = completion.TargetState;
        delayTicks = completion.Delay?.Ticks ?? NoDelay;
        attemptDelta = completion.AttemptDelta;
        error = completion.Error;
        failed = completion.Failed;
        markUnknownTask = completion.MarkUnknownTask;
        resultInCompletion = completion.Result is not null;
        (result, resultTtl) = resultInCompletion ? (completion.Result, completion.ResultTtl) : (separateResult, separateResultTtl);
    }

    public JobRecord Job { get; }

    public AttemptOutcome Kind { get; }

    /// <summary>The completion the store applies, fenced by the attempt's lease token.</summary>
    public JobCompletion Completion => new()
    {
        Job = Job.Ref,
        LeaseToken = Job.LeaseToken!.Value,
        TargetState = targetState,
        Delay = delayTicks == NoDelay ? null : TimeSpan.FromTicks(delayTicks),
        AttemptDelta = attemptDelta,
        Error = error,
        Failed = failed,
        Result = resultInCompletion ? result : null,
        ResultTtl = resultInCompletion ? resultTtl : TimeSpan.Zero,
        MarkUnknownTask = markUnknownTask,
    };

    public JobTask? Task { get; }

    /// <summary>A result for a results store that is not the jobs store (keyed by the attempt's lease token).</summary>
    public byte[]? Result => resultInCompletion ? null : result;

    /// <summary>How long <see cref="Result"/> is kept.</summary>
    public TimeSpan ResultTtl => resultTtl;

    /// <summary>How long until the job is due again (a retry's backoff, a snooze), zero when it is not put back.</summary>
    public TimeSpan Delay => delayTicks == NoDelay ? TimeSpan.Zero : TimeSpan.FromTicks(delayTicks);

    /// <summary>The error the completion records.</summary>
    public string? Error => error;

    /// <summary>Whether the attempt failed (a retry or a dead job).</summary>
    public bool Failed => failed;

    public Exception? Exception { get; init; }

    public TimeSpan Duration { get; set; }

    /// <summary>Whether the store applied the completion (it refuses one whose lease was lost or whose job finished meanwhile).</summary>
    public bool Applied { get; set; }

    public JobLease Lease => new(Job.Ref, Job.LeaseToken!.Value);
}
