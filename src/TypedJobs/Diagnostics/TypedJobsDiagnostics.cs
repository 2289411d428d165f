using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TypedJobs.Diagnostics;

/// <summary>The names of the meter and activity source TypedJobs reports to.</summary>
public static class TypedJobsDiagnostics
{
    /// <summary>The name of the <see cref="Meter"/> and <see cref="ActivitySource"/>: <c>TypedJobs</c>.</summary>
    public const string Name = "TypedJobs";

    internal static readonly ActivitySource ActivitySource = new(Name, typeof(TypedJobsDiagnostics).Assembly.GetName().Version?.ToString());
}

/// <summary>The instruments of the <c>TypedJobs</c> meter. Tags: <c>typedjobs.task</c>, <c>typedjobs.queue</c>.</summary>
internal sealed class TypedJobsMetrics
{
    public TypedJobsMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(TypedJobsDiagnostics.Name);
        Enqueued = Meter.CreateCounter<long>("typedjobs.jobs.enqueued", "{job}", "Jobs inserted (deduplicated enqueues not counted).");
        Started = Meter.CreateCounter<long>("typedjobs.jobs.started", "{job}", "Attempts started.");
        Succeeded = Meter.CreateCounter<long>("typedjobs.jobs.succeeded", "{job}", "Jobs that succeeded.");
        Failed = Meter.CreateCounter<long>("typedjobs.jobs.failed", "{job}", "Attempts that failed.");
        Retried = Meter.CreateCounter<long>("typedjobs.jobs.retried", "{job}", "Failed attempts scheduled for a retry.");
        Dead = Meter.CreateCounter<long>("typedjobs.jobs.dead", "{job}", "Jobs dead-lettered.");
        Cancelled = Meter.CreateCounter<long>("typedjobs.jobs.cancelled", "{job}", "Jobs cancelled.");
        Rescued = Meter.CreateCounter<long>("typedjobs.jobs.rescued", "{job}", "Jobs whose lease expired and were rescued.");
        Running = Meter.CreateUpDownCounter<long>("typedjobs.jobs.running", "{job}", "Attempts running in this process.");
        Duration = Meter.CreateHistogram<double>("typedjobs.job.duration", "s", "How long attempts ran.");
        WaitTime = Meter.CreateHistogram<double>("typedjobs.job.wait_time", "s", "Time from a job being due to its attempt starting.");
        EventsDropped = Meter.CreateCounter<long>("typedjobs.events.dropped", "{event}", "Lifecycle events dropped because observers or the events store fell behind.");
    }

    public Meter Meter { get; }

    public Counter<long> Enqueued { get; }

    public Counter<long> Started { get; }

    public Counter<long> Succeeded { get; }

    public Counter<long> Failed { get; }

    public Counter<long> Retried { get; }

    public Counter<long> Dead { get; }

    public Counter<long> Cancelled { get; }

    public Counter<long> Rescued { get; }

    public UpDownCounter<long> Running { get; }

    public Histogram<double> Duration { get; }

    public Histogram<double> WaitTime { get; }

    public Counter<long> EventsDropped { get; }

    public static TagList Tags(string task, string queue) => new()
    {
        { "typedjobs.task", task },
        { "typedjobs.queue", queue },
    };
}
