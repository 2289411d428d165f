using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Testing;

public sealed partial class JobTestKit
{
    private const int MaxPayloadShown = 2000;
    private readonly HashSet<JobId> forgotten = [];
    private readonly HashSet<JobId> asserted = [];

    /// <summary>
    /// Every job enqueued so far, oldest first, in any state (jobs that already ran included), except those
    /// <see cref="ForgetEnqueuedAsync"/> set aside. A job enqueued inside a database transaction appears once the
    /// transaction commits.
    /// </summary>
    public async Task<IReadOnlyList<JobRecord>> GetEnqueuedAsync(CancellationToken cancellationToken = default)
    {
        var jobs = new List<JobRecord>();
        string? cursor = null;
        do
        {
            var page = await Admin.ListJobsAsync(new JobsListParams { Limit = 1000, Cursor = cursor }, cancellationToken).ConfigureAwait(false);
            jobs.AddRange(page.Jobs);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        jobs.Reverse();
        lock (forgotten)
        {
            return jobs.Where(j => !forgotten.Contains(j.Id)).ToArray();
        }
    }

    /// <summary>Every job of the task of <typeparamref name="TArgs"/> enqueued so far, oldest first, with its arguments.</summary>
    /// <exception cref="JobAssertionException">A job's payload cannot be read by the task's serializer.</exception>
    public async Task<IReadOnlyList<EnqueuedJob<TArgs>>> GetEnqueuedAsync<TArgs>(CancellationToken cancellationToken = default)
        where TArgs : class, ITaskArguments<TArgs>
    {
        var jobs = await GetEnqueuedAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<EnqueuedJob<TArgs>>();
        foreach (var job in jobs.Where(static j => j.TaskName == TArgs.TaskName))
        {
            if (!TryRead<TArgs>(job, out var arguments, out var error))
            {
                throw new JobAssertionException($"The payload of job {job.Id} of task '{TArgs.TaskName}' cannot be read by the task's serializer: {error} Payload: {Show(job.Payload)}");
            }

            result.Add(new EnqueuedJob<TArgs>(job, arguments));
        }

        return result;
    }

    /// <summary>
    /// Asserts that exactly one job of the task of <typeparamref name="TArgs"/> was enqueued with arguments equal to
    /// <paramref name="expected"/> (compared as the payloads the task's serializer writes, so collections compare by
    /// content), and, when given, in <paramref name="queue"/>, due <paramref name="dueIn"/> after it was enqueued, with
    /// <paramref name="priority"/>. Returns the job.
    /// </summary>
    /// <exception cref="JobAssertionException">No such job, or more than one; the message lists the task's jobs.</exception>
    public async Task<EnqueuedJob<TArgs>> AssertEnqueuedAsync<TArgs>(TArgs expected, string? queue = null, TimeSpan? dueIn = null,
        Priority? priority = null, CancellationToken cancellationToken = default)
        where TArgs : class, ITaskArguments<TArgs>
    {
        ArgumentNullException.ThrowIfNull(expected);
        var expectedPayload = expected.ToPayload();
        var expectedJson = JsonNode.Parse(expectedPayload);
        var found = await FindByRecordAsync<TArgs>(job => SamePayload(expectedJson, job.Payload), queue, dueIn, priority, cancellationToken)
            .ConfigureAwait(false);
        return Single(found, 1, "with arguments " + Show(expectedPayload), queue, dueIn, priority)[0];
    }

    /// <summary>
    /// Asserts that exactly one job of the task of <typeparamref name="TArgs"/> was enqueued whose arguments satisfy
    /// <paramref name="match"/> (any arguments when it is <see langword="null"/>), and, when given, in
    /// <paramref name="queue"/>, due <paramref name="dueIn"/> after it was enqueued, with <paramref name="priority"/>.
    /// Returns the job.
    /// </summary>
    /// <exception cref="JobAssertionException">No such job, or more than one; the message lists the task's jobs.</exception>
    public async Task<EnqueuedJob<TArgs>> AssertEnqueuedAsync<TArgs>(Func<TArgs, bool>? match = null, string? queue = null, TimeSpan? dueIn = null,
        Priority? priority = null, CancellationToken cancellationToken = default, [CallerArgumentExpression(nameof(match))] string? matchText = null)
        where TArgs : class, ITaskArguments<TArgs>
    {
        var found = await FindAsync(match, queue, dueIn, priority, cancellationToken).ConfigureAwait(false);
        return Single(found, 1, Describe(match, matchText), queue, dueIn, priority)[0];
    }

    /// <summary>Asserts that exactly <paramref name="count"/> jobs of the task of <typeparamref name="TArgs"/> match; returns them, oldest first.</summary>
    /// <exception cref="JobAssertionException">Another number of jobs matched; the message lists the task's jobs.</exception>
    public async Task<IReadOnlyList<EnqueuedJob<TArgs>>> AssertEnqueuedAsync<TArgs>(int count, Func<TArgs, bool>? match = null, string? queue = null,
        TimeSpan? dueIn = null, Priority? priority = null, CancellationToken cancellationToken = default,
        [CallerArgumentExpression(nameof(match))] string? matchText = null)
        where TArgs : class, ITaskArguments<TArgs>
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var found = await FindAsync(match, queue, dueIn, priority, cancellationToken).ConfigureAwait(false);
        return Single(found, count, Describe(match, matchText), queue, dueIn, priority);
    }

