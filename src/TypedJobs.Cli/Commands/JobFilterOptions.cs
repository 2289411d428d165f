using System.CommandLine;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Commands;

/// <summary>The job filter options, the same criteria as the admin API's <see cref="JobFilter"/>.</summary>
internal sealed class JobFilterOptions
{
    public Option<string?> State { get; } = new("--state") { Description = "Only jobs in this state: " + string.Join(", ", Parsing.StateNames) };

    public Option<string?> Queue { get; } = new("--queue", "-q") { Description = "Only jobs of this queue" };

    public Option<string?> Task { get; } = new("--task", "-t") { Description = "Only jobs of this task (its stored name)" };

    public Option<string?> Text { get; } = new("--text") { Description = "Only jobs whose payload or last error contains this text (stores with text search)" };

    public Option<string?> CreatedAfter { get; } = new("--created-after") { Description = "Only jobs created at or after this instant (ISO 8601) or age (2h, 7d)", HelpName = "WHEN" };

    public Option<string?> CreatedBefore { get; } = new("--created-before") { Description = "Only jobs created before this instant (ISO 8601) or age (2h, 7d)", HelpName = "WHEN" };

    public void AddTo(Command command)
    {
        command.Add(State);
        command.Add(Queue);
        command.Add(Task);
        command.Add(Text);
        command.Add(CreatedAfter);
        command.Add(CreatedBefore);
    }

    /// <summary>Whether any criterion was given.</summary>
    public bool Any(CommandContext context) =>
        context.Value(State) is not null || context.Value(Queue) is not null || context.Value(Task) is not null
        || context.Value(Text) is not null || context.Value(CreatedAfter) is not null || context.Value(CreatedBefore) is not null;

    public JobFilter Read(CommandContext context)
    {
        var now = context.Environment.Time.GetUtcNow();
        return new JobFilter
        {
            State = context.Value(State) is { } state ? Parsing.State(state) : null,
            Queue = context.Value(Queue),
            TaskName = context.Value(Task),
            Text = context.Value(Text),
            CreatedAfter = context.Value(CreatedAfter) is { } after ? Parsing.Instant("--created-after", after, now) : null,
            CreatedBefore = context.Value(CreatedBefore) is { } before ? Parsing.Instant("--created-before", before, now) : null,
        };
    }

    /// <summary>The filter in words, for prompts and summaries.</summary>
    public static string Describe(JobFilter filter)
    {
        var parts = new List<string>();
        if (filter.State is { } s)
        {
            parts.Add("state=" + Output.Formats.Name(s));
        }

        if (filter.Queue is { } q)
        {
            parts.Add("queue=" + q);
        }

        if (filter.TaskName is { } t)
        {
            parts.Add("task=" + t);
        }

        if (filter.Text is { } x)
        {
            parts.Add($"text~'{x}'");
        }

        if (filter.CreatedAfter is { } a)
        {
            parts.Add("created>=" + Output.Formats.Time(a));
        }

        if (filter.CreatedBefore is { } b)
        {
            parts.Add("created<" + Output.Formats.Time(b));
        }

        return parts.Count == 0 ? "all jobs" : string.Join(" ", parts);
    }
}
