using System.Collections.Concurrent;
using System.Globalization;
using TypedJobs;

namespace Shop;

/// <summary>What the mail task "sent".</summary>
public sealed class Mailbox
{
    public ConcurrentQueue<string> Sent { get; } = new();
}

/// <summary>Counts calls of the tasks that have no other visible effect.</summary>
public sealed class Calls
{
    private int count;

    public int Count => Volatile.Read(ref count);

    /// <summary>How many calls of <see cref="Billing.Charge"/> fail before one succeeds.</summary>
    public int FailFirst { get; set; }

    public int Next() => Interlocked.Increment(ref count);
}

/// <summary>Counts the hourly report's runs.</summary>
public sealed class Ticks
{
    private int count;

    public int Count => Volatile.Read(ref count);

    public void Next() => Interlocked.Increment(ref count);
}

public static class EmailTasks
{
    /// <summary>Sends the welcome mail.</summary>
    [Task(Queue = "emails", MaxRetries = 3)]
    public static void SendWelcome(string to, string name, [FromServices] Mailbox mailbox) => mailbox.Sent.Enqueue($"Welcome {name} <{to}>");

    /// <summary>Sends a digest of several topics.</summary>
    [Task(Queue = "emails")]
    public static void SendDigest(string to, IReadOnlyList<string> topics, [FromServices] Mailbox mailbox) =>
        mailbox.Sent.Enqueue($"Digest for {to}: {string.Join(", ", topics)}");
}

public static class Billing
{
    /// <summary>Charges an order; fails while <see cref="Calls.FailFirst"/> says so.</summary>
    [Task(MaxRetries = 3, RetryDelay = "00:01:00")]
    public static void Charge(int orderId, decimal amount, [FromServices] Calls calls)
    {
        if (calls.Next() <= calls.FailFirst)
        {
            throw new InvalidOperationException($"The card was declined for order {orderId.ToString(CultureInfo.InvariantCulture)} ({amount.ToString(CultureInfo.InvariantCulture)}).");
        }
    }

    /// <summary>Places an order and enqueues its charge.</summary>
    [Task]
    public static async Task PlaceOrder(int orderId, [FromServices] IJobClient jobs, CancellationToken cancellationToken) =>
        await jobs.EnqueueChargeAsync(orderId, 10m, cancellationToken: cancellationToken);
}

public static class Reports
{
    /// <summary>Runs at the top of every hour.</summary>
    [Task(Cron = "0 * * * *")]
    public static void Hourly([FromServices] Ticks ticks) => ticks.Next();
}

public static class MathTasks
{
    [Task]
    public static int Add(int a, int b) => a + b;

    /// <summary>Reports progress, honours cancellation and returns the attempt it ran as.</summary>
    [Task]
    public static async Task<int> Count(int upTo, JobContext context)
    {
        for (var i = 1; i <= upTo; i++)
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            await context.ReportProgressAsync((double)i / upTo, "step " + i.ToString(CultureInfo.InvariantCulture));
        }

        return context.Attempt;
    }
}
