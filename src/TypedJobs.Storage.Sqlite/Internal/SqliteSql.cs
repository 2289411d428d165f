namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>
/// Every SQL statement of the SQLite store, for one table prefix. Values are always bound as parameters; only the
/// validated prefix is spliced into the text. Times are stored as UTC ticks (INTEGER), ids and lease tokens as
/// 16-byte BLOBs. A waiting job is stored as state 1 whether or not it is due yet: "scheduled" is derived from
/// <c>due_at</c> at read time, so no promotion step is needed.
/// </summary>
internal sealed class SqliteSql
{
    /// <summary>The newest schema version this code knows.</summary>
    public const int SchemaVersion = 9;

    /// <summary>The oldest schema version this code works with (older ones are migrated first).</summary>
    public const int MinimumReader = 2;

    /// <summary>Stored state of a job waiting for its due time or a worker.</summary>
    public const int Waiting = 1;

    /// <summary>The columns of a job, in the order <see cref="SqliteJobs.ReadJob"/> reads them.</summary>
    private const string JobColumns =
        "seq, id, task, queue, priority, state, payload, attempt, max_retries, created_at, due_at, started_at, finished_at, " +
        "lease_expires_at, lease_token, worker_id, unique_key, last_error, trace_parent, trace_state, " +
        "succeeded_token, unknown_since, progress, progress_message";

    private const string ScheduleColumns =
        "name, task, cron, interval_ticks, time_zone, payload, paused, next_run_at, last_run_at, declared, version";

    // The filter of lists, counts and bulk actions; the state of a waiting job is derived from its due time.
    private const string Filter = """
          (@queue IS NULL OR queue = @queue)
          AND (@task IS NULL OR task = @task)
          AND (@state IS NULL OR (CASE WHEN state = 1 AND due_at > @now THEN 0 ELSE state END) = @state)
          AND (@created_after IS NULL OR created_at >= @created_after)
          AND (@created_before IS NULL OR created_at < @created_before)
          AND (@text IS NULL OR instr(lower(CAST(payload AS TEXT)), @text) > 0 OR instr(lower(COALESCE(last_error, '')), @text) > 0)
        """;

