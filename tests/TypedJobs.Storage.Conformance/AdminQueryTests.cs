namespace TypedJobs.Storage.Conformance;

/// <summary>Reading jobs and queues: get, list with filters and cursor paging, per-state counts.</summary>
public abstract class AdminQueryTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private Task<JobsListResult> ListAsync(JobsListParams parameters) => Admin.JobsListAsync(parameters, Ct).AsTask();

    [Fact]
    public async Task Get_MissingJob_ReturnsNull()
    {
        await InsertOneAsync(NewJob());

        Assert.Null(await FindAsync(JobId.New()));
    }

    [Fact]
    public async Task List_ReturnsNewestFirst()
    {
        var ids = new List<JobId>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await InsertOneAsync(NewJob()));
        }

        var page = await ListAsync(new JobsListParams());

        Assert.Equal(Enumerable.Reverse(ids), page.Jobs.Select(j => j.Id));
        Assert.Null(page.NextCursor);
    }

    [Fact]
    public async Task List_FiltersByQueueStateAndTask()
    {
        var match = await InsertOneAsync(NewJob("a", "t1"));
        await InsertOneAsync(NewJob("a", "t2"));
        await InsertOneAsync(NewJob("b", "t1"));
        await InsertOneAsync(NewJob("a", "t1", delay: TimeSpan.FromMinutes(1)));

        var byAll = await ListAsync(new JobsListParams { Filter = new() { Queue = "a", TaskName = "t1", State = JobState.Ready } });
        var byQueue = await ListAsync(new JobsListParams { Filter = new() { Queue = "a" } });
        var byTask = await ListAsync(new JobsListParams { Filter = new() { TaskName = "t1" } });
        var none = await ListAsync(new JobsListParams { Filter = new() { Queue = "a", State = JobState.Dead } });

        Assert.Equal(match, Assert.Single(byAll.Jobs).Id);
        Assert.Equal(3, byQueue.Jobs.Count);
        Assert.Equal(3, byTask.Jobs.Count);
        Assert.Empty(none.Jobs);
    }

    [Fact]
    public async Task List_StateFilter_TreatsDueScheduledJobsAsReady()
    {
        var soon = await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(10)));
        var later = await InsertOneAsync(NewJob(delay: TimeSpan.FromHours(1)));
        Clock.Advance(TimeSpan.FromSeconds(10));

        var ready = await ListAsync(new JobsListParams { Filter = new() { State = JobState.Ready } });
        var scheduled = await ListAsync(new JobsListParams { Filter = new() { State = JobState.Scheduled } });

        Assert.Equal(soon, Assert.Single(ready.Jobs).Id);
        Assert.Equal(JobState.Ready, ready.Jobs[0].State);
        Assert.Equal(later, Assert.Single(scheduled.Jobs).Id);
    }

    [Fact]
    public async Task List_CursorPaging_VisitsEveryJobOnceAndEnds()
    {
        var ids = await InsertManyAsync(25);
        var seen = new List<JobId>();
        string? cursor = null;
        var pages = 0;

        do
        {
            var page = await ListAsync(new JobsListParams { Limit = 10, Cursor = cursor });
            Assert.True(page.Jobs.Count <= 10);
            seen.AddRange(page.Jobs.Select(j => j.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task List_CursorPaging_WithAFilter_SkipsOtherJobs()
    {
        var wanted = new List<JobId>();
        for (var i = 0; i < 9; i++)
        {
            var id = await InsertOneAsync(NewJob(i % 3 == 0 ? "wanted" : "other"));
            if (i % 3 == 0)
            {
                wanted.Add(id);
            }
        }

        var first = await ListAsync(new JobsListParams { Filter = new() { Queue = "wanted" }, Limit = 2 });
        var second = await ListAsync(new JobsListParams { Filter = new() { Queue = "wanted" }, Limit = 2, Cursor = first.NextCursor });

        Assert.NotNull(first.NextCursor);
        Assert.Equal(Enumerable.Reverse(wanted), first.Jobs.Concat(second.Jobs).Select(j => j.Id));
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task List_NewJobsAfterTheFirstPage_DoNotShiftLaterPages()
    {
        var ids = await InsertManyAsync(4);
        var first = await ListAsync(new JobsListParams { Limit = 2 });
        await InsertManyAsync(3);

        var second = await ListAsync(new JobsListParams { Limit = 2, Cursor = first.NextCursor });

        Assert.Equal([ids[1], ids[0]], second.Jobs.Select(j => j.Id));
        Assert.Null(second.NextCursor);
    }

    [Fact]
    public async Task List_CursorNotIssuedByTheStore_IsRejected()
    {
        await InsertManyAsync(2);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
            await Admin.JobsListAsync(new JobsListParams { Cursor = "not a cursor" }, Ct));
    }

    [Fact]
    public async Task QueuesList_CountsEveryStatePerQueue()
    {
        await InsertOneAsync(NewJob("q", delay: TimeSpan.FromHours(1)));
        await InsertManyAsync(2, "q");
        await InsertOneAsync(NewJob("q", priority: Priority.Critical));
        await InsertOneAsync(NewJob("q", priority: Priority.Critical));
        await ClaimAsync(2, "q");
        await FinishedJobAsync(JobState.Succeeded, "s");
        await FinishedJobAsync(JobState.Dead, "s");
        await FinishedJobAsync(JobState.Cancelled, "s");
        await FinishedJobAsync(JobState.Cancelled, "s");

        var q = await QueueAsync("q");
        var s = await QueueAsync("s");

        Assert.Equal(JobStates.All.ToDictionary(x => x, x => x switch
        {
            JobState.Scheduled => 1L,
            JobState.Ready => 2L,
            JobState.Running => 2L,
            _ => 0L,
        }), q!.Counts);
        Assert.Equal(3, q.Length);
        Assert.False(q.Paused);
        Assert.Equal(JobStates.All.ToDictionary(x => x, x => x switch
        {
            JobState.Succeeded => 1L,
            JobState.Dead => 1L,
            JobState.Cancelled => 2L,
            _ => 0L,
        }), s!.Counts);
    }

    [Fact]
    public async Task QueuesList_ScheduledJobPastItsDueTime_CountsAsReady()
    {
        await InsertOneAsync(NewJob(delay: TimeSpan.FromSeconds(5)));
        var before = await QueueAsync("default");
        Clock.Advance(TimeSpan.FromSeconds(5));

        var after = await QueueAsync("default");

        Assert.Equal(1, before!.Counts[JobState.Scheduled]);
        Assert.Equal(0, after!.Counts[JobState.Scheduled]);
        Assert.Equal(1, after.Counts[JobState.Ready]);
    }

    [Fact]
    public async Task QueuesList_IsSortedByName_AndOmitsQueuesWithoutJobs()
    {
        await InsertOneAsync(NewJob("b"));
        await InsertOneAsync(NewJob("a"));
        var gone = await InsertOneAsync(NewJob("c"));
        await InsertOneAsync(NewJob("B"));
        await DeleteJobAsync(gone);

        var names = (await QueuesAsync()).Select(q => q.Name);

        Assert.Equal(["B", "a", "b"], names);
    }
}
