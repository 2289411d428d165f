using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Scheduling;
using TypedJobs.Storage.Memory;
using TypedJobs.Tests.Support;
using static TypedJobs.Tests.Scheduling.SchedulerTestSupport;

namespace TypedJobs.Tests.Scheduling;

public class SchedulerTests
{
    [Fact]
    public async Task DeclaredCron_StartedByAddWorker_RunsEachOccurrenceOnItsTimer_WithAnEmptyPayload()
    {
        var runs = 0;
        var task = CronTask("hourly", "0 * * * *", onRun: () => Interlocked.Increment(ref runs));
        await using var host = await TestHost.StartAsync(b => b.AddTask(task));
        await SettleAsync(host);
        var info = await host.Schedules().GetAsync("hourly");
        Assert.Equal(At(13), info!.NextRunAt);
        Assert.True(info.Declared);

        host.Time.Advance(TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => Volatile.Read(ref runs) == 1, "the 13:00 run");
        host.Time.Advance(TimeSpan.FromHours(1));
        await Eventually.TrueAsync(() => Volatile.Read(ref runs) == 2, "the 14:00 run", tick: () => host.Time.Advance(TimeSpan.FromMilliseconds(100)));

        Assert.Equal([At(13), At(14)], await host.OccurrencesOfAsync("hourly"));
        var job = (await host.JobsOfAsync("hourly"))[0];
        Assert.Equal("{}"u8.ToArray(), job.Payload);
        info = await host.Schedules().GetAsync("hourly");
        Assert.Equal(At(14), info!.LastRunAt);
        Assert.Equal(At(15), info.NextRunAt);
    }

