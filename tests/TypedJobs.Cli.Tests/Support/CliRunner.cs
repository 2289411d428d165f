using TypedJobs.Cli;
using TypedJobs.Cli.Infrastructure;

namespace TypedJobs.Cli.Tests.Support;

/// <summary>What one run of the tool printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs the real command tree in-process, with its own streams, variables and working directory.</summary>
public sealed class CliRunner
{
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    public Dictionary<string, string> Variables { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Pretend standard output is a terminal (colours unless NO_COLOR, progress bars, live tables).</summary>
    public bool Terminal { get; init; }

    /// <summary>What is typed on standard input; with it, standard input is a terminal.</summary>
    public string? Input { get; init; }

    /// <summary>This machine's clock as the tool sees it.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public async Task<CliResult> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            In = Input is null ? TextReader.Null : new StringReader(Input),
            OutputIsTerminal = Terminal,
            InputIsTerminal = Input is not null,
            Width = Terminal ? 200 : null,
            Variables = Variables,
            WorkingDirectory = WorkingDirectory,
            Time = Time,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var code = await CliApp.RunAsync(args, environment, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}

/// <summary>The system clock moved by a fixed offset: a machine whose clock is wrong.</summary>
public sealed class OffsetClock(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
