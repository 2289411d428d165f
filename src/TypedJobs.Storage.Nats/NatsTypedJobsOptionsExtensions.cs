using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using TypedJobs.Storage.Nats;
using TypedJobs.Storage.Nats.Internal;

namespace TypedJobs;

/// <summary>Places roles on NATS JetStream in <c>AddTypedJobs(o =&gt; …)</c>.</summary>
public static class NatsTypedJobsOptionsExtensions
{
    /// <summary>
    /// Stores <paramref name="roles"/> (results, events and/or schedules; not jobs) on NATS JetStream at
    /// <paramref name="url"/> (<c>nats://host:4222</c>, <c>tls://host:4222</c>). The store opens its own connection and
    /// closes it with the host.
    /// </summary>
    /// <param name="options">The TypedJobs options.</param>
    /// <param name="url">The server URL(s), with user and password if needed.</param>
    /// <param name="roles">The roles to place on NATS.</param>
    /// <param name="configure">Changes further settings (bucket prefix, replicas, max ages).</param>
    /// <exception cref="ArgumentException"><paramref name="roles"/> includes the jobs role.</exception>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it.</exception>
    public static TypedJobsOptions UseNats(this TypedJobsOptions options, string url, StorageRoles roles, Action<NatsStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(url);
        var settings = new NatsStorageOptions { Url = url, Tls = url.StartsWith("tls://", StringComparison.OrdinalIgnoreCase) };
        configure?.Invoke(settings);
        return options.UseNats(settings, roles);
    }

    /// <summary>
    /// Stores <paramref name="roles"/> on NATS JetStream through the application's own <see cref="INatsConnection"/>
    /// (for example registered with <c>AddNatsClient</c>), so no second connection is opened; the store never disposes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="roles"/> includes the jobs role.</exception>
    public static TypedJobsOptions UseNatsConnection(this TypedJobsOptions options, StorageRoles roles, Action<NatsStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckRoles(roles);
        var settings = new NatsStorageOptions { Url = "nats://application-connection" };
        configure?.Invoke(settings);
        settings.Validate();
        var frozen = settings.Clone();
        options.AddStorageProvider(new NatsStorageProvider());
        return options.UseStorage(sp =>
        {
            var connection = sp.GetService<INatsConnection>()
                ?? throw new InvalidOperationException("UseNatsConnection needs an INatsConnection in the services (for example from AddNatsClient).");
            var withConnection = frozen.Clone();
            withConnection.Connection = connection;
            return new NatsStorage(withConnection, sp.GetService<TimeProvider>() ?? TimeProvider.System,
                sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.Nats"));
        }, roles);
    }

    /// <summary>Stores <paramref name="roles"/> on NATS JetStream with fully prepared <paramref name="settings"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="roles"/> includes the jobs role.</exception>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it.</exception>
    public static TypedJobsOptions UseNats(this TypedJobsOptions options, NatsStorageOptions settings, StorageRoles roles)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        CheckRoles(roles);
        var frozen = settings.Clone();
        frozen.Validate();
        // Lets the other roles name nats:// URLs in configuration even in a host the source generator did not see.
        options.AddStorageProvider(new NatsStorageProvider());
        return options.UseStorage(sp => new NatsStorage(frozen, sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILoggerFactory>()?.CreateLogger("TypedJobs.Storage.Nats")), roles);
    }

    private static void CheckRoles(StorageRoles roles)
    {
        if ((roles & StorageRoles.Jobs) != 0)
        {
            throw new ArgumentException($"NATS cannot hold the Jobs role ({new NatsStorageProvider().RolesNote}); pass Results, Events and/or Schedules.", nameof(roles));
        }

        if (roles == StorageRoles.None)
        {
            throw new ArgumentException("Name at least one role: Results, Events or Schedules.", nameof(roles));
        }
    }
}
