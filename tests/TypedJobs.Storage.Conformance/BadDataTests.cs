namespace TypedJobs.Storage.Conformance;

/// <summary>
/// Odd stored data: the store keeps any bytes and any strings exactly and never lets one bad job block others. (Decoding
/// payloads is the engine's job: the store only has to hand the bytes back and accept the job's failure.)
/// </summary>
public abstract class BadDataTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    [Fact]
    public async Task UnknownTaskWithGarbagePayload_IsClaimedAndFailed_WithoutBlockingOtherJobs()
    {
        var bad = NewJob(task: "no-such-task", priority: Priority.High, payload: [0xFF, 0xFE, 0x00, 0x7B]);
        var good = NewJob();
        await InsertAsync(bad, good);

        var claimed = await ClaimAsync(10);
        var badClaim = claimed.Single(j => j.Id == bad.Id);
        Assert.True(await CompleteAsync(badClaim, JobState.Dead, error: "Unknown task 'no-such-task'."));
        Assert.True(await CompleteAsync(claimed.Single(j => j.Id == good.Id), JobState.Succeeded));

        Assert.Equal(new byte[] { 0xFF, 0xFE, 0x00, 0x7B }, badClaim.Payload);
        var stored = await GetAsync(bad.Id);
        Assert.Equal(JobState.Dead, stored.State);
        Assert.Equal("Unknown task 'no-such-task'.", stored.LastError);
        Assert.Equal(JobState.Succeeded, (await GetAsync(good.Id)).State);
    }

    [Fact]
    public async Task EmptyAndLargePayloads_RoundTripExactly()
    {
        var large = new byte[512 * 1024];
        new Random(7).NextBytes(large);
        var empty = NewJob(payload: []);
        var big = NewJob(payload: large);

        await InsertAsync(empty, big);

        Assert.Empty((await GetAsync(empty.Id)).Payload);
        Assert.Equal(large, (await GetAsync(big.Id)).Payload);
    }

    [Fact]
    public async Task StringsWithQuotesControlCharactersAndUnicode_RoundTripExactly()
    {
        const string task = "t'; DROP TABLE jobs; --\"";
        const string queue = "q\u00fc\u65e5\u672c\U0001F600";
        const string key = "k'\"\\%_\0\t\n";
        var error = "line1\nline2\r\n\t'quoted' \"double\" \u00e9\U0001F4A5" + new string('x', 20_000);
        var id = await InsertOneAsync(NewJob(queue, task, uniqueKey: key));

        var job = await ClaimOneAsync(queue);
        Assert.True(await CompleteAsync(job, JobState.Ready, TimeSpan.Zero, error));
        var stored = await GetAsync(id);
        var listed = await Admin.JobsListAsync(new JobsListParams { Filter = new() { Queue = queue, TaskName = task } }, Ct);

        Assert.Equal(task, stored.TaskName);
        Assert.Equal(queue, stored.Queue);
        Assert.Equal(key, stored.UniqueKey);
        Assert.Equal(error, stored.LastError);
        Assert.Equal(id, Assert.Single(listed.Jobs).Id);
        Assert.False(Assert.Single(await InsertAsync(NewJob(queue, uniqueKey: key))).Inserted);
        Assert.True(Assert.Single(await InsertAsync(NewJob(queue, uniqueKey: key + "x"))).Inserted);
    }

    [Fact]
    public async Task ExtremeDueTimesAndRetryCounts_AreKept()
    {
        var far = NewJob(runAt: new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), maxRetries: int.MaxValue);
        var past = NewJob(runAt: new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var offset = NewJob(runAt: new DateTimeOffset(2026, 1, 5, 14, 0, 0, TimeSpan.FromHours(2)));

        await InsertAsync(far, past, offset);

        Assert.Equal(far.RunAt, (await GetAsync(far.Id)).DueAt);
        Assert.Equal(int.MaxValue, (await GetAsync(far.Id)).MaxRetries);
        Assert.Equal(JobState.Scheduled, (await GetAsync(far.Id)).State);
        Assert.Equal(offset.RunAt, (await GetAsync(offset.Id)).DueAt);
        Assert.Equal([past.Id, offset.Id], (await ClaimAsync()).Select(j => j.Id));
    }
}
