using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Contracts;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests.Contracts;

/// <summary>
/// <see cref="StoredJobsCheck"/> and the startup check of worker hosts, on a real SQLite file written by one process
/// (a producer that enqueues through task contracts) and read by another (a worker or an operator's tool).
/// </summary>
public sealed class StoredJobsCheckTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("typedjobs-contracts-").FullName;

    private string DatabasePath => Path.Combine(directory, "jobs.db");

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

    private static JobTask<TestPayload> Contract(string name) => JobTask.CreateContract(name, TestHost.PayloadSerializer);

    [Fact]
    public async Task Check_ListsWaitingJobsWhoseTaskNoContractKnows_PerTaskWithQueues()
    {
        await SeedAsync(async client =>
        {
            await client.EnqueueBatchAsync(Contract("billing.charge"), Enumerable.Range(0, 3).Select(i => new TestPayload("c", i)), new JobOptions { Queue = "billing" });
            await client.EnqueueAsync(Contract("billing.charge"), new TestPayload("later"), new JobOptions { Delay = TimeSpan.FromHours(1) });
            await client.EnqueueBatchAsync(Contract("mail.send"), [new TestPayload("a"), new TestPayload("b")]);
            await client.EnqueueAsync(Contract("legacy.export"), new TestPayload("x"), new JobOptions { Delay = TimeSpan.FromDays(1) });
        });

        await using var tool = await OpenToolAsync();
        var report = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([new TaskContractInfo { Name = "mail.send" }]));

        Assert.Equal(7, report.JobsScanned);
        Assert.True(report.Complete);
        Assert.Equal(1, report.KnownTasks);
        Assert.Equal(5, report.UnknownJobs);
        Assert.Collection(report.UnknownTasks,
            t =>
            {
                Assert.Equal("billing.charge", t.TaskName);
                Assert.Equal(4, t.Jobs);
                Assert.Equal(["billing", "default"], t.Queues);
            },
            t =>
            {
                Assert.Equal("legacy.export", t.TaskName);
                Assert.Equal(1, t.Jobs);
                Assert.Equal(["default"], t.Queues);
            });
        Assert.Empty(report.WorkerTasks);
        Assert.Empty(report.WorkerContracts);
    }

    [Fact]
    public async Task Check_IgnoresFinishedJobs()
    {
        var ran = new TaskCompletionSource();
        var done = JobTask.Create("report.build", TestHost.PayloadSerializer, (_, _) =>
        {
            ran.TrySetResult();
            return ValueTask.CompletedTask;
        });
        JobId id = default;
        using (var worker = await StartHostAsync(b => b.AddTask(done).AddWorker()))
        {
            var client = worker.Services.GetRequiredService<IJobClient>();
            id = await client.EnqueueAsync(done, new TestPayload("r"));
            await Eventually.TrueAsync(async () => (await client.GetJobAsync(id))?.State == JobState.Succeeded, "the job to succeed", TimeSpan.FromSeconds(60));
            await worker.StopAsync();
        }

        await using var tool = await OpenToolAsync();
        var report = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]), new StoredJobsCheckOptions { IncludeRegisteredWorkers = false });

        Assert.Equal(JobState.Succeeded, (await tool.Store.JobsListAsync(new JobsListParams(), CancellationToken.None)).Jobs.Single(j => j.Id == id).State);
        Assert.Equal(0, report.JobsScanned);
        Assert.Empty(report.UnknownTasks);
    }

    [Fact]
    public async Task Check_CountsTasksThatARegisteredWorkerRuns_AsKnown_AndGroupsWorkersByContractHash()
    {
        await SeedAsync(async client =>
        {
            await client.EnqueueAsync(Contract("billing.charge"), new TestPayload("c"), new JobOptions { Queue = "billing" });
            await client.EnqueueAsync(Contract("legacy.export"), new TestPayload("x"));
        });
        // A worker of another deployment runs billing.charge; it serves another queue, so it leaves the job waiting.
        var charge = JobTask.Create("billing.charge", TestHost.PayloadSerializer, (_, _) => ValueTask.CompletedTask);
        using var worker = await StartHostAsync(b => b.AddTask(charge).AddWorker(w => w.Queues = ["elsewhere"]));
        var workerHash = worker.Services.GetRequiredService<DeployedContracts>().Hash;

        await using var tool = await OpenToolAsync();
        await Eventually.TrueAsync(async () => (await tool.Store.WorkersListAsync(new WorkersListParams(), CancellationToken.None)).Workers.Count == 1,
            "the worker to register", TimeSpan.FromSeconds(60));
        var withRegistry = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]));
        var withoutRegistry = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]), new StoredJobsCheckOptions { IncludeRegisteredWorkers = false });

        Assert.Equal(["billing.charge"], withRegistry.WorkerTasks);
        Assert.Equal(["legacy.export"], withRegistry.UnknownTasks.Select(t => t.TaskName));
        var group = Assert.Single(withRegistry.WorkerContracts);
        Assert.Equal(workerHash, group.ContractHash);
        Assert.Single(group.WorkerIds);
        Assert.Equal(["billing.charge", "legacy.export"], withoutRegistry.UnknownTasks.Select(t => t.TaskName).Order(StringComparer.Ordinal));
        Assert.Empty(withoutRegistry.WorkerContracts);
        await worker.StopAsync();
    }

    [Fact]
    public async Task Check_StopsAtMaxJobs_AndSaysTheCountsAreLowerBounds()
    {
        await SeedAsync(client => client.EnqueueBatchAsync(Contract("legacy.export"), Enumerable.Range(0, 5).Select(i => new TestPayload("x", i))).AsTask());

        await using var tool = await OpenToolAsync();
        var report = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]), new StoredJobsCheckOptions { MaxJobs = 3, PageSize = 2 });
        var all = await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]), new StoredJobsCheckOptions { PageSize = 2 });

        Assert.False(report.Complete);
        Assert.Equal(3, report.JobsScanned);
        Assert.Equal(3, Assert.Single(report.UnknownTasks).Jobs);
        Assert.True(all.Complete);
        Assert.Equal(5, Assert.Single(all.UnknownTasks).Jobs);
    }

    [Theory]
    [InlineData(0, 500, "options.MaxJobs")]
    [InlineData(10, 0, "options.PageSize")]
    [InlineData(10, 1001, "options.PageSize")]
    public async Task Check_RejectsOutOfRangeOptions_NamingTheSetting(int maxJobs, int pageSize, string name)
    {
        await using var tool = await OpenToolAsync();

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await StoredJobsCheck.RunAsync(tool.Store, new DeployedContracts([]), new StoredJobsCheckOptions { MaxJobs = maxJobs, PageSize = pageSize }));

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public async Task StartupCheck_OfAWorkerHost_WarnsOnceNamingTheTasksNoContractKnows()
    {
        await SeedAsync(async client =>
        {
            await client.EnqueueBatchAsync(Contract("legacy.export"), [new TestPayload("x"), new TestPayload("y")], new JobOptions { Queue = "legacy" });
            await client.EnqueueAsync(Contract("mail.send"), new TestPayload("m"), new JobOptions { Delay = TimeSpan.FromHours(1) });
        });
        var logs = new RecordingLoggerProvider();
        var mail = JobTask.Create("mail.send", TestHost.PayloadSerializer, (_, _) => ValueTask.CompletedTask);

        using var worker = await StartHostAsync(b => b.AddTask(mail).AddWorker(), logs);
        var check = await CompletedCheckAsync(worker);

        var line = Assert.Single(logs.Lines, l => l.Category == typeof(ContractCheckService).FullName);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.StartsWith("2 waiting jobs of 1 tasks that no deployed contract or registered worker knows: legacy.export (2 in legacy).", line.Message, StringComparison.Ordinal);
        Assert.Equal(["legacy.export"], check.Report!.UnknownTasks.Select(t => t.TaskName));
        await worker.StopAsync();
    }

    [Fact]
    public async Task StartupCheck_WhenEveryTaskIsKnown_LogsTheContractHash()
    {
        await SeedAsync(client => client.EnqueueAsync(Contract("mail.send"), new TestPayload("m"), new JobOptions { Delay = TimeSpan.FromHours(1) }).AsTask());
        var logs = new RecordingLoggerProvider();
        var mail = JobTask.Create("mail.send", TestHost.PayloadSerializer, (_, _) => ValueTask.CompletedTask);

        using var worker = await StartHostAsync(b => b.AddTask(mail).AddWorker(), logs);
        await CompletedCheckAsync(worker);

        var line = Assert.Single(logs.Lines, l => l.Category == typeof(ContractCheckService).FullName);
        Assert.Equal(LogLevel.Information, line.Level);
        var hash = worker.Services.GetRequiredService<DeployedContracts>().Hash;
        Assert.Equal($"Stored jobs match the deployed contracts: none of 1 waiting jobs has an unknown task (1 tasks, contract {hash})", line.Message);
        await worker.StopAsync();
    }

    [Fact]
    public async Task StartupCheck_TurnedOff_ReadsNothingAndLogsNothing()
    {
        await SeedAsync(client => client.EnqueueAsync(Contract("legacy.export"), new TestPayload("x"), new JobOptions { Queue = "legacy" }).AsTask());
        var logs = new RecordingLoggerProvider();
        var mail = JobTask.Create("mail.send", TestHost.PayloadSerializer, (_, _) => ValueTask.CompletedTask);

        using var worker = await StartHostAsync(b => b.AddTask(mail).AddWorker(), logs, o => o.CheckStoredJobsAtStartup = false);
        var check = await CompletedCheckAsync(worker);

        Assert.Null(check.Report);
        Assert.DoesNotContain(logs.Lines, l => l.Category == typeof(ContractCheckService).FullName);
        await worker.StopAsync();
    }

    [Fact]
    public async Task StartupCheck_RunsOnlyInHostsWithWorkers()
    {
        using var producer = await StartHostAsync(b => b.AddContract(new TaskContractInfo { Name = "mail.send" }));

        Assert.DoesNotContain(producer.Services.GetServices<IHostedService>(), s => s is ContractCheckService);
        await producer.StopAsync();
    }

    [Fact]
    public void FromBaselineFile_KnowsTheTasksAndQueuesOfACommittedBaseline_AndNamesABrokenFile()
    {
        var good = Path.Combine(directory, "TypedJobs.contract.json");
        File.WriteAllText(good, """
            {
              "format": 1,
              "tasks": {
                "mail.send": { "queue": "emails", "parameters": [ { "name": "to", "type": "string" } ] },
                "report.build": { "parameters": [] }
              },
              "types": {}
            }
            """);
        var broken = Path.Combine(directory, "broken.json");
        File.WriteAllText(broken, "{ \"tasks\": [] }");

        var contracts = DeployedContracts.FromBaselineFile(good);
        var error = Assert.Throws<FormatException>(() => DeployedContracts.FromBaselineFile(broken));

        Assert.Equal(["mail.send", "report.build"], contracts.Tasks.Select(t => t.Name));
        Assert.Equal("emails", contracts.Tasks[0].Queue);
        Assert.Null(contracts.Tasks[1].Queue);
        Assert.True(contracts.Knows("mail.send"));
        Assert.False(contracts.Runs("mail.send"));
        Assert.StartsWith("'" + broken + "': ", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"tasks\" object", error.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => DeployedContracts.FromBaselineFile(Path.Combine(directory, "missing.json")));
    }

    [Fact]
    public void Combine_KnowsAndRunsWhatAnyDeploymentDoes_AndReportsConflictingShapes()
    {
        var api = new DeployedContracts([new TaskContractInfo { Name = "mail.send", Hash = "1111111111111111" }, new TaskContractInfo { Name = "report.build" }]);
        var worker = new DeployedContracts([new TaskContractInfo { Name = "mail.send", Hash = "2222222222222222" }],
            [JobTask.Create("mail.send", TestHost.PayloadSerializer, (_, _) => ValueTask.CompletedTask)]);

        var all = DeployedContracts.Combine([api, worker]);

        Assert.Equal(["mail.send", "report.build"], all.Tasks.Select(t => t.Name));
        Assert.True(all.Runs("mail.send"));
        Assert.False(all.Runs("report.build"));
        var conflict = Assert.Single(all.Conflicts);
        Assert.Equal("mail.send", conflict.TaskName);
        Assert.Equal("1111111111111111", conflict.First.Hash);
        Assert.Equal("2222222222222222", conflict.Second.Hash);
    }

    [Fact]
    public void AddTask_RefusesAContractWithoutAHandler()
    {
        var services = new ServiceCollection();
        var builder = services.AddTypedJobs(o => o.UseInMemory());

        var error = Assert.Throws<ArgumentException>(() => builder.AddTask(Contract("mail.send")));

        Assert.Contains("'mail.send' is a contract without a handler", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A producer process enqueues on the file and stops.</summary>
    private async Task SeedAsync(Func<IJobClient, Task> enqueue)
    {
        using var producer = await StartHostAsync(_ => { });
        await enqueue(producer.Services.GetRequiredService<IJobClient>());
        await producer.StopAsync();
    }

    private async Task<IHost> StartHostAsync(Action<TypedJobsBuilder> configure, ILoggerProvider? logs = null, Action<TypedJobsOptions>? options = null)
    {
        var builder = Host.CreateApplicationBuilder();
        if (logs is not null)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(logs);
        }

        configure(builder.Services.AddTypedJobs(o =>
        {
            o.UseSqlite(DatabasePath);
            options?.Invoke(o);
        }));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>An operator's tool: a service provider with the store and no tasks, as a CLI opens one.</summary>
    private async Task<Tool> OpenToolAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddTypedJobs(o => o.UseSqlite(DatabasePath));
        var provider = services.BuildServiceProvider();
        // The tool reads a store a producer already created; listing the queues opens it.
        await provider.GetRequiredService<IJobAdmin>().GetQueuesAsync();
        return new Tool(provider);
    }

    private static async Task<ContractCheckService> CompletedCheckAsync(IHost host)
    {
        var check = host.Services.GetServices<IHostedService>().OfType<ContractCheckService>().Single();
        await check.ExecuteTask!.WaitAsync(TimeSpan.FromMinutes(2));
        return check;
    }

    private sealed class Tool(ServiceProvider provider) : IAsyncDisposable
    {
        public IJobAdminStore Store { get; } = provider.GetRequiredService<IJobAdminStore>();

        public ValueTask DisposeAsync() => provider.DisposeAsync();
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<(string Category, LogLevel Level, string Message)> lines = new();

        public IReadOnlyList<(string Category, LogLevel Level, string Message)> Lines => [.. lines];

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<(string, LogLevel, string)> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