    [Fact]
    public async Task TwoSchedulers_OnOneStore_EnqueueEveryOccurrenceExactlyOnce_OverASimulatedWeek()
    {
        // The week of the spring-forward change in Europe/Berlin (29 March 2026).
        var start = new DateTimeOffset(2026, 3, 25, 0, 0, 0, TimeSpan.Zero);
        var end = start.AddDays(7);
        var time = new FakeTimeProvider(start);
        var storage = new MemoryStorage(time);
        JobTask[] tasks =
        [
            CronTask("hourly-berlin", "0 * * * *", "Europe/Berlin"),
            CronTask("nightly-berlin", "30 2 * * *", "Europe/Berlin"),
            IntervalTask("every-45-minutes", TimeSpan.FromMinutes(45)),
        ];
        void Configure(TypedJobsBuilder b)
        {
            foreach (var task in tasks)
            {
                b.AddTask(task);
            }

            b.AddScheduler();
        }

        await using var first = await TestHost.StartAsync(Configure, startWorker: false, time: time, storage: storage);
        await using var second = await TestHost.StartAsync(Configure, startWorker: false, time: time, storage: storage);
        await SettleAsync(first, second);

        while (time.GetUtcNow() < end)
        {
            var schedules = await first.Schedules().ListAsync();
            var next = schedules.Min(s => s.NextRunAt!.Value);
            time.Advance(next - time.GetUtcNow());
            await SettleAsync(first, second);
        }

        var occurrences = new Occurrences();
        foreach (var task in tasks)
        {
            var record = new Storage.ScheduleRecord { Name = task.Name, TaskName = task.Name, Cron = task.Settings.Cron, TimeZone = task.Settings.TimeZone, Interval = task.Settings.Interval };
            var expected = new List<DateTimeOffset>();
            for (var at = occurrences.Next(record, start); at <= time.GetUtcNow(); at = occurrences.Next(record, at.Value))
            {
                expected.Add(at!.Value);
            }

            var fired = await first.OccurrencesOfAsync(task.Name);
            Assert.Equal(expected, fired);
            Assert.Equal(fired.Count, fired.Distinct().Count());
        }

        Assert.Equal(7, (await first.OccurrencesOfAsync("nightly-berlin")).Count);
        Assert.Contains(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), await first.OccurrencesOfAsync("nightly-berlin"));
        Assert.Equal(24 * 7, (await first.OccurrencesOfAsync("hourly-berlin")).Count);
        Assert.True(first.Scheduler().Passes > 100 && second.Scheduler().Passes > 100);
    }

    [Fact]
    public async Task ClockJumpingBackAndForward_NeverFiresAnOccurrenceTwice()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new ShiftedClock(time);
        var storage = new MemoryStorage(clock);
        var task = CronTask("jumpy", "0 * * * *");
        var host = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage, clock: clock);
        await SettleAsync(host);
        time.Advance(TimeSpan.FromHours(1));
        await SettleAsync(host);
        Assert.Equal([At(13)], await host.OccurrencesOfAsync("jumpy"));

        // Back an hour: nothing is due, and neither a resume nor a restart rewinds the schedule.
        clock.Set(At(12, 0));
        await SettleAsync(host);
        await host.Schedules().PauseAsync("jumpy");
        await host.Schedules().ResumeAsync("jumpy");
        await host.DisposeAsync();
        clock.Set(At(12, 0));
        host = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage, clock: clock);
        await SettleAsync(host);
        Assert.Equal(At(14), (await host.Schedules().GetAsync("jumpy"))!.NextRunAt);

        // Forward again past 13:00 (already fired) and on to 14:00.
        time.Advance(TimeSpan.FromHours(1));
        await SettleAsync(host);
        Assert.Equal([At(13)], await host.OccurrencesOfAsync("jumpy"));
        time.Advance(TimeSpan.FromHours(1));
        await SettleAsync(host);

        Assert.Equal([At(13), At(14)], await host.OccurrencesOfAsync("jumpy"));
        await host.DisposeAsync();
    }

    [Theory]
    [InlineData(MissedRunPolicy.RunOnce, 10, new[] { 17 })]
    [InlineData(MissedRunPolicy.Skip, 10, new int[0])]
    [InlineData(MissedRunPolicy.RunAll, 10, new[] { 13, 14, 15, 16, 17 })]
    [InlineData(MissedRunPolicy.RunAll, 3, new[] { 15, 16, 17 })]
    public async Task MissedOccurrences_AfterAnOutage_FollowThePolicy(MissedRunPolicy policy, int maxCatchUp, int[] expectedHours)
    {
        var time = new FakeTimeProvider(Start);
        var storage = new MemoryStorage(time);
        var task = CronTask("outage", "0 * * * *");
        await using (var before = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage))
        {
            await SettleAsync(before);
        }

        // Down from just after 12:00 until 17:30: 13:00 to 17:00 are missed.
        time.SetUtcNow(At(17, 30));
        await using var after = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(s =>
        {
            s.MissedRuns = policy;
            s.MaxCatchUpRuns = maxCatchUp;
        }), startWorker: false, time: time, storage: storage);
        await SettleAsync(after);

        Assert.Equal(expectedHours.Select(h => At(h)), await after.OccurrencesOfAsync("outage"));
        var info = await after.Schedules().GetAsync("outage");
        Assert.Equal(At(18), info!.NextRunAt);

        // Back on schedule, the next occurrence runs on time under every policy.
        time.Advance(TimeSpan.FromMinutes(30));
        await SettleAsync(after);
        Assert.Equal(expectedHours.Select(h => At(h)).Append(At(18)), await after.OccurrencesOfAsync("outage"));
    }

    [Fact]
    public async Task Pause_SurvivesARestart_AndResumeSkipsThePausedOccurrences()
    {
        var time = new FakeTimeProvider(Start);
        var storage = new MemoryStorage(time);
        var task = CronTask("pausable", "0 * * * *");
        await using (var before = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage))
        {
            await SettleAsync(before);
            Assert.True(await before.Schedules().PauseAsync("pausable"));
        }

        await using var after = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage);
        await SettleAsync(after);
        Assert.True((await after.Schedules().GetAsync("pausable"))!.Paused);
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromHours(1));
            await SettleAsync(after);
        }

        Assert.Empty(await after.JobsOfAsync("pausable"));

        time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(await after.Schedules().ResumeAsync("pausable"));
        var info = await after.Schedules().GetAsync("pausable");
        Assert.False(info!.Paused);
        Assert.Equal(At(16), info.NextRunAt);
        time.Advance(TimeSpan.FromMinutes(50));
        await SettleAsync(after);
        Assert.Equal([At(16)], await after.OccurrencesOfAsync("pausable"));
    }

    [Fact]
    public async Task ChangedDeclarationInCode_UpdatesTheExpression_ButKeepsThePauseAndArguments()
    {
        var time = new FakeTimeProvider(Start);
        var storage = new MemoryStorage(time);
        await using (var before = await TestHost.StartAsync(b => b.AddTask(CronTask("report", "0 * * * *")).AddScheduler(), startWorker: false, time: time, storage: storage))
        {
            await SettleAsync(before);
            await before.Schedules().PauseAsync("report");
        }

        await using var after = await TestHost.StartAsync(b => b.AddTask(CronTask("report", "*/30 * * * *", "Europe/Berlin")).AddScheduler(),
            startWorker: false, time: time, storage: storage);
        var info = await after.Schedules().GetAsync("report");

        Assert.Equal("*/30 * * * *", info!.Cron);
        Assert.Equal("Europe/Berlin", info.TimeZone);
        Assert.True(info.Paused);
        Assert.True(info.Declared);
        Assert.Equal(At(12, 30), info.NextRunAt);
    }

    [Fact]
    public async Task TimingChangedAtRunTime_WinsOverTheDeclarationAcrossRestarts_UntilRemoved()
    {
        var time = new FakeTimeProvider(Start);
        var storage = new MemoryStorage(time);
        var task = CronTask("digest", "0 * * * *");
        await using (var first = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage))
        {
            var changed = await first.Schedules().AddOrUpdateAsync(new ScheduleDefinition { Name = "digest", TaskName = "digest", Cron = "*/10 * * * *" });
            Assert.False(changed.Declared);
            Assert.Equal(At(12, 10), changed.NextRunAt);
        }

        await using (var second = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage))
        {
            Assert.Equal("*/10 * * * *", (await second.Schedules().GetAsync("digest"))!.Cron);
            Assert.True(await second.Schedules().RemoveAsync("digest"));
            Assert.Null(await second.Schedules().GetAsync("digest"));
        }

        await using var third = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage);
        var info = await third.Schedules().GetAsync("digest");
        Assert.Equal("0 * * * *", info!.Cron);
        Assert.True(info.Declared);
    }

    [Fact]
    public async Task RunTimeSchedules_CronIntervalAndOnce_RunWithTheirStoredArguments()
    {
        var seen = new System.Collections.Concurrent.ConcurrentQueue<TestPayload>();
        var task = Tasks.Create("greet", (p, _) =>
        {
            seen.Enqueue(p);
            return ValueTask.CompletedTask;
        });
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false);
        var admin = host.Schedules();
        var args = TestHost.PayloadSerializer.ToBytes(new TestPayload("ann", 7));

        var cron = await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "greet-cron", TaskName = "greet", Cron = "15 * * * *", Payload = args });
        var interval = await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "greet-interval", TaskName = "greet", Interval = TimeSpan.FromMinutes(20) });
        var once = await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "greet-once", TaskName = "greet", RunAt = At(12, 5), Payload = args });

        Assert.Equal((ScheduleKind.Cron, At(12, 15)), (cron.Kind, cron.NextRunAt));
        Assert.Equal((ScheduleKind.Interval, At(12, 20)), (interval.Kind, interval.NextRunAt));
        Assert.Equal((ScheduleKind.Once, At(12, 5)), (once.Kind, once.NextRunAt));
        Assert.Equal(["greet-cron", "greet-interval", "greet-once"], (await admin.ListAsync()).Select(s => s.Name));

        for (var i = 0; i < 15; i++)
        {
            host.Time.Advance(TimeSpan.FromMinutes(5));
            await SettleAsync(host);
        }

        Assert.Equal([At(12, 15), At(13, 15)], await host.OccurrencesOfAsync("greet-cron", "greet"));
        Assert.Equal([At(12, 20), At(12, 40), At(13, 0)], await host.OccurrencesOfAsync("greet-interval", "greet"));
        Assert.Equal([At(12, 5)], await host.OccurrencesOfAsync("greet-once", "greet"));
        var onceInfo = await admin.GetAsync("greet-once");
        Assert.Null(onceInfo!.NextRunAt);
        Assert.Equal(At(12, 5), onceInfo.LastRunAt);

        var jobs = await host.JobsOfAsync("greet");
        Assert.All(jobs.Where(j => !j.UniqueKey!.Contains("interval", StringComparison.Ordinal)), j => Assert.Equal(args, j.Payload));
        Assert.All(jobs.Where(j => j.UniqueKey!.Contains("interval", StringComparison.Ordinal)), j => Assert.Equal("{}"u8.ToArray(), j.Payload));
    }

    [Fact]
    public async Task TriggerNow_EnqueuesAJobAtOnce_WithoutMovingTheSchedule()
    {
        var task = CronTask("nightly", "0 2 * * *");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false);
        await host.Schedules().PauseAsync("nightly");

        var id = await host.Schedules().TriggerAsync("nightly");

        var job = await host.Client.GetJobAsync(id!.Value);
        Assert.Equal(JobState.Ready, job!.State);
        Assert.Equal("{}"u8.ToArray(), job.Payload);
        var info = await host.Schedules().GetAsync("nightly");
        Assert.Equal(At(2, 0, day: 6), info!.NextRunAt);
        Assert.Null(info.LastRunAt);
        Assert.Null(await host.Schedules().TriggerAsync("missing"));
    }

    [Fact]
    public async Task RunNow_FromAProcessWithoutTheTask_LetsASchedulerFireOneOccurrence_ThenTheScheduleGoesOn()
    {
        var task = CronTask("weekly", "0 3 * * 1");
        var time = new FakeTimeProvider(Start);
        var storage = new MemoryStorage(time);
        await using var scheduler = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false, time: time, storage: storage);
        await SettleAsync(scheduler);
        // A dashboard or the CLI: no tasks registered, only the store.
        await using var tool = await TestHost.StartAsync(_ => { }, startWorker: false, time: time, storage: storage);
        var next = (await tool.Schedules().GetAsync("weekly"))!.NextRunAt;

        Assert.True(await tool.Schedules().RunNowAsync("weekly"));
        time.Advance(TimeSpan.FromSeconds(1));
        await SettleAsync(scheduler);

        Assert.Equal([Start], await scheduler.OccurrencesOfAsync("weekly"));
        Assert.Equal(next, (await tool.Schedules().GetAsync("weekly"))!.NextRunAt);
        Assert.False(await tool.Schedules().RunNowAsync("missing"));
    }

    [Fact]
    public async Task AddOrUpdate_SameTiming_KeepsTheNextRun_AndANewTimingRecomputesIt()
    {
        var task = CronTask("tick", "0 * * * *");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task).AddScheduler(), startWorker: false);
        var admin = host.Schedules();
        await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "custom", TaskName = "tick", Cron = "0 */6 * * *" });
        host.Time.Advance(TimeSpan.FromHours(1));

        var same = await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "custom", TaskName = "tick", Cron = "0 */6 * * *" });
        Assert.Equal(At(18), same.NextRunAt);
        var changed = await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "custom", TaskName = "tick", Cron = "30 * * * *" });
        Assert.Equal(At(13, 30), changed.NextRunAt);
    }

    [Theory]
    [InlineData("0 25 * * *", null, "cron field 'hour' value 25 is out of range 0-23")]
    [InlineData("0 2 * * *", "Europe/Berln", "unknown time zone 'Europe/Berln'")]
    [InlineData("0 2 * *", null, "cron expression '0 2 * *' has 4 fields")]
    public async Task AddOrUpdate_InvalidCronOrTimeZone_IsRejected_NamingTheFieldOrZone(string cron, string? zone, string message)
    {
        await using var host = await TestHost.StartAsync(b => b.AddTask(CronTask("t", "@daily")).AddScheduler(), startWorker: false);

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await host.Schedules().AddOrUpdateAsync(new ScheduleDefinition { Name = "bad", TaskName = "t", Cron = cron, TimeZone = zone }));

        Assert.Contains("Schedule 'bad': " + message, ex.Message);
        Assert.Null(await host.Schedules().GetAsync("bad"));
    }

    [Fact]
    public async Task AddOrUpdate_OtherInvalidDefinitions_AreRejected()
    {
        var greet = Tasks.Create("greet", (_, _) => ValueTask.CompletedTask);
        await using var host = await TestHost.StartAsync(b => b.AddTask(greet).AddScheduler(), startWorker: false);
        var admin = host.Schedules();

        await Assert.ThrowsAsync<UnknownTaskException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "x", TaskName = "nope", Interval = TimeSpan.FromMinutes(1) }));
        var both = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "x", TaskName = "greet", Cron = "@daily", Interval = TimeSpan.FromMinutes(1) }));
        Assert.Contains("exactly one of Cron, Interval and RunAt", both.Message);
        var tooShort = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "x", TaskName = "greet", Interval = TimeSpan.FromMilliseconds(10) }));
        Assert.Contains("shorter than the minimum", tooShort.Message);
        var zoneWithoutCron = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "x", TaskName = "greet", Interval = TimeSpan.FromMinutes(1), TimeZone = "Europe/Berlin" }));
        Assert.Contains("TimeZone applies to Cron only", zoneWithoutCron.Message);
        var badArgs = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = "x", TaskName = "greet", Interval = TimeSpan.FromMinutes(1), Payload = "[1]"u8.ToArray() }));
        Assert.Contains("could not be read", badArgs.Message);
        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await admin.AddOrUpdateAsync(new ScheduleDefinition { Name = " ", TaskName = "greet", Interval = TimeSpan.FromMinutes(1) }));
        Assert.Empty(await admin.ListAsync());
    }

    [Theory]
    [InlineData("0 0 * * 9", null, "Task 'broken' has an invalid schedule: cron field 'day-of-week' value 9 is out of range 0-7")]
    [InlineData("@daily", "Mars/Olympus", "Task 'broken' has an invalid schedule: unknown time zone 'Mars/Olympus'")]
    public async Task InvalidDeclaredSchedule_StopsTheHostAtStart(string cron, string? zone, string message)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddTask(CronTask("broken", cron, zone)).AddScheduler();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public async Task DisabledScheduler_DoesNotRun_EvenWithAWorker()
    {
        var task = CronTask("off", "* * * * *");
        await using var host = await TestHost.StartAsync(b => b.AddTask(task), options: o => o.Scheduler.Enabled = false);

        host.Time.Advance(TimeSpan.FromMinutes(3));

        Assert.Null(await host.Schedules().GetAsync("off"));
        Assert.Empty(await host.JobsOfAsync("off"));
        Assert.Equal(0, host.Scheduler().Passes);
    }

    [Fact]
    public async Task SchedulerOptions_InvalidValues_StopTheHost_NamingTheKey()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddScheduler(s => s.PollInterval = TimeSpan.Zero);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("TypedJobs:Scheduler:PollInterval", ex.Message);
    }
}
