namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>Server settings an operator should know about (the CLI's <c>doctor</c>, health checks).</summary>
internal sealed partial class PostgresStorage : IStorageDiagnostics
{
    public async ValueTask<StorageDiagnoseResult> StorageDiagnoseAsync(StorageDiagnoseParams parameters, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(Sql.Settings, bulkTimeout, static _ => { },
            static r => (Version: r.GetString(0), Fsync: r.GetString(1), SynchronousCommit: r.GetString(2), FullPageWrites: r.GetString(3)),
            cancellationToken).ConfigureAwait(false);
        var (version, fsync, synchronousCommit, fullPageWrites) = rows[0];
        var findings = new List<StorageFinding> { new(StorageFindingSeverity.Info, "postgres.version", $"{version} at {Target}.") };
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
}
