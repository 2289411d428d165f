using Npgsql;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Server settings an operator should know about (the CLI's <c>doctor</c>, health checks).</summary>
internal sealed partial class PostgresStorage : IStorageDiagnostics
{
    public async ValueTask<StorageDiagnoseResult> StorageDiagnoseAsync(StorageDiagnoseParams parameters, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(Sql.Settings, bulkTimeout, static _ => { },
            static r => (Version: r.GetString(0), Fsync: r.GetString(1), SynchronousCommit: r.GetString(2), FullPageWrites: r.GetString(3),
                MaxConnections: r.GetInt32(4), Reserved: r.GetInt32(5), InUse: r.GetInt32(6)),
            cancellationToken).ConfigureAwait(false);
        var (version, fsync, synchronousCommit, fullPageWrites, maxConnections, reserved, inUse) = rows[0];
        var findings = new List<StorageFinding> { new(StorageFindingSeverity.Info, "postgres.version", $"{version} at {Target}.") };
        ConnectionLimits(findings, maxConnections - reserved, inUse, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize);
        if (fsync == "off")
        {
            findings.Add(new(StorageFindingSeverity.Warning, "postgres.fsync",
                "fsync is off: a crash of the server or its machine can lose or corrupt acknowledged jobs. Turn it on."));
        }

        if (synchronousCommit == "off")
        {
            findings.Add(new(StorageFindingSeverity.Warning, "postgres.synchronous_commit",
                "synchronous_commit is off: a server crash can lose the last acknowledged enqueues and completions (up to about three times wal_writer_delay). Set it to on."));
        }

        if (fullPageWrites == "off")
        {
            findings.Add(new(StorageFindingSeverity.Warning, "postgres.full_page_writes",
                "full_page_writes is off: a crash during a page write can corrupt the jobs table. Turn it on unless the file system prevents torn pages."));
        }

        return new StorageDiagnoseResult(findings);
    }

    /// <summary>
    /// The server's connection slots against those in use and this store's pool: each process of the deployment may open
    /// up to its pool size (plus one listener connection), so a pool close to the free slots starves other processes.
    /// </summary>
    internal static void ConnectionLimits(List<StorageFinding> findings, int available, int inUse, int poolSize)
    {
        var free = available - inUse;
        findings.Add(new(StorageFindingSeverity.Info, "postgres.connections",
            $"{inUse} of {available} connection slots in use (max_connections minus superuser_reserved_connections); this store's pool holds up to {poolSize} (pool_max) plus one listener."));
        if (inUse >= available * 0.8)
        {
            findings.Add(new(StorageFindingSeverity.Warning, "postgres.connections_in_use",
                $"{inUse} of {available} connection slots are in use: new workers and tools may be refused. Raise max_connections, lower pool_max in each process, or put a pooler in session mode in front."));
        }

        if (poolSize + 1 > free)
        {
            findings.Add(new(StorageFindingSeverity.Warning, "postgres.pool_exceeds_free_slots",
                $"This store's pool (pool_max {poolSize}, plus one listener) is larger than the {Math.Max(free, 0)} free connection slots: under load its connections will be refused. Lower pool_max or raise max_connections."));
        }
    }
}
