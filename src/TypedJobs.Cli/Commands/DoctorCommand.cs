using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;
using TypedJobs.Contracts;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// <c>doctor</c>: checks each backend's schema version, the clock skew between this machine and the store, what the
/// backend reports about its server (<see cref="IStorageDiagnostics"/>: persistence and eviction settings, connection
/// limits, as each store implements it), workers whose heartbeat stopped, and waiting jobs whose task no deployed
/// worker or contract knows (<see cref="StoredJobsCheck"/>). Warnings and errors are findings: exit code 3 when there
/// are any.
/// </summary>
internal static class DoctorCommand
{
    private const string Ok = "ok";
    private const string Info = "info";
    private const string Warning = "warning";
    private const string Error = "error";

    public static void AddTo(Command root, CliEnvironment environment)
    {
        var maxSkew = new Option<string>("--max-clock-skew") { Description = "Clock skew to report (e.g. 2s)", DefaultValueFactory = _ => "2s" };
        var staleAfter = new Option<string>("--stale-after") { Description = "Report workers with no heartbeat for this long (e.g. 1m)", DefaultValueFactory = _ => "1m" };
        var contract = new Option<string[]>("--contract")
        {
            Description = "A TypedJobs.contract.json baseline or a built task assembly (.dll) of a deployed service; repeatable. "
                + "Waiting jobs of tasks that neither these nor the registered workers know are reported",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("doctor", "Check schema, clock skew, the store's server settings, worker heartbeats and waiting jobs of unknown tasks; exit code 3 on findings");
        command.Add(maxSkew);
        command.Add(staleAfter);
        command.Add(contract);
        CliApp.SetAction(command, environment, async context =>
        {
            var skewLimit = Parsing.Duration("--max-clock-skew", context.Value(maxSkew)!);
            var stale = Parsing.Duration("--stale-after", context.Value(staleAfter)!);
            var deployed = LoadContracts(context.Value(contract) ?? []);
            var checks = new List<DoctorCheck>();
            foreach (var (backend, store) in StorageSession.OpenBackends(context.Environment, context.Selection))
            {
                try
                {
                    await CheckBackendAsync(context, backend, store, skewLimit, checks).ConfigureAwait(false);
                }
                finally
                {
                    StorageSession.Dispose(store);
                }
            }

            if (!checks.Any(c => c.Check == "schema" && c.Status == Error))
            {
                // One session for both: the workers and the waiting jobs are read from the same store.
                await using var session = await context.OpenSessionAsync().ConfigureAwait(false);
                await CheckWorkersAsync(context, session, stale, checks).ConfigureAwait(false);
                await CheckContractsAsync(context, session, deployed, checks).ConfigureAwait(false);
            }

            var findings = checks.Count(c => c.Status is Warning or Error);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new DoctorDocument(findings, checks), CliJson.Relaxed.DoctorDocument);
            }
            else
            {
                var table = context.Output.NewTable("Check", "Status", "Details");
                foreach (var check in checks)
                {
                    var color = check.Status switch { Ok => Color.Green, Warning => Color.Yellow, Error => Color.Red, _ => Color.Default };
                    table.AddRow(new Text(check.Check), new Text(check.Status, new Style(color)), new Text(check.Message));
                }

                context.Output.Write(table);
                context.Output.Line(findings == 0 ? "No findings." : $"{findings} finding(s): see above.", findings == 0 ? Color.Green : Color.Yellow);
            }

            return findings > 0 ? ExitCodes.ActionNeeded : ExitCodes.Ok;
        });
        root.Add(command);
    }

    private static async Task CheckBackendAsync(CommandContext context, StorageSelection.Backend backend, IStorageRole store, TimeSpan skewLimit,
        List<DoctorCheck> checks)
    {
        var ct = context.CancellationToken;
        var name = backend.Redacted;
        checks.Add(new DoctorCheck("storage", Info, $"{name} holds {backend.Roles} ({store.Capabilities})", null));

        if (store is IStorageMigrations migrations && (store.Capabilities & StorageCapabilities.Migrations) != 0)
        {
            var status = await migrations.MigrationsStatusAsync(new MigrationsStatusParams(), ct).ConfigureAwait(false);
            checks.Add(status switch
            {
                { CurrentVersion: 0 } => new DoctorCheck("schema", Error, $"{name}: no TypedJobs schema; run 'typedjobs migrate' (or start a worker)", "schema.missing"),
                { Pending.Count: > 0 } => new DoctorCheck("schema", Warning,
                    $"{name}: version {status.CurrentVersion} of {status.LatestVersion}, {status.Pending.Count} migration(s) pending; run 'typedjobs migrate'", "schema.pending"),
                _ when status.CurrentVersion > status.LatestVersion => new DoctorCheck("schema", Warning,
                    $"{name}: version {status.CurrentVersion} is newer than this tool knows ({status.LatestVersion}); upgrade typedjobs", "schema.newer"),
                _ => new DoctorCheck("schema", Ok, $"{name}: version {status.CurrentVersion}, current", null),
            });
        }
        else
        {
            checks.Add(new DoctorCheck("schema", Ok, $"{name}: no versioned schema", null));
        }

        // Skew: the store's clock against the midpoint of the round trip, give or take half of it.
        var before = context.Environment.Time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        var storeNow = await store.ClockNowAsync(ct).ConfigureAwait(false);
        var roundTrip = watch.Elapsed;
        var skew = storeNow - (before + roundTrip / 2);
        var text = $"{name}: store clock {(skew >= TimeSpan.Zero ? "+" : "-")}{Formats.Duration(skew.Duration())} from this machine (± {Formats.Duration(roundTrip / 2)})";
        checks.Add(skew.Duration() - roundTrip / 2 > skewLimit
            ? new DoctorCheck("clock", Warning, text + $": more than {Formats.Duration(skewLimit)}; delays and run-at times given from this machine will be off", "clock.skew")
            : new DoctorCheck("clock", Ok, text, null));

        if (store is IStorageDiagnostics diagnostics)
        {
            var result = await diagnostics.StorageDiagnoseAsync(new StorageDiagnoseParams(), ct).ConfigureAwait(false);
            foreach (var finding in result.Findings)
            {
                var status = finding.Severity switch
                {
                    StorageFindingSeverity.Error => Error,
                    StorageFindingSeverity.Warning => Warning,
                    _ => Info,
                };
                checks.Add(new DoctorCheck("server", status, $"{name}: {finding.Message}", finding.Code));
            }

            if (result.Findings.Count == 0)
            {
                checks.Add(new DoctorCheck("server", Ok, $"{name}: the server's settings raise no concern", null));
            }
        }
    }

    private static async Task CheckWorkersAsync(CommandContext context, StorageSession session, TimeSpan stale, List<DoctorCheck> checks)
    {
        var workers = await session.Admin.GetWorkersAsync(context.CancellationToken).ConfigureAwait(false);
        var silent = workers.Workers.Where(w => workers.Now - w.LastHeartbeatAt > stale).ToList();
        foreach (var worker in silent)
        {
            var r = worker.Registration;
            checks.Add(new DoctorCheck("workers", Warning,
                $"worker {r.Id} ({r.Host ?? "?"}, pid {r.ProcessId}) last heartbeat {Formats.Duration(workers.Now - worker.LastHeartbeatAt)} ago, serving {string.Join(",", r.Queues)}: "
                + "crashed or cannot reach the store (its jobs are rescued when their leases expire)", "workers.stale"));
        }

        var alive = workers.Workers.Count - silent.Count;
        checks.Add(new DoctorCheck("workers", alive > 0 ? Ok : Info,
            alive > 0 ? $"{alive} worker(s) with a recent heartbeat" : "no worker with a recent heartbeat", null));
    }

    private static DeployedContracts? LoadContracts(string[] paths)
    {
        if (paths.Length == 0)
        {
            return null;
        }

        var loaded = new List<DeployedContracts>();
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw CliException.Usage($"--contract: the file '{path}' does not exist (give a TypedJobs.contract.json baseline or a built task assembly .dll).");
            }

            try
            {
                loaded.Add(path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
                    ? DeployedContracts.FromAssembly(path)
                    : DeployedContracts.FromBaselineFile(path));
            }
            catch (Exception ex) when (ex is FormatException or BadImageFormatException or InvalidOperationException or IOException)
            {
                throw CliException.Error($"--contract: {ex.Message}");
            }
        }

        return DeployedContracts.Combine(loaded);
    }

    /// <summary>
    /// Waiting jobs whose task neither a given contract nor a registered worker knows: they wait for a deployment that
    /// may never come. Without <c>--contract</c> the check runs only when workers registered the tasks they run.
    /// </summary>
    private static async Task CheckContractsAsync(CommandContext context, StorageSession session, DeployedContracts? deployed, List<DoctorCheck> checks)
    {
        var ct = context.CancellationToken;
        if (deployed is null)
        {
            var workers = await session.JobsStore.WorkersListAsync(new WorkersListParams(), ct).ConfigureAwait(false);
            if (!workers.Workers.Any(static w => w.Registration.Tasks.Count > 0))
            {
                checks.Add(new DoctorCheck("contracts", Info,
                    "no registered worker lists its tasks and no --contract was given: waiting jobs were not checked against deployed tasks", null));
                return;
            }
        }
        else
        {
            foreach (var conflict in deployed.Conflicts)
            {
                checks.Add(new DoctorCheck("contracts", Warning,
                    $"task '{conflict.TaskName}' has two different payload shapes in the given contracts: producers and workers disagree on its arguments",
                    "contracts.conflict"));
            }
        }

        var report = await StoredJobsCheck.RunAsync(session.JobsStore, deployed?.Tasks.Select(static t => t.Name) ?? [], cancellationToken: ct)
            .ConfigureAwait(false);
        foreach (var task in report.UnknownTasks)
        {
            checks.Add(new DoctorCheck("contracts", Warning,
                $"{task.Jobs} waiting job(s) of task '{task.TaskName}' in {string.Join(",", task.Queues)} (oldest {Formats.Time(task.OldestCreatedAt)}): "
                + "no registered worker or given contract knows this task; deploy a worker that runs it, or cancel the jobs",
                "contracts.unknown-task"));
        }

        if (!report.Complete)
        {
            checks.Add(new DoctorCheck("contracts", Info, $"stopped after {report.JobsScanned} waiting jobs: counts of unknown tasks are lower bounds", null));
        }

        if (report.WorkerContracts.Count(static g => g.ContractHash is not null) > 1)
        {
            checks.Add(new DoctorCheck("contracts", Info,
                "workers run different contract versions: " + string.Join("; ", report.WorkerContracts.Select(static g => $"{g.ContractHash ?? "none"} ({string.Join(",", g.WorkerIds)})")),
                "contracts.mixed"));
        }

        if (report.UnknownTasks.Count == 0)
        {
            checks.Add(new DoctorCheck("contracts", Ok,
                $"every waiting job's task is known ({report.JobsScanned} job(s) checked against {report.KnownTasks} contract task(s) and {report.WorkerTasks.Count} worker task(s))", null));
        }
    }
}
