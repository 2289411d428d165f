using TypedJobs.Events;

namespace TypedJobs.Storage.Conformance;

/// <summary>The events role: an append-only history of lifecycle events.</summary>
public abstract class EventTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private JobEvent Event(JobId job, JobEventKind kind, int attempt = 1, DateTimeOffset? at = null) => new()
    {
        Kind = kind,
        JobId = job,
        TaskName = "task",
        Queue = "default",
        Attempt = attempt,
        Timestamp = at ?? Now,
    };

    [Fact]
    public async Task Append_ThenList_ReturnsEveryFieldOldestFirst()
    {
        var job = JobId.New();
        var failed = Event(job, JobEventKind.Failed) with
        {
            Error = "boom\nat line 2 — ü",
            WorkerId = "w-1",
            Duration = TimeSpan.FromMilliseconds(1234.5),
        };
        var retried = Event(job, JobEventKind.Retried, at: Now.AddSeconds(1)) with { Delay = TimeSpan.FromSeconds(30) };
        var enqueued = Event(job, JobEventKind.Enqueued, 0, Now.AddSeconds(-1));

        await Events.EventsAppendAsync(new EventsAppendParams([enqueued]), Ct);
        await Events.EventsAppendAsync(new EventsAppendParams([failed, retried]), Ct);
        var list = (await Events.EventsListAsync(new EventsListParams(), Ct)).Events;

        Assert.Equal([enqueued, failed, retried], list);
    }

    [Fact]
    public async Task List_FiltersByJob()
    {
        var a = JobId.New();
        var b = JobId.New();
        await Events.EventsAppendAsync(new EventsAppendParams([Event(a, JobEventKind.Enqueued), Event(b, JobEventKind.Enqueued), Event(a, JobEventKind.Started)]), Ct);

        var list = (await Events.EventsListAsync(new EventsListParams(a), Ct)).Events;

        Assert.Equal([JobEventKind.Enqueued, JobEventKind.Started], list.Select(e => e.Kind));
        Assert.All(list, e => Assert.Equal(a, e.JobId));
    }

    [Fact]
    public async Task List_ReturnsAtMostLimit_OldestFirst()
    {
        var job = JobId.New();
        await Events.EventsAppendAsync(new EventsAppendParams(Enumerable.Range(0, 5).Select(i => Event(job, JobEventKind.Started, i)).ToArray()), Ct);

        var list = (await Events.EventsListAsync(new EventsListParams(Limit: 3), Ct)).Events;

        Assert.Equal([0, 1, 2], list.Select(e => e.Attempt));
    }

    [Fact]
    public async Task Prune_DeletesEventsOlderThanTheAge_AtMostMaxPerCall()
    {
        var job = JobId.New();
        await Events.EventsAppendAsync(new EventsAppendParams(
            [Event(job, JobEventKind.Enqueued, at: Now.AddHours(-3)), Event(job, JobEventKind.Started, at: Now.AddHours(-2)),
                Event(job, JobEventKind.Failed, at: Now.AddHours(-1)), Event(job, JobEventKind.Succeeded)]), Ct);

        var first = await Events.EventsPruneAsync(new EventsPruneParams(TimeSpan.FromMinutes(30), Max: 2), Ct);
        var second = await Events.EventsPruneAsync(new EventsPruneParams(TimeSpan.FromMinutes(30), Max: 2), Ct);
        var list = (await Events.EventsListAsync(new EventsListParams(job), Ct)).Events;

        Assert.Equal((2, 1), (first.Deleted, second.Deleted));
        Assert.Equal(JobEventKind.Succeeded, Assert.Single(list).Kind);
    }
}
