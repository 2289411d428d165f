namespace TypedJobs.Storage.Conformance;

/// <summary>The schedules role: upsert, get, list, delete, optimistic advance, due schedules.</summary>
public abstract class ScheduleTests<TFactory> : StorageTestBase<TFactory>
    where TFactory : IStorageFactory, new()
{
    private static ScheduleRecord Cron(string name, DateTimeOffset? next = null) => new()
    {
        Name = name,
        TaskName = "report",
        Cron = "0 2 * * *",
        TimeZone = "Europe/Berlin",
        Payload = [123, 125],
        NextRunAt = next,
        Declared = true,
    };

    [Fact]
    public async Task Upsert_ThenGet_RoundTripsEveryField()
    {
        var interval = new ScheduleRecord
        {
            Name = "every-5m",
            TaskName = "ping",
            Interval = TimeSpan.FromMinutes(5),
            Paused = true,
            NextRunAt = Now.AddMinutes(5),
            LastRunAt = Now,
        };

        var storedCron = await Schedules.SchedulesUpsertAsync(Cron("nightly", Now.AddHours(1)), Ct);
        var storedInterval = await Schedules.SchedulesUpsertAsync(interval, Ct);
        var cron = await Schedules.SchedulesGetAsync("nightly", Ct);
        var got = await Schedules.SchedulesGetAsync("every-5m", Ct);

        Assert.Equal(storedCron with { Payload = null }, cron! with { Payload = null });
        Assert.Equal(new byte[] { 123, 125 }, cron.Payload);
        Assert.Equal("0 2 * * *", cron.Cron);
        Assert.Equal("Europe/Berlin", cron.TimeZone);
        Assert.True(cron.Declared);
        Assert.Null(cron.Interval);
        Assert.Equal(storedInterval, got);
        Assert.Equal(interval with { Version = storedInterval.Version }, got);
        Assert.Null(got!.Payload);
    }

    [Fact]
    public async Task Get_MissingSchedule_ReturnsNull()
    {
        Assert.Null(await Schedules.SchedulesGetAsync("nope", Ct));
    }

    [Fact]
    public async Task Upsert_ReplacesTheScheduleAndChangesItsVersion()
    {
        var first = await Schedules.SchedulesUpsertAsync(Cron("s"), Ct);

        var second = await Schedules.SchedulesUpsertAsync(Cron("s") with { Cron = "*/5 * * * *", Paused = true }, Ct);
        var stored = await Schedules.SchedulesGetAsync("s", Ct);

        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(second, stored! with { Payload = second.Payload });
        Assert.Equal("*/5 * * * *", stored.Cron);
        Assert.True(stored.Paused);
        Assert.Single(await Schedules.SchedulesListAsync(Ct));
    }

    [Fact]
    public async Task List_IsSortedByName()
    {
        foreach (var name in new[] { "c", "a", "B", "b" })
        {
            await Schedules.SchedulesUpsertAsync(Cron(name), Ct);
        }

        var names = (await Schedules.SchedulesListAsync(Ct)).Select(s => s.Name);

        Assert.Equal(["B", "a", "b", "c"], names);
    }

    [Fact]
    public async Task Delete_RemovesTheSchedule()
    {
        await Schedules.SchedulesUpsertAsync(Cron("s"), Ct);

        Assert.True(await Schedules.SchedulesDeleteAsync("s", Ct));
        Assert.False(await Schedules.SchedulesDeleteAsync("s", Ct));
        Assert.Null(await Schedules.SchedulesGetAsync("s", Ct));
        Assert.Empty(await Schedules.SchedulesListAsync(Ct));
    }

    [Fact]
    public async Task Advance_AtTheCurrentVersion_MovesTheSchedule()
    {
        var stored = await Schedules.SchedulesUpsertAsync(Cron("s", Now), Ct);

        var advanced = await Schedules.SchedulesAdvanceAsync("s", stored.Version, Now, Now.AddDays(1), Ct);

        Assert.NotNull(advanced);
        Assert.Equal(Now, advanced.LastRunAt);
        Assert.Equal(Now.AddDays(1), advanced.NextRunAt);
        Assert.NotEqual(stored.Version, advanced.Version);
        Assert.Equal(advanced, (await Schedules.SchedulesGetAsync("s", Ct))! with { Payload = advanced.Payload });
    }

    [Fact]
    public async Task Advance_WithoutALastRun_KeepsThePreviousLastRun()
    {
        var stored = await Schedules.SchedulesUpsertAsync(Cron("s", Now) with { LastRunAt = Now.AddDays(-1) }, Ct);

        var advanced = await Schedules.SchedulesAdvanceAsync("s", stored.Version, null, Now.AddDays(1), Ct);

        Assert.Equal(Now.AddDays(-1), advanced!.LastRunAt);
    }

    [Fact]
    public async Task Advance_AtAStaleVersion_IsRefusedAndChangesNothing()
    {
        var first = await Schedules.SchedulesUpsertAsync(Cron("s", Now), Ct);
        var second = await Schedules.SchedulesAdvanceAsync("s", first.Version, Now, Now.AddDays(1), Ct);

        var stale = await Schedules.SchedulesAdvanceAsync("s", first.Version, Now, Now.AddDays(2), Ct);

        Assert.Null(stale);
        Assert.Equal(Now.AddDays(1), (await Schedules.SchedulesGetAsync("s", Ct))!.NextRunAt);
        Assert.Null(await Schedules.SchedulesAdvanceAsync("missing", second!.Version, Now, Now, Ct));
    }

    [Fact]
    public async Task Advance_AfterTheScheduleWasDeletedAndRecreated_IsRefused()
    {
        var old = await Schedules.SchedulesUpsertAsync(Cron("s", Now), Ct);
        await Schedules.SchedulesDeleteAsync("s", Ct);
        await Schedules.SchedulesUpsertAsync(Cron("s", Now), Ct);

        Assert.Null(await Schedules.SchedulesAdvanceAsync("s", old.Version, Now, Now.AddDays(1), Ct));
    }

    [Fact]
    public async Task Advance_ConcurrentSchedulers_OnlyOneWins()
    {
        var stored = await Schedules.SchedulesUpsertAsync(Cron("s", Now), Ct);
        using var start = new ManualResetEventSlim();

        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait(Ct);
            return await Schedules.SchedulesAdvanceAsync("s", stored.Version, Now, Now.AddMinutes(i + 1), Ct);
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);

        var winner = Assert.Single(results, r => r is not null);
        Assert.Equal(winner!.NextRunAt, (await Schedules.SchedulesGetAsync("s", Ct))!.NextRunAt);
    }

    [Fact]
    public async Task Due_ListsUnpausedDueSchedules_EarliestFirst_UpToMax()
    {
        await Schedules.SchedulesUpsertAsync(Cron("late", Now.AddMinutes(-1)), Ct);
        await Schedules.SchedulesUpsertAsync(Cron("early", Now.AddMinutes(-5)), Ct);
        await Schedules.SchedulesUpsertAsync(Cron("exact", Now), Ct);
        await Schedules.SchedulesUpsertAsync(Cron("future", Now.AddMinutes(1)), Ct);
        await Schedules.SchedulesUpsertAsync(Cron("paused", Now.AddMinutes(-10)) with { Paused = true }, Ct);
        await Schedules.SchedulesUpsertAsync(Cron("never"), Ct);

        var all = await Schedules.SchedulesDueAsync(Now, 10, Ct);
        var two = await Schedules.SchedulesDueAsync(Now, 2, Ct);

        Assert.Equal(["early", "late", "exact"], all.Select(s => s.Name));
        Assert.Equal(["early", "late"], two.Select(s => s.Name));
    }
}