    /// <summary>Asserts that no job of the task of <typeparamref name="TArgs"/> matching <paramref name="match"/> (any, when <see langword="null"/>) was enqueued.</summary>
    /// <exception cref="JobAssertionException">Such a job exists; the message shows it.</exception>
    public async Task AssertNotEnqueuedAsync<TArgs>(Func<TArgs, bool>? match = null, CancellationToken cancellationToken = default,
        [CallerArgumentExpression(nameof(match))] string? matchText = null)
        where TArgs : class, ITaskArguments<TArgs>
    {
        var found = await FindAsync(match, null, null, null, cancellationToken).ConfigureAwait(false);
        if (found.Matches.Count > 0)
        {
            throw new JobAssertionException(
                $"Expected no job of task '{TArgs.TaskName}' {Describe(match, matchText)}, but found {found.Matches.Count}:{Environment.NewLine}"
                + List(found.Matches.Select(static m => m.Record)));
        }
    }

    /// <summary>
    /// Asserts that every job enqueued so far was found by an earlier assertion of this kit (jobs that
    /// <see cref="ForgetEnqueuedAsync"/> set aside do not count).
    /// </summary>
    /// <exception cref="JobAssertionException">Other jobs exist; the message lists them.</exception>
    public async Task AssertNothingElseEnqueuedAsync(CancellationToken cancellationToken = default)
    {
        var jobs = await GetEnqueuedAsync(cancellationToken).ConfigureAwait(false);
        List<JobRecord> others;
        lock (asserted)
        {
            others = jobs.Where(j => !asserted.Contains(j.Id)).ToList();
        }

        if (others.Count > 0)
        {
            throw new JobAssertionException($"Expected no other jobs, but {others.Count} more were enqueued:{Environment.NewLine}{List(others)}");
        }
    }

    /// <summary>Asserts that no job was enqueued at all (since <see cref="ForgetEnqueuedAsync"/>, if it was called).</summary>
    /// <exception cref="JobAssertionException">Jobs exist; the message lists them.</exception>
    public async Task AssertNothingEnqueuedAsync(CancellationToken cancellationToken = default)
    {
        var jobs = await GetEnqueuedAsync(cancellationToken).ConfigureAwait(false);
        if (jobs.Count > 0)
        {
            throw new JobAssertionException($"Expected no jobs, but {jobs.Count} were enqueued:{Environment.NewLine}{List(jobs)}");
        }
    }

    /// <summary>
    /// Sets aside every job enqueued so far: the assertions and <see cref="GetEnqueuedAsync(CancellationToken)"/> no
    /// longer see them (for jobs a test's setup enqueued). The jobs stay in the store and still run when drained.
    /// </summary>
    public async Task ForgetEnqueuedAsync(CancellationToken cancellationToken = default)
    {
        var jobs = await GetEnqueuedAsync(cancellationToken).ConfigureAwait(false);
        lock (forgotten)
        {
            forgotten.UnionWith(jobs.Select(static j => j.Id));
        }
    }

    private async Task<Found<TArgs>> FindAsync<TArgs>(Func<TArgs, bool>? match, string? queue, TimeSpan? dueIn, Priority? priority,
        CancellationToken cancellationToken)
        where TArgs : class, ITaskArguments<TArgs> =>
        await FindByRecordAsync<TArgs>(job => match is null || (TryRead<TArgs>(job, out var arguments, out _) && match(arguments)), queue, dueIn, priority,
            cancellationToken).ConfigureAwait(false);

