using TypedJobs;

namespace AotWorker;

/// <summary>A line of an order.</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice);

/// <summary>An order: a record with nested collections, as a job payload.</summary>
public sealed record Order(Guid Id, string Customer, IReadOnlyList<OrderLine> Lines, Dictionary<string, string> Tags, DateTimeOffset PlacedAt);

/// <summary>The worker's tasks; the source generator emits their enqueue methods, serializers and registration.</summary>
public static class OrderTasks
{
    private static long processed;
    private static long ticks;
    private static long firstJobAt;

    /// <summary>How many orders were processed.</summary>
    public static long Processed => Interlocked.Read(ref processed);

    /// <summary>How many times the cron task ran.</summary>
    public static long Ticks => Interlocked.Read(ref ticks);

    /// <summary>When the first job of this process started (<see cref="Environment.TickCount64"/>), or 0.</summary>
    public static long FirstJobAt => Interlocked.Read(ref firstJobAt);

    /// <summary>Processes an order.</summary>
    /// <param name="order">The order.</param>
    /// <param name="priority">How urgent it is.</param>
    [Task(Queue = "orders", MaxRetries = 3)]
    public static void ProcessOrder(Order order, string priority = "normal")
    {
        Interlocked.CompareExchange(ref firstJobAt, Environment.TickCount64, 0);
        if (order.Lines.Count == 0 || priority.Length == 0)
        {
            throw new InvalidOperationException($"Order {order.Id} is empty.");
        }

        Interlocked.Increment(ref processed);
    }

    /// <summary>Computes an order's total; the value is stored as the job's result.</summary>
    [Task(Queue = "orders")]
    public static decimal OrderTotal(Order order)
    {
        Interlocked.CompareExchange(ref firstJobAt, Environment.TickCount64, 0);
        return order.Lines.Sum(l => l.Quantity * l.UnitPrice);
    }

    /// <summary>A recurring task: every second, on the second.</summary>
    [Task(Cron = "* * * * * *")]
    public static void Tick() => Interlocked.Increment(ref ticks);
}
