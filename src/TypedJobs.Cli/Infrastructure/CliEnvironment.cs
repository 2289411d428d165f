using System.Collections;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>
/// What one run of the tool sees of the world: its streams, whether they are terminals, the environment variables and
/// the working directory. The process entry point takes them from the process; tests hand in their own, so commands run
/// in-process with no global state.
/// </summary>
internal sealed class CliEnvironment
{
    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>Whether standard output is a terminal (colours, live tables and progress bars only then).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>Whether standard input is a terminal (the only case in which the tool asks for a confirmation).</summary>
    public bool InputIsTerminal { get; init; }

    /// <summary>The terminal's width, when known.</summary>
    public int? Width { get; init; }

    public IReadOnlyDictionary<string, string> Variables { get; init; } = new Dictionary<string, string>();

    public required string WorkingDirectory { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Colours only on a terminal, and never when <c>NO_COLOR</c> is set to anything (https://no-color.org).</summary>
    public bool Color => OutputIsTerminal && string.IsNullOrEmpty(Variable("NO_COLOR"))
        && !string.Equals(Variable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Whether a question can be asked and answered.</summary>
    public bool CanPrompt => InputIsTerminal && OutputIsTerminal;

    public string? Variable(string name) => Variables.TryGetValue(name, out var value) ? value : null;

    public static CliEnvironment FromProcess()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                variables[key] = value;
            }
        }

        var terminal = !Console.IsOutputRedirected;
        return new CliEnvironment
        {
            Out = Console.Out,
            Error = Console.Error,
            In = Console.In,
            OutputIsTerminal = terminal,
            InputIsTerminal = !Console.IsInputRedirected,
            Width = terminal ? SafeWidth() : null,
            Variables = variables,
            WorkingDirectory = Directory.GetCurrentDirectory(),
        };
    }

    private static int? SafeWidth()
    {
        try
        {
            return Console.WindowWidth > 0 ? Console.WindowWidth : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
