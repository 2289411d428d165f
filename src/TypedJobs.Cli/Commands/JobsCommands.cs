using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Commands;

/// <summary><c>jobs list|show|retry|cancel|delete</c>.</summary>
internal static class JobsCommands
{
    public static void AddTo(Command root, CliEnvironment environment)
    {
        var jobs = new Command("jobs", "List, inspect, retry, cancel and delete jobs");
        jobs.Add(List(environment));
        jobs.Add(Show(environment));
        jobs.Add(Action(environment, JobsBulkAction.Retry, "retry", "Return dead or cancelled jobs to their queue with fresh attempts"));
        jobs.Add(Action(environment, JobsBulkAction.Cancel, "cancel", "Cancel jobs that have not finished (a running job's token fires)"));
        jobs.Add(Action(environment, JobsBulkAction.Delete, "delete", "Delete jobs in any state, with their results"));
        root.Add(jobs);
    }

    private static Command List(CliEnvironment environment)
    {
        var filter = new JobFilterOptions();
        var limit = new Option<int>("--limit", "-n") { Description = "Page size (1-1000)", DefaultValueFactory = _ => 50 };
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the page that printed this cursor" };
        var command = new Command("list", "List jobs, newest first, with filters and cursor paging");
        filter.AddTo(command);
        command.Add(limit);
        command.Add(cursor);
        CliApp.SetAction(command, environment, async context =>
        {
            var size = context.Value(limit);
            if (size is < 1 or > 1000)
            {
                throw CliException.Usage($"--limit {size} is out of range: use 1 to 1000");
            }

            var query = new JobsListParams { Filter = filter.Read(context), Limit = size, Cursor = context.Value(cursor) };
            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var page = await session.Admin.ListJobsAsync(query, context.CancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new JobListDocument(page.Jobs.Select(Formats.Summary).ToList(), page.NextCursor), CliJson.Relaxed.JobListDocument);
                return ExitCodes.Ok;
            }

            var output = context.Output;
            if (page.Jobs.Count == 0)
            {
                output.Line($"No jobs match ({JobFilterOptions.Describe(query.Filter)}).");
                return ExitCodes.Ok;
            }

            var table = output.NewTable("ID", "Task", "Queue", "State", ">Attempt", "Created (UTC)", "Last error");
            foreach (var job in page.Jobs)
            {
                CliOutput.AddRow(table, job.Id.ToString(), job.TaskName, job.Queue, Formats.Name(job.State),
                    $"{job.Attempt}/{job.MaxRetries + 1}", Formats.Time(job.CreatedAt), Formats.Short(job.LastError));
            }

            output.Write(table);
            output.Line(page.NextCursor is { } next
                ? $"{page.Jobs.Count} jobs shown; next page: --cursor {next}"
                : $"{page.Jobs.Count} jobs.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(CliEnvironment environment)
    {
        var id = new Argument<string>("id") { Description = "The job's id" };
        var events = new Option<int>("--events") { Description = "The most recorded events to show", DefaultValueFactory = _ => 100 };
        var showPayload = new Option<bool>("--show-payload")
        {
            Description = "Print every payload value as stored, values of members marked [Sensitive] included. Without it, the values "
                          + "of members marked [Sensitive] (and of members holding one) print as \"***\", as the registered workers "
                          + "report them; a task no registered worker reports prints its member names with \"***\" for every value",
        };
        var command = new Command("show", "Show one job: its fields, payload (pretty-printed JSON; values of [Sensitive] members, and every value "
                                          + "of a task no registered worker reports, as \"***\"; see --show-payload), error, progress and event history");
        command.Add(id);
        command.Add(events);
        command.Add(showPayload);
        CliApp.SetAction(command, environment, async context =>
        {
            var jobId = Parsing.JobId(context.Value(id)!);
            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var job = await session.Client.GetJobAsync(jobId, context.CancellationToken).ConfigureAwait(false)
                      ?? throw CliException.Error($"job {jobId} not found");
            var history = await EventsAsync(session, jobId, Math.Clamp(context.Value(events), 1, 1000), context.CancellationToken).ConfigureAwait(false);
            var reveal = context.Value(showPayload);
            var classification = reveal ? PayloadView.Everything : await PayloadView.ClassifyAsync(session, job.TaskName, context.CancellationToken).ConfigureAwait(false);
            var shown = PayloadView.Show(job.Payload, job.TaskName, classification);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new JobDocument(Formats.Summary(job), shown.Json, shown.Json is null ? Convert.ToBase64String(shown.Raw) : null,
                    shown.Redacted, shown.Note, job.LeaseExpiresAt, job.TraceParent, history?.Select(Formats.Event).ToList() ?? []), CliJson.Relaxed.JobDocument);
                return ExitCodes.Ok;
            }

            PrintJob(context.Output, job, shown, history);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The job's recorded events, or null when no backend holds the events role.</summary>
    private static async Task<IReadOnlyList<Events.JobEvent>?> EventsAsync(StorageSession session, JobId id, int limit, CancellationToken cancellationToken)
    {
        try
        {
            return await session.Admin.GetEventsAsync(id, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void PrintJob(CliOutput output, JobRecord job, PayloadView.Shown payload, IReadOnlyList<Events.JobEvent>? history)
    {
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value));
            }
        }

        Row("ID", job.Id.ToString());
        Row("Task", job.TaskName);
        Row("Queue", job.Queue);
        Row("State", Formats.Name(job.State));
        Row("Priority", Formats.Name(job.Priority));
        Row("Attempt", $"{job.Attempt} of {job.MaxRetries + 1}");
        Row("Created", Formats.Time(job.CreatedAt) + " UTC");
        Row("Due", Formats.Time(job.DueAt) + " UTC");
        Row("Started", job.StartedAt is null ? null : Formats.Time(job.StartedAt) + " UTC");
        Row("Finished", job.FinishedAt is null ? null : Formats.Time(job.FinishedAt) + " UTC");
        Row("Lease until", job.LeaseExpiresAt is null ? null : Formats.Time(job.LeaseExpiresAt) + " UTC");
        Row("Worker", job.WorkerId);
        Row("Unique key", job.UniqueKey);
        Row("Progress", job.Progress is { } p
            ? $"{(p * 100).ToString("0.#", CultureInfo.InvariantCulture)}%{(job.ProgressMessage is { } m ? " — " + m : "")}"
            : null);
        Row("Trace", job.TraceParent);
        output.Write(grid);
        output.Line();
        output.Line(payload.Note is { } note ? $"Payload ({note}):" : "Payload:");
        output.Line(Formats.PayloadText(payload.Raw));
        if (job.LastError is { } error)
        {
            output.Line();
            output.Line("Last error:");
            output.Line(error, Color.Red);
        }

        output.Line();
        if (history is null)
        {
            output.Line("Events: no storage holds the events role.");
        }
        else if (history.Count == 0)
        {
            output.Line("Events: none recorded (workers record them with TypedJobs:RecordEvents = true).");
        }
        else
        {
            var table = output.NewTable("Time (UTC)", "Event", ">Attempt", "Worker", "Details");
            foreach (var e in history)
            {
                var details = e.Error is { } err ? Formats.Short(err, 80)
                    : e.Delay is { } delay ? "next in " + Formats.Duration(delay)
                    : e.Duration is { } took ? "took " + Formats.Duration(took)
                    : "";
                CliOutput.AddRow(table, Formats.Time(e.Timestamp), Formats.Name(e.Kind), e.Attempt.ToString(CultureInfo.InvariantCulture), e.WorkerId, details);
            }

            output.Line("Events:");
            output.Write(table);
        }
    }

    private static Command Action(CliEnvironment environment, JobsBulkAction action, string name, string description)
    {
        var ids = new Argument<string[]>("id") { Description = "Job ids; or leave them out and give a filter (or --all) to act on every matching job", Arity = ArgumentArity.ZeroOrMore };
        var filter = new JobFilterOptions();
        var all = new Option<bool>("--all") { Description = "Every job the action applies to (with no other filter)" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation (needed for a bulk action without a terminal)" };
        var command = new Command(name, description + "; by id, or in bulk over a filter with a confirmation and a progress bar");
        command.Add(ids);
        filter.AddTo(command);
        command.Add(all);
        command.Add(yes);
        CliApp.SetAction(command, environment, async context =>
        {
            var given = context.Value(ids) ?? [];
            var hasFilter = filter.Any(context);
            if (given.Length > 0 && (hasFilter || context.Value(all)))
            {
                throw CliException.Usage($"give job ids or a filter, not both (jobs {name} ID… or jobs {name} --state … / --all)");
            }

            if (given.Length == 0 && !hasFilter && !context.Value(all))
            {
                throw CliException.Usage($"give job ids, a filter (--state, --queue, --task, --text, --created-after, --created-before) or --all");
            }

            if (given.Length > 0)
            {
                var parsed = given.Select(Parsing.JobId).ToList();
                await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
                return await ByIdAsync(context, session, action, name, parsed).ConfigureAwait(false);
            }

            var jobFilter = filter.Read(context);
            await using (var session = await context.OpenSessionAsync().ConfigureAwait(false))
            {
                return await BulkAsync(context, session, action, name, jobFilter, context.Value(yes)).ConfigureAwait(false);
            }
        });
        return command;
    }

    private static async Task<int> ByIdAsync(CommandContext context, StorageSession session, JobsBulkAction action, string name, IReadOnlyList<JobId> ids)
    {
        var notFound = new List<string>();
        var skipped = new List<string>();
        var changed = 0;
        var ct = context.CancellationToken;
        foreach (var id in ids)
        {
            var job = await session.Client.GetJobAsync(id, ct).ConfigureAwait(false);
            if (job is null)
            {
                notFound.Add(id.ToString());
                context.Output.Error($"job {id} not found");
                continue;
            }

            var why = action switch
            {
                JobsBulkAction.Retry when job.State is not (JobState.Dead or JobState.Cancelled) => "only dead or cancelled jobs can be retried",
                JobsBulkAction.Cancel when job.State.IsFinished() => "it has finished",
                _ => null,
            };
            var done = why is null && action switch
            {
                JobsBulkAction.Retry => await session.Admin.RetryAsync(id, ct).ConfigureAwait(false),
                JobsBulkAction.Cancel => await session.Client.CancelAsync(id, ct).ConfigureAwait(false),
                _ => await session.Admin.DeleteAsync(id, ct).ConfigureAwait(false),
            };
            if (done)
            {
                changed++;
                if (!context.Output.Json)
                {
                    context.Output.Line($"{Past(action)} job {id}.");
                }
            }
            else
            {
                // Found a moment ago: either the rule above, or the job changed state in between.
                skipped.Add(id.ToString());
                context.Output.Error($"job {id} is {Formats.Name(job.State)}: not {Past(action).ToLowerInvariant()} ({why ?? "its state changed meanwhile"})");
            }
        }

        if (context.Output.Json)
        {
            context.Output.WriteJson(new ActionDocument(name, ids.Count, changed, notFound, skipped), CliJson.Relaxed.ActionDocument);
        }

        return notFound.Count + skipped.Count > 0 ? ExitCodes.Error : ExitCodes.Ok;
    }

    private static async Task<int> BulkAsync(CommandContext context, StorageSession session, JobsBulkAction action, string name, JobFilter filter, bool yes)
    {
        var ct = context.CancellationToken;
        var applicable = await ApplicableAsync(session.Admin, action, filter, ct).ConfigureAwait(false);
        var what = JobFilterOptions.Describe(filter);
        if (applicable == 0)
        {
            if (context.Output.Json)
            {
                context.Output.WriteJson(new ActionDocument(name, 0, 0, [], []), CliJson.Relaxed.ActionDocument);
            }
            else
            {
                context.Output.Line($"No jobs to {name} match ({what}).");
            }

            return ExitCodes.Ok;
        }

        Confirmation.Require(context, yes, $"{Verb(action)} {Formats.Number(applicable)} job(s) matching {what}?");
        long changed;
        if (context.Environment.OutputIsTerminal && !context.Output.Json)
        {
            changed = 0;
            await context.Output.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"{Verb(action)} {Formats.Number(applicable)} jobs", maxValue: applicable);
                    changed = await session.Admin.BulkAsync(action, filter, new Reporter(task), ct).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
        }
        else
        {
            changed = await session.Admin.BulkAsync(action, filter, null, ct).ConfigureAwait(false);
        }

        if (context.Output.Json)
        {
            context.Output.WriteJson(new ActionDocument(name, applicable, changed, [], []), CliJson.Relaxed.ActionDocument);
        }
        else
        {
            context.Output.Line($"{Past(action)} {Formats.Number(changed)} job(s) matching {what}.");
        }

        return ExitCodes.Ok;
    }

    /// <summary>How many matching jobs the action applies to (retry: dead and cancelled; cancel: unfinished; delete: all).</summary>
    private static async Task<long> ApplicableAsync(IJobAdmin admin, JobsBulkAction action, JobFilter filter, CancellationToken ct)
    {
        JobState[] states = action switch
        {
            JobsBulkAction.Retry => [JobState.Dead, JobState.Cancelled],
            JobsBulkAction.Cancel => [JobState.Scheduled, JobState.Ready, JobState.Running],
            _ => [],
        };
        if (states.Length == 0)
        {
            return await admin.CountJobsAsync(filter, ct).ConfigureAwait(false);
        }

        if (filter.State is { } state)
        {
            return states.Contains(state) ? await admin.CountJobsAsync(filter, ct).ConfigureAwait(false) : 0;
        }

        long total = 0;
        foreach (var s in states)
        {
            total += await admin.CountJobsAsync(filter with { State = s }, ct).ConfigureAwait(false);
        }

        return total;
    }

    private static string Verb(JobsBulkAction action) => action switch
    {
        JobsBulkAction.Retry => "Retry",
        JobsBulkAction.Cancel => "Cancel",
        _ => "Delete",
    };

    private static string Past(JobsBulkAction action) => action switch
    {
        JobsBulkAction.Retry => "Retried",
        JobsBulkAction.Cancel => "Cancelled",
        _ => "Deleted",
    };

    /// <summary>Moves the bar synchronously as each batch is reported (Progress&lt;T&gt; would post to the thread pool and lag).</summary>
    private sealed class Reporter(ProgressTask task) : IProgress<BulkProgress>
    {
        public void Report(BulkProgress value)
        {
            task.MaxValue = Math.Max(1, value.Total);
            task.Value = value.Done;
        }
    }
}
