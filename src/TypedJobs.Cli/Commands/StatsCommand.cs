using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// <c>stats</c>: queues per state, workers and the last minute's throughput; with <c>--watch</c> a live table that
/// refreshes every <c>--interval</c> (1 s) like <c>top</c>, until Ctrl+C or <c>--count</c> frames. Redirected or with
/// <c>--output json</c> each frame is printed in turn (JSON: one object per line).
/// </summary>
internal static class StatsCommand
{
    public static void AddTo(Command root, CliEnvironment environment)
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh until Ctrl+C (or --count frames)" };
        var interval = new Option<string>("--interval") { Description = "Time between frames with --watch (e.g. 1s, 500ms)", DefaultValueFactory = _ => "1s" };
        var count = new Option<int?>("--count") { Description = "Stop after this many frames" };
        var command = new Command("stats", "Queues per state, workers and throughput; --watch for a live view like top");
        command.Add(watch);
        command.Add(interval);
        command.Add(count);
        CliApp.SetAction(command, environment, async context =>
        {
            var every = Parsing.Duration("--interval", context.Value(interval)!);
            var frames = context.Value(count) ?? (context.Value(watch) ? int.MaxValue : 1);
            if (frames < 1)
            {
                throw CliException.Usage("--count must be at least 1");
            }

            await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
            var sampler = new Sampler(session, context);
            var live = context.Environment.OutputIsTerminal && !context.Output.Json && frames > 1;
            if (!live)
            {
                for (var frame = 0; frame < frames; frame++)
                {
                    if (frame > 0)
                    {
                        await WaitAsync(context, every).ConfigureAwait(false);
                    }

                    var document = await sampler.NextAsync().ConfigureAwait(false);
                    if (context.Output.Json)
                    {
                        context.Output.WriteJson(document, CliJsonLines.Relaxed.StatsDocument);
                    }
                    else
                    {
                        context.Output.Write(Render(context.Output, document));
                        context.Output.Line();
                    }
                }

                return ExitCodes.Ok;
            }

            var first = await sampler.NextAsync().ConfigureAwait(false);
            await context.Output.Console.Live(Render(context.Output, first)).AutoClear(false).StartAsync(async display =>
            {
                for (var frame = 1; frame < frames && !context.CancellationToken.IsCancellationRequested; frame++)
                {
                    await WaitAsync(context, every).ConfigureAwait(false);
                    display.UpdateTarget(Render(context.Output, await sampler.NextAsync().ConfigureAwait(false)));
                }
            }).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        root.Add(command);
    }

    private static Task WaitAsync(CommandContext context, TimeSpan interval) =>
        interval <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(interval, context.Environment.Time, context.CancellationToken);

    private static IRenderable Render(CliOutput output, StatsDocument d)
    {
        var header = $"TypedJobs  {d.Storage}  {Formats.Time(d.Time)} UTC  workers {d.Workers} (running {d.Running}/{d.Capacity})  "
                     + $"last minute: {Formats.Number(d.SucceededLastMinute)} succeeded, {Formats.Number(d.FailedLastMinute)} failed";
        var table = QueuesCommands.CountsTable(output,
            d.Queues.Select(q => (q.Name, q.Paused, q.Counts, (string?)(q.FinishedPerSecond is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) : ""))),
            withRate: true);
        return new Rows(new Text(header, new Style(decoration: Decoration.Bold)), table);
    }

    /// <summary>Reads one frame; the per-queue rate is finished jobs (succeeded, dead, cancelled) per second since the previous frame.</summary>
    private sealed class Sampler(StorageSession session, CommandContext context)
    {
        private Dictionary<string, long>? previous;
        private long previousStamp;

        public async Task<StatsDocument> NextAsync()
        {
            var ct = context.CancellationToken;
            var queues = await session.Admin.GetQueuesAsync(ct).ConfigureAwait(false);
            var workers = await session.Admin.GetWorkersAsync(ct).ConfigureAwait(false);
            var throughput = await session.Admin.GetThroughputAsync(TimeSpan.FromMinutes(2), ct).ConfigureAwait(false);
            var stamp = Stopwatch.GetTimestamp();
            var elapsed = previous is null ? 0 : Stopwatch.GetElapsedTime(previousStamp, stamp).TotalSeconds;
            var finished = new Dictionary<string, long>(StringComparer.Ordinal);
            var rows = new List<StatsQueue>();
            foreach (var q in queues)
            {
                var counts = Formats.Counts(q.Counts);
                var done = counts.Succeeded + counts.Dead + counts.Cancelled;
                finished[q.Name] = done;
                double? rate = previous is not null && elapsed > 0
                    ? Math.Max(0, done - previous.GetValueOrDefault(q.Name, done)) / elapsed
                    : null;
                rows.Add(new StatsQueue(q.Name, q.Paused, counts, rate));
            }

            previous = finished;
            previousStamp = stamp;

            // The last complete minute (the current one is still filling).
            var last = throughput.Count >= 2 ? throughput[^2] : throughput.Count == 1 ? throughput[0] : default;
            return new StatsDocument(workers.Now, session.Selection.Jobs.Redacted, workers.Workers.Count,
                workers.Workers.Sum(w => w.Registration.Running), workers.Workers.Sum(w => w.Registration.Concurrency),
                last.Succeeded, last.Failed, rows);
        }
    }
}