    public SqliteSql(string prefix)
    {
        var p = prefix;
        CreateMigrationsTable =
            $"CREATE TABLE IF NOT EXISTS {p}migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";
        SelectSchemaVersion = $"SELECT COALESCE(MAX(version), 0) FROM {p}migrations";
        SelectMinimumReader = $"SELECT value FROM {p}schema WHERE name = 'minimum_reader'";
        SchemaTableExists = $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{p}schema'";
        InsertMigration = $"INSERT INTO {p}migrations (version, description, applied_at) VALUES (@version, @description, @now)";
        Migrations =
        [
            new Migration(1, "jobs, queues, locks, results, events, schedules", false,
            [
                $"""
                CREATE TABLE {p}jobs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id BLOB NOT NULL UNIQUE,
                    task TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    state INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 0,
                    max_retries INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    due_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER,
                    lease_expires_at INTEGER,
                    lease_token BLOB,
                    worker_id TEXT,
                    unique_key TEXT,
                    unique_until_pruned INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    trace_parent TEXT,
                    trace_state TEXT)
                """,
                $"CREATE UNIQUE INDEX {p}jobs_unique_key ON {p}jobs (unique_key)",
                $"CREATE INDEX {p}jobs_claim ON {p}jobs (queue, priority DESC, due_at, seq) WHERE state = 1",
                $"CREATE INDEX {p}jobs_due ON {p}jobs (queue, due_at) WHERE state = 1",
                $"CREATE INDEX {p}jobs_lease ON {p}jobs (lease_expires_at) WHERE state = 2",
                $"CREATE INDEX {p}jobs_finished ON {p}jobs (finished_at) WHERE state >= 3",
                $"CREATE INDEX {p}jobs_queue_state ON {p}jobs (queue, state, due_at)",
                $"CREATE TABLE {p}queues (name TEXT PRIMARY KEY, paused INTEGER NOT NULL) WITHOUT ROWID",
                $"CREATE TABLE {p}locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID",
                $"CREATE TABLE {p}results (job_id BLOB PRIMARY KEY, value BLOB NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID",
                $"CREATE INDEX {p}results_expires ON {p}results (expires_at)",
                $"""
                CREATE TABLE {p}events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id BLOB NOT NULL,
                    kind INTEGER NOT NULL,
                    task TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    error TEXT,
                    worker_id TEXT,
                    delay_ticks INTEGER,
                    duration_ticks INTEGER)
                """,
                $"CREATE INDEX {p}events_job ON {p}events (job_id, seq)",
                $"CREATE INDEX {p}events_at ON {p}events (at)",
                $"""
                CREATE TABLE {p}schedules (
                    name TEXT PRIMARY KEY,
                    task TEXT NOT NULL,
                    cron TEXT,
                    interval_ticks INTEGER,
                    time_zone TEXT,
                    payload BLOB,
                    paused INTEGER NOT NULL,
                    next_run_at INTEGER,
                    last_run_at INTEGER,
                    declared INTEGER NOT NULL,
                    version INTEGER NOT NULL) WITHOUT ROWID
                """,
                $"CREATE INDEX {p}schedules_due ON {p}schedules (next_run_at) WHERE paused = 0 AND next_run_at IS NOT NULL",
                $"CREATE TABLE {p}counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
                $"INSERT INTO {p}counters (name, value) VALUES ('schedule_version', 0)",
            ]),
            // Expand: only additions, so workers of schema version 1 keep working on it during a rolling deploy.
            new Migration(2, "attempt-keyed results, unique keys per queue, progress, unknown tasks, workers, throughput", false,
            [
                $"ALTER TABLE {p}jobs ADD COLUMN succeeded_token BLOB",
                $"ALTER TABLE {p}jobs ADD COLUMN unknown_since INTEGER",
                $"ALTER TABLE {p}jobs ADD COLUMN progress REAL",
                $"ALTER TABLE {p}jobs ADD COLUMN progress_message TEXT",
                $"CREATE UNIQUE INDEX {p}jobs_queue_unique_key ON {p}jobs (queue, unique_key)",
                $"""
                CREATE TABLE {p}attempt_results (
                    job_id BLOB NOT NULL,
                    lease_token BLOB NOT NULL,
                    value BLOB NOT NULL,
                    expires_at INTEGER NOT NULL,
                    PRIMARY KEY (job_id, lease_token)) WITHOUT ROWID
                """,
                $"CREATE INDEX {p}attempt_results_expires ON {p}attempt_results (expires_at)",
                $"""
                CREATE TABLE {p}workers (
                    id TEXT PRIMARY KEY,
                    registration TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    heartbeat_at INTEGER NOT NULL) WITHOUT ROWID
                """,
                $"CREATE TABLE {p}throughput (minute INTEGER PRIMARY KEY, succeeded INTEGER NOT NULL, failed INTEGER NOT NULL)",
                $"CREATE TABLE {p}schema (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
                $"INSERT INTO {p}schema (name, value) VALUES ('minimum_reader', 1)",
            ]),
            // Contract: drops the database-wide unique index that schema version 1 inserts rely on, so it runs only once
            // no worker of that version is left (explicitly, or on a new database).
            new Migration(3, "unique keys scoped to their queue only", true,
            [
                $"DROP INDEX {p}jobs_unique_key",
                $"UPDATE {p}schema SET value = 2 WHERE name = 'minimum_reader'",
            ]),
            // Expand: the same uniqueness, indexed only for jobs that hold a key. Most jobs have none, and every insert and
            // every finish paid for an index entry of (queue, NULL). Lookups by key (unique_key = @key) imply the
            // index's condition, so they use it; INSERT … ON CONFLICT DO NOTHING honours partial unique indexes.
            new Migration(4, "unique-key index only over jobs that hold a key", false,
            [
                $"CREATE UNIQUE INDEX {p}jobs_held_unique_key ON {p}jobs (queue, unique_key) WHERE unique_key IS NOT NULL",
                $"DROP INDEX {p}jobs_queue_unique_key",
            ]),
            // Expand: jobs_due (queue, due_at) of waiting jobs duplicated what jobs_queue_state (queue, state, due_at) gives
            // the one statement that read it (the next due time of a queue), and every enqueue and every claim paid for an
            // entry in it. No statement of any version names it, so workers of every schema version run without it.
            new Migration(5, "no second index over the due times of waiting jobs", false,
            [
                $"DROP INDEX IF EXISTS {p}jobs_due",
            ]),
            // Expand: the counts of finished jobs per queue and state get an index of their own, one entry per job written
            // when it finishes, so that jobs_queue_state can go (version 7).
            new Migration(6, "an index over the queue and state of finished jobs", false,
            [
                $"CREATE INDEX IF NOT EXISTS {p}jobs_done ON {p}jobs (queue, state) WHERE state >= 3",
            ]),
            // Contract: jobs_queue_state (queue, state, due_at) held every job and moved on each of its state changes, so
            // it cost five entry writes a job (insert; delete and insert at the claim and again at the completion) for two
            // reads that other indexes serve in this version: the next due time (the claim index, one entry per
            // priority) and the counts per queue and state (waiting from the claim index, running from the lease index,
            // finished from jobs_done). No statement names it, but workers of earlier versions read a queue's next due
            // time through it; without it theirs would read all of the queue's waiting jobs, so this waits until none is
            // left (they keep working meanwhile).
            new Migration(7, "no index over every job's queue and state", true,
            [
                $"DROP INDEX IF EXISTS {p}jobs_queue_state",
            ]),
            // Expand: finished jobs indexed by state, then finish time, so a prune reads only the jobs it deletes. Through
            // jobs_finished (finish time alone) a prune of succeeded jobs walked past every dead job finished before its
            // cut-off (dead ones are kept longer), under the write lock, at every maintenance pass.
            new Migration(8, "an index over the state and finish time of finished jobs", false,
            [
                $"CREATE INDEX IF NOT EXISTS {p}jobs_finished_state ON {p}jobs (state, finished_at) WHERE state >= 3",
            ]),
            // Contract: jobs_finished serves no statement of this version, but earlier workers' prunes read it; without it
            // theirs would sort every finished job past the cut-off, so it goes once none is left.
            new Migration(9, "no index over the finish time alone", true,
            [
                $"DROP INDEX IF EXISTS {p}jobs_finished",
            ]),
        ];

        InsertJob = $"""
            INSERT INTO {p}jobs (id, task, queue, priority, state, payload, attempt, max_retries, created_at, due_at,
                                 unique_key, unique_until_pruned, trace_parent, trace_state)
            VALUES (@id, @task, @queue, @priority, 1, @payload, 0, @max_retries, @now, @due_at,
                    @unique_key, @unique_until_pruned, @trace_parent, @trace_state)
            ON CONFLICT DO NOTHING
            """;
        SelectIdByQueueUniqueKey = $"SELECT id FROM {p}jobs WHERE queue = @queue AND unique_key = @unique_key";
        SelectIdByUniqueKey = $"SELECT id FROM {p}jobs WHERE unique_key = @unique_key AND @queue IS NOT NULL";
        SelectIdExists = $"SELECT 1 FROM {p}jobs WHERE id = @id";

        // Read through the claim index, one range per priority so that jobs scheduled for later are never scanned and
        // no sort is needed: the arms come in claim order and are merged (the outer arms catch values cast to
        // Priority beyond Low..Critical). INDEXED BY keeps it so: a database before schema version 7 still has
        // jobs_queue_state, which would tempt the planner into a due_at range over every due job, then a sort.
        string ClaimArm(string priorities) => $"""
            SELECT seq, task, priority, due_at FROM {p}jobs INDEXED BY {p}jobs_claim
            WHERE queue = @queue AND state = 1 AND {priorities} AND due_at <= @now
              AND (@excluded_tasks IS NULL OR task NOT IN (SELECT value FROM json_each(@excluded_tasks)))
              AND (@chosen IS NULL OR seq NOT IN (SELECT value FROM json_each(@chosen)))
            """;
        // The arms of one range each (in-range priorities, and values beyond them on either side), in claim order.
        string Candidates(Func<string, string> arm) => $"""
            SELECT seq, task, priority, due_at FROM (
            {arm("priority > 3")}
            UNION ALL
            {arm("priority IN (3, 2, 1, 0)")}
            UNION ALL
            {arm("priority < 0")})
            WHERE NOT EXISTS (SELECT 1 FROM {p}queues WHERE name = @queue AND paused = 1)
            ORDER BY priority DESC, due_at, seq
            LIMIT @limit
            """;
        ClaimCandidates = Candidates(ClaimArm);
        // With a task at its cap, the claim reads each other task of the queue on its own, through an index of waiting jobs
        // by queue and task: through the claim index alone it walked past every waiting job of the capped task ahead of
        // them (a capped task's backlog of 300,000 jobs: 75 ms a claim, under the write lock). Every waiting job costs an
        // entry in it (about 5% more CPU a job, a sixth less enqueue rate), so it is made by the first claim that finds a
        // task at its cap, not by a migration: databases whose workers cap no task never pay for it. The tasks that have
        // waiting jobs come from it one seek each (a skip-scan), and each task's candidates from its own ranges there.
        ClaimTaskIndexExists = $"SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = '{p}jobs_claim_task'";
        CreateClaimTaskIndex = $"CREATE INDEX IF NOT EXISTS {p}jobs_claim_task ON {p}jobs (queue, task, priority DESC, due_at, seq) WHERE state = 1";
        ClaimTasks = $"""
            WITH RECURSIVE t(task) AS (
              SELECT (SELECT task FROM {p}jobs INDEXED BY {p}jobs_claim_task WHERE queue = @queue AND state = 1 ORDER BY task LIMIT 1)
              UNION ALL
              SELECT (SELECT task FROM {p}jobs INDEXED BY {p}jobs_claim_task WHERE queue = @queue AND state = 1 AND task > t.task ORDER BY task LIMIT 1)
              FROM t WHERE t.task IS NOT NULL)
            SELECT task FROM t WHERE task IS NOT NULL
            """;
        string TaskClaimArm(string priorities) => $"""
            SELECT seq, task, priority, due_at FROM {p}jobs INDEXED BY {p}jobs_claim_task
            WHERE queue = @queue AND task = @task AND state = 1 AND {priorities} AND due_at <= @now
              AND (@chosen IS NULL OR seq NOT IN (SELECT value FROM json_each(@chosen)))
            """;
        ClaimTaskCandidates = Candidates(TaskClaimArm);
        ClaimJobs = $"""
            UPDATE {p}jobs
            SET state = 2, attempt = attempt + 1, lease_token = randomblob(16), lease_expires_at = @lease_expires_at,
                started_at = @now, worker_id = @worker_id, progress = NULL, progress_message = NULL
            WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state = 1
            RETURNING {JobColumns}
            """;
        // The earliest due time after now among a queue's waiting jobs: the first entry past now of each priority's range
        // in the claim index (the outer arms, for values beyond Low..Critical, read only such jobs' entries).
        string NextDueArm(string priorities, string pick) => $"""
            SELECT {pick} FROM {p}jobs INDEXED BY {p}jobs_claim
            WHERE queue = @queue AND state = 1 AND {priorities} AND due_at > @now
            """;
        NextDueAt = $"""
            SELECT MIN(m) FROM (
              SELECT ({NextDueArm("priority = 3", "due_at")} ORDER BY due_at LIMIT 1) AS m
              UNION ALL SELECT ({NextDueArm("priority = 2", "due_at")} ORDER BY due_at LIMIT 1)
              UNION ALL SELECT ({NextDueArm("priority = 1", "due_at")} ORDER BY due_at LIMIT 1)
              UNION ALL SELECT ({NextDueArm("priority = 0", "due_at")} ORDER BY due_at LIMIT 1)
              UNION ALL SELECT ({NextDueArm("(priority > 3 OR priority < 0)", "MIN(due_at)")}))
            """;

        CompleteJob = $"""
            UPDATE {p}jobs
            SET state = @state,
                finished_at = CASE WHEN @state >= 3 THEN @now ELSE finished_at END,
                due_at = COALESCE(@due_at, due_at),
                attempt = MAX(attempt + @attempt_delta, 0),
                last_error = COALESCE(@error, last_error),
                unique_key = CASE WHEN @state >= 3 AND unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                succeeded_token = CASE WHEN @state = 3 THEN lease_token ELSE succeeded_token END,
                unknown_since = CASE WHEN @mark_unknown = 1 THEN COALESCE(unknown_since, @now) ELSE unknown_since END,
                lease_token = NULL,
                lease_expires_at = NULL
            WHERE id = @id AND state = 2 AND lease_token = @lease_token
            """;
        // A batch of completions in one statement: the ids and lease tokens come as 16-byte slices of two BLOBs, the rest
        // as one JSON array per completion ([state, due_at, attempt_delta, error, mark_unknown]), all indexed by the
        // array's key. Fenced like CompleteJob; RETURNING names the jobs it applied to.
        CompleteJobs = $"""
            UPDATE {p}jobs
            SET state = c.c_state,
                finished_at = CASE WHEN c.c_state >= 3 THEN @now ELSE finished_at END,
                due_at = COALESCE(c.c_due_at, due_at),
                attempt = MAX(attempt + c.c_attempt_delta, 0),
                last_error = COALESCE(c.c_error, last_error),
                unique_key = CASE WHEN c.c_state >= 3 AND unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                succeeded_token = CASE WHEN c.c_state = 3 THEN lease_token ELSE succeeded_token END,
                unknown_since = CASE WHEN c.c_mark_unknown = 1 THEN COALESCE(unknown_since, @now) ELSE unknown_since END,
                lease_token = NULL,
                lease_expires_at = NULL
            FROM (SELECT substr(@ids, key * 16 + 1, 16) AS c_id, substr(@lease_tokens, key * 16 + 1, 16) AS c_token,
                         json_extract(value, '$[0]') AS c_state, json_extract(value, '$[1]') AS c_due_at,
                         json_extract(value, '$[2]') AS c_attempt_delta, json_extract(value, '$[3]') AS c_error,
                         json_extract(value, '$[4]') AS c_mark_unknown
                  FROM json_each(@completions)) AS c
            WHERE {p}jobs.id = c.c_id AND {p}jobs.state = 2 AND {p}jobs.lease_token = c.c_token
            RETURNING id
            """;
        CountThroughput = $"""
            INSERT INTO {p}throughput (minute, succeeded, failed) VALUES (@minute, @succeeded, @failed)
            ON CONFLICT (minute) DO UPDATE SET succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed
            """;
        ExtendLease = $"UPDATE {p}jobs SET lease_expires_at = @lease_expires_at WHERE id = @id AND state = 2 AND lease_token = @lease_token";
        ReportProgress = $"""
            UPDATE {p}jobs SET progress = @progress, progress_message = @message
            WHERE id = @id AND state = 2 AND lease_token = @lease_token
            """;
        RescueJobs = $"""
            UPDATE {p}jobs
            SET state = CASE WHEN attempt > max_retries THEN 4 ELSE 1 END,
                finished_at = CASE WHEN attempt > max_retries THEN @now ELSE finished_at END,
                last_error = 'The lease of worker ''' || COALESCE(worker_id, '') || ''' expired' ||
                    CASE WHEN attempt > max_retries THEN ' and the job has no attempts left.'
                         ELSE '; the job was returned to the queue.' END,
                unique_key = CASE WHEN attempt > max_retries AND unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                lease_token = NULL,
                lease_expires_at = NULL
            WHERE seq IN (SELECT seq FROM {p}jobs WHERE state = 2 AND lease_expires_at <= @now ORDER BY lease_expires_at LIMIT @max)
              AND state = 2 AND lease_expires_at <= @now
            RETURNING id, task, queue, attempt, state, worker_id
            """;

        SelectJob = $"SELECT {JobColumns} FROM {p}jobs WHERE id = @id";
        LocateJob = $"SELECT queue FROM {p}jobs WHERE id = @id";
        ListJobs = $"""
            SELECT {JobColumns} FROM {p}jobs
            WHERE seq < @before AND {Filter}
            ORDER BY seq DESC
            LIMIT @limit
            """;
        CountJobsMatching = $"SELECT count(*) FROM {p}jobs WHERE {Filter}";
        SelectJobState = $"SELECT state, due_at, task, attempt FROM {p}jobs WHERE id = @id AND queue = @queue";
        CancelJob = $"""
            UPDATE {p}jobs
            SET state = 5, finished_at = @now, lease_token = NULL, lease_expires_at = NULL,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END
            WHERE id = @id AND queue = @queue AND state < 3
            """;
        RetryJob = $"""
            UPDATE {p}jobs SET state = 1, attempt = 0, finished_at = NULL, due_at = @now, unknown_since = NULL
            WHERE id = @id AND queue = @queue AND state IN (4, 5)
            """;
        DeleteJob = $"DELETE FROM {p}jobs WHERE id = @id AND queue = @queue";
        // A bulk action's next jobs, read through the partial index of the states it applies to: the jobs an earlier batch
        // changed have left it, so each batch reads about as many jobs as it changes (through the whole table in sequence
        // order, every batch read past all the jobs the batches before it had retried or cancelled). A delete applies to
        // every state: it goes on in sequence order after the last job the previous batch read (its cursor).
        BulkRetryCandidates = $"""
            SELECT seq, state, attempt FROM {p}jobs
            WHERE state >= 3 AND state IN (4, 5) AND {Filter}
            LIMIT @limit
            """;
        BulkCancelCandidates = $"""
            SELECT * FROM (
              SELECT seq, CASE WHEN due_at > @now THEN 0 ELSE 1 END, attempt FROM {p}jobs WHERE state = 1 AND {Filter} LIMIT @limit)
            UNION ALL
            SELECT * FROM (
              SELECT seq, 2, attempt FROM {p}jobs WHERE state = 2 AND {Filter} LIMIT @limit)
            LIMIT @limit
            """;
        BulkDeleteCandidates = $"""
            SELECT seq, CASE WHEN state = 1 AND due_at > @now THEN 0 ELSE state END, attempt FROM {p}jobs
            WHERE seq > @after AND {Filter}
            ORDER BY seq
            LIMIT @limit
            """;
        BulkRetry = $"""
            UPDATE {p}jobs SET state = 1, attempt = 0, finished_at = NULL, due_at = @now, unknown_since = NULL
            WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state IN (4, 5)
            RETURNING seq, id, queue, task
            """;
        BulkCancel = $"""
            UPDATE {p}jobs
            SET state = 5, finished_at = @now, lease_token = NULL, lease_expires_at = NULL,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END
            WHERE seq IN (SELECT value FROM json_each(@seqs)) AND state < 3
            RETURNING seq, id, queue, task
            """;
        BulkDelete = $"""
            DELETE FROM {p}jobs WHERE seq IN (SELECT value FROM json_each(@seqs))
            RETURNING seq, id, queue, task
            """;
        // The oldest finished jobs of the asked states: one range of jobs_finished_state per state (an arm whose state was
        // not asked reads nothing; state >= 3 lets the planner see that the partial index holds it), merged by finish
        // time. No INDEXED BY: until schema version 8 is applied (it can wait behind a pending contract step) the planner
        // takes jobs_finished.
        string PruneArm(int state) => $"""
            SELECT seq, finished_at FROM (
              SELECT seq, finished_at FROM {p}jobs
              WHERE state >= 3 AND state = {state} AND @prune_{state} = 1 AND finished_at < @before
              ORDER BY finished_at LIMIT @max)
            """;
        PruneJobs = $"""
            DELETE FROM {p}jobs WHERE seq IN (
              SELECT seq FROM (
              {PruneArm(3)}
              UNION ALL
              {PruneArm(4)}
              UNION ALL
              {PruneArm(5)})
              ORDER BY finished_at LIMIT @max)
            """;

        // Each state's count from the partial index that holds it (covering for waiting and finished jobs); a queue and
        // state may come twice (waiting jobs due now and later), which the reader adds up. No INDEXED BY: until schema
        // version 6 is applied (it can wait behind a pending contract step) jobs_done does not exist, and the planner then
        // takes what the older schema has.
        CountJobs = $"""
            SELECT queue, CASE WHEN due_at > @now THEN 0 ELSE 1 END AS s, COUNT(*) FROM {p}jobs WHERE state = 1 GROUP BY queue, s
            UNION ALL
            SELECT queue, 2, COUNT(*) FROM {p}jobs WHERE state = 2 GROUP BY queue
            UNION ALL
            SELECT queue, state, COUNT(*) FROM {p}jobs WHERE state >= 3 GROUP BY queue, state
            """;
        SelectPausedQueues = $"SELECT name FROM {p}queues WHERE paused = 1";
        PauseQueue = $"INSERT INTO {p}queues (name, paused) VALUES (@queue, 1) ON CONFLICT (name) DO UPDATE SET paused = 1";
        ResumeQueue = $"DELETE FROM {p}queues WHERE name = @queue";
        ClearQueue = $"DELETE FROM {p}jobs WHERE queue = @queue AND state = 1";

        HeartbeatWorker = $"""
            INSERT INTO {p}workers (id, registration, started_at, heartbeat_at) VALUES (@id, @registration, @now, @now)
            ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, heartbeat_at = excluded.heartbeat_at
            """;
        ListWorkers = $"SELECT registration, started_at, heartbeat_at FROM {p}workers ORDER BY id";
        RemoveWorker = $"DELETE FROM {p}workers WHERE id = @id";
        PruneWorkers = $"DELETE FROM {p}workers WHERE heartbeat_at < @before";
        SelectThroughput = $"SELECT minute, succeeded, failed FROM {p}throughput WHERE minute >= @from ORDER BY minute";
        PruneThroughput = $"DELETE FROM {p}throughput WHERE minute < @before";

        AcquireLock = $"""
            INSERT INTO {p}locks (name, owner, expires_at) VALUES (@name, @owner, @expires_at)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
            WHERE {p}locks.owner = excluded.owner OR {p}locks.expires_at <= @now
            """;
        ReleaseLock = $"DELETE FROM {p}locks WHERE name = @name AND owner = @owner RETURNING expires_at";

        SetResult = $"""
            INSERT INTO {p}attempt_results (job_id, lease_token, value, expires_at) VALUES (@id, @lease_token, @value, @expires_at)
            ON CONFLICT (job_id, lease_token) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """;
        GetResult = $"SELECT value, expires_at FROM {p}attempt_results WHERE job_id = @id AND lease_token = @lease_token AND expires_at > @now";
        GetLegacyResult = $"SELECT value, expires_at FROM {p}results WHERE job_id = @id AND expires_at > @now";
        DeleteResults = $"DELETE FROM {p}attempt_results WHERE job_id = @id";
        DeleteLegacyResults = $"DELETE FROM {p}results WHERE job_id = @id";
        PruneResults = $"""
            DELETE FROM {p}attempt_results WHERE (job_id, lease_token) IN (
                SELECT job_id, lease_token FROM {p}attempt_results WHERE expires_at <= @now ORDER BY expires_at LIMIT @max)
            """;
        PruneLegacyResults = $"""
            DELETE FROM {p}results WHERE job_id IN (SELECT job_id FROM {p}results WHERE expires_at <= @now ORDER BY expires_at LIMIT @max)
            """;

        AppendEvent = $"""
            INSERT INTO {p}events (job_id, kind, task, queue, attempt, at, error, worker_id, delay_ticks, duration_ticks)
            VALUES (@job_id, @kind, @task, @queue, @attempt, @at, @error, @worker_id, @delay_ticks, @duration_ticks)
            """;
        ListEvents = $"""
            SELECT job_id, kind, task, queue, attempt, at, error, worker_id, delay_ticks, duration_ticks FROM {p}events
            WHERE @job_id IS NULL OR job_id = @job_id
            ORDER BY seq
            LIMIT @limit
            """;
        PruneEvents = $"DELETE FROM {p}events WHERE seq IN (SELECT seq FROM {p}events WHERE at < @before ORDER BY at LIMIT @max)";

        NextScheduleVersion = $"UPDATE {p}counters SET value = value + 1 WHERE name = 'schedule_version' RETURNING value";
        UpsertSchedule = $"""
            INSERT INTO {p}schedules ({ScheduleColumns})
            VALUES (@name, @task, @cron, @interval_ticks, @time_zone, @payload, @paused, @next_run_at, @last_run_at, @declared, @version)
            ON CONFLICT (name) DO UPDATE SET
                task = excluded.task, cron = excluded.cron, interval_ticks = excluded.interval_ticks,
                time_zone = excluded.time_zone, payload = excluded.payload, paused = excluded.paused,
                next_run_at = excluded.next_run_at, last_run_at = excluded.last_run_at,
                declared = excluded.declared, version = excluded.version
            WHERE @expected_version IS NULL OR {p}schedules.version = @expected_version
            """;
        InsertScheduleIfMissing = $"""
            INSERT INTO {p}schedules ({ScheduleColumns})
            VALUES (@name, @task, @cron, @interval_ticks, @time_zone, @payload, @paused, @next_run_at, @last_run_at, @declared, @version)
            ON CONFLICT (name) DO NOTHING
            """;
        UpdateScheduleAtVersion = $"""
            UPDATE {p}schedules SET
                task = @task, cron = @cron, interval_ticks = @interval_ticks, time_zone = @time_zone, payload = @payload,
                paused = @paused, next_run_at = @next_run_at, last_run_at = @last_run_at, declared = @declared, version = @version
            WHERE name = @name AND version = @expected_version
            """;
        SelectSchedule = $"SELECT {ScheduleColumns} FROM {p}schedules WHERE name = @name";
        ListSchedules = $"SELECT {ScheduleColumns} FROM {p}schedules";
        DeleteSchedule = $"DELETE FROM {p}schedules WHERE name = @name";
        AdvanceSchedule = $"""
            UPDATE {p}schedules
            SET last_run_at = COALESCE(@last_run_at, last_run_at), next_run_at = @next_run_at, version = @version
            WHERE name = @name AND version = @expected_version
            RETURNING {ScheduleColumns}
            """;
        DueSchedules = $"""
            SELECT {ScheduleColumns} FROM {p}schedules
            WHERE paused = 0 AND next_run_at IS NOT NULL AND next_run_at <= @now
            ORDER BY next_run_at, name
            LIMIT @max
            """;
        NextScheduleDue = $"SELECT MIN(next_run_at) FROM {p}schedules WHERE paused = 0 AND next_run_at > @now";
    }

