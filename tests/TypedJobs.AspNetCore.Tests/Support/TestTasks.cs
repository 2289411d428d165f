using TypedJobs;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>A customer card; its number is sensitive.</summary>
/// <param name="Holder">The holder.</param>
/// <param name="Number">The card number.</param>
public sealed record Card(string Holder, [Sensitive] string Number);

/// <summary>Releases jobs of <see cref="TestTasks.Hold"/> when a test says so.</summary>
public sealed class Gate
{
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => released.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => released.Task.WaitAsync(cancellationToken);
}

/// <summary>Tasks the admin API tests run and inspect.</summary>
public static class TestTasks
{
    /// <summary>Charges a card; succeeds.</summary>
    [Task(Name = "tests.charge")]
    public static void Charge(string customer, [Sensitive] string password, Card card, decimal amount)
    {
    }

    /// <summary>Fails for good, so the job is dead.</summary>
    [Task(Name = "tests.fail", MaxRetries = 0)]
    public static void Fail(string reason) => throw new PermanentJobFailureException("failed on purpose: " + reason);

    /// <summary>Runs until the test releases the gate (or the job is cancelled).</summary>
    [Task(Name = "tests.hold")]
    public static async Task Hold(string label, [FromServices] Gate gate, JobContext context)
    {
        await context.ReportProgressAsync(0.25, "holding " + label);
        gate.Started.TrySetResult();
        await gate.WaitAsync(context.CancellationToken);
    }

    /// <summary>A recurring task.</summary>
    [Task(Name = "tests.nightly", Cron = "0 3 * * *")]
    public static void Nightly()
    {
    }
}
