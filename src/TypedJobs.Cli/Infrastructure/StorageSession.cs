using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>
/// The TypedJobs client of one command: <see cref="IJobAdmin"/> and <see cref="IScheduleAdmin"/> built by
/// <c>AddTypedJobs</c> from the selected configuration, exactly as in a host (no tasks, no worker). Opening it checks
/// the configuration the way a host's start does, and refuses a store without a TypedJobs schema (a mistyped path or
/// database) instead of creating one: only <c>migrate</c> creates schemas.
/// </summary>
internal sealed class StorageSession : IAsyncDisposable
{
    private readonly ServiceProvider services;

    private StorageSession(ServiceProvider services, StorageSelection selection)
    {
        this.services = services;
        Selection = selection;
        Client = services.GetRequiredService<IJobClient>();
        Admin = services.GetRequiredService<IJobAdmin>();
        Schedules = services.GetRequiredService<IScheduleAdmin>();
        JobsStore = services.GetRequiredService<IJobAdminStore>();
    }

    public StorageSelection Selection { get; }

    public IJobClient Client { get; }

    public IJobAdmin Admin { get; }

    public IScheduleAdmin Schedules { get; }

    /// <summary>The jobs role's backend (for its clock).</summary>
    public IJobAdminStore JobsStore { get; }

    public static async Task<StorageSession> OpenAsync(CliEnvironment environment, StorageSelection selection, CancellationToken cancellationToken)
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<IHostEnvironment>(new ToolEnvironment(environment.WorkingDirectory));
        collection.AddSingleton(environment.Time);
        collection.AddTypedJobs(selection.TypedJobs, o =>
        {
            if (selection.CommandLineUrl is { } url)
            {
                UseCommandLineStorage(o, url);
            }
        });
        var provider = collection.BuildServiceProvider();
        try
        {
            // What a host's ValidateOnStart does: every configuration problem at once, each naming its key.
            _ = provider.GetRequiredService<IOptions<TypedJobsOptions>>().Value;
            var session = new StorageSession(provider, selection);
            await session.RequireSchemaAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch (OptionsValidationException ex)
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw CliException.Error(string.Join(Environment.NewLine, ex.Failures));
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens each backend of the selection on its own, without a host and without initializing anything (for migrate, validate, doctor).</summary>
    public static IReadOnlyList<(StorageSelection.Backend Backend, IStorageRole Store)> OpenBackends(CliEnvironment environment, StorageSelection selection)
    {
        var opened = new List<(StorageSelection.Backend, IStorageRole)>();
        try
        {
            foreach (var backend in selection.Backends)
            {
                var store = StorageProviders.Open(backend.Url, backend.Roles, contentRoot: environment.WorkingDirectory, configurationKey: backend.Source);
                opened.Add((backend, (IStorageRole)store));
            }
        }
        catch
        {
            foreach (var (_, store) in opened)
            {
                Dispose(store);
            }

            throw;
        }

        return opened;
    }

    public static void Dispose(object store)
    {
        switch (store)
        {
            case IDisposable disposable:
                disposable.Dispose();
                break;
            case IAsyncDisposable asyncDisposable:
                asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                break;
        }
    }

    public ValueTask DisposeAsync() => services.DisposeAsync();

    private static void UseCommandLineStorage(TypedJobsOptions options, string url)
    {
        try
        {
            options.UseStorage(url);
        }
        catch (FormatException ex)
        {
            throw CliException.Usage($"--storage: {ex.Message}");
        }
    }

    private async Task RequireSchemaAsync(CancellationToken cancellationToken)
    {
        if (JobsStore is not IStorageMigrations migrations || (JobsStore.Capabilities & StorageCapabilities.Migrations) == 0)
        {
            return;
        }

        var status = await migrations.MigrationsStatusAsync(new MigrationsStatusParams(), cancellationToken).ConfigureAwait(false);
        if (status.CurrentVersion == 0)
        {
            throw CliException.Error(
                $"{Selection.Jobs.Redacted} has no TypedJobs schema: check the storage URL, or create the schema with 'typedjobs migrate'");
        }
    }

    /// <summary>The tool's "content root": relative <c>sqlite:</c> and <c>file:</c> paths resolve against the working directory.</summary>
    private sealed class ToolEnvironment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Production";

        public string ApplicationName { get; set; } = "typedjobs";

        public string ContentRootPath { get; set; } = root;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
