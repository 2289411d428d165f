using System.CommandLine;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// <c>schedules list|trigger|pause|resume</c>. The tool registers no tasks, so <c>trigger</c> makes the schedule due now
/// (<see cref="IScheduleAdmin.RunNowAsync"/>): the next scheduler pass of a worker that knows the task enqueues one
/// occurrence, and the schedule then goes on as before.
/// </summary>
internal static class SchedulesCommands
{
    public static void AddTo(Command root, CliEnvironment environment)
    {
        var schedules = new Command("schedules", "List schedules with their next and last run; trigger, pause or resume one");
        var list = new Command("list", "List every schedule with its timing, next and last run");
        CliApp.SetAction(list, environment, ListAsync);
        schedules.Add(list);
        schedules.Add(Named(environment, "trigger", "Run a schedule now: a worker that knows its task enqueues one occurrence at its next scheduler pass",
            async (admin, name, ct) => await admin.RunNowAsync(name, ct).ConfigureAwait(false),
            name => $"Triggered schedule {name}: a worker that knows its task enqueues it at its next scheduler pass.",
            "it is paused: resume it first"));
        schedules.Add(Named(environment, "pause", "Pause a schedule (survives restarts)",
            async (admin, name, ct) => await admin.PauseAsync(name, ct).ConfigureAwait(false), name => $"Paused schedule {name}.", null));
        schedules.Add(Named(environment, "resume", "Resume a paused schedule (occurrences missed while paused are skipped)",
            async (admin, name, ct) => await admin.ResumeAsync(name, ct).ConfigureAwait(false), name => $"Resumed schedule {name}.", null));
        root.Add(schedules);
    }

    private static async Task<int> ListAsync(CommandContext context)
    {
        await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
        var schedules = await session.Schedules.ListAsync(context.CancellationToken).ConfigureAwait(false);
        if (context.Output.Json)
        {
            context.Output.WriteJson(new ScheduleListDocument(schedules.Select(s => new ScheduleEntry(s.Name, s.TaskName, Formats.Name(s.Kind), s.Cron,
                s.TimeZone, s.Interval?.TotalSeconds, s.Paused, s.NextRunAt, s.LastRunAt, s.Declared)).ToList()), CliJson.Relaxed.ScheduleListDocument);
            return ExitCodes.Ok;
        }

        if (schedules.Count == 0)
        {
            context.Output.Line("No schedules.");
            return ExitCodes.Ok;
        }

        var table = context.Output.NewTable("Name", "Task", "Timing", "Paused", "Next run (UTC)", "Last run (UTC)");
        foreach (var s in schedules)
        {
            var timing = s.Kind switch
            {
                ScheduleKind.Cron => s.Cron + (s.TimeZone is { } zone ? $" ({zone})" : ""),
                ScheduleKind.Interval => "every " + Formats.Duration(s.Interval),
                _ => "once",
            };
            CliOutput.AddRow(table, s.Name, s.TaskName, timing, s.Paused ? "yes" : "", Formats.Time(s.NextRunAt), Formats.Time(s.LastRunAt));
        }

        context.Output.Write(table);
        return ExitCodes.Ok;
    }

    private static Command Named(CliEnvironment environment, string verb, string description, Func<IScheduleAdmin, string, CancellationToken, Task<bool>> act,
        Func<string, string> done, string? whyRefusedWhenPaused)
    {
        var name = new Argument<string>("name") { Description = "The schedule's name" };
        var command = new Command(verb, description);
        command.Add(name);
        CliApp.SetAction(command, environment, async context =>
        {
            var schedule = context.Value(name)!;
            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var info = await session.Schedules.GetAsync(schedule, context.CancellationToken).ConfigureAwait(false)
                       ?? throw CliException.Error($"schedule {schedule} not found");
            if (info.Paused && whyRefusedWhenPaused is not null)
            {
                throw CliException.Error($"schedule {schedule} not triggered: {whyRefusedWhenPaused}");
            }

            if (!await act(session.Schedules, schedule, context.CancellationToken).ConfigureAwait(false))
            {
                throw CliException.Error($"schedule {schedule} not found");
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(new ActionDocument(verb, 1, 1, [], []), CliJson.Relaxed.ActionDocument);
            }
            else
            {
                context.Output.Line(done(schedule));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
