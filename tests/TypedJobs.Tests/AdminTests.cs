using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class AdminTests
{
    private static readonly JobTask<TestPayload> Noop = Tasks.Create("noop", (_, _) => ValueTask.CompletedTask);

    [Fact]
    public async Task ListJobs_FiltersAndPagesNewestFirst()
    {
        await using var host = await TestHost.StartAsync(b => b.AddTask(Noop), startWorker: false);
        var mail = await host.Client.EnqueueBatchAsync(Noop, Enumerable.Range(0, 7).Select(i => new TestPayload("m", i)), new JobOptions { Queue = "mail" });
        await host.Client.EnqueueBatchAsync(Noop, Enumerable.Range(0, 3).Select(i => new TestPayload("o", i)), new JobOptions { Queue = "other" });

        var seen = new List<JobId>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await host.Admin.ListJobsAsync(new JobsListParams { Filter = new() { Queue = "mail" }, Limit = 3, Cursor = cursor });
            Assert.All(page.Jobs, j => Assert.Equal("mail", j.Queue));
            seen.AddRange(page.Jobs.Select(j => j.Id));
            cursor = page.NextCursor;
            pages++;
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(mail.Reverse(), seen);
        var ready = await host.Admin.ListJobsAsync(new JobsListParams { Filter = new() { State = JobState.Ready }, Limit = 100 });
        Assert.Equal(10, ready.Jobs.Count);
        Assert.Empty((await host.Admin.ListJobsAsync(new JobsListParams { Filter = new() { State = JobState.Dead } })).Jobs);
        Assert.Empty((await host.Admin.ListJobsAsync(new JobsListParams { Filter = new() { TaskName = "other-task" } })).Jobs);
    }

    [Fact]
    public async Task Queues_ReportLengthsAndPerStateCounts_AndClearRemovesWaitingJobs()
    {
        await using var host = await TestHost.StartAsync(b => b.AddTask(Noop), startWorker: false);
        await host.Client.EnqueueBatchAsync(Noop, Enumerable.Range(0, 4).Select(i => new TestPayload("a", i)), new JobOptions { Queue = "a" });
        await host.Client.EnqueueAsync(Noop, new TestPayload("a"), new JobOptions { Queue = "a", Delay = TimeSpan.FromHours(1) });
        await host.Client.EnqueueAsync(Noop, new TestPayload("b"), new JobOptions { Queue = "b" });

        var queues = await host.Admin.GetQueuesAsync();

        Assert.Equal(["a", "b"], queues.Select(q => q.Name));
        Assert.Equal(5, queues[0].Length);
        Assert.Equal(4, queues[0].Counts[JobState.Ready]);
        Assert.Equal(1, queues[0].Counts[JobState.Scheduled]);
        Assert.Equal(0, queues[0].Counts[JobState.Dead]);

        Assert.Equal(5, await host.Admin.ClearQueueAsync("a"));
        queues = await host.Admin.GetQueuesAsync();
        Assert.Equal("b", Assert.Single(queues).Name);
    }

    [Fact]
    public async Task RetryDeleteAndPrune_WorkOnFinishedJobs()
    {
        var fail = true;
        var task = Tasks.Create("flaky", (_, _) => fail ? throw new InvalidOperationException("down") : ValueTask.CompletedTask,
            new TaskSettings { MaxRetries = 0 });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));

        var id = await host.Client.EnqueueAsync(task, new TestPayload("x"));
        await host.WaitForStateAsync(id, JobState.Dead);
        Assert.False(await host.Admin.RetryAsync(JobId.New()));

        fail = false;
        Assert.True(await host.Admin.RetryAsync(id));
        var done = await host.WaitForStateAsync(id, JobState.Succeeded);
        Assert.Equal(1, done.Attempt);
        Assert.False(await host.Admin.RetryAsync(id));

        host.Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await host.Admin.PruneAsync([JobState.Succeeded], TimeSpan.FromHours(3)));
        Assert.Equal(1, await host.Admin.PruneAsync([JobState.Succeeded], TimeSpan.FromHours(1)));
        Assert.Null(await host.Client.GetJobAsync(id));
        await Assert.ThrowsAsync<ArgumentException>(async () => await host.Admin.PruneAsync([JobState.Ready], TimeSpan.Zero));
        // Ages past a century are refused before any store is asked (a database cannot subtract 10,000 years from its clock).
        var age = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await host.Admin.PruneAsync([JobState.Dead], TimeSpan.FromDays(40_000)));
        Assert.Contains("36525 days", age.Message);

        var other = await host.Client.EnqueueAsync(task, new TestPayload("y"), new JobOptions { Delay = TimeSpan.FromHours(1) });
        Assert.True(await host.Admin.DeleteAsync(other));
        Assert.False(await host.Admin.DeleteAsync(other));
        await Assert.ThrowsAsync<JobCancelledException>(async () => await host.Client.WaitForCompletionAsync(other));
    }

    [Fact]
    public async Task Locks_AreExclusiveUntilReleasedOrExpired()
    {
        await using var host = await TestHost.StartAsync(_ => { }, startWorker: false);

        Assert.True(await host.Admin.TryAcquireLockAsync("nightly", "a", TimeSpan.FromMinutes(1)));
        Assert.False(await host.Admin.TryAcquireLockAsync("nightly", "b", TimeSpan.FromMinutes(1)));
        Assert.True(await host.Admin.TryAcquireLockAsync("nightly", "a", TimeSpan.FromMinutes(1)));
        Assert.False(await host.Admin.ReleaseLockAsync("nightly", "b"));

        host.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.True(await host.Admin.TryAcquireLockAsync("nightly", "b", TimeSpan.FromMinutes(1)));
        Assert.True(await host.Admin.ReleaseLockAsync("nightly", "b"));
        Assert.True(await host.Admin.TryAcquireLockAsync("nightly", "a", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task InvalidOptions_StopStartup_NamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o =>
        {
            o.UseInMemory();
            o.DefaultQueue = "has space";
            o.MaxPayloadBytes = 0;
        });
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("TypedJobs:DefaultQueue = 'has space'", ex.Message);
        Assert.Contains("TypedJobs:MaxPayloadBytes", ex.Message);
    }

    [Fact]
    public async Task MissingStorage_StopsStartup_WithTheWayOut()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("UseInMemory()", ex.Message);
    }

    [Fact]
    public async Task InvalidWorkerOptions_StopStartup_NamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker(w => w.Concurrency = 0);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("TypedJobs:Worker:Concurrency", ex.Message);
    }

    [Fact]
    public async Task DuplicateTaskNames_AreRejected()
    {
        var a = Tasks.Create("same", (_, _) => ValueTask.CompletedTask);
        var b = Tasks.Create("same", (_, _) => ValueTask.CompletedTask);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddTask(a).AddTask(b).AddWorker();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.Contains("'same'", ex.Message);
    }

    [Fact]
    public async Task RolesCanLiveOnDifferentBackends()
    {
        var jobs = new Storage.Memory.MemoryStorage();
        var results = new Storage.Memory.MemoryStorage();
        var task = JobTask.Create("split", TestHost.IntSerializer, TestHost.IntSerializer, (n, _) => ValueTask.FromResult(n * 3));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseStorage(_ => jobs).UseStorage(_ => results, StorageRoles.Results)).AddTask(task).AddWorker();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IJobClient>();

        var handle = await client.EnqueueAsync(task, 5);

        Assert.Equal(15, await handle.GetResultAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        var attempt = (await client.GetJobAsync(handle.Id))!.SucceededLeaseToken!.Value;
        Assert.NotNull((await results.ResultsGetAsync(new ResultsGetParams(handle.Id, attempt), default)).Result);
        Assert.Null((await jobs.ResultsGetAsync(new ResultsGetParams(handle.Id, attempt), default)).Result);
        Assert.Same(jobs, host.Services.GetRequiredService<IJobStore>());
        await host.StopAsync();
    }

    [Fact]
    public async Task WaitingForJobs_LeavesNoWaiterBehind_HoweverTheWaitEnds()
    {
        var task = Tasks.Create("waited", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));
        var hub = host.Services.GetRequiredService<TypedJobs.Events.JobEventHub>();

        // Ended by the in-process event.
        var local = await host.Client.EnqueueAsync(task, new TestPayload("a"));
        await host.Client.WaitForCompletionAsync(local).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        // Already finished at the first read.
        await host.Client.WaitForCompletionAsync(local);
        await host.Client.WaitForCompletionAsync(local);
        Assert.Equal(0, hub.WaitedJobs);

        // Finished by another process (straight through the store, no event here): seen by polling.
        var remote = JobId.New();
        await host.Storage.QueuesPauseAsync(new QueuesPauseParams("elsewhere"), default);
        await host.Storage.JobsInsertAsync(new JobsInsertParams([
            new JobInsert { Id = remote, TaskName = "waited", Queue = "elsewhere", Payload = "{}"u8.ToArray() },
        ]), default);
        var wait = host.Client.WaitForCompletionAsync(remote).AsTask();
        await Eventually.TrueAsync(() => hub.WaitedJobs == 1, "the waiter to register");
        await host.Storage.JobsCancelAsync(new JobsCancelParams(new JobRef(remote, "elsewhere")), default);
        await Eventually.TrueAsync(() => wait.IsCompleted, "the poll to see the cancellation", tick: () => host.Time.Advance(TimeSpan.FromSeconds(1)));

        Assert.Equal(JobState.Cancelled, (await wait).State);
        Assert.Equal(0, hub.WaitedJobs);
    }

    [Fact]
    public async Task EnqueueSerialized_ChecksThePayloadWithTheTasksSerializer_AndAdminListsTheTasks()
    {
        var task = Tasks.Create("typed-payload", (_, _) => ValueTask.CompletedTask, new TaskSettings { Queue = "typed" });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), startWorker: false);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Client.EnqueueSerializedAsync("typed-payload", "{\"Name\": 42}"u8.ToArray()));
        var id = await host.Client.EnqueueSerializedAsync("typed-payload", "{\"Name\": \"ok\"}"u8.ToArray());

        Assert.Contains("not valid for task 'typed-payload'", error.Message);
        Assert.Equal("typed", (await host.Client.GetJobAsync(id))!.Queue);
        Assert.Equal(1L, await host.Admin.CountJobsAsync(new JobFilter()));
        Assert.Equal("typed", Assert.Single(host.Admin.Tasks, t => t.Name == "typed-payload").Settings.Queue);
    }
}
