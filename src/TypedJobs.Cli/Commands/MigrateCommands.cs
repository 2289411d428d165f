using System.CommandLine;
using Spectre.Console;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Cli.Output;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// <c>migrate</c> applies pending schema migrations (contract ones included: run it once no worker of an older version is
/// left), <c>migrate status</c> shows them and <c>validate</c> is the deploy gate; both exit with 3 while migrations are
/// pending. Every backend the configuration names is covered; backends without a versioned schema (memory:) have
/// nothing to migrate.
/// </summary>
internal static class MigrateCommands
{
    private const string ContractMarker = "(contract:";

    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "List what would be applied; change nothing" };
    private static readonly Option<bool> ShowSql = new("--show-sql") { Description = "Print the statements (SQL for SQL stores) of each migration" };

    public static void AddTo(Command root, CliEnvironment environment)
    {
        var migrate = new Command("migrate", "Apply pending schema migrations, contract migrations included (run once every worker is upgraded)");
        migrate.Add(DryRun);
        migrate.Add(ShowSql);
        CliApp.SetAction(migrate, environment, ApplyAsync);

        var status = new Command("status", "Show the schema version and pending migrations; exit code 3 while any are pending");
        status.Add(ShowSql);
        CliApp.SetAction(status, environment, context => StatusAsync(context, "migrate status"));
        migrate.Add(status);
        root.Add(migrate);

        var validate = new Command("validate", "Deploy gate: check the configuration, reach the store and exit with 3 when migrations are pending");
        CliApp.SetAction(validate, environment, context => StatusAsync(context, "validate"));
        root.Add(validate);
    }

    private static async Task<int> StatusAsync(CommandContext context, string command)
    {
        var backends = new List<MigrationBackend>();
        foreach (var (backend, store) in StorageSession.OpenBackends(context.Environment, context.Selection))
        {
            try
            {
                backends.Add(await StatusOfAsync(backend, store, context.CancellationToken).ConfigureAwait(false));
            }
            finally
            {
                StorageSession.Dispose(store);
            }
        }

        var pending = backends.Sum(b => b.Pending.Count);
        var document = new MigrationDocument(command, false, pending, backends);
        if (context.Output.Json)
        {
            context.Output.WriteJson(document, CliJson.Relaxed.MigrationDocument);
        }
        else
        {
            Print(context, document, context.Value(ShowSql), command == "validate");
        }

        return pending > 0 ? ExitCodes.ActionNeeded : ExitCodes.Ok;
    }

    private static async Task<int> ApplyAsync(CommandContext context)
    {
        var dryRun = context.Value(DryRun);
        var backends = new List<MigrationBackend>();
        foreach (var (backend, store) in StorageSession.OpenBackends(context.Environment, context.Selection))
        {
            try
            {
                if (store is not IStorageMigrations migrations || (store.Capabilities & StorageCapabilities.Migrations) == 0)
                {
                    backends.Add(Unversioned(backend));
                    continue;
                }

                var result = await migrations.MigrationsApplyAsync(new MigrationsApplyParams(dryRun), context.CancellationToken).ConfigureAwait(false);
                var after = await StatusOfAsync(backend, store, context.CancellationToken).ConfigureAwait(false);
                backends.Add(after with { Applied = result.Applied.Select(Entry).ToList() });
            }
            finally
            {
                StorageSession.Dispose(store);
            }
        }

        var document = new MigrationDocument("migrate", dryRun, backends.Sum(b => b.Pending.Count), backends);
        if (context.Output.Json)
        {
            context.Output.WriteJson(document, CliJson.Relaxed.MigrationDocument);
            return ExitCodes.Ok;
        }

        var output = context.Output;
        foreach (var backend in backends)
        {
            if (!backend.Versioned)
            {
                output.Line($"{backend.Storage}: no versioned schema, nothing to migrate.");
                continue;
            }

            if (backend.Applied.Count == 0)
            {
                output.Line($"{backend.Storage}: schema version {backend.CurrentVersion} is current, nothing to apply.");
                continue;
            }

            output.Line(dryRun
                ? $"{backend.Storage}: would apply {backend.Applied.Count} migration(s) (dry run, nothing changed):"
                : $"{backend.Storage}: applied {backend.Applied.Count} migration(s), schema version {backend.CurrentVersion}:");
            foreach (var migration in backend.Applied)
            {
                output.Line($"  {migration.Version}  {migration.Description}");
                if (context.Value(ShowSql))
                {
                    PrintStatements(output, migration);
                }
            }
        }

        return ExitCodes.Ok;
    }

    private static async Task<MigrationBackend> StatusOfAsync(StorageSelection.Backend backend, IStorageRole store, CancellationToken cancellationToken)
    {
        if (store is not IStorageMigrations migrations || (store.Capabilities & StorageCapabilities.Migrations) == 0)
        {
            // Still prove the store answers: a deploy gate that passes on an unreachable server is worthless.
            await store.ClockNowAsync(cancellationToken).ConfigureAwait(false);
            return Unversioned(backend);
        }

        var status = await migrations.MigrationsStatusAsync(new MigrationsStatusParams(), cancellationToken).ConfigureAwait(false);
        return new MigrationBackend(backend.Redacted, backend.Roles.ToString(), true, status.CurrentVersion, status.LatestVersion,
            status.Pending.Select(Entry).ToList(), []);
    }

    private static MigrationBackend Unversioned(StorageSelection.Backend backend) =>
        new(backend.Redacted, backend.Roles.ToString(), false, null, null, [], []);

    private static MigrationEntry Entry(MigrationInfo m) =>
        new(m.Version, m.Description, m.Description.Contains(ContractMarker, StringComparison.Ordinal), m.Statements);

    private static void Print(CommandContext context, MigrationDocument document, bool showSql, bool validate)
    {
        var output = context.Output;
        var table = output.NewTable("Storage", "Roles", ">Schema", ">Latest", ">Pending");
        foreach (var backend in document.Backends)
        {
            CliOutput.AddRow(table, backend.Storage, backend.Roles,
                backend.Versioned ? backend.CurrentVersion.ToString() : "-",
                backend.Versioned ? backend.LatestVersion.ToString() : "-",
                backend.Pending.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        output.Write(table);
        foreach (var backend in document.Backends.Where(b => b.Pending.Count > 0))
        {
            output.Line($"Pending on {backend.Storage}:");
            foreach (var migration in backend.Pending)
            {
                output.Line($"  {migration.Version}  {migration.Description}");
                if (showSql)
                {
                    PrintStatements(output, migration);
                }
            }
        }

        foreach (var backend in document.Backends.Where(b => b.Versioned && b.CurrentVersion > b.LatestVersion))
        {
            output.Line($"{backend.Storage} has schema version {backend.CurrentVersion}, newer than this tool knows ({backend.LatestVersion}): upgrade typedjobs.",
                Color.Yellow);
        }

        if (document.Pending > 0)
        {
            output.Line($"{document.Pending} migration(s) pending: run 'typedjobs migrate'.", Color.Yellow);
        }
        else if (validate)
        {
            output.Line("OK: configuration valid, storage reachable, schema current.", Color.Green);
        }
    }

    private static void PrintStatements(CliOutput output, MigrationEntry migration)
    {
        foreach (var statement in migration.Statements)
        {
            foreach (var line in statement.Split('\n'))
            {
                output.Line("      " + line.TrimEnd('\r'));
            }

            output.Line();
        }
    }
}
