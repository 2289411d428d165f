using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop;

namespace TypedJobs.Testing.Tests;

/// <summary>The kit inside an application's own host: an ASP.NET Core app on the test server, its TypedJobs set up as in production.</summary>
public sealed class WebAppTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The application under test: a sign-up endpoint that schedules the welcome mail two hours later.</summary>
    private static WebApplication BuildApp(Action<IServiceCollection> testServices, string? sqlitePath = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton<Mailbox>();
        builder.Services.AddSingleton<Calls>();
        builder.Services.AddSingleton<Ticks>();
        builder.Services.AddTypedJobs(o =>
        {
            if (sqlitePath is not null)
            {
                o.UseSqlite(sqlitePath);
            }
        }).AddWorker();
        testServices(builder.Services);
        var app = builder.Build();
        app.MapPost("/signup", async (SignUp request, IJobClient jobs, CancellationToken ct) =>
        {
            await jobs.EnqueueSendWelcomeAsync(request.Email, request.Name, new JobOptions { Delay = TimeSpan.FromHours(2) }, ct);
            return Results.Accepted();
        });
        app.MapPost("/signup-in-transaction", async (SignUp request, IJobClient jobs, CancellationToken ct) =>
        {
            await using var connection = new SqliteConnection("Data Source=" + sqlitePath);
            await connection.OpenAsync(ct);
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            await jobs.InTransaction(transaction).EnqueueSendWelcomeAsync(request.Email, request.Name, cancellationToken: ct);
            if (request.Name == "rollback")
            {
                await transaction.RollbackAsync(ct);
                return Results.Conflict();
            }

            await transaction.CommitAsync(ct);
            return Results.Accepted();
        });
        return app;
    }

    public sealed record SignUp(string Email, string Name);

    [Fact]
    public async Task SignUpEndpoint_EnqueuesTheWelcomeMail_AndDrainingTwoHoursSendsIt()
    {
        await using var app = BuildApp(s => s.AddTypedJobsTesting());
        await app.StartAsync(Ct);
        var kit = app.Services.GetJobTestKit();
        using var http = app.GetTestClient();

        var response = await http.PostAsJsonAsync("/signup", new SignUp("ada@example.com", "Ada"), Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await kit.AssertEnqueuedAsync<EmailTasksJobClientExtensions.SendWelcomeArguments>(a => a.To == "ada@example.com", queue: "emails",
            dueIn: TimeSpan.FromHours(2), cancellationToken: Ct);
        await kit.AssertNothingElseEnqueuedAsync(Ct);

        // The app's own worker runs nothing by itself: time stands still and the mail waits.
        Assert.Empty(await kit.DrainAsync(Ct));
        Assert.Empty(app.Services.GetRequiredService<Mailbox>().Sent);

        // Two hours pass: the mail goes out, and so do the application's hourly reports (a cron task) on the hour.
        var runs = await kit.DrainAsync(TimeSpan.FromHours(2), Ct);
        Assert.Equal(JobRunOutcome.Succeeded, Assert.Single(runs.Of<EmailTasksJobClientExtensions.SendWelcomeArguments>()).Outcome);
        Assert.Equal(2, runs.Of<ReportsJobClientExtensions.HourlyArguments>().Count);
        Assert.Equal(3, runs.With(JobRunOutcome.Succeeded).Count);
        Assert.Equal(["Welcome Ada <ada@example.com>"], app.Services.GetRequiredService<Mailbox>().Sent);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task KeepStorage_OnSqlite_SeesATransactionalEnqueueOnlyAfterCommit()
    {
        var directory = Directory.CreateTempSubdirectory("typedjobs-testing-");
        try
        {
            var path = Path.Combine(directory.FullName, "app.db");
            await using (var app = BuildApp(s => s.AddTypedJobsTesting(o => o.KeepStorage = true), path))
            {
                await app.StartAsync(Ct);
                var kit = app.Services.GetJobTestKit();
                using var http = app.GetTestClient();

                Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync("/signup-in-transaction", new SignUp("x@example.com", "rollback"), Ct)).StatusCode);
                await kit.AssertNothingEnqueuedAsync(Ct);

                Assert.Equal(HttpStatusCode.Accepted, (await http.PostAsJsonAsync("/signup-in-transaction", new SignUp("ada@example.com", "Ada"), Ct)).StatusCode);
                var job = await kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendWelcomeArguments("ada@example.com", "Ada"), queue: "emails",
                    cancellationToken: Ct);
                await kit.AssertNothingElseEnqueuedAsync(Ct);

                var run = Assert.Single(await kit.DrainAsync(Ct));
                Assert.Equal(job.Id, run.Id);
                Assert.Equal(JobRunOutcome.Succeeded, run.Outcome);
                await app.StopAsync(Ct);
            }

            // The jobs really were in the application's SQLite file.
            await using var connection = new SqliteConnection("Data Source=" + path);
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "select task from typedjobs_jobs";
            var rows = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync(Ct))
            {
                while (await reader.ReadAsync(Ct))
                {
                    rows.Add(reader.GetString(0));
                }
            }

            Assert.Equal([EmailTasksJobClientExtensions.SendWelcomeArguments.TaskName], rows);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TheAppsOwnBackgroundServices_StayIdle_UnderTheKit()
    {
        await using var app = BuildApp(s => s.AddTypedJobsTesting());
        await app.StartAsync(Ct);
        var kit = app.Services.GetJobTestKit();
        await kit.Client.EnqueueAddAsync(1, 2, cancellationToken: Ct);

        // Every hosted service of TypedJobs has returned from its loop: nothing will take the job behind the test's back.
        foreach (var service in app.Services.GetServices<IHostedService>().OfType<BackgroundService>())
        {
            if (service.GetType().Namespace?.StartsWith("TypedJobs", StringComparison.Ordinal) == true)
            {
                Assert.NotNull(service.ExecuteTask);
                await service.ExecuteTask!.WaitAsync(TimeSpan.FromMinutes(1), Ct);
            }
        }

        Assert.Equal(JobState.Ready, (await kit.Client.GetJobAsync((await kit.GetEnqueuedAsync(Ct))[0].Id, Ct))!.State);
        Assert.Equal(3, Assert.Single(await kit.DrainAsync(Ct)).GetResult<int>());
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task ATimeProviderRegisteredAfterTheKit_IsReportedClearly()
    {
        await using var app = BuildApp(s =>
        {
            s.AddTypedJobsTesting();
            s.AddSingleton(TimeProvider.System);
        });
        var error = Assert.Throws<InvalidOperationException>(() => app.Services.GetJobTestKit());
        Assert.Contains("AddTypedJobsTesting() last", error.Message, StringComparison.Ordinal);
    }
}
