using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Scheduling;
using TypedJobs.Storage;
using TypedJobs.Tests.Support;
using static TypedJobs.Tests.Scheduling.SchedulerTestSupport;

namespace TypedJobs.Tests.Scheduling;

public sealed class SqliteSchedulerTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("typedjobs-scheduler-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task TwoSchedulers_OnOneSqliteFile_EnqueueEveryOccurrenceExactlyOnce_OverASimulatedWeek()
    {
        var path = Path.Combine(directory, "jobs.db");
        var start = new DateTimeOffset(2026, 10, 21, 0, 0, 0, TimeSpan.Zero); // the week of the fall-back change in Europe/Berlin
        var end = start.AddDays(7);
        var time = new FakeTimeProvider(start);
        JobTask[] tasks =
        [
            CronTask("hourly-berlin", "0 * * * *", "Europe/Berlin"),
            CronTask("nightly-berlin", "30 2 * * *", "Europe/Berlin"),
            IntervalTask("every-45-minutes", TimeSpan.FromMinutes(45)),
        ];

        var first = await StartAsync(path, time, tasks);
        var second = await StartAsync(path, time, tasks);
        await SettleAsync(time, first, second);
        while (time.GetUtcNow() < end)
        {
            var schedules = await first.Services.GetRequiredService<IScheduleAdmin>().ListAsync();
            time.Advance(schedules.Min(s => s.NextRunAt!.Value) - time.GetUtcNow());
            await SettleAsync(time, first, second);
        }

        var occurrences = new Occurrences();
        var admin = first.Services.GetRequiredService<IJobAdmin>();
        foreach (var task in tasks)
        {
            var record = new ScheduleRecord { Name = task.Name, TaskName = task.Name, Cron = task.Settings.Cron, TimeZone = task.Settings.TimeZone, Interval = task.Settings.Interval };
            var expected = new List<DateTimeOffset>();
            for (var at = occurrences.Next(record, start); at <= time.GetUtcNow(); at = occurrences.Next(record, at.Value))
            {
                expected.Add(at!.Value);
            }

            var page = await admin.ListJobsAsync(new JobsListParams { Filter = new() { TaskName = task.Name }, Limit = 1000 });
            var fired = page.Jobs.Select(j => j.UniqueKey!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Select(e => Occurrences.Key(task.Name, e)), fired);
        }

        // The repeated hour of 25 October fires once, and the pause survives a restart on the file.
        var nightly = await admin.ListJobsAsync(new JobsListParams { Filter = new() { TaskName = "nightly-berlin" }, Limit = 1000 });
        Assert.Equal(7, nightly.Jobs.Count);
        Assert.True(await first.Services.GetRequiredService<IScheduleAdmin>().PauseAsync("hourly-berlin"));
        await StopAsync(time, first, second);
        var third = await StartAsync(path, time, tasks);
        Assert.True((await third.Services.GetRequiredService<IScheduleAdmin>().GetAsync("hourly-berlin"))!.Paused);
        await StopAsync(time, third);
    }

    private static async Task<IHost> StartAsync(string path, FakeTimeProvider time, JobTask[] tasks)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TimeProvider>(time);
        var jobs = builder.Services.AddTypedJobs(o => o.UseSqlite(path));
        foreach (var task in tasks)
        {
            jobs.AddTask(task);
        }

        jobs.AddScheduler();
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task SettleAsync(FakeTimeProvider time, params IHost[] hosts)
    {
        foreach (var host in hosts)
        {
            var scheduler = host.Services.GetServices<IHostedService>().OfType<SchedulerService>().Single();
            var target = time.GetUtcNow();
            scheduler.Wake();
            await Eventually.TrueAsync(() => scheduler.LastPassAt >= target, $"a scheduler pass at {target:O}", tick: scheduler.Wake);
        }
    }

    private static async Task StopAsync(FakeTimeProvider time, params IHost[] hosts)
    {
        foreach (var host in hosts)
        {
            var stop = host.StopAsync();
            while (!stop.IsCompleted)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(stop, Task.Delay(5));
            }

            await stop;
            host.Dispose();
        }
    }
}
