namespace TypedJobs.Testing;

/// <summary>
/// Thrown by the assertions of <see cref="JobTestKit"/> when what was enqueued is not what the test expects. The message
/// names the task, the expected arguments or condition, and every job of the task that was found, with its payload.
/// Test frameworks report it as a failure like their own assertion exceptions.
/// </summary>
public sealed class JobAssertionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public JobAssertionException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public JobAssertionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public JobAssertionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
