namespace TypedJobs.Storage.Conformance;

/// <summary>Schema creation: initializing again, or from several instances at once, is safe and keeps data.</summary>
public abstract class MigrationTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task Initialize_Again_IsSafeAndKeepsData()
    {
        var id = await InsertOneAsync(NewJob());
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(new ScheduleRecord { Name = "s", TaskName = "t", Interval = TimeSpan.FromMinutes(1) }), Ct);

        await InitializeAllAsync(Store);
        await InitializeAllAsync(Store);

        Assert.Equal(id, (await GetAsync(id)).Id);
        Assert.NotNull((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule);
    }

    [Fact]
    public async Task Initialize_FromSeveralInstancesAtOnce_Succeeds()
    {
        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => OpenStoreAsync())));

        var id = await opened[1].Jobs.JobsInsertAsync(new JobsInsertParams([NewJob()]), Ct);

        foreach (var handle in opened.Append(Store))
        {
            Assert.NotNull((await handle.Admin.JobsGetAsync(new JobsGetParams(id.Outcomes[0].Id), Ct)).Job);
        }
    }

    [Fact]
    public async Task SecondInstance_SeesTheWritesOfTheFirst()
    {
        var other = await OpenStoreAsync();
        var id = await InsertOneAsync(NewJob(uniqueKey: "k"));

        var dedup = await other.Jobs.JobsInsertAsync(new JobsInsertParams([NewJob(uniqueKey: "k")]), Ct);
        var claimed = await ClaimAsync(store: other.Jobs);

        Assert.Equal(new JobInsertOutcome(id, false), Assert.Single(dedup.Outcomes));
        Assert.Equal(id, Assert.Single(claimed).Id);
        Assert.Empty(await ClaimAsync());
    }

    [Fact]
    public async Task DurableStore_KeepsJobsAcrossInstances()
    {
        Assert.SkipUnless(Jobs.Capabilities.HasFlag(StorageCapabilities.Durable), "The backend does not declare Durable.");
        var id = await InsertOneAsync(NewJob(delay: TimeSpan.FromMinutes(1)));

        var reopened = await OpenStoreAsync();
        var job = (await reopened.Admin.JobsGetAsync(new JobsGetParams(id), Ct)).Job;

        Assert.NotNull(job);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(Now.AddMinutes(1), job.DueAt);
    }
}
