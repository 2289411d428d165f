using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs.Hosting;

namespace TypedJobs.Contracts;

/// <summary>
/// Runs once in a process with workers, when it starts: logs every contract conflict (one task name compiled with two
/// shapes), then runs <see cref="StoredJobsCheck"/> over the waiting jobs against this process's
/// <see cref="DeployedContracts"/> and the worker registry, and logs one line with the result. It never stops the host:
/// a failing check is logged and the workers run on.
/// </summary>
internal sealed class ContractCheckService(
    StorageSet storage,
    DeployedContracts contracts,
    TypedJobsOptions options,
    ILogger<ContractCheckService> logger) : StoreLoopService
{
    /// <summary>The most waiting jobs read at startup.</summary>
    internal const int StartupMaxJobs = 10_000;

    /// <summary>The most tasks named in the log line.</summary>
    private const int NamedTasks = 10;

    /// <summary>The report of the last check (for tests).</summary>
    internal StoredJobsReport? Report { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CheckStoredJobsAtStartup)
        {
            return;
        }

        await Task.Yield();
        foreach (var conflict in contracts.Conflicts)
        {
            ContractLog.Conflict(logger, conflict.TaskName, conflict.First.Assembly ?? "?", conflict.First.Hash ?? "-",
                conflict.Second.Assembly ?? "?", conflict.Second.Hash ?? "-");
        }

        try
        {
            await storage.EnsureInitializedAsync(stoppingToken).ConfigureAwait(false);
            var report = await StoredJobsCheck.RunAsync(storage.Admin, contracts, new StoredJobsCheckOptions { MaxJobs = StartupMaxJobs }, stoppingToken)
                .ConfigureAwait(false);
            Report = report;
            if (report.UnknownTasks.Count == 0)
            {
                ContractLog.StoredJobsKnown(logger, report.JobsScanned, contracts.Tasks.Count, contracts.Hash);
            }
            else
            {
                ContractLog.StoredJobsUnknown(logger, report.UnknownJobs, report.UnknownTasks.Count, Describe(report), options.UnknownTaskGracePeriod);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            ContractLog.CheckFailed(logger, ex);
        }
    }

    /// <summary><c>task (12 in emails, default), …</c>, at most <see cref="NamedTasks"/> tasks, and whether the count is a lower bound.</summary>
    internal static string Describe(StoredJobsReport report)
    {
        var parts = report.UnknownTasks.Take(NamedTasks)
            .Select(static t => $"{t.TaskName} ({t.Jobs.ToString(CultureInfo.InvariantCulture)} in {string.Join(", ", t.Queues)})")
            .ToList();
        if (report.UnknownTasks.Count > NamedTasks)
        {
            parts.Add($"and {(report.UnknownTasks.Count - NamedTasks).ToString(CultureInfo.InvariantCulture)} more");
        }

        var text = string.Join("; ", parts);
        return report.Complete ? text : text + $" (the first {report.JobsScanned.ToString(CultureInfo.InvariantCulture)} waiting jobs read)";
    }
}

internal static partial class ContractLog
{
    [LoggerMessage(1, LogLevel.Information, "Stored jobs match the deployed contracts: none of {Scanned} waiting jobs has an unknown task ({Tasks} tasks, contract {Hash})")]
    public static partial void StoredJobsKnown(ILogger logger, long scanned, int tasks, string hash);

    [LoggerMessage(2, LogLevel.Warning, "{Jobs} waiting jobs of {Count} tasks that no deployed contract or registered worker knows: {Tasks}. They are dead-lettered after TypedJobs:UnknownTaskGracePeriod ({Grace}) unless a worker that runs them starts")]
    public static partial void StoredJobsUnknown(ILogger logger, long jobs, int count, string tasks, TimeSpan grace);

    [LoggerMessage(3, LogLevel.Warning, "Task '{Task}' is compiled with two shapes: {FirstAssembly} ({FirstHash}) and {SecondAssembly} ({SecondHash}); rebuild the worker against the contract assembly it runs with")]
    public static partial void Conflict(ILogger logger, string task, string firstAssembly, string firstHash, string secondAssembly, string secondHash);

    [LoggerMessage(4, LogLevel.Warning, "The startup check of stored jobs against the deployed contracts failed; workers run on")]
    public static partial void CheckFailed(ILogger logger, Exception exception);
}
