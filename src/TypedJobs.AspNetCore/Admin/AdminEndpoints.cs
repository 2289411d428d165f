using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Storage;

namespace TypedJobs.AspNetCore.Admin;

/// <summary>The admin API's endpoints. Every handler reads and validates its input itself and answers with typed results.</summary>
internal sealed partial class AdminEndpoints(TypedJobsAdminOptions options)
{
    private const int MaxBodyBytes = 2 * 1024 * 1024;
    private static readonly string Version =
        typeof(AdminEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    public void Map(RouteGroupBuilder group)
    {
        var api = group.MapGroup("/api");
        api.MapGet("/info", Read(Info));
        api.MapGet("/antiforgery", Read(Antiforgery));
        api.MapGet("/overview", Read(Overview));
        api.MapGet("/jobs", Read(ListJobs));
        api.MapGet("/jobs/count", Read(CountJobs));
        api.MapGet("/jobs/{id}", Read(GetJob));
        api.MapPost("/jobs/{id}/retry", Change(RetryJob));
        api.MapPost("/jobs/{id}/cancel", Change(CancelJob));
        api.MapPost("/jobs/{id}/delete", Change(DeleteJob));
        api.MapPost("/jobs/bulk", ChangeRaw(Bulk));
        api.MapGet("/queues", Read(Queues));
        api.MapPost("/queues/{name}/pause", Change(PauseQueue));
        api.MapPost("/queues/{name}/resume", Change(ResumeQueue));
        api.MapPost("/queues/{name}/clear", Change(ClearQueue));
        api.MapGet("/schedules", Read(Schedules));
        api.MapPost("/schedules/{name}/trigger", Change(TriggerSchedule));
        api.MapPost("/schedules/{name}/pause", Change(PauseSchedule));
        api.MapPost("/schedules/{name}/resume", Change(ResumeSchedule));
        api.MapGet("/workers", Read(Workers));
        api.MapGet("/throughput", Read(Throughput));
        api.MapGet("/tasks", Read(Tasks));
        api.MapPost("/tasks/{name}/enqueue", Change(Enqueue));
        // Anything else under api/ is a JSON 404, never the dashboard page.
        api.Map("/{**rest}", Read(static context => Task.FromResult<IResult>(
            Problems.Create(context, StatusCodes.Status404NotFound, "Not found.", "No admin API endpoint has this path and method."))));
    }

    // ---- wrappers: headers, errors, read-only mode and antiforgery in one place ----

    private RequestDelegate Read(Func<HttpContext, Task<IResult>> handler) => context => RunAsync(context, handler, mutating: false);

    private RequestDelegate Change(Func<HttpContext, Task<IResult>> handler) => context => RunAsync(context, handler, mutating: true);

    /// <summary>A change whose handler writes the response itself (a progress stream); null from the handler means it did.</summary>
    private RequestDelegate ChangeRaw(Func<HttpContext, Task<IResult?>> handler) => context => RunAsync(context, handler!, mutating: true);

    private async Task RunAsync(HttpContext context, Func<HttpContext, Task<IResult>> handler, bool mutating)
    {
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        IResult? result;
        try
        {
            if (mutating)
            {
                await CheckChangeAllowedAsync(context).ConfigureAwait(false);
            }

            result = await handler(context).ConfigureAwait(false);
        }
        catch (AdminProblemException problem)
        {
            result = Problems.From(context, problem);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            // Never a stack trace, a connection string or a store message in a response: the log has the details.
            Log.UnexpectedError(Logger(context), ex, context.Request.Method, context.Request.Path.Value ?? "");
            if (context.Response.HasStarted)
            {
                return;
            }

            result = Problems.Create(context, StatusCodes.Status500InternalServerError, "The request failed.",
                "An unexpected error occurred; the server's log has the details under this trace id.");
        }

        if (result is not null)
        {
            await result.ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    private async Task CheckChangeAllowedAsync(HttpContext context)
    {
        if (options.ReadOnly)
        {
            throw new AdminProblemException(StatusCodes.Status403Forbidden, "The admin API is read-only.",
                "This dashboard is mapped with ReadOnly = true: it shows jobs but changes nothing.");
        }

        if (options.InsecureDisableAntiforgery)
        {
            return;
        }

        // Fails closed: a missing or wrong token, or a token of another user, is refused before anything changes.
        var antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        try
        {
            await antiforgery.ValidateRequestAsync(context).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            throw new AdminProblemException(StatusCodes.Status400BadRequest, "The antiforgery token is missing or not valid.",
                "Changes need the token from GET api/antiforgery in the header it names, sent with the same cookies.");
        }
    }

    private static ILogger Logger(HttpContext context) =>
        context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("TypedJobs.AspNetCore.Admin");

    private static IJobAdmin Admin(HttpContext context) => context.RequestServices.GetRequiredService<IJobAdmin>();

    private static bool TextSearch(IJobAdmin admin) => (admin.Capabilities & StorageCapabilities.TextSearch) != 0;

    private PayloadDisplay Display(IJobAdmin admin) => new(admin.Tasks, options.ShowPayloadsOfUnregisteredTasks);

    // ---- general ----

    private Task<IResult> Info(HttpContext context)
    {
        var admin = Admin(context);
        var recordEvents = context.RequestServices.GetService<TypedJobsOptions>()?.RecordEvents ?? false;
        return Task.FromResult<IResult>(TypedResults.Json(new InfoDto(options.Title, options.ReadOnly, TextSearch(admin), recordEvents,
            !options.InsecureDisableAntiforgery && !options.ReadOnly, (int)options.RefreshInterval.TotalMilliseconds, Version),
            AdminJsonContext.Default.InfoDto));
    }

    private Task<IResult> Antiforgery(HttpContext context)
    {
        if (options.ReadOnly || options.InsecureDisableAntiforgery)
        {
            return Task.FromResult<IResult>(TypedResults.Json(new AntiforgeryDto("", ""), AdminJsonContext.Default.AntiforgeryDto));
        }

        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        return Task.FromResult<IResult>(TypedResults.Json(new AntiforgeryDto(tokens.RequestToken!, tokens.HeaderName!),
            AdminJsonContext.Default.AntiforgeryDto));
    }

    private static async Task<IResult> Overview(HttpContext context)
    {
        var admin = Admin(context);
        var queues = await admin.GetQueuesAsync(context.RequestAborted).ConfigureAwait(false);
        var workers = await admin.GetWorkersAsync(context.RequestAborted).ConfigureAwait(false);
        var counts = JobStates.All.ToDictionary(static s => s.ToString(), s => queues.Sum(q => q.Counts.TryGetValue(s, out var n) ? n : 0));
        return TypedResults.Json(new OverviewDto(counts, queues.Count, queues.Count(static q => q.Paused), workers.Workers.Count, workers.Now),
            AdminJsonContext.Default.OverviewDto);
    }

    // ---- jobs ----

    private async Task<IResult> ListJobs(HttpContext context)
    {
        var admin = Admin(context);
        var filter = AdminInput.Filter(context.Request.Query, TextSearch(admin));
        var query = new JobsListParams
        {
            Filter = filter,
            Limit = AdminInput.Int(context.Request.Query, "limit", 50, 1, 200),
            Cursor = AdminInput.Cursor(context.Request.Query),
        };
        JobsListResult page;
        try
        {
            page = await admin.ListJobsAsync(query, context.RequestAborted).ConfigureAwait(false);
        }
        catch (ArgumentException) when (query.Cursor is not null)
        {
            throw AdminProblemException.Invalid("cursor", "The cursor is not one this API issued: start again from the first page.");
        }

        IEnumerable<JobRecord> jobs = page.Jobs;
        var hidden = 0;
        if (filter.Text is { } text)
        {
            var display = Display(admin);
            var visible = page.Jobs.Where(j => display.VisiblyContains(j, text)).ToList();
            hidden = page.Jobs.Count - visible.Count;
            jobs = visible;
        }

        return TypedResults.Json(new JobsPageDto(jobs.Select(Summary).ToList(), page.NextCursor, hidden), AdminJsonContext.Default.JobsPageDto);
    }

    private async Task<IResult> CountJobs(HttpContext context)
    {
        var admin = Admin(context);
        var filter = AdminInput.Filter(context.Request.Query, TextSearch(admin));
        long count;
        if (filter.Text is null)
        {
            count = await admin.CountJobsAsync(filter, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            // The store's text search also matches inside sensitive and hidden payloads: count only what the list shows,
            // so the count is no oracle for a secret value.
            count = 0;
            await foreach (var _ in VisibleMatchesAsync(admin, Display(admin), filter, context.RequestAborted).ConfigureAwait(false))
            {
                count++;
            }
        }

        return TypedResults.Json(new CountDto(count), AdminJsonContext.Default.CountDto);
    }

    /// <summary>
    /// The jobs a filter with text matches by what an operator may see (<see cref="PayloadDisplay.VisiblyContains"/>):
    /// the store's matches, page by page, without those found only by text inside sensitive members or hidden payloads.
    /// </summary>
    private static async IAsyncEnumerable<JobRecord> VisibleMatchesAsync(IJobAdmin admin, PayloadDisplay display, JobFilter filter,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        do
        {
            var page = await admin.ListJobsAsync(new JobsListParams { Filter = filter, Limit = 200, Cursor = cursor }, cancellationToken)
                .ConfigureAwait(false);
            foreach (var job in page.Jobs)
            {
                if (display.VisiblyContains(job, filter.Text!))
                {
                    yield return job;
                }
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }

    private async Task<IResult> GetJob(HttpContext context)
    {
        var id = AdminInput.JobId(context);
        var admin = Admin(context);
        var client = context.RequestServices.GetRequiredService<IJobClient>();
        var job = await client.GetJobAsync(id, context.RequestAborted).ConfigureAwait(false)
                  ?? throw AdminProblemException.NotFound($"No job {id} exists (it may have been deleted or pruned).");
        var display = Display(admin);
        var shown = display.Show(job);
        IReadOnlyList<JobEventDto>? events = null;
        if (context.RequestServices.GetService<TypedJobsOptions>()?.RecordEvents == true)
        {
            try
            {
                var recorded = await admin.GetEventsAsync(id, 200, context.RequestAborted).ConfigureAwait(false);
                events = recorded.Select(static e => new JobEventDto(e.Kind, e.Attempt, e.Timestamp, e.Error, e.WorkerId,
                    e.Delay?.TotalSeconds, e.Duration?.TotalSeconds)).ToList();
            }
            catch (InvalidOperationException)
            {
                // No storage holds the events role.
            }
        }

        return TypedResults.Json(new JobDetailDto
        {
            Job = Summary(job),
            Payload = shown.Payload,
            PayloadHidden = shown.Hidden,
            PayloadRedacted = shown.Redacted,
            TaskRegistered = display.IsRegistered(job.TaskName),
            UniqueKey = job.UniqueKey,
            LeaseExpiresAt = job.LeaseExpiresAt,
            TraceParent = job.TraceParent,
            Events = events,
        }, AdminJsonContext.Default.JobDetailDto);
    }

    private static async Task<IResult> RetryJob(HttpContext context)
    {
        var id = AdminInput.JobId(context);
        var job = await RequireJobAsync(context, id).ConfigureAwait(false);
        if (job.State is not (JobState.Dead or JobState.Cancelled))
        {
            throw AdminProblemException.Conflict($"Only dead or cancelled jobs can be retried; job {id} is {job.State}.");
        }

        var changed = await Admin(context).RetryAsync(id, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new ChangedDto(changed, changed ? JobState.Ready : null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<IResult> CancelJob(HttpContext context)
    {
        var id = AdminInput.JobId(context);
        var job = await RequireJobAsync(context, id).ConfigureAwait(false);
        if (job.State.IsFinished())
        {
            throw AdminProblemException.Conflict($"Only unfinished jobs can be cancelled; job {id} is {job.State}.");
        }

        var changed = await context.RequestServices.GetRequiredService<IJobClient>().CancelAsync(id, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new ChangedDto(changed, changed ? JobState.Cancelled : null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<IResult> DeleteJob(HttpContext context)
    {
        var id = AdminInput.JobId(context);
        if (!await Admin(context).DeleteAsync(id, context.RequestAborted).ConfigureAwait(false))
        {
            throw AdminProblemException.NotFound($"No job {id} exists (it may have been deleted or pruned).");
        }

        return TypedResults.Json(new ChangedDto(true, null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<JobRecord> RequireJobAsync(HttpContext context, JobId id) =>
        await context.RequestServices.GetRequiredService<IJobClient>().GetJobAsync(id, context.RequestAborted).ConfigureAwait(false)
        ?? throw AdminProblemException.NotFound($"No job {id} exists (it may have been deleted or pruned).");

    /// <summary>
    /// Applies retry, cancel or delete to every job a filter matches, in bounded batches, and streams its progress as
    /// newline-delimited JSON: <c>{"done":0,"total":N,"finished":false}</c> after every batch, then a last line with
    /// <c>"finished":true</c>. The action goes on if the caller disconnects (it was confirmed), until the host stops.
    /// </summary>
    private async Task<IResult?> Bulk(HttpContext context)
    {
        var admin = Admin(context);
        var client = context.RequestServices.GetRequiredService<IJobClient>();
        var request = await ReadBodyAsync(context, AdminJsonContext.Default.BulkRequest).ConfigureAwait(false);
        var action = request.Action?.ToLowerInvariant() switch
        {
            "retry" => JobsBulkAction.Retry,
            "cancel" => JobsBulkAction.Cancel,
            "delete" => JobsBulkAction.Delete,
            _ => throw AdminProblemException.Invalid("action", "'action' must be retry, cancel or delete."),
        };
        var f = request.Filter ?? new BulkFilterDto();
        var filter = AdminInput.Check(new JobFilter
        {
            State = f.State,
            Queue = f.Queue is null ? null : AdminInput.QueueName(f.Queue, "filter.queue"),
            TaskName = AdminInput.CheckText(f.Task, "filter.task"),
            Text = AdminInput.CheckText(f.Text, "filter.text"),
            CreatedAfter = f.From,
            CreatedBefore = f.To,
        }, TextSearch(admin));

        var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var updates = Channel.CreateUnbounded<BulkProgress>(new UnboundedChannelOptions { SingleReader = true });
        var run = Task.Run(async () =>
        {
            try
            {
                var progress = new ChannelProgress(updates.Writer);
                return filter.Text is null
                    ? await admin.BulkAsync(action, filter, progress, stopping).ConfigureAwait(false)
                    : await VisibleBulkAsync(admin, client, Display(admin), action, filter, progress, stopping).ConfigureAwait(false);
            }
            finally
            {
                updates.Writer.TryComplete();
            }
        }, CancellationToken.None);

        var response = context.Response;
        response.ContentType = "application/x-ndjson; charset=utf-8";
        var connected = true;
        BulkProgress last = default;
        await foreach (var update in updates.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            last = update;
            connected = connected && await WriteLineAsync(response, new BulkProgressDto(update.Done, update.Total, false)).ConfigureAwait(false);
        }

        BulkProgressDto final;
        try
        {
            var done = await run.ConfigureAwait(false);
            final = new BulkProgressDto(done, Math.Max(done, last.Total), true);
        }
        catch (Exception ex)
        {
            Log.UnexpectedError(Logger(context), ex, context.Request.Method, context.Request.Path.Value ?? "");
            final = new BulkProgressDto(last.Done, last.Total, true, "The bulk action stopped after an unexpected error; the server's log has the details.");
        }

        if (connected)
        {
            await WriteLineAsync(response, final).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>
    /// A bulk action whose filter has text: it changes only the jobs the list would show for that text (see
    /// <see cref="VisibleMatchesAsync"/>), one by one, so a text found only inside a sensitive member or a hidden payload
    /// changes nothing and reveals nothing through the number of jobs changed.
    /// </summary>
    private static async Task<long> VisibleBulkAsync(IJobAdmin admin, IJobClient client, PayloadDisplay display, JobsBulkAction action,
        JobFilter filter, IProgress<BulkProgress> progress, CancellationToken cancellationToken)
    {
        var ids = new List<JobId>();
        await foreach (var job in VisibleMatchesAsync(admin, display, filter, cancellationToken).ConfigureAwait(false))
        {
            var applies = action switch
            {
                JobsBulkAction.Retry => job.State is JobState.Dead or JobState.Cancelled,
                JobsBulkAction.Cancel => job.State is not (JobState.Succeeded or JobState.Dead or JobState.Cancelled),
                _ => true,
            };
            if (applies)
            {
                ids.Add(job.Id);
            }
        }

        progress.Report(new BulkProgress(0, ids.Count));
        long done = 0;
        for (var i = 0; i < ids.Count; i++)
        {
            bool changed;
            try
            {
                changed = action switch
                {
                    JobsBulkAction.Retry => await admin.RetryAsync(ids[i], cancellationToken).ConfigureAwait(false),
                    JobsBulkAction.Cancel => await client.CancelAsync(ids[i], cancellationToken).ConfigureAwait(false),
                    _ => await admin.DeleteAsync(ids[i], cancellationToken).ConfigureAwait(false),
                };
            }
            catch (InvalidOperationException)
            {
                // The job moved on since it was listed (it finished, or someone else changed it): nothing to do.
                changed = false;
            }

            if (changed)
            {
                done++;
            }

            if ((i + 1) % 100 == 0 || i == ids.Count - 1)
            {
                progress.Report(new BulkProgress(done, ids.Count));
            }
        }

        return done;
    }

    private static async Task<bool> WriteLineAsync(HttpResponse response, BulkProgressDto progress)
    {
        try
        {
            var line = JsonSerializer.SerializeToUtf8Bytes(progress, AdminJsonContext.Default.BulkProgressDto);
            await response.Body.WriteAsync(line).ConfigureAwait(false);
            await response.Body.WriteAsync("\n"u8.ToArray()).ConfigureAwait(false);
            await response.Body.FlushAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }
    }

    private sealed class ChannelProgress(ChannelWriter<BulkProgress> writer) : IProgress<BulkProgress>
    {
        public void Report(BulkProgress value) => writer.TryWrite(value);
    }

    // ---- queues ----

    private static async Task<IResult> Queues(HttpContext context)
    {
        var queues = await Admin(context).GetQueuesAsync(context.RequestAborted).ConfigureAwait(false);
        IReadOnlyList<QueueDto> list = queues.Select(static q => new QueueDto(q.Name, q.Paused, q.Length,
            JobStates.All.ToDictionary(static s => s.ToString(), s => q.Counts.TryGetValue(s, out var n) ? n : 0))).ToList();
        return TypedResults.Json(list, AdminJsonContext.Default.IReadOnlyListQueueDto);
    }

    private static async Task<IResult> PauseQueue(HttpContext context)
    {
        var name = AdminInput.QueueName(context.Request.RouteValues["name"] as string, "name");
        await Admin(context).PauseQueueAsync(name, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new ChangedDto(true, null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<IResult> ResumeQueue(HttpContext context)
    {
        var name = AdminInput.QueueName(context.Request.RouteValues["name"] as string, "name");
        await Admin(context).ResumeQueueAsync(name, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new ChangedDto(true, null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<IResult> ClearQueue(HttpContext context)
    {
        var name = AdminInput.QueueName(context.Request.RouteValues["name"] as string, "name");
        var deleted = await Admin(context).ClearQueueAsync(name, context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new DeletedDto(deleted), AdminJsonContext.Default.DeletedDto);
    }

    // ---- schedules ----

    private static async Task<IResult> Schedules(HttpContext context)
    {
        var admin = Admin(context);
        var registered = admin.Tasks.Select(static t => t.Name).ToHashSet(StringComparer.Ordinal);
        var schedules = await context.RequestServices.GetRequiredService<IScheduleAdmin>().ListAsync(context.RequestAborted).ConfigureAwait(false);
        IReadOnlyList<ScheduleDto> list = schedules.Select(s => new ScheduleDto
        {
            Name = s.Name,
            Task = s.TaskName,
            Kind = s.Kind.ToString(),
            Cron = s.Cron,
            TimeZone = s.TimeZone,
            IntervalSeconds = s.Interval?.TotalSeconds,
            Paused = s.Paused,
            NextRunAt = s.NextRunAt,
            LastRunAt = s.LastRunAt,
            Declared = s.Declared,
            TaskRegistered = registered.Contains(s.TaskName),
        }).ToList();
        return TypedResults.Json(list, AdminJsonContext.Default.IReadOnlyListScheduleDto);
    }

    private static async Task<IResult> TriggerSchedule(HttpContext context)
    {
        var name = AdminInput.Name(context, "name");
        var schedules = context.RequestServices.GetRequiredService<IScheduleAdmin>();
        var schedule = await schedules.GetAsync(name, context.RequestAborted).ConfigureAwait(false)
                       ?? throw AdminProblemException.NotFound($"No schedule named '{name}' exists.");
        if (Admin(context).Tasks.Any(t => string.Equals(t.Name, schedule.TaskName, StringComparison.Ordinal)))
        {
            var id = await schedules.TriggerAsync(name, context.RequestAborted).ConfigureAwait(false)
                     ?? throw AdminProblemException.NotFound($"No schedule named '{name}' exists.");
            return TypedResults.Json(new TriggerDto(id.ToString(), false), AdminJsonContext.Default.TriggerDto);
        }

        // The task is not registered here: make the schedule due now, and a scheduler that knows the task fires it.
        if (!await schedules.RunNowAsync(name, context.RequestAborted).ConfigureAwait(false))
        {
            throw AdminProblemException.Conflict(
                $"The schedule '{name}' is paused and its task is not registered in this process: resume it first, or trigger it from a process that registers '{schedule.TaskName}'.");
        }

        return TypedResults.Json(new TriggerDto(null, true), AdminJsonContext.Default.TriggerDto);
    }

    private static async Task<IResult> PauseSchedule(HttpContext context)
    {
        var name = AdminInput.Name(context, "name");
        if (!await context.RequestServices.GetRequiredService<IScheduleAdmin>().PauseAsync(name, context.RequestAborted).ConfigureAwait(false))
        {
            throw AdminProblemException.NotFound($"No schedule named '{name}' exists.");
        }

        return TypedResults.Json(new ChangedDto(true, null), AdminJsonContext.Default.ChangedDto);
    }

    private static async Task<IResult> ResumeSchedule(HttpContext context)
    {
        var name = AdminInput.Name(context, "name");
        if (!await context.RequestServices.GetRequiredService<IScheduleAdmin>().ResumeAsync(name, context.RequestAborted).ConfigureAwait(false))
        {
            throw AdminProblemException.NotFound($"No schedule named '{name}' exists.");
        }

        return TypedResults.Json(new ChangedDto(true, null), AdminJsonContext.Default.ChangedDto);
    }

    // ---- workers, throughput, tasks ----

    private static async Task<IResult> Workers(HttpContext context)
    {
        var result = await Admin(context).GetWorkersAsync(context.RequestAborted).ConfigureAwait(false);
        var workers = result.Workers.Select(w => new WorkerDto
        {
            Id = w.Registration.Id,
            Host = w.Registration.Host,
            ProcessId = w.Registration.ProcessId,
            Queues = w.Registration.Queues,
            Tasks = w.Registration.Tasks,
            Concurrency = w.Registration.Concurrency,
            Running = w.Registration.Running,
            StartedAt = w.StartedAt,
            LastHeartbeatAt = w.LastHeartbeatAt,
            SecondsSinceHeartbeat = Math.Max(0, (result.Now - w.LastHeartbeatAt).TotalSeconds),
        }).ToList();
        return TypedResults.Json(new WorkersDto(result.Now, workers), AdminJsonContext.Default.WorkersDto);
    }

    private static async Task<IResult> Throughput(HttpContext context)
    {
        var minutes = AdminInput.Int(context.Request.Query, "minutes", 60, 1, 1440);
        var buckets = await Admin(context).GetThroughputAsync(TimeSpan.FromMinutes(minutes), context.RequestAborted).ConfigureAwait(false);
        return TypedResults.Json(new ThroughputDto(buckets.Select(static b => new ThroughputBucketDto(b.Minute, b.Succeeded, b.Failed)).ToList()),
            AdminJsonContext.Default.ThroughputDto);
    }

    private static Task<IResult> Tasks(HttpContext context)
    {
        var defaults = context.RequestServices.GetService<TypedJobsOptions>();
        IReadOnlyList<TaskDto> tasks = Admin(context).Tasks.Select(t => new TaskDto
        {
            Name = t.Name,
            Queue = t.Settings.Queue ?? defaults?.DefaultQueue ?? "default",
            Priority = t.Settings.Priority,
            MaxRetries = t.Settings.MaxRetries ?? defaults?.DefaultMaxRetries,
            HasResult = t.HasResult,
            HasSensitiveMembers = t.HasSensitiveMembers,
            Cron = t.Settings.Cron,
            TimeZone = t.Settings.TimeZone,
            IntervalSeconds = t.Settings.Interval?.TotalSeconds,
        }).ToList();
        return Task.FromResult<IResult>(TypedResults.Json(tasks, AdminJsonContext.Default.IReadOnlyListTaskDto));
    }

    private static async Task<IResult> Enqueue(HttpContext context)
    {
        var name = AdminInput.Name(context, "name");
        var admin = Admin(context);
        if (!admin.Tasks.Any(t => string.Equals(t.Name, name, StringComparison.Ordinal)))
        {
            throw AdminProblemException.NotFound($"No task named '{name}' is registered in this process; GET api/tasks lists those that are.");
        }

        var request = await ReadBodyAsync(context, AdminJsonContext.Default.EnqueueRequest).ConfigureAwait(false);
        if (request.Payload is not { ValueKind: JsonValueKind.Object } payload)
        {
            throw AdminProblemException.Invalid("payload", "'payload' must be a JSON object keyed by the task's parameter names, e.g. {\"to\":\"a@b.c\"}.");
        }

        if (request.Queue is not null)
        {
            AdminInput.QueueName(request.Queue, "queue");
        }

        if (request.Priority is { } priority && !Enum.IsDefined(priority))
        {
            throw AdminProblemException.Invalid("priority", "'priority' must be Low, Normal, High or Critical.");
        }

        if (request.DelaySeconds is { } delay && (double.IsNaN(delay) || delay < 0 || delay > TimeSpan.FromDays(3650).TotalSeconds))
        {
            throw AdminProblemException.Invalid("delaySeconds", "'delaySeconds' must be from 0 to 315360000 (ten years).");
        }

        if (request is { DelaySeconds: not null, RunAt: not null })
        {
            throw AdminProblemException.Invalid("runAt", "Set 'delaySeconds' or 'runAt', not both.");
        }

        if (request.MaxRetries is < 0 or > 1000)
        {
            throw AdminProblemException.Invalid("maxRetries", "'maxRetries' must be from 0 to 1000.");
        }

        AdminInput.CheckText(request.UniqueKey, "uniqueKey");
        var jobOptions = new JobOptions
        {
            Queue = request.Queue,
            Priority = request.Priority,
            Delay = request.DelaySeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
            RunAt = request.RunAt,
            MaxRetries = request.MaxRetries,
            UniqueKey = request.UniqueKey,
        };

        var bytes = System.Text.Encoding.UTF8.GetBytes(payload.GetRawText());
        JobId id;
        try
        {
            id = await context.RequestServices.GetRequiredService<IJobClient>()
                .EnqueueSerializedAsync(name, bytes, jobOptions, context.RequestAborted).ConfigureAwait(false);
        }
        catch (PayloadTooLargeException ex)
        {
            throw new AdminProblemException(StatusCodes.Status413PayloadTooLarge, "The payload is too large.", ex.Message);
        }
        catch (UnknownTaskException)
        {
            throw AdminProblemException.NotFound($"No task named '{name}' is registered in this process.");
        }
        catch (ArgumentException ex)
        {
            // The task's own serializer refused the payload; its message names the parameter, never a value.
            throw AdminProblemException.Invalid("payload", ex.Message);
        }

        return TypedResults.Json(new EnqueuedDto(id.ToString()), AdminJsonContext.Default.EnqueuedDto, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<T> ReadBodyAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            throw new AdminProblemException(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON.",
                "Send the body with Content-Type: application/json.");
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            throw new AdminProblemException(StatusCodes.Status413PayloadTooLarge, "The body is too large.", $"The body may have at most {MaxBodyBytes} bytes.");
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw new AdminProblemException(StatusCodes.Status413PayloadTooLarge, "The body is too large.", $"The body may have at most {MaxBodyBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return JsonSerializer.Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), typeInfo)
                   ?? throw AdminProblemException.Invalid("body", "The body must be a JSON object.");
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 0 } path ? $" at {path}" : "";
            throw AdminProblemException.Invalid("body", $"The body is not valid JSON for this request{where}.");
        }
    }

    internal static JobSummaryDto Summary(JobRecord job) => new()
    {
        Id = job.Id.ToString(),
        Task = job.TaskName,
        Queue = job.Queue,
        State = job.State,
        Priority = job.Priority,
        Attempt = job.Attempt,
        MaxRetries = job.MaxRetries,
        CreatedAt = job.CreatedAt,
        DueAt = job.DueAt,
        StartedAt = job.StartedAt,
        FinishedAt = job.FinishedAt,
        Progress = job.Progress,
        ProgressMessage = job.ProgressMessage,
        WorkerId = job.WorkerId,
        LastError = job.LastError,
    };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "TypedJobs admin request {Method} {Path} failed")]
        public static partial void UnexpectedError(ILogger logger, Exception exception, string method, string path);
    }
}
