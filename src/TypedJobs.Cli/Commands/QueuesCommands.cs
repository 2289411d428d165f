using System.CommandLine;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;

namespace TypedJobs.Cli.Commands;

/// <summary><c>queues</c> (per-state counts as a table) and <c>queues pause|resume|clear NAME</c>.</summary>
internal static class QueuesCommands
{
    public static void AddTo(Command root, CliEnvironment environment)
    {
        var queues = new Command("queues", "Show every queue with its jobs per state; pause, resume or clear one");
        CliApp.SetAction(queues, environment, ListAsync);
        var list = new Command("list", "Show every queue with its jobs per state (the same as 'queues')");
        CliApp.SetAction(list, environment, ListAsync);
        queues.Add(list);

        queues.Add(Simple(environment, "pause", "Stop workers from claiming jobs of a queue (running jobs finish)", async (session, name, ct) =>
        {
            await session.Admin.PauseQueueAsync(name, ct).ConfigureAwait(false);
            return $"Paused queue {name}.";
        }));
        queues.Add(Simple(environment, "resume", "Let workers claim jobs of a paused queue again", async (session, name, ct) =>
        {
            await session.Admin.ResumeQueueAsync(name, ct).ConfigureAwait(false);
            return $"Resumed queue {name}.";
        }));

        var clearName = new Argument<string>("queue") { Description = "The queue" };
        var yes = new Option<bool>("--yes", "-y") { Description = "Do not ask for confirmation (needed without a terminal)" };
        var clear = new Command("clear", "Delete every waiting (scheduled or ready) job of a queue");
        clear.Add(clearName);
        clear.Add(yes);
        CliApp.SetAction(clear, environment, async context =>
        {
            var name = context.Value(clearName)!;
            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var queue = await FindAsync(session, name, context.CancellationToken).ConfigureAwait(false);
            Confirmation.Require(context, context.Value(yes), $"Delete {Formats.Number(queue.Length)} waiting job(s) of queue {name}?");
            var deleted = await session.Admin.ClearQueueAsync(name, context.CancellationToken).ConfigureAwait(false);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new ActionDocument("clear", queue.Length, deleted, [], []), CliJson.Relaxed.ActionDocument);
            }
            else
            {
                context.Output.Line($"Deleted {Formats.Number(deleted)} waiting job(s) of queue {name}.");
            }

            return ExitCodes.Ok;
        });
        queues.Add(clear);
        root.Add(queues);
    }

    private static async Task<int> ListAsync(CommandContext context)
    {
        await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
        var queues = await session.Admin.GetQueuesAsync(context.CancellationToken).ConfigureAwait(false);
        var entries = queues.Select(q => new QueueEntry(q.Name, q.Paused, q.Length, Formats.Counts(q.Counts))).ToList();
        if (context.Output.Json)
        {
            context.Output.WriteJson(new QueueListDocument(entries), CliJson.Relaxed.QueueListDocument);
            return ExitCodes.Ok;
        }

        if (entries.Count == 0)
        {
            context.Output.Line("No queues: no jobs and no paused queue.");
            return ExitCodes.Ok;
        }

        context.Output.Write(CountsTable(context.Output, entries.Select(e => (e.Name, e.Paused, e.Counts, (string?)null)), withRate: false));
        return ExitCodes.Ok;
    }

    /// <summary>The per-state table shared with <c>stats</c>.</summary>
    public static Spectre.Console.Table CountsTable(CliOutput output, IEnumerable<(string Name, bool Paused, StateCounts Counts, string? Rate)> rows, bool withRate)
    {
        string[] columns = ["Queue", "Paused", ">Scheduled", ">Ready", ">Running", ">Succeeded", ">Dead", ">Cancelled"];
        var table = output.NewTable(withRate ? [.. columns, ">Done/s"] : columns);
        foreach (var (name, paused, c, rate) in rows)
        {
            string[] cells = [name, paused ? "yes" : "", Formats.Number(c.Scheduled), Formats.Number(c.Ready), Formats.Number(c.Running),
                Formats.Number(c.Succeeded), Formats.Number(c.Dead), Formats.Number(c.Cancelled)];
            CliOutput.AddRow(table, withRate ? [.. cells, rate ?? ""] : cells);
        }

        return table;
    }

    /// <summary>The queue name rule of the client (1-100 letters, digits, '-', '_', '.' or ':'), so a typo is a usage error, not a new queue.</summary>
    private static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 100 && name.All(static c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private static async Task<TypedJobs.Storage.QueueInfo> FindAsync(StorageSession session, string name, CancellationToken ct)
    {
        var queues = await session.Admin.GetQueuesAsync(ct).ConfigureAwait(false);
        return queues.FirstOrDefault(q => string.Equals(q.Name, name, StringComparison.Ordinal))
               ?? throw CliException.Error($"queue {name} not found (no jobs, not paused)");
    }

    private static Command Simple(CliEnvironment environment, string verb, string description,
        Func<StorageSession, string, CancellationToken, Task<string>> body)
    {
        var name = new Argument<string>("queue") { Description = "The queue" };
        var command = new Command(verb, description);
        command.Add(name);
        CliApp.SetAction(command, environment, async context =>
        {
            var queue = context.Value(name)!;
            if (!IsValidName(queue))
            {
                throw CliException.Usage($"'{queue}' is not a valid queue name: use 1-100 characters of letters, digits, '-', '_', '.' or ':'");
            }

            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var message = await body(session, queue, context.CancellationToken).ConfigureAwait(false);
            if (!context.Output.Json)
            {
                context.Output.Line(message);
            }
            else
            {
                context.Output.WriteJson(new ActionDocument(verb, 1, 1, [], []), CliJson.Relaxed.ActionDocument);
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
