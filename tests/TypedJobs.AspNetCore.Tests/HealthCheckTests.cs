using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>The health checks added by <c>AddHealthChecks().AddTypedJobs()</c>, run by the real health check service.</summary>
public sealed class HealthCheckTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task EveryCheckIsHealthy_WhenTheStoreAnswersAndAWorkerHeartbeats_WithTheStorageLatencyInTheData()
    {
        await using var host = await AdminHost.StartAsync();

        var report = await WaitForAsync(host, static r => r.Entries["typedjobs-workers"].Status == HealthStatus.Healthy);

        Assert.Equal(["typedjobs-backlog", "typedjobs-dead", "typedjobs-storage", "typedjobs-workers"], report.Entries.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(HealthStatus.Healthy, report.Status);
        var storage = report.Entries["typedjobs-storage"];
        Assert.StartsWith("The TypedJobs jobs storage answered in ", storage.Description, StringComparison.Ordinal);
        Assert.IsType<double>(storage.Data["latencyMs"]);
        Assert.Contains("typedjobs", storage.Tags);
        Assert.StartsWith("1 TypedJobs worker(s) heartbeating within 60 s", report.Entries["typedjobs-workers"].Description, StringComparison.Ordinal);
        Assert.Equal("0 TypedJobs dead jobs (threshold 0).", report.Entries["typedjobs-dead"].Description);
        Assert.Equal("0 TypedJobs ready jobs waiting for a worker (threshold 1000).", report.Entries["typedjobs-backlog"].Description);
    }

    [Fact]
    public async Task DeadJobsOverTheThreshold_AreDegraded_WithTheCountAndThresholdInTheDescription()
    {
        await using var host = await AdminHost.StartAsync();
        await host.DeadJobAsync("for the health check");

        var report = await Checks(host).CheckHealthAsync(static r => r.Name == "typedjobs-dead");

        var dead = report.Entries["typedjobs-dead"];
        Assert.Equal(HealthStatus.Degraded, dead.Status);
        Assert.Equal("1 TypedJobs dead jobs, more than the threshold of 0.", dead.Description);
        Assert.Equal(1L, dead.Data["count"]);
    }

    [Fact]
    public async Task ABacklogOverTheThreshold_IsDegraded()
    {
        await using var host = await AdminHost.StartAsync(
            configure: static b => b.Services.AddHealthChecks().AddTypedJobs(o =>
            {
                o.MinimumWorkers = 0;
                o.BacklogThreshold = 2;
                o.Tags.Add("backlog-test");
            }),
            health: false);
        for (var i = 0; i < 3; i++)
        {
            await host.Jobs.EnqueueChargeAsync("a", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });
        }

        var report = await Checks(host).CheckHealthAsync();

        Assert.Equal(["typedjobs-backlog", "typedjobs-storage"], report.Entries.Keys.Order(StringComparer.Ordinal).ToArray());
        var backlog = report.Entries["typedjobs-backlog"];
        Assert.Equal(HealthStatus.Degraded, backlog.Status);
        Assert.Equal("3 TypedJobs ready jobs waiting for a worker, more than the threshold of 2.", backlog.Description);
        Assert.Contains("backlog-test", backlog.Tags);
    }

    [Fact]
    public async Task NoWorkerHeartbeating_IsUnhealthy_AndSaysJobsMayNotRun()
    {
        await using var host = await AdminHost.StartAsync(worker: false);

        var report = await Checks(host).CheckHealthAsync(static r => r.Name == "typedjobs-workers");

        var workers = report.Entries["typedjobs-workers"];
        Assert.Equal(HealthStatus.Unhealthy, workers.Status);
        Assert.Equal("0 TypedJobs worker(s) heartbeating within 60 s, fewer than the 1 required (0 registered worker(s) have gone quiet): jobs may not be running.",
            workers.Description);
    }

    [Fact]
    public async Task AStoreThatFails_IsUnhealthy_WithoutItsMessageInTheDescription()
    {
        await using var host = await AdminHost.StartAsync(configure: static b => b.Services.AddSingleton<IJobAdmin>(new FailingAdmin()));

        var report = await Checks(host).CheckHealthAsync(static r => r.Name == "typedjobs-storage");

        var storage = report.Entries["typedjobs-storage"];
        Assert.Equal(HealthStatus.Unhealthy, storage.Status);
        Assert.Equal("The TypedJobs jobs storage could not be read (InvalidOperationException).", storage.Description);
        Assert.DoesNotContain("hunter2", storage.Description, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("BacklogThreshold", "BacklogThreshold = -1 must be 0 or more")]
    [InlineData("MinimumWorkers", "MinimumWorkers = -1 must be 0 or more")]
    [InlineData("Timeout", "Timeout = 00:00:00 must be a positive time span")]
    public void BadOptions_StopRegistrationWithAMessageNamingTheSetting(string setting, string message)
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddHealthChecks().AddTypedJobs(o =>
        {
            switch (setting)
            {
                case "BacklogThreshold": o.BacklogThreshold = -1; break;
                case "MinimumWorkers": o.MinimumWorkers = -1; break;
                default: o.Timeout = TimeSpan.Zero; break;
            }
        }));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(setting, error.ParamName);
    }

    private static HealthCheckService Checks(AdminHost host) => host.Services.GetRequiredService<HealthCheckService>();

    private static async Task<HealthReport> WaitForAsync(AdminHost host, Func<HealthReport, bool> condition)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (true)
        {
            var report = await Checks(host).CheckHealthAsync(timeout.Token);
            if (condition(report))
            {
                return report;
            }

            await Task.Delay(50, timeout.Token);
        }
    }
}
