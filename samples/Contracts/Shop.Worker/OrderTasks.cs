using System.Globalization;
using Shop.Contracts;
using TypedJobs;

namespace Shop.Worker;

/// <summary>Counts the jobs this worker ran, so it can stop after a given number.</summary>
public sealed class Progress
{
    private int done;

    /// <summary>Completes when <see cref="Target"/> jobs have run.</summary>
    public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many jobs to run before <see cref="Finished"/> completes (0: never).</summary>
    public int Target { get; set; }

    /// <summary>Counts one job and prints what it did.</summary>
    /// <param name="line">What the job did.</param>
    public void Done(string line)
    {
        Console.WriteLine(line);
        if (Interlocked.Increment(ref done) == Target)
        {
            Finished.TrySetResult();
        }
    }
}

/// <summary>
/// The handlers of the order contract. The names, queues, retries and payloads come from <see cref="IOrderTasks"/>; this
/// class may add only run-time settings (here a timeout).
/// </summary>
/// <param name="progress">Where the worker counts its jobs.</param>
public sealed class OrderTasks(Progress progress) : IOrderTasks
{
    /// <inheritdoc />
    [Task(Timeout = "00:00:30")]
    public Task ConfirmOrder(Order order, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        progress.Done("confirmed " + order.Id + " to " + order.Customer);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<decimal> PriceOrder(Order order, int discountPercent = 0)
    {
        var total = order.Lines.Sum(static l => l.Quantity * l.UnitPrice) * (100 - discountPercent) / 100;
        progress.Done("priced " + order.Id + " at " + total.ToString("0.00", CultureInfo.InvariantCulture));
        return Task.FromResult(total);
    }
}
