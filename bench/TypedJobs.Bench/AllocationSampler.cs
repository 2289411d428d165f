using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace TypedJobs.Bench;

/// <summary>
/// What the timed drain allocates, by type (<c>--allocations N</c>): the runtime reports a sample about every 100 KB a
/// thread allocates, naming the type of the object that crossed the mark, so over tens of megabytes the sampled bytes per
/// type approach the real split. Only the drain of the measured round counts (not warm-up rounds, enqueue or latency
/// samples); after each TypedJobs row the top types are printed as estimated bytes per job.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private static AllocationSampler? instance;
    private readonly ConcurrentDictionary<string, long> bytes = new(StringComparer.Ordinal);
    private volatile bool armed;
    private volatile bool counting;
    private int jobs;

    /// <summary>How many types each report lists; 0 turns sampling off.</summary>
    public static int Top { get; private set; }

    /// <summary>Starts listening (once per process) when <paramref name="top"/> is above 0.</summary>
    public static void Enable(int top)
    {
        Top = top;
        if (top > 0)
        {
            instance ??= new AllocationSampler();
        }
    }

    /// <summary>The next drain is the measured one: count it.</summary>
    public static void Arm()
    {
        if (instance is { } s)
        {
            s.bytes.Clear();
            s.armed = true;
        }
    }

    /// <summary>The drain starts (counted only when armed).</summary>
    public static void DrainStarting()
    {
        if (instance is { armed: true } s)
        {
            s.counting = true;
        }
    }

    /// <summary>The drain ended after <paramref name="processed"/> jobs: stop counting and disarm.</summary>
    public static void DrainEnded(int processed)
    {
        if (instance is { } s && s.counting)
        {
            s.counting = false;
            s.armed = false;
            s.jobs = processed;
        }
    }

    /// <summary>Prints the top types of the last measured drain as bytes per job processed in it.</summary>
    public static void Print(string row)
    {
        if (instance is not { jobs: > 0 } s)
        {
            return;
        }

        double jobs = s.jobs;
        s.jobs = 0;

        var total = s.bytes.Values.Sum();
        Console.WriteLine($"  allocations in the drain of {row} (sampled, ~{total / jobs:N0} bytes/job):");
        foreach (var (type, sampled) in s.bytes.OrderByDescending(p => p.Value).Take(Top))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {sampled / jobs,8:N1} bytes/job  {type}"));
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // The GC keyword at verbose level carries GCAllocationTick.
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!counting || eventData.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) ||
            eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var typeIndex = names.IndexOf("TypeName");
        var amountIndex = names.IndexOf("AllocationAmount64");
        if (typeIndex < 0 || amountIndex < 0 || payload[typeIndex] is not string type)
        {
            return;
        }

        var amount = Convert.ToInt64(payload[amountIndex], CultureInfo.InvariantCulture);
        bytes.AddOrUpdate(type, amount, (_, v) => v + amount);
    }
}
