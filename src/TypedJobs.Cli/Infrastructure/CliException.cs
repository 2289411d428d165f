namespace TypedJobs.Cli.Infrastructure;

/// <summary>The exit codes of the tool; scripts and deploy pipelines branch on them.</summary>
internal static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Something failed, including a job, queue or schedule that does not exist.</summary>
    public const int Error = 1;

    /// <summary>The command line is wrong, or a confirmation is needed and there is no terminal to ask.</summary>
    public const int Usage = 2;

    /// <summary>Action needed: pending migrations (<c>validate</c>, <c>migrate status</c>) or findings (<c>doctor</c>).</summary>
    public const int ActionNeeded = 3;
}

/// <summary>Ends a command with one clear error line and an exit code.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException Error(string message) => new(ExitCodes.Error, message);
}
