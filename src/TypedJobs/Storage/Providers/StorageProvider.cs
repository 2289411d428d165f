using Microsoft.Extensions.Logging;

namespace TypedJobs.Storage;

/// <summary>
/// Opens a backend from a storage URL. Each storage package provides one for its schemes and names it with
/// <see cref="StorageProviderAttribute"/> on its assembly; the TypedJobs source generator lists the providers of the
/// assemblies a host references, so <c>TypedJobs:Storage = "sqlite:jobs.db"</c> works with no code. A provider can
/// also be added by hand with <c>TypedJobsOptions.AddStorageProvider</c>.
/// </summary>
public abstract class StorageProvider
{
    /// <summary>A short display name (e.g. <c>SQLite</c>).</summary>
    public abstract string Name { get; }

    /// <summary>The URL schemes it opens, in lower case (e.g. <c>sqlite</c>).</summary>
    public abstract IReadOnlyList<string> Schemes { get; }

    /// <summary>The roles its backend can hold.</summary>
    public abstract StorageRoles Roles { get; }

    /// <summary>
    /// Why the backend cannot hold the roles missing from <see cref="Roles"/>, and what to use instead; added to the error
    /// that refuses such a role. <see langword="null"/> when it holds every role or has nothing to add.
    /// </summary>
    public virtual string? RolesNote => null;

    /// <summary>The URL used when nothing is configured and this provider is the default one (only the SQLite provider has one).</summary>
    public virtual string? DefaultUrl => null;

    /// <summary>
    /// Checks a URL without opening anything; throws <see cref="StorageConfigurationException"/> naming
    /// <see cref="StorageProviderContext.ConfigurationKey"/>, the bad value and the valid choices.
    /// </summary>
    public abstract void Validate(StorageUrl url, StorageProviderContext context);

    /// <summary>Creates the backend for <see cref="StorageProviderContext.Roles"/>: one object implementing each role's interface.</summary>
    public abstract object Create(StorageUrl url, StorageProviderContext context);
}

/// <summary>What a provider may use to validate a URL and create a backend.</summary>
public sealed class StorageProviderContext
{
    /// <summary>Creates a context.</summary>
    public StorageProviderContext(IServiceProvider services, StorageRoles roles, string configurationKey, string contentRoot,
        TimeProvider timeProvider, ILoggerFactory? loggerFactory)
    {
        Services = services;
        Roles = roles;
        ConfigurationKey = configurationKey;
        ContentRoot = contentRoot;
        TimeProvider = timeProvider;
        LoggerFactory = loggerFactory;
    }

    /// <summary>The application's services (for example a data source or multiplexer the application already has).</summary>
    public IServiceProvider Services { get; }

    /// <summary>The roles the backend will hold.</summary>
    public StorageRoles Roles { get; }

    /// <summary>The configuration key the URL came from, for error messages (e.g. <c>TypedJobs:Storage:Results</c>).</summary>
    public string ConfigurationKey { get; }

    /// <summary>The directory relative file paths resolve against (the host's content root).</summary>
    public string ContentRoot { get; }

    /// <summary>The host's clock (for stores whose clock is the process clock).</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>The host's logger factory, if any.</summary>
    public ILoggerFactory? LoggerFactory { get; }

    /// <summary>An error about this URL's setting <paramref name="setting"/> (or the URL itself when <see langword="null"/>).</summary>
    public StorageConfigurationException Invalid(StorageUrl url, string? setting, string value, string rule)
    {
        ArgumentNullException.ThrowIfNull(url);
        var what = setting is null ? $"'{url.Redacted}'" : $"'{url.Redacted}' (setting '{setting}' = '{value}')";
        return new StorageConfigurationException($"Invalid storage {ConfigurationKey} = {what}: {rule}.");
    }
}

/// <summary>Names the <see cref="StorageProvider"/> of a storage assembly, so generated host code can register it without scanning.</summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class StorageProviderAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="providerType">A public, non-abstract <see cref="StorageProvider"/> with a public parameterless constructor.</param>
    public StorageProviderAttribute(Type providerType)
    {
        ArgumentNullException.ThrowIfNull(providerType);
        ProviderType = providerType;
    }

    /// <summary>The provider type.</summary>
    public Type ProviderType { get; }
}

/// <summary>Storage configuration that cannot work: an unknown scheme, a bad setting, a role a backend cannot hold.</summary>
public sealed class StorageConfigurationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public StorageConfigurationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public StorageConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The storage providers generated host code registered. Each host lists the providers of the storage assemblies it
/// references (<see cref="StorageProviderAttribute"/>); the built-in <c>memory:</c> and <c>file:</c> providers are
/// always present.
/// </summary>
public static class StorageProviders
{
    private static readonly Dictionary<Type, Func<StorageProvider>> Factories = [];

