namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// The persistence and eviction settings of every master, as findings for the CLI's <c>doctor</c> and health checks: the
/// same settings the store warns about in its log when it starts.
/// </summary>
internal sealed partial class RedisStorage : IStorageDiagnostics
{
    public async ValueTask<StorageDiagnoseResult> StorageDiagnoseAsync(StorageDiagnoseParams parameters, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var findings = new List<StorageFinding>();
        foreach (var server in connection.Masters())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var endpoint = Describe(server);
            findings.Add(new(StorageFindingSeverity.Info, "redis.version",
                $"Redis {server.Version} at {endpoint} ({(connection.IsCluster ? "cluster" : "standalone")}, keys '{Keys.Prefix}*')."));
            Dictionary<string, string> config;
            try
            {
                config = await ReadConfigAsync(server).ConfigureAwait(false);
            }
            catch (StackExchange.Redis.RedisException ex)
            {
                findings.Add(new(StorageFindingSeverity.Warning, "redis.config-unknown",
                    $"Could not read the persistence settings of Redis at {endpoint}: {ex.Message}. Check that appendonly is yes with appendfsync always and maxmemory-policy is noeviction."));
                continue;
            }

            var aof = string.Equals(config.GetValueOrDefault("appendonly"), "yes", StringComparison.OrdinalIgnoreCase);
            var save = config.GetValueOrDefault("save");
            if (config.ContainsKey("partial"))
            {
                findings.Add(aof
                    ? new(StorageFindingSeverity.Info, "redis.config-partial",
                        $"Redis at {endpoint} refuses CONFIG GET on this connection: AOF is on; appendfsync is unknown. Check that it is always, or open the connection with allowAdmin=true.")
                    : new(StorageFindingSeverity.Warning, "redis.persistence",
                        $"Redis at {endpoint} has AOF off (appendonly no; RDB save points unknown without CONFIG GET): a restart can lose jobs. Turn on appendonly yes with appendfsync always."));
            }
            else if (!aof && string.IsNullOrWhiteSpace(save))
            {
                findings.Add(new(StorageFindingSeverity.Warning, "redis.persistence",
                    $"Redis at {endpoint} keeps TypedJobs data in memory only (appendonly no, no RDB save points): a restart of the server loses every job. Turn on appendonly yes with appendfsync always."));
            }
            else if (!aof)
            {
                findings.Add(new(StorageFindingSeverity.Warning, "redis.persistence",
                    $"Redis at {endpoint} persists only RDB snapshots (save '{save}'): a crash loses every job enqueued or finished since the last snapshot. Turn on appendonly yes with appendfsync always."));
            }
            else if (!string.Equals(config.GetValueOrDefault("appendfsync"), "always", StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(new(StorageFindingSeverity.Warning, "redis.appendfsync",
                    $"Redis at {endpoint} has appendfsync {config.GetValueOrDefault("appendfsync") ?? "?"}, not always: a crash of the server or its machine can lose acknowledged enqueues and completions of about the last second (everysec) or more (no). Set appendfsync always for no loss."));
            }

            var policy = config.GetValueOrDefault("maxmemory-policy") ?? "unknown";
            if (!string.Equals(policy, "noeviction", StringComparison.OrdinalIgnoreCase))
            {
                findings.Add(new(StorageFindingSeverity.Warning, "redis.maxmemory-policy",
                    $"Redis at {endpoint} has maxmemory-policy {policy}, not noeviction: when memory runs out Redis deletes keys, which silently loses jobs. Set maxmemory-policy noeviction."));
            }
        }

        return new StorageDiagnoseResult(findings);
    }
}
