using Microsoft.Extensions.Logging;

namespace TypedJobs.Storage.Conformance;

/// <summary>
/// A logger that keeps every entry (level, event id, message) for a test to read, and can run an action after each
/// warning it records (a test that changes the world once the code under test has reported a problem).
/// </summary>
public sealed class RecordingLogger(Action? afterWarning = null) : ILogger
{
    private readonly List<(LogLevel Level, int EventId, string Message)> entries = [];

    /// <summary>What was logged so far, in order.</summary>
    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Entries
    {
        get
        {
            lock (entries)
            {
                return entries.ToList();
            }
        }
    }

    /// <summary>The messages of the warnings logged so far.</summary>
    public IReadOnlyList<string> Warnings => Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => true;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (entries)
        {
            entries.Add((logLevel, eventId.Id, formatter(state, exception)));
        }

        if (logLevel == LogLevel.Warning)
        {
            afterWarning?.Invoke();
        }
    }
}