    private async Task<Found<TArgs>> FindByRecordAsync<TArgs>(Func<JobRecord, bool> match, string? queue, TimeSpan? dueIn, Priority? priority,
        CancellationToken cancellationToken)
        where TArgs : class, ITaskArguments<TArgs>
    {
        var jobs = await GetEnqueuedAsync(cancellationToken).ConfigureAwait(false);
        var ofTask = jobs.Where(static j => j.TaskName == TArgs.TaskName).ToList();
        var matches = new List<EnqueuedJob<TArgs>>();
        foreach (var job in ofTask)
        {
            if ((queue is null || job.Queue == queue)
                && (dueIn is null || job.DueAt - job.CreatedAt == dueIn)
                && (priority is null || job.Priority == priority)
                && TryRead<TArgs>(job, out var arguments, out _)
                && match(job))
            {
                matches.Add(new EnqueuedJob<TArgs>(job, arguments));
            }
        }

        return new Found<TArgs>(ofTask, jobs, matches);
    }

    private IReadOnlyList<EnqueuedJob<TArgs>> Single<TArgs>(Found<TArgs> found, int count, string what, string? queue, TimeSpan? dueIn, Priority? priority)
        where TArgs : class, ITaskArguments<TArgs>
    {
        if (found.Matches.Count == count)
        {
            lock (asserted)
            {
                asserted.UnionWith(found.Matches.Select(static m => m.Id));
            }

            return found.Matches;
        }

        var expected = new StringBuilder();
        expected.Append(CultureInfo.InvariantCulture, $"Expected {(count == 1 ? "one job" : count + " jobs")} of task '{TArgs.TaskName}' {what}");
        if (queue is not null)
        {
            expected.Append(CultureInfo.InvariantCulture, $" in queue '{queue}'");
        }

        if (dueIn is not null)
        {
            expected.Append(CultureInfo.InvariantCulture, $" due in {dueIn:c}");
        }

        if (priority is not null)
        {
            expected.Append(CultureInfo.InvariantCulture, $" with priority {priority}");
        }

        expected.Append(CultureInfo.InvariantCulture, $", but found {(found.Matches.Count == 0 ? "none" : found.Matches.Count.ToString(CultureInfo.InvariantCulture))}.");
        expected.AppendLine();
        if (found.OfTask.Count == 0)
        {
            expected.Append(CultureInfo.InvariantCulture, $"No job of task '{TArgs.TaskName}' was enqueued.");
        }
        else
        {
            expected.Append(CultureInfo.InvariantCulture, $"Jobs of task '{TArgs.TaskName}' ({found.OfTask.Count}):").AppendLine();
            expected.Append(List(found.OfTask));
        }

        var others = found.All.Where(static j => j.TaskName != TArgs.TaskName).GroupBy(static j => j.TaskName, StringComparer.Ordinal).ToList();
        if (others.Count > 0)
        {
            expected.AppendLine().Append("Jobs of other tasks: ")
                .AppendJoin(", ", others.Select(static g => $"'{g.Key}' ({g.Count().ToString(CultureInfo.InvariantCulture)})")).Append('.');
        }

        throw new JobAssertionException(expected.ToString());
    }

    private static bool TryRead<TArgs>(JobRecord job, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TArgs? arguments, out string? error)
        where TArgs : class, ITaskArguments<TArgs>
    {
        try
        {
            arguments = TArgs.FromPayload(job.Payload);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            arguments = null;
            error = ex.Message;
            return false;
        }
    }

    private static bool SamePayload(JsonNode? expected, byte[] payload)
    {
        try
        {
            return JsonNode.DeepEquals(expected, JsonNode.Parse(payload));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Describe<TArgs>(Func<TArgs, bool>? match, string? matchText) =>
        match is null ? "with any arguments" : "matching " + (matchText ?? "the condition");

    private string List(IEnumerable<JobRecord> jobs)
    {
        var text = new StringBuilder();
        foreach (var job in jobs)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"  - {Show(job.Payload)} in queue '{job.Queue}', priority {job.Priority}, due in {(job.DueAt - job.CreatedAt):c}, {job.State} (job {job.Id}, task '{job.TaskName}')");
            lock (asserted)
            {
                if (asserted.Contains(job.Id))
                {
                    text.Append(", found by an earlier assertion");
                }
            }

            text.AppendLine();
        }

        return text.ToString().TrimEnd();
    }

    private static string Show(byte[] payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        return text.Length <= MaxPayloadShown ? text : string.Concat(text.AsSpan(0, MaxPayloadShown), "…");
    }

    private sealed record Found<TArgs>(List<JobRecord> OfTask, IReadOnlyList<JobRecord> All, List<EnqueuedJob<TArgs>> Matches)
        where TArgs : class, ITaskArguments<TArgs>;
}