    /// <summary>The package that provides each well-known scheme, for the error that names what to install.</summary>
    internal static readonly IReadOnlyDictionary<string, string> KnownPackages = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sqlite"] = "TypedJobs.Storage.Sqlite",
        ["postgres"] = "TypedJobs.Storage.Postgres",
        ["postgresql"] = "TypedJobs.Storage.Postgres",
        ["redis"] = "TypedJobs.Storage.Redis",
        ["rediss"] = "TypedJobs.Storage.Redis",
        ["mysql"] = "TypedJobs.Storage.MySql",
        ["nats"] = "TypedJobs.Storage.Nats",
        ["tls"] = "TypedJobs.Storage.Nats",
    };

    /// <summary>Adds a provider under its type; adding the same type again does nothing.</summary>
    public static void Add(Type providerType, Func<StorageProvider> factory)
    {
        ArgumentNullException.ThrowIfNull(providerType);
        ArgumentNullException.ThrowIfNull(factory);
        lock (Factories)
        {
            Factories.TryAdd(providerType, factory);
        }
    }

    /// <summary>
    /// Opens the backend a storage URL names with the providers registered in this process (plus <paramref name="extra"/>),
    /// for tools that open a store without a host: the CLI, test harnesses. The caller owns (and disposes) the result.
    /// </summary>
    /// <param name="url">The storage URL, e.g. <c>sqlite:jobs.db</c>.</param>
    /// <param name="roles">The roles the backend will hold.</param>
    /// <param name="services">Services a provider may use (a logger factory, a time provider); none by default.</param>
    /// <param name="contentRoot">The directory relative paths resolve against; the current directory by default.</param>
    /// <param name="configurationKey">What to call the URL in error messages.</param>
    /// <param name="extra">Providers to consider before the registered ones.</param>
    /// <exception cref="StorageConfigurationException">The URL is not a storage URL, no provider opens its scheme, the provider cannot hold a role, or a setting is invalid.</exception>
    public static object Open(string url, StorageRoles roles = StorageRoles.All, IServiceProvider? services = null, string? contentRoot = null,
        string configurationKey = "storage URL", IEnumerable<StorageProvider>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var parsed = StorageUrl.TryParse(url, out var why)
            ?? throw new StorageConfigurationException($"Invalid storage {configurationKey} = '{StorageUrl.RedactText(url)}': {why}.");
        var providers = (extra ?? []).Concat(Create()).ToList();
        var provider = Find(providers, parsed, roles, configurationKey);
        services ??= EmptyServices.Instance;
        var context = new StorageProviderContext(services, roles, configurationKey, contentRoot ?? Directory.GetCurrentDirectory(),
            services.GetService(typeof(TimeProvider)) as TimeProvider ?? TimeProvider.System,
            services.GetService(typeof(Microsoft.Extensions.Logging.ILoggerFactory)) as Microsoft.Extensions.Logging.ILoggerFactory);
        provider.Validate(parsed, context);
        return provider.Create(parsed, context);
    }

    /// <summary>
    /// The roles the registered provider of a URL's scheme can hold, without opening anything (a tool checks a URL given
    /// for every role against a backend that holds only some); <see langword="null"/> when the text is not a storage URL
    /// or no registered provider opens its scheme.
    /// </summary>
    /// <param name="url">The storage URL, e.g. <c>nats://localhost:4222</c>.</param>
    public static StorageRoles? RolesOf(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var parsed = StorageUrl.TryParse(url, out _);
        return parsed is null ? null : Create().FirstOrDefault(p => p.Schemes.Contains(parsed.Scheme, StringComparer.Ordinal))?.Roles;
    }

    /// <summary>The provider for a URL's scheme that holds every role asked for; throws naming what is missing.</summary>
    internal static StorageProvider Find(IReadOnlyList<StorageProvider> providers, StorageUrl url, StorageRoles roles, string key)
    {
        var provider = providers.FirstOrDefault(p => p.Schemes.Contains(url.Scheme, StringComparer.Ordinal));
        if (provider is null)
        {
            var installed = string.Join(", ", providers.SelectMany(p => p.Schemes).Distinct(StringComparer.Ordinal));
            var hint = KnownPackages.TryGetValue(url.Scheme, out var package) ? $"; '{url.Scheme}' needs the package {package}" : "";
            throw new StorageConfigurationException($"Unsupported storage '{url.Scheme}' for role {roles} ({key}); installed: {installed}{hint}.");
        }

        if ((provider.Roles & roles) != roles)
        {
            throw new StorageConfigurationException(
                $"The {provider.Name} storage cannot hold the {roles & ~provider.Roles} role ({key} = '{url.Redacted}'); it holds: {provider.Roles}"
                + (provider.RolesNote is { } note ? $" ({note})." : "."));
        }

        return provider;
    }

    /// <summary>The registered providers (built-in ones first), newly created.</summary>
    internal static IReadOnlyList<StorageProvider> Create()
    {
        List<Func<StorageProvider>> factories;
        lock (Factories)
        {
            factories = [.. Factories.Values];
        }

        return [new Memory.MemoryStorageProvider(), new Files.FileStorageProvider(), .. factories.Select(f => f())];
    }
}

/// <summary>A service provider with no services.</summary>
internal sealed class EmptyServices : IServiceProvider
{
    public static readonly EmptyServices Instance = new();

    public object? GetService(Type serviceType) => null;
}
