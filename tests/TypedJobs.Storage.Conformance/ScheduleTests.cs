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

        var storedCron = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("nightly", Now.AddHours(1))), Ct)).Schedule!;
        var storedInterval = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(interval), Ct)).Schedule!;
        var cron = (await Schedules.SchedulesGetAsync(new SchedulesGetParams("nightly"), Ct)).Schedule;
        var got = (await Schedules.SchedulesGetAsync(new SchedulesGetParams("every-5m"), Ct)).Schedule;

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
        Assert.Null((await Schedules.SchedulesGetAsync(new SchedulesGetParams("nope"), Ct)).Schedule);
    }

    [Fact]
    public async Task Upsert_ReplacesTheScheduleAndChangesItsVersion()
    {
        var first = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s")), Ct)).Schedule!;

        var second = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s") with { Cron = "*/5 * * * *", Paused = true }), Ct)).Schedule!;
        var stored = (await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule;

        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(second, stored! with { Payload = second.Payload });
        Assert.Equal("*/5 * * * *", stored.Cron);
        Assert.True(stored.Paused);
        Assert.Single((await Schedules.SchedulesListAsync(new SchedulesListParams(), Ct)).Schedules);
    }

    [Fact]
    public async Task List_IsSortedByName()
    {
        foreach (var name in new[] { "c", "a", "B", "b" })
        {
            await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron(name)), Ct);
        }

        var names = ((await Schedules.SchedulesListAsync(new SchedulesListParams(), Ct)).Schedules).Select(s => s.Name);

        Assert.Equal(["B", "a", "b", "c"], names);
    }

    [Fact]
    public async Task Delete_RemovesTheSchedule()
    {
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s")), Ct);

        Assert.True((await Schedules.SchedulesDeleteAsync(new SchedulesDeleteParams("s"), Ct)).Deleted);
        Assert.False((await Schedules.SchedulesDeleteAsync(new SchedulesDeleteParams("s"), Ct)).Deleted);
        Assert.Null((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule);
        Assert.Empty((await Schedules.SchedulesListAsync(new SchedulesListParams(), Ct)).Schedules);
    }

    [Fact]
    public async Task Advance_AtTheCurrentVersion_MovesTheSchedule()
    {
        var stored = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now)), Ct)).Schedule!;

        var advanced = (await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", stored.Version, Now, Now.AddDays(1)), Ct)).Schedule;

        Assert.NotNull(advanced);
        Assert.Equal(Now, advanced.LastRunAt);
        Assert.Equal(Now.AddDays(1), advanced.NextRunAt);
        Assert.NotEqual(stored.Version, advanced.Version);
        Assert.Equal(advanced, ((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule)! with { Payload = advanced.Payload });
    }

    [Fact]
    public async Task Advance_WithoutALastRun_KeepsThePreviousLastRun()
    {
        var stored = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now) with { LastRunAt = Now.AddDays(-1) }), Ct)).Schedule!;

        var advanced = (await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", stored.Version, null, Now.AddDays(1)), Ct)).Schedule;

        Assert.Equal(Now.AddDays(-1), advanced!.LastRunAt);
    }

    [Fact]
    public async Task Advance_AtAStaleVersion_IsRefusedAndChangesNothing()
    {
        var first = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now)), Ct)).Schedule!;
        var second = (await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", first.Version, Now, Now.AddDays(1)), Ct)).Schedule;

        var stale = (await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", first.Version, Now, Now.AddDays(2)), Ct)).Schedule;

        Assert.Null(stale);
        Assert.Equal(Now.AddDays(1), ((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule)!.NextRunAt);
        Assert.Null((await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("missing", second!.Version, Now, Now), Ct)).Schedule);
    }

    [Fact]
    public async Task Advance_AfterTheScheduleWasDeletedAndRecreated_IsRefused()
    {
        var old = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now)), Ct)).Schedule!;
        await Schedules.SchedulesDeleteAsync(new SchedulesDeleteParams("s"), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now)), Ct);

        Assert.Null((await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", old.Version, Now, Now.AddDays(1)), Ct)).Schedule);
    }

    [Fact]
    public async Task Advance_ConcurrentSchedulers_OnlyOneWins()
    {
        var stored = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now)), Ct)).Schedule!;
        using var start = new ManualResetEventSlim();

        var tasks = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait(Ct);
            return (await Schedules.SchedulesAdvanceAsync(new SchedulesAdvanceParams("s", stored.Version, Now, Now.AddMinutes(i + 1)), Ct)).Schedule;
        })).ToArray();
        start.Set();
        var results = await Task.WhenAll(tasks);

        var winner = Assert.Single(results, r => r is not null);
        Assert.Equal(winner!.NextRunAt, ((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule)!.NextRunAt);
    }

    [Fact]
    public async Task Due_ListsUnpausedDueSchedules_EarliestFirst_UpToMax()
    {
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("late", Now.AddMinutes(-1))), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("early", Now.AddMinutes(-5))), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("exact", Now)), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("future", Now.AddMinutes(1))), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("paused", Now.AddMinutes(-10)) with { Paused = true }), Ct);
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("never")), Ct);

        var all = await Schedules.SchedulesDueAsync(new SchedulesDueParams(10), Ct);
        var two = await Schedules.SchedulesDueAsync(new SchedulesDueParams(2), Ct);

        Assert.Equal(["early", "late", "exact"], all.Schedules.Select(s => s.Name));
        Assert.Equal(["early", "late"], two.Schedules.Select(s => s.Name));
        Assert.Equal(Now, all.Now);
        Assert.Equal(Now.AddMinutes(1), all.NextDueAt);
    }

    [Fact]
    public async Task Due_ComparesWithTheStoresClock_AndReportsItsNow()
    {
        await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now.AddMinutes(30))), Ct);

        var before = await Schedules.SchedulesDueAsync(new SchedulesDueParams(10), Ct);
        Clock.Advance(TimeSpan.FromMinutes(30));
        var after = await Schedules.SchedulesDueAsync(new SchedulesDueParams(10), Ct);

        Assert.Empty(before.Schedules);
        Assert.Equal(Now.AddMinutes(-30), before.Now);
        Assert.Equal(Now, before.NextDueAt);
        Assert.Equal("s", Assert.Single(after.Schedules).Name);
        Assert.Equal(Now, after.Now);
        Assert.Null(after.NextDueAt);
        Assert.Equal(Now, await Schedules.ClockNowAsync(Ct));
    }

    [Fact]
    public async Task Upsert_WithAnExpectedVersion_WritesOnlyAtThatVersion()
    {
        var created = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now), ExpectedVersion: 0), Ct)).Schedule;
        var again = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s", Now), ExpectedVersion: 0), Ct)).Schedule;
        var stale = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s") with { Paused = true }, created!.Version + 1000), Ct)).Schedule;
        var current = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("s") with { Paused = true }, created.Version), Ct)).Schedule;
        var missing = (await Schedules.SchedulesUpsertAsync(new SchedulesUpsertParams(Cron("other"), ExpectedVersion: 5), Ct)).Schedule;

        Assert.Null(again);
        Assert.Null(stale);
        Assert.NotNull(current);
        Assert.True(current.Paused);
        Assert.NotEqual(created.Version, current.Version);
        Assert.Null(missing);
        Assert.Null((await Schedules.SchedulesGetAsync(new SchedulesGetParams("other"), Ct)).Schedule);
        Assert.True((await Schedules.SchedulesGetAsync(new SchedulesGetParams("s"), Ct)).Schedule!.Paused);
    }
}
