using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using TypedJobs;
using TypedJobs.Storage;
using WebApp;

namespace TypedJobs.Dashboard.Tests;

/// <summary>The WebApp sample on Kestrel (a loopback port chosen by the system), on a SQLite file in a temporary folder.</summary>
public sealed class WebAppServer : IAsyncDisposable
{
    public const string User = "ops";
    public const string Password = "dashboard-test-password";

    private readonly DirectoryInfo root;

    private WebAppServer(WebApplication app, DirectoryInfo root)
    {
        App = app;
        this.root = root;
        BaseUrl = app.Urls.First(static u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)).TrimEnd('/');
    }

    public WebApplication App { get; }

    public string BaseUrl { get; }

    public IJobClient Jobs => App.Services.GetRequiredService<IJobClient>();

    public IJobAdmin Admin => App.Services.GetRequiredService<IJobAdmin>();

    /// <summary>The folder the sample's Import task reads.</summary>
    public string Imports => Path.Combine(root.FullName, "imports");

    public static async Task<WebAppServer> StartAsync(Action<IServiceCollection>? services = null)
    {
        var root = Directory.CreateTempSubdirectory("typedjobs-dashboard-");
        Directory.CreateDirectory(Path.Combine(root.FullName, "imports"));
        var app = WebAppHost.Build(
        [
            "--contentRoot=" + root.FullName,
            "--urls=http://127.0.0.1:0",
            "--TypedJobs:Storage=sqlite:webapp.db",
            "--TypedJobs:RecordEvents=true",
            "--TypedJobs:Worker:Queues:0=default",
            "--TypedJobs:Worker:Queues:1=emails",
            "--TypedJobs:Worker:Queues:2=reports",
            "--TypedJobs:Worker:Queues:3=imports",
            "--TypedJobs:Worker:Concurrency=4",
            "--Dashboard:User=" + User,
            "--Dashboard:Password=" + Password,
            "--Logging:LogLevel:Default=Warning",
        ], services);
        await app.StartAsync();
        return new WebAppServer(app, root);
    }

    public async Task<JobRecord> WaitForStateAsync(JobId id, JobState state)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            var job = await Jobs.GetJobAsync(id, timeout.Token);
            if (job?.State == state)
            {
                return job;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still open by the runtime: the temporary folder is cleaned by the system.
        }
    }
}
