using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Scheduling;
using TypedJobs.Storage;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests.Scheduling;

/// <summary>Helpers for scheduler tests on fake time.</summary>
internal static class SchedulerTestSupport
{
    public static readonly DateTimeOffset Start = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    public static JobTask<NoPayload> CronTask(string name, string cron, string? timeZone = null, Action? onRun = null) =>
        JobTask.Create(name, JobSerializer.Empty, (_, _) =>
        {
            onRun?.Invoke();
            return ValueTask.CompletedTask;
        }, new TaskSettings { Cron = cron, TimeZone = timeZone });

    public static JobTask<NoPayload> IntervalTask(string name, TimeSpan interval) =>
        JobTask.Create(name, JobSerializer.Empty, (_, _) => ValueTask.CompletedTask, new TaskSettings { Interval = interval });

    public static SchedulerService Scheduler(this TestHost host) =>
        host.Services.GetServices<IHostedService>().OfType<SchedulerService>().Single();

    public static IScheduleAdmin Schedules(this TestHost host) => host.Services.GetRequiredService<IScheduleAdmin>();

    /// <summary>Waits until every host's scheduler finished a pass that saw the current fake time.</summary>
    public static async Task SettleAsync(params TestHost[] hosts)
    {
        foreach (var host in hosts)
        {
            var scheduler = host.Scheduler();
            var target = host.Services.GetRequiredService<TimeProvider>().GetUtcNow();
            scheduler.Wake();
            await Eventually.TrueAsync(() => scheduler.LastPassAt >= target, $"a scheduler pass at {target:O}", tick: scheduler.Wake);
        }
    }

    /// <summary>Every job of a task, in any state.</summary>
    public static async Task<List<JobRecord>> JobsOfAsync(this TestHost host, string taskName)
    {
        var jobs = new List<JobRecord>();
        string? cursor = null;
        do
        {
            var page = await host.Admin.ListJobsAsync(new JobsListParams { Filter = new() { TaskName = taskName }, Limit = 1000, Cursor = cursor });
            jobs.AddRange(page.Jobs);
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return jobs;
    }

    /// <summary>The occurrence instants of a task's jobs, from their unique keys, oldest first.</summary>
    public static async Task<List<DateTimeOffset>> OccurrencesOfAsync(this TestHost host, string scheduleName, string? taskName = null)
    {
        var jobs = await host.JobsOfAsync(taskName ?? scheduleName);
        var prefix = "schedule:" + scheduleName + ":";
        return jobs.Where(j => j.UniqueKey?.StartsWith(prefix, StringComparison.Ordinal) == true)
            .Select(j => DateTimeOffset.Parse(j.UniqueKey![prefix.Length..], System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToList();
    }

    public static DateTimeOffset At(int hour, int minute = 0, int day = 5) => new(2026, 1, day, hour, minute, 0, TimeSpan.Zero);
}