    public string CreateMigrationsTable { get; }

    public string SelectSchemaVersion { get; }

    public string SelectMinimumReader { get; }

    public string SchemaTableExists { get; }

    public string InsertMigration { get; }

    public IReadOnlyList<Migration> Migrations { get; }

    public string InsertJob { get; }

    public string SelectIdByQueueUniqueKey { get; }

    public string SelectIdByUniqueKey { get; }

    public string SelectIdExists { get; }

    public string ClaimCandidates { get; }

    public string ClaimTaskIndexExists { get; }

    public string CreateClaimTaskIndex { get; }

    public string ClaimTasks { get; }

    public string ClaimTaskCandidates { get; }

    public string ClaimJobs { get; }

    public string NextDueAt { get; }

    public string CompleteJob { get; }

    public string CompleteJobs { get; }

    public string CountThroughput { get; }

    public string ExtendLease { get; }

    public string ReportProgress { get; }

    public string RescueJobs { get; }

    public string SelectJob { get; }

    public string LocateJob { get; }

    public string ListJobs { get; }

    public string CountJobsMatching { get; }

    public string SelectJobState { get; }

    public string CancelJob { get; }

    public string RetryJob { get; }

    public string DeleteJob { get; }

    public string BulkRetryCandidates { get; }

    public string BulkCancelCandidates { get; }

