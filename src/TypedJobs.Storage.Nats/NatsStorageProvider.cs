using System.Globalization;
using Microsoft.Extensions.Logging;
using TypedJobs.Storage.Nats.Internal;

[assembly: TypedJobs.Storage.StorageProvider(typeof(TypedJobs.Storage.Nats.NatsStorageProvider))]

namespace TypedJobs.Storage.Nats;

/// <summary>
/// Opens <c>nats://</c> and <c>tls://</c> URLs for the results, events and schedules roles on NATS JetStream:
/// <list type="bullet">
/// <item><c>nats://user:pass@host:4222?bucket_prefix=typedjobs</c> — several servers as <c>nats://a:4222,b:4222</c>;</item>
/// <item><c>tls://host:4222?tls_ca=/etc/ssl/nats-ca.pem</c> — TLS required;</item>
/// <item>settings: <c>bucket_prefix</c>, <c>replicas</c> (1-5), <c>storage</c> (file|memory), <c>results_max_age</c>,
/// <c>events_max_age</c> (seconds), <c>events_max_bytes</c>, <c>timeout</c>, <c>connect_timeout</c> (milliseconds),
/// <c>token</c>, <c>tls_ca</c>.</item>
/// </list>
/// The jobs role is not offered: JetStream work queues have no priorities, no due times and no listing by state, so
/// claim order, delays, retries with backoff and administration could not be kept.
/// </summary>
public sealed class NatsStorageProvider : StorageProvider
{
    private const string Settings = "bucket_prefix, replicas, storage, results_max_age, events_max_age, events_max_bytes, timeout, connect_timeout, token, tls_ca";

    /// <inheritdoc />
    public override string Name => "NATS";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["nats", "tls"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.Results | StorageRoles.Events | StorageRoles.Schedules;

    /// <inheritdoc />
    public override string? RolesNote =>
        "JetStream work queues have no priorities, due times or listing by state, so the jobs role needs another backend "
        + "(for example TypedJobs:Storage = sqlite:jobs.db with TypedJobs:Storage:Results = nats://…)";

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context) => Options(url, context);

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        var options = Options(url, context);
        return new NatsStorage(options, context.TimeProvider, context.LoggerFactory?.CreateLogger("TypedJobs.Storage.Nats"));
    }

    /// <summary>The settings a URL describes; throws <see cref="StorageConfigurationException"/> naming the bad part.</summary>
    internal static NatsStorageOptions Options(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if ((context.Roles & StorageRoles.Jobs) != 0)
        {
            throw new StorageConfigurationException(
                $"The NATS storage cannot hold the Jobs role ({context.ConfigurationKey} = '{url.Redacted}'): {new NatsStorageProvider().RolesNote}.");
        }

        if (!url.IsHierarchical || url.Host.Length == 0)
        {
            throw context.Invalid(url, null, url.Redacted, "write nats://host:4222 (or tls://host:4222), with user:password@ before the host if needed");
        }

        if (url.Path is not ("" or "/"))
        {
            throw context.Invalid(url, null, url.Redacted, "a NATS URL has no path: name the buckets with ?bucket_prefix=…");
        }

        var tls = url.Scheme == "tls";
        var servers = url.Authority.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var userInfo = url.UserName is null ? "" : Uri.EscapeDataString(url.UserName) + (url.Password is null ? "" : ":" + Uri.EscapeDataString(url.Password)) + "@";
        var options = new NatsStorageOptions
        {
            // NATS.Net reads tls:// as "TLS required"; user information goes on every server of the list.
            Url = string.Join(',', servers.Select(s => $"{url.Scheme}://{userInfo}{s}")),
            Tls = tls,
        };
        foreach (var (name, value) in url.Query)
        {
            switch (name)
            {
                case "bucket_prefix":
                    if (!NatsStorageOptions.IsValidPrefix(value))
                    {
                        throw context.Invalid(url, name, value, "use 1-32 letters, digits, '_' or '-'");
                    }

                    options.BucketPrefix = value;
                    break;
                case "replicas":
                    options.Replicas = Integer(url, context, name, value, 1, 5, "a number of servers");
                    break;
                case "storage":
                    options.MemoryStorage = value.ToLowerInvariant() switch
                    {
                        "file" => false,
                        "memory" => true,
                        _ => throw context.Invalid(url, name, value, "valid values are file, memory"),
                    };
                    break;
                case "results_max_age":
                    options.ResultsMaxAge = TimeSpan.FromSeconds(Integer(url, context, name, value, 60, int.MaxValue, "seconds"));
                    break;
                case "events_max_age":
                    options.EventsMaxAge = TimeSpan.FromSeconds(Integer(url, context, name, value, 60, int.MaxValue, "seconds"));
                    break;
                case "events_max_bytes":
                    options.EventsMaxBytes = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes >= 1 << 20
                        ? bytes
                        : throw context.Invalid(url, name, value, "use a number of bytes of at least 1048576");
                    break;
                case "timeout":
                    options.RequestTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1, 600_000, "milliseconds"));
                    break;
                case "connect_timeout":
                    options.ConnectTimeout = TimeSpan.FromMilliseconds(Integer(url, context, name, value, 1, 600_000, "milliseconds"));
                    break;
                case "token":
                    options.Token = value;
                    break;
                case "tls_ca":
                    var path = Path.IsPathRooted(value) ? value : Path.GetFullPath(Path.Combine(context.ContentRoot, value));
                    if (!File.Exists(path))
                    {
                        throw context.Invalid(url, name, value, "the certificate authority file does not exist");
                    }

                    options.TlsCaFile = path;
                    break;
                default:
                    throw context.Invalid(url, name, value, "valid settings are " + Settings);
            }
        }

        try
        {
            options.Validate();
        }
        catch (InvalidOperationException ex)
        {
            throw new StorageConfigurationException($"Invalid storage {context.ConfigurationKey} = '{url.Redacted}': {ex.Message}", ex);
        }

        return options;
    }

    private static int Integer(StorageUrl url, StorageProviderContext context, string name, string value, int min, int max, string unit) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw context.Invalid(url, name, value, $"use {unit} between {min} and {max}");
}
