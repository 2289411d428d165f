using Microsoft.Extensions.Configuration;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>
/// Where the storage comes from, first match wins: <c>--storage URL</c> (one backend for every role); else the
/// <c>TypedJobs:Storage</c> configuration a host would read — environment variables <c>TypedJobs__Storage</c> (and
/// <c>TypedJobs__Storage__Jobs</c>, <c>__Results</c>, <c>__Events</c>, <c>__Schedules</c>) over
/// <c>appsettings.{DOTNET_ENVIRONMENT}.json</c> over <c>appsettings.json</c> in the working directory, as one URL or the
/// per-role object. Unlike a host, the tool never falls back to a default database: with nothing configured it stops
/// with a usage error instead of creating <c>typedjobs.db</c> in whatever directory it was started in.
/// </summary>
internal sealed class StorageSelection
{
    private static readonly StorageRoles[] Roles = [StorageRoles.Jobs, StorageRoles.Results, StorageRoles.Events, StorageRoles.Schedules];

    private StorageSelection(IConfigurationSection typedJobs, string? commandLineUrl, IReadOnlyList<Backend> backends)
    {
        TypedJobs = typedJobs;
        CommandLineUrl = commandLineUrl;
        Backends = backends;
    }

    /// <summary>The <c>TypedJobs</c> configuration section (host-wide settings such as <c>DefaultQueue</c> come from here too).</summary>
    public IConfigurationSection TypedJobs { get; }

    /// <summary>The URL given with <c>--storage</c>, if any.</summary>
    public string? CommandLineUrl { get; }

    /// <summary>The distinct backends the selection names, the jobs role's first, each with the roles it holds.</summary>
    public IReadOnlyList<Backend> Backends { get; }

    /// <summary>The jobs role's backend.</summary>
    public Backend Jobs => Backends[0];

    /// <summary>One storage URL and what it holds.</summary>
    /// <param name="Url">The URL as configured (may hold a password: print <see cref="Redacted"/>).</param>
    /// <param name="Roles">The roles it holds.</param>
    /// <param name="Source">Where it was configured, for messages (e.g. <c>--storage</c>, <c>TypedJobs:Storage:Results</c>).</param>
    internal sealed record Backend(string Url, StorageRoles Roles, string Source)
    {
        public string Redacted => StorageUrl.RedactText(Url);

        /// <summary>The URL's password, to scrub from messages a driver may build from it.</summary>
        public string? Password => StorageUrl.TryParse(Url, out _)?.Password;
    }

    public static StorageSelection Resolve(CliEnvironment environment, string? commandLineUrl)
    {
        var configuration = Build(environment);
        var typedJobs = configuration.GetSection("TypedJobs");
        if (!string.IsNullOrWhiteSpace(commandLineUrl))
        {
            // A backend that holds only some roles (NATS: results, events, schedules) cannot be the one store of --storage.
            if (StorageProviders.RolesOf(commandLineUrl) is { } held && (held & StorageRoles.Jobs) == 0)
            {
                throw CliException.Usage(
                    $"--storage '{StorageUrl.RedactText(commandLineUrl)}' cannot hold the Jobs role (it holds {held}), and --storage names the store of every role: "
                    + "give the jobs role a store of its own and this URL to the others, with TypedJobs__Storage__Jobs and TypedJobs__Storage__Results, "
                    + "__Events, __Schedules (or TypedJobs:Storage:Jobs and so on in ./appsettings.json)");
            }

            return new StorageSelection(typedJobs, commandLineUrl, [new Backend(commandLineUrl, StorageRoles.All, "--storage")]);
        }

        var storage = typedJobs.GetSection("Storage");
        var urls = new List<(StorageRoles Role, string Url, string Key)>();
        foreach (var role in Roles)
        {
            var child = storage.GetSection(role.ToString());
            if (!string.IsNullOrWhiteSpace(child.Value))
            {
                urls.Add((role, child.Value, child.Path));
            }
            else if (!string.IsNullOrWhiteSpace(storage.Value))
            {
                urls.Add((role, storage.Value, storage.Path));
            }
        }

        if (!urls.Any(u => u.Role == StorageRoles.Jobs))
        {
            throw CliException.Usage(urls.Count == 0
                ? "no storage: give --storage URL (e.g. --storage sqlite:jobs.db), set TypedJobs__Storage, or put TypedJobs:Storage in ./appsettings.json"
                : "no storage for the Jobs role: set TypedJobs:Storage (every role) or TypedJobs:Storage:Jobs, or give --storage URL");
        }

        // A role not configured shares the jobs role's backend, as in a host.
        var jobsUrl = urls.First(u => u.Role == StorageRoles.Jobs);
        var backends = new List<Backend>();
        foreach (var role in Roles)
        {
            var (_, url, key) = urls.FirstOrDefault(u => u.Role == role) is { Url: not null } found ? found : jobsUrl;
            var index = backends.FindIndex(b => string.Equals(b.Url, url, StringComparison.Ordinal));
            if (index < 0)
            {
                backends.Add(new Backend(url, role, key));
            }
            else
            {
                backends[index] = backends[index] with { Roles = backends[index].Roles | role };
            }
        }

        return new StorageSelection(typedJobs, null, backends);
    }

    private static IConfigurationRoot Build(CliEnvironment environment)
    {
        var builder = new ConfigurationBuilder();
        builder.AddJsonFile(Path.Combine(environment.WorkingDirectory, "appsettings.json"), optional: true, reloadOnChange: false);
        var name = environment.Variable("DOTNET_ENVIRONMENT") ?? environment.Variable("ASPNETCORE_ENVIRONMENT");
        if (!string.IsNullOrWhiteSpace(name))
        {
            builder.AddJsonFile(Path.Combine(environment.WorkingDirectory, $"appsettings.{name}.json"), optional: true, reloadOnChange: false);
        }

        // Environment variables the way a host reads them: TypedJobs__Storage__Jobs is TypedJobs:Storage:Jobs.
        var variables = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in environment.Variables)
        {
            if (key.StartsWith("TypedJobs__", StringComparison.OrdinalIgnoreCase))
            {
                variables[key.Replace("__", ":", StringComparison.Ordinal)] = value;
            }
        }

        builder.AddInMemoryCollection(variables);
        try
        {
            return builder.Build();
        }
        catch (InvalidDataException ex)
        {
            throw CliException.Error($"cannot read the configuration in {environment.WorkingDirectory}: {ex.Message}");
        }
        catch (FormatException ex)
        {
            throw CliException.Error($"cannot read the configuration in {environment.WorkingDirectory}: {ex.Message}");
        }
    }
}
