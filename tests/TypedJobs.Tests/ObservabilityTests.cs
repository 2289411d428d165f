using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Diagnostics;
using TypedJobs.Events;
using TypedJobs.Registration;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class ObservabilityTests
{
    private sealed class RecordingObserver : IJobEventObserver
    {
        public ConcurrentQueue<JobEvent> Events { get; } = new();

        public ValueTask OnEventAsync(JobEvent jobEvent, CancellationToken cancellationToken)
        {
            Events.Enqueue(jobEvent);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class ThrowingObserver : IJobEventObserver
    {
        public ValueTask OnEventAsync(JobEvent jobEvent, CancellationToken cancellationToken) => throw new InvalidOperationException("observer bug");
    }

    private static JobTask<TestPayload> FailsOnce(string name) => Tasks.Create(name, (_, ctx) =>
        ctx.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : ValueTask.CompletedTask,
        new TaskSettings { RetryDelay = TimeSpan.FromSeconds(1) });

    [Fact]
    public async Task Observers_ReceiveTheLifecycleInOrder_AndAFailingObserverHarmsNothing()
    {
        var observer = new RecordingObserver();
        var task = FailsOnce("observed");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddObserver(new ThrowingObserver()).AddObserver(observer),
            options: o => o.RecordEvents = true);

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await host.WaitForStateAsync(id, JobState.Succeeded, () => host.Time.Advance(TimeSpan.FromMilliseconds(500)));
        await Eventually.TrueAsync(() => observer.Events.Any(e => e.Kind == JobEventKind.Succeeded), "succeeded event");

        var events = observer.Events.Where(e => e.JobId == id).ToArray();
        var kinds = events.Select(e => e.Kind).ToArray();
        // Enqueued comes from the enqueuing caller once the store confirmed the insert, so a fast worker's Started may
        // precede it. The worker's events of one attempt are in order; across attempts they may interleave: an attempt's
        // outcome events go out once the store applied it, and by then the job may be due and started again.
        Assert.Contains(JobEventKind.Enqueued, kinds);
        Assert.Equal([JobEventKind.Started, JobEventKind.Failed, JobEventKind.Retried],
            events.Where(e => e.Kind != JobEventKind.Enqueued && e.Attempt == 1).Select(e => e.Kind));
        Assert.Equal([JobEventKind.Started, JobEventKind.Succeeded], events.Where(e => e.Kind != JobEventKind.Enqueued && e.Attempt == 2).Select(e => e.Kind));
        var retried = observer.Events.Single(e => e.Kind == JobEventKind.Retried);
        Assert.Equal(1, retried.Attempt);
        Assert.Contains("first attempt fails", retried.Error);
        Assert.NotNull(retried.Delay);

        await Eventually.TrueAsync(async () => (await host.Admin.GetEventsAsync(id)).Count == 6, "recorded history");
        Assert.Equal(kinds.Order(), (await host.Admin.GetEventsAsync(id)).Select(e => e.Kind).Order());
    }

    [Fact]
    public async Task Metrics_AreEmittedForEveryOutcome()
    {
        var task = FailsOnce("metered");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));
        var meter = host.Services.GetRequiredService<TypedJobsMetrics>().Meter;
        var totals = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i.Name, value, tags));
        listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i.Name, 1, tags));
        listener.Start();

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await host.WaitForStateAsync(id, JobState.Succeeded, () => host.Time.Advance(TimeSpan.FromMilliseconds(500)));
        await Eventually.TrueAsync(() => totals.GetValueOrDefault("typedjobs.jobs.succeeded") == 1, "succeeded counter");

        Assert.Equal(TypedJobsDiagnostics.Name, meter.Name);
        Assert.Equal(1, totals["typedjobs.jobs.enqueued"]);
        Assert.Equal(2, totals["typedjobs.jobs.started"]);
        Assert.Equal(1, totals["typedjobs.jobs.failed"]);
        Assert.Equal(1, totals["typedjobs.jobs.retried"]);
        Assert.Equal(2, totals["typedjobs.job.duration"]);
        Assert.Equal(2, totals["typedjobs.job.wait_time"]);
        Assert.Equal(0, totals["typedjobs.jobs.running"]);

        void Record(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "typedjobs.task")
                {
                    Assert.Equal("metered", tag.Value);
                }
            }

            totals.AddOrUpdate(name, value, (_, v) => v + value);
        }
    }

    [Fact]
    public async Task Tracing_ContinuesTheEnqueuersTrace_InTheExecution()
    {
        var executed = new TaskCompletionSource<ActivityContext?>();
        var task = Tasks.Create("traced", (_, _) =>
        {
            executed.TrySetResult(Activity.Current?.Context);
            return ValueTask.CompletedTask;
        });
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is TypedJobsDiagnostics.Name or "test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var testSource = new ActivitySource("test");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        JobId id;
        ActivityTraceId traceId;
        using (var request = testSource.StartActivity("http request"))
        {
            traceId = request!.TraceId;
            id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        }

        var context = await executed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(traceId, context!.Value.TraceId);
        await Eventually.TrueAsync(() => stopped.Any(a => a.OperationName == "run traced" && a.TraceId == traceId), "run activity");
        var enqueue = stopped.Single(a => a.OperationName == "enqueue traced" && a.TraceId == traceId);
        var run = stopped.Single(a => a.OperationName == "run traced" && a.TraceId == traceId);
        Assert.Equal(ActivityKind.Producer, enqueue.Kind);
        Assert.Equal(ActivityKind.Consumer, run.Kind);
        Assert.Equal(enqueue.SpanId, run.ParentSpanId);
        Assert.Equal(id.ToString(), run.GetTagItem("typedjobs.job_id"));
    }
}