    public string BulkDeleteCandidates { get; }

    public string BulkRetry { get; }

    public string BulkCancel { get; }

    public string BulkDelete { get; }

    public string PruneJobs { get; }

    public string CountJobs { get; }

    public string SelectPausedQueues { get; }

    public string PauseQueue { get; }

    public string ResumeQueue { get; }

    public string ClearQueue { get; }

    public string HeartbeatWorker { get; }

    public string ListWorkers { get; }

    public string RemoveWorker { get; }

    public string PruneWorkers { get; }

    public string SelectThroughput { get; }

    public string PruneThroughput { get; }

    public string AcquireLock { get; }

    public string ReleaseLock { get; }

    public string SetResult { get; }

    public string GetResult { get; }

    public string GetLegacyResult { get; }

    public string DeleteResults { get; }

    public string DeleteLegacyResults { get; }

    public string PruneResults { get; }

    public string PruneLegacyResults { get; }

    public string AppendEvent { get; }

    public string ListEvents { get; }

    public string PruneEvents { get; }

    public string NextScheduleVersion { get; }

    public string UpsertSchedule { get; }

    public string InsertScheduleIfMissing { get; }

    public string UpdateScheduleAtVersion { get; }

    public string SelectSchedule { get; }

    public string ListSchedules { get; }

    public string DeleteSchedule { get; }

    public string AdvanceSchedule { get; }

    public string DueSchedules { get; }

    public string NextScheduleDue { get; }

    /// <summary>
    /// One schema step: applied in one transaction together with its row in the migrations table. A contract step
    /// removes something older workers rely on, so on an existing database it runs only when asked for.
    /// </summary>
    public sealed record Migration(int Version, string Description, bool Contract, IReadOnlyList<string> Statements);
}

/// <summary>Connection-level statements (values come from validated options, never from user text).</summary>
internal static class SqlitePragmas
{
    public const string JournalModeWal = "PRAGMA journal_mode = WAL";

    public static string Synchronous(SqliteSynchronous mode) => mode switch
    {
        SqliteSynchronous.Off => "PRAGMA synchronous = OFF",
        SqliteSynchronous.Normal => "PRAGMA synchronous = NORMAL",
        SqliteSynchronous.Full => "PRAGMA synchronous = FULL",
        SqliteSynchronous.Extra => "PRAGMA synchronous = EXTRA",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    public static string BusyTimeout(TimeSpan timeout) =>
        "PRAGMA busy_timeout = " + ((long)timeout.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
