using System.Globalization;
using System.Text;

namespace TypedJobs.Storage.MySql.Internal;

/// <summary>
/// Every SQL statement of the MySQL store, for one table prefix. Values are always bound as parameters; the only text
/// spliced in is the validated prefix (quoted as an identifier), generated parameter names (<c>@i0</c>, <c>@i1</c>, …)
/// for lists, and the clock expression. Written for MySQL 8.0 and MariaDB 10.6 or later alike: no <c>RETURNING</c>, no
/// <c>VALUES()</c> in upserts, no MariaDB-only <c>SET STATEMENT</c>, no MySQL-only <c>FOR UPDATE OF</c> or row aliases.
/// </summary>
/// <remarks>
/// Conventions: names, queues, tasks, unique keys and worker ids are <c>VARBINARY</c>/<c>BLOB</c> holding UTF-8, so
/// they compare by bytes (ordinal, no collation, no trailing-space padding) on both servers; free text is
/// <c>utf8mb4_bin</c>; ids and lease tokens are <c>BINARY(16)</c> in RFC 4122 byte order; times are <c>DATETIME(6)</c> in
/// UTC. A waiting job is stored as state 1 whether or not it is due: "scheduled" is derived from <c>due_at</c> when read.
/// The store's clock is the server's <c>UTC_TIMESTAMP(6)</c> (constant within a statement); a store opened with a test
/// clock binds <c>@now</c> instead.
/// </remarks>
internal sealed class MySqlSql
{
    /// <summary>The newest schema version of the built-in migrations.</summary>
    public const int BuiltInSchemaVersion = 1;

    /// <summary>Stored state of a job waiting for its due time or a worker.</summary>
    public const int Waiting = 1;

    /// <summary>Rows of the throughput table per minute: completions spread over them so concurrent workers rarely share a row lock.</summary>
    public const int ThroughputShards = 16;

    /// <summary>The columns of a job, in the order <see cref="MySqlRows.ReadJob"/> reads them.</summary>
    public const string JobColumns =
        "seq, id, task, queue, priority, state, payload, attempt, max_retries, created_at, due_at, started_at, finished_at, " +
        "lease_expires_at, lease_token, worker_id, unique_key, last_error, trace_parent, trace_state, " +
        "succeeded_token, unknown_since, progress, progress_message";

    /// <summary>The priorities the claim reads as one index range each, highest first (<see cref="Priority"/>'s values).</summary>
    private static readonly int[] KnownPriorities = [(int)Priority.Critical, (int)Priority.High, (int)Priority.Normal, (int)Priority.Low];

    private const string ScheduleColumns =
        "name, task, cron, interval_ticks, time_zone, payload, paused, next_run_at, last_run_at, declared, version";

    private readonly string jobs;
    private readonly string queues;

    public MySqlSql(string prefix, bool serverClock, IReadOnlyList<Migration>? extraMigrations = null)
    {
        if (!MySqlStorageOptions.IsValidPrefix(prefix))
        {
            throw new ArgumentException($"'{prefix}' is not a valid table prefix.", nameof(prefix));
        }

        Prefix = prefix;
        string T(string name) => "`" + prefix + name + "`";
        jobs = T("jobs");
        queues = T("queues");
        var now = serverClock ? "UTC_TIMESTAMP(6)" : "@now";
        Now = now;
        var migrations = T("migrations");
        var schema = T("schema");
        var locks = T("locks");
        var results = T("results");
        var events = T("events");
        var schedules = T("schedules");
        var counters = T("counters");
        var workers = T("workers");
        var throughput = T("throughput");
        const string Table = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ROW_FORMAT=DYNAMIC";

        // Migrations: GET_LOCK names are at most 64 characters, so the database and prefix are hashed into it.
        MigrationLockName = "typedjobs_migrate_" + prefix;
        AcquireMigrationLock =
            "SELECT GET_LOCK(CONCAT('typedjobs_migrate_', LEFT(SHA2(CONCAT(COALESCE(DATABASE(), ''), '.', @prefix), 256), 40)), @timeout)";
        ReleaseMigrationLock =
            "SELECT RELEASE_LOCK(CONCAT('typedjobs_migrate_', LEFT(SHA2(CONCAT(COALESCE(DATABASE(), ''), '.', @prefix), 256), 40)))";
        CreateMigrationsTable = $"""
            CREATE TABLE IF NOT EXISTS {migrations} (
                version INT NOT NULL PRIMARY KEY,
                description VARCHAR(400) NOT NULL,
                contract TINYINT NOT NULL,
                applied_at DATETIME(6) NOT NULL) {Table}
            """;
        CreateSchemaTable = $"CREATE TABLE IF NOT EXISTS {schema} (name VARCHAR(64) NOT NULL PRIMARY KEY, value INT NOT NULL) {Table}";
        SelectSchemaVersion = $"SELECT COALESCE(MAX(version), 0) FROM {migrations}";
        SelectMinimumReader = $"SELECT value FROM {schema} WHERE name = 'minimum_reader'";
        TableExists = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = @name";
        InsertMigration = $"INSERT INTO {migrations} (version, description, contract, applied_at) VALUES (@version, @description, @contract, UTC_TIMESTAMP(6))";
        SetMinimumReader = $"""
            INSERT INTO {schema} (name, value) VALUES ('minimum_reader', @value)
            ON DUPLICATE KEY UPDATE value = GREATEST(value, @value)
            """;
        ServerInfo = "SELECT VERSION(), @@SESSION.sql_mode";
        Diagnose = """
            SELECT VERSION(), @@GLOBAL.innodb_flush_log_at_trx_commit, @@SESSION.sql_mode, @@SESSION.innodb_lock_wait_timeout;
            SELECT ENGINE FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = @name
            """;

        var builtIn = new List<Migration>
        {
            new(1, "jobs, queues, locks, results, events, schedules, workers, throughput", false, 1,
            [
                $"""
                CREATE TABLE IF NOT EXISTS {jobs} (
                    seq BIGINT NOT NULL AUTO_INCREMENT,
                    id BINARY(16) NOT NULL,
                    task VARBINARY(1024) NOT NULL,
                    queue VARBINARY(512) NOT NULL,
                    priority INT NOT NULL,
                    state TINYINT NOT NULL,
                    payload LONGBLOB NOT NULL,
                    attempt INT NOT NULL DEFAULT 0,
                    max_retries INT NOT NULL,
                    created_at DATETIME(6) NOT NULL,
                    due_at DATETIME(6) NOT NULL,
                    started_at DATETIME(6) NULL,
                    finished_at DATETIME(6) NULL,
                    lease_expires_at DATETIME(6) NULL,
                    lease_token BINARY(16) NULL,
                    worker_id VARBINARY(512) NULL,
                    unique_key BLOB NULL,
                    unique_hash BINARY(32) AS (UNHEX(SHA2(unique_key, 256))) STORED,
                    unique_until_pruned TINYINT NOT NULL DEFAULT 0,
                    last_error MEDIUMTEXT NULL,
                    trace_parent TEXT NULL,
                    trace_state TEXT NULL,
                    succeeded_token BINARY(16) NULL,
                    unknown_since DATETIME(6) NULL,
                    progress DOUBLE NULL,
                    progress_message TEXT NULL,
                    PRIMARY KEY (seq),
                    UNIQUE KEY id (id),
                    UNIQUE KEY queue_unique (queue, unique_hash),
                    KEY claim (queue, state, priority DESC, due_at, seq),
                    KEY lease (state, lease_expires_at),
                    KEY finished (state, finished_at)) {Table}
                """,
                $"CREATE TABLE IF NOT EXISTS {queues} (name VARBINARY(512) NOT NULL PRIMARY KEY, paused TINYINT NOT NULL) {Table}",
                $"""
                CREATE TABLE IF NOT EXISTS {locks} (
                    name VARBINARY(512) NOT NULL PRIMARY KEY,
                    owner VARBINARY(512) NOT NULL,
                    expires_at DATETIME(6) NOT NULL) {Table}
                """,
                $"""
                CREATE TABLE IF NOT EXISTS {results} (
                    job_id BINARY(16) NOT NULL,
                    lease_token BINARY(16) NOT NULL,
                    value LONGBLOB NOT NULL,
                    expires_at DATETIME(6) NOT NULL,
                    PRIMARY KEY (job_id, lease_token),
                    KEY expires (expires_at)) {Table}
                """,
                $"""
                CREATE TABLE IF NOT EXISTS {events} (
                    seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                    job_id BINARY(16) NOT NULL,
                    kind INT NOT NULL,
                    task VARBINARY(1024) NOT NULL,
                    queue VARBINARY(512) NOT NULL,
                    attempt INT NOT NULL,
                    at DATETIME(6) NOT NULL,
                    error MEDIUMTEXT NULL,
                    worker_id VARBINARY(512) NULL,
                    delay_ticks BIGINT NULL,
                    duration_ticks BIGINT NULL,
                    KEY job (job_id, seq),
                    KEY at (at)) {Table}
                """,
                $"""
                CREATE TABLE IF NOT EXISTS {schedules} (
                    name VARBINARY(512) NOT NULL PRIMARY KEY,
                    task VARBINARY(1024) NOT NULL,
                    cron TEXT NULL,
                    interval_ticks BIGINT NULL,
                    time_zone VARCHAR(128) NULL,
                    payload LONGBLOB NULL,
                    paused TINYINT NOT NULL,
                    next_run_at DATETIME(6) NULL,
                    last_run_at DATETIME(6) NULL,
                    declared TINYINT NOT NULL,
                    version BIGINT NOT NULL,
                    KEY due (paused, next_run_at)) {Table}
                """,
                $"CREATE TABLE IF NOT EXISTS {counters} (name VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL) {Table}",
                $"INSERT INTO {counters} (name, value) VALUES ('schedule_version', 0) ON DUPLICATE KEY UPDATE value = value",
                $"""
                CREATE TABLE IF NOT EXISTS {workers} (
                    id VARBINARY(512) NOT NULL PRIMARY KEY,
                    registration MEDIUMTEXT NOT NULL,
                    started_at DATETIME(6) NOT NULL,
                    heartbeat_at DATETIME(6) NOT NULL) {Table}
                """,
                $"""
                CREATE TABLE IF NOT EXISTS {throughput} (
                    minute DATETIME NOT NULL,
                    shard TINYINT NOT NULL,
                    succeeded BIGINT NOT NULL,
                    failed BIGINT NOT NULL,
                    PRIMARY KEY (minute, shard)) {Table}
                """,
            ]),
        };
        if (extraMigrations is not null)
        {
            builtIn.AddRange(extraMigrations);
        }

        Migrations = builtIn;
        SchemaVersion = builtIn.Max(m => m.Version);

        // ------------------------------------------------------------ insert
        SelectExistingIds = $"SELECT id FROM {jobs} WHERE id IN (<0>) LOCK IN SHARE MODE";
        SelectHeldKeys = $"SELECT id, queue, unique_key FROM {jobs} WHERE <0> LOCK IN SHARE MODE";
        // In a caller's transaction (REPEATABLE READ by default) a locking read of an id or key that is not there locks the
        // gap where it would go, which for a new, time-ordered id is the range above the newest job: every other insert
        // would wait for the caller's commit. These read without locks, then lock only rows that exist, by primary key.
        SelectPresentById = $"SELECT seq FROM {jobs} WHERE id IN (<0>)";
        SelectPresentByKey = $"SELECT seq FROM {jobs} WHERE <0>";
        LockPresent = $"SELECT id, queue, unique_key FROM {jobs} WHERE seq IN (<0>) LOCK IN SHARE MODE";
        InsertJobsHead = $"""
            INSERT INTO {jobs} (id, task, queue, priority, state, payload, attempt, max_retries, created_at, due_at,
                                unique_key, unique_until_pruned, trace_parent, trace_state) VALUES
            """;

        // A locking read of a row a caller's transaction inserted waits until that transaction ends.
        WatchCommit = $"SELECT COUNT(*) FROM {jobs} WHERE id = @id LOCK IN SHARE MODE";

        // ------------------------------------------------------------ claim
        // Read through the claim index as one ordered range per priority, (queue, state, priority) equal and the due time
        // bounded, so jobs scheduled for later are never read (nor locked): a single range in (priority, due time) order
        // would walk every scheduled job of a higher priority, and every one of its own, to look for due ones. Each range
        // stops at the limit; locked rows (another claimer's) are skipped. Priorities outside the known ones get a range
        // each above and below them. The ranges come back in claim order, cut to the limit (a sort of at most six limits'
        // rows).
        string ClaimArm(string priority, string order) => $"""
            (SELECT {JobColumns}, {now} AS now_at FROM {jobs} FORCE INDEX (claim)
             WHERE queue = @q<0> AND state = 1 AND {priority} AND due_at <= {now}<1>
               AND NOT EXISTS (SELECT 1 FROM {queues} WHERE name = @q<0> AND paused = 1)
             ORDER BY {order}
             LIMIT @l<0>
             FOR UPDATE SKIP LOCKED)
            """;
        ClaimCandidates = string.Join("\nUNION ALL\n",
            [
                ClaimArm("priority > 3", "priority DESC, due_at, seq"),
                .. KnownPriorities.Select(p => ClaimArm($"priority = {p}", "due_at, seq")),
                ClaimArm("priority < 0", "priority DESC, due_at, seq"),
            ]) + "\nORDER BY priority DESC, due_at, seq\nLIMIT @l<0>";
        // The same read as one range in claim order, for a queue whose last claim showed it safe: nothing was scheduled for
        // later, or the claim came back full with jobs of no lower priority than the highest one with a job scheduled (the
        // range then stops at the limit before any scheduled job). It costs the server far less per claim than the ranges
        // above (measured: 30-40% more jobs per second processed; with a backlog and one job scheduled, 0.96-1.06x the
        // empty-queue rate against 0.62-0.75x, a long tail of slow claims). A job scheduled since is read at most once
        // by it: that claim's next-due read sees it, and the queue's next claims use the ranges above when needed.
        ClaimCandidatesOneRange = $"""
            SELECT {JobColumns}, {now} AS now_at FROM {jobs} FORCE INDEX (claim)
            WHERE queue = @q<0> AND state = 1 AND due_at <= {now}<1>
              AND NOT EXISTS (SELECT 1 FROM {queues} WHERE name = @q<0> AND paused = 1)
            ORDER BY priority DESC, due_at, seq
            LIMIT @l<0>
            FOR UPDATE SKIP LOCKED
            """;
        // The earliest waiting job of a queue that is not due yet, and the highest priority that has one: one index dive per
        // priority of the claim index, each reading a single entry (ORDER BY due_at LIMIT 1; a MIN over the range would read
        // every job scheduled at that priority, the claim index's priority being descending).
        string NextDueArm(int priority) =>
            $"(SELECT due_at AS m, {priority} AS p FROM {jobs} FORCE INDEX (claim) WHERE queue = @q<0> AND state = 1 AND priority = {priority} AND due_at > {now} ORDER BY due_at LIMIT 1)";
        NextDue = $"""
            SELECT MIN(m), MAX(p) FROM (
              {NextDueArm(3)}
              UNION ALL {NextDueArm(2)}
              UNION ALL {NextDueArm(1)}
              UNION ALL {NextDueArm(0)}) d
            """;
        ClaimJobs = $"""
            UPDATE {jobs}
            SET state = 2, attempt = attempt + 1, lease_token = CASE seq <0> END, lease_expires_at = @lease_expires_at,
                started_at = @claim_now, worker_id = @worker_id, progress = NULL, progress_message = NULL
            WHERE seq IN (<1>) AND state = 1
            """;

        // ------------------------------------------------------------ fenced writes
        LockRunning = $"SELECT id, lease_token FROM {jobs} WHERE id IN (<0>) AND state = 2 FOR UPDATE";
        CompleteSucceeded = $"""
            UPDATE {jobs}
            SET state = 3, finished_at = @done_at,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                succeeded_token = lease_token, lease_token = NULL, lease_expires_at = NULL
            WHERE id IN (<0>) AND state = 2
            """;
        CompleteOne = $"""
            UPDATE {jobs}
            SET state = @s<0>,
                finished_at = CASE WHEN @s<0> >= 3 THEN @done_at ELSE finished_at END,
                due_at = COALESCE(@due<0>, due_at),
                attempt = GREATEST(attempt + @delta<0>, 0),
                last_error = COALESCE(@error<0>, last_error),
                unique_key = CASE WHEN @s<0> >= 3 AND unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                succeeded_token = CASE WHEN @s<0> = 3 THEN lease_token ELSE succeeded_token END,
                unknown_since = CASE WHEN @unknown<0> = 1 THEN COALESCE(unknown_since, @done_at) ELSE unknown_since END,
                lease_token = NULL,
                lease_expires_at = NULL
            WHERE id = @i<0> AND state = 2 AND lease_token = @t<0>
            """;
        SetResult = $"""
            INSERT INTO {results} (job_id, lease_token, value, expires_at) VALUES (@ri<0>, @rt<0>, @rv<0>, {now} + INTERVAL @rl<0> MICROSECOND)
            ON DUPLICATE KEY UPDATE value = @rv<0>, expires_at = {now} + INTERVAL @rl<0> MICROSECOND
            """;
        CountThroughput = $"""
            INSERT INTO {throughput} (minute, shard, succeeded, failed) VALUES (@minute, @shard, @succeeded, @failed)
            ON DUPLICATE KEY UPDATE succeeded = succeeded + @succeeded, failed = failed + @failed
            """;
        ExtendLeases = $"""
            UPDATE {jobs} SET lease_expires_at = {now} + INTERVAL @lease MICROSECOND
            WHERE id IN (<0>) AND state = 2 AND (<1>)
            """;
        SelectLeases = $"SELECT id, lease_token FROM {jobs} WHERE id IN (<0>) AND state = 2";
        ReportProgress = $"""
            UPDATE {jobs} SET progress = @p<0>, progress_message = @m<0>
            WHERE id = @i<0> AND state = 2 AND lease_token = @t<0>
            """;
        RescueCandidates = $"""
            SELECT seq, id, task, queue, attempt, max_retries, worker_id, {now} AS now_at FROM {jobs} FORCE INDEX (lease)
            WHERE state = 2 AND lease_expires_at <= {now}
            ORDER BY lease_expires_at
            LIMIT @max
            FOR UPDATE SKIP LOCKED
            """;
        RescueToReady = $"""
            UPDATE {jobs}
            SET state = 1, lease_token = NULL, lease_expires_at = NULL,
                last_error = CONCAT('The lease of worker ''', COALESCE(CONVERT(worker_id USING utf8mb4), ''), ''' expired; the job was returned to the queue.')
            WHERE seq IN (<0>) AND state = 2 AND lease_expires_at <= @rescue_now
            """;
        RescueToDead = $"""
            UPDATE {jobs}
            SET state = 4, finished_at = @rescue_now, lease_token = NULL, lease_expires_at = NULL,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END,
                last_error = CONCAT('The lease of worker ''', COALESCE(CONVERT(worker_id USING utf8mb4), ''), ''' expired and the job has no attempts left.')
            WHERE seq IN (<0>) AND state = 2 AND lease_expires_at <= @rescue_now
            """;

        // ------------------------------------------------------------ administration
        SelectJob = $"SELECT {JobColumns}, {now} AS now_at FROM {jobs} WHERE id = @id";
        LocateJobs = $"SELECT id, queue FROM {jobs} WHERE id IN (<0>)";
        var filter = $"""
              (@queue IS NULL OR queue = @queue)
              AND (@task IS NULL OR task = @task)
              AND (@state IS NULL OR (CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END) = @state)
              AND (@created_after IS NULL OR created_at >= @created_after)
              AND (@created_before IS NULL OR created_at < @created_before)
              AND (@text IS NULL OR LOCATE(@text, {Fold("payload")}) > 0 OR LOCATE(@text, {Fold("CAST(COALESCE(last_error, '') AS BINARY)")}) > 0)
            """;
        ListJobs = $"""
            SELECT {JobColumns}, {now} AS now_at FROM {jobs}
            WHERE seq < @before AND {filter}
            ORDER BY seq DESC
            LIMIT @limit
            """;
        CountJobsMatching = $"SELECT COUNT(*) FROM {jobs} WHERE {filter}";
        LockJobState = $"SELECT state, due_at, task, attempt, {now} FROM {jobs} WHERE id = @id AND queue = @queue FOR UPDATE";
        CancelJob = $"""
            UPDATE {jobs}
            SET state = 5, finished_at = {now}, lease_token = NULL, lease_expires_at = NULL,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END
            WHERE id = @id AND queue = @queue AND state < 3
            """;
        RetryJob = $"""
            UPDATE {jobs} SET state = 1, attempt = 0, finished_at = NULL, due_at = {now}, unknown_since = NULL
            WHERE id = @id AND queue = @queue AND state IN (4, 5)
            """;
        DeleteJob = $"DELETE FROM {jobs} WHERE id = @id AND queue = @queue";
        BulkCandidates = $"""
            SELECT seq, id, queue, task, CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END, attempt FROM {jobs}
            WHERE seq > @after AND (CASE @action WHEN 0 THEN state IN (4, 5) WHEN 1 THEN state < 3 ELSE 1 END) AND {filter}
            ORDER BY seq
            LIMIT @limit
            FOR UPDATE
            """;
        BulkRetry = $"""
            UPDATE {jobs} SET state = 1, attempt = 0, finished_at = NULL, due_at = {now}, unknown_since = NULL
            WHERE seq IN (<0>) AND state IN (4, 5)
            """;
        BulkCancel = $"""
            UPDATE {jobs}
            SET state = 5, finished_at = {now}, lease_token = NULL, lease_expires_at = NULL,
                unique_key = CASE WHEN unique_until_pruned = 0 THEN NULL ELSE unique_key END
            WHERE seq IN (<0>) AND state < 3
            """;
        BulkDelete = $"DELETE FROM {jobs} WHERE seq IN (<0>)";
        // Pruning finds its jobs one finished state at a time, oldest first, through the `finished (state, finished_at)`
        // index, which a SELECT can be held to (a single-table DELETE takes no index hint, and its plan read every finished
        // job when asked for two states in one statement: 2,018 rows for a prune of 10 in 2,000), with a plain read that
        // locks nothing. It then deletes them by key, checking again that each is still finished and old enough, under READ
        // COMMITTED so it locks only the rows it deletes (not the gaps of keys gone meanwhile).
        PruneCandidates = $"""
            SELECT seq, finished_at FROM {jobs} FORCE INDEX (finished)
            WHERE state = @st AND finished_at < {now} - INTERVAL @age MICROSECOND
            ORDER BY finished_at
            LIMIT @max
            """;
        PruneByKey = $"""
            SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
            DELETE FROM {jobs} WHERE seq IN (<0>) AND state = @st AND finished_at < {now} - INTERVAL @age MICROSECOND
            """;
        CountJobs = $"""
            SELECT queue, CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END AS s, COUNT(*)
            FROM {jobs} GROUP BY queue, s
            """;
        SelectPausedQueues = $"SELECT name FROM {queues} WHERE paused = 1";
        PauseQueue = $"INSERT INTO {queues} (name, paused) VALUES (@queue, 1) ON DUPLICATE KEY UPDATE paused = 1";
        ResumeQueue = $"DELETE FROM {queues} WHERE name = @queue";
        ClearQueue = $"DELETE FROM {jobs} WHERE queue = @queue AND state = 1";

        HeartbeatWorker = $"""
            INSERT INTO {workers} (id, registration, started_at, heartbeat_at) VALUES (@id, @registration, {now}, {now})
            ON DUPLICATE KEY UPDATE registration = @registration, heartbeat_at = {now};
            SELECT {now}
            """;
        ListWorkers = $"SELECT registration, started_at, heartbeat_at FROM {workers} ORDER BY id; SELECT {now}";
        RemoveWorker = $"DELETE FROM {workers} WHERE id = @id";
        PruneWorkers = $"DELETE FROM {workers} WHERE heartbeat_at < {now} - INTERVAL @age MICROSECOND";
        SelectThroughputRows = $"""
            SELECT {now};
            SELECT minute, SUM(succeeded), SUM(failed) FROM {throughput}
            WHERE minute >= {now} - INTERVAL @span MINUTE GROUP BY minute ORDER BY minute
            """;
        PruneThroughput = $"DELETE FROM {throughput} WHERE minute < @before";
        SelectThroughputMinutesBefore = $"SELECT COUNT(DISTINCT minute) FROM {throughput} WHERE minute < @before";

        AcquireLock = $"""
            INSERT INTO {locks} (name, owner, expires_at) VALUES (@name, @owner, {now} + INTERVAL @ttl MICROSECOND)
            ON DUPLICATE KEY UPDATE
                owner = CASE WHEN owner = @owner OR expires_at <= {now} THEN @owner ELSE owner END,
                expires_at = CASE WHEN owner = @owner THEN {now} + INTERVAL @ttl MICROSECOND ELSE expires_at END;
            SELECT owner = @owner FROM {locks} WHERE name = @name
            """;
        ReleaseLock = $"""
            SELECT expires_at > {now} FROM {locks} WHERE name = @name AND owner = @owner FOR UPDATE;
            DELETE FROM {locks} WHERE name = @name AND owner = @owner
            """;

        // ------------------------------------------------------------ results
        GetResult = $"SELECT value, expires_at FROM {results} WHERE job_id = @id AND lease_token = @lease_token AND expires_at > {now}";
        DeleteResults = $"DELETE FROM {results} WHERE job_id IN (<0>)";
        PruneResults = $"DELETE FROM {results} WHERE expires_at <= {now} ORDER BY expires_at LIMIT @max";

        // ------------------------------------------------------------ events
        AppendEventsHead = $"INSERT INTO {events} (job_id, kind, task, queue, attempt, at, error, worker_id, delay_ticks, duration_ticks) VALUES ";
        AppendEventRow = "(@j<0>, @k<0>, @t<0>, @q<0>, @a<0>, @at<0>, @e<0>, @w<0>, @d<0>, @du<0>)";
        ListEvents = $"""
            SELECT job_id, kind, task, queue, attempt, at, error, worker_id, delay_ticks, duration_ticks FROM {events}
            WHERE @job_id IS NULL OR job_id = @job_id
            ORDER BY seq
            LIMIT @limit
            """;
        PruneEvents = $"DELETE FROM {events} WHERE at < {now} - INTERVAL @age MICROSECOND ORDER BY at LIMIT @max";

        // ------------------------------------------------------------ schedules
        // LAST_INSERT_ID(expr) makes the counter's new value this session's LAST_INSERT_ID(), used as the version.
        NextScheduleVersion = $"UPDATE {counters} SET value = LAST_INSERT_ID(value + 1) WHERE name = 'schedule_version'";
        UpsertSchedule = $"""
            INSERT INTO {schedules} ({ScheduleColumns})
            VALUES (@name, @task, @cron, @interval_ticks, @time_zone, @payload, @paused, @next_run_at, @last_run_at, @declared, LAST_INSERT_ID())
            ON DUPLICATE KEY UPDATE
                task = @task, cron = @cron, interval_ticks = @interval_ticks, time_zone = @time_zone, payload = @payload,
                paused = @paused, next_run_at = @next_run_at, last_run_at = @last_run_at, declared = @declared, version = LAST_INSERT_ID()
            """;
        InsertScheduleIfMissing = $"""
            INSERT INTO {schedules} ({ScheduleColumns})
            VALUES (@name, @task, @cron, @interval_ticks, @time_zone, @payload, @paused, @next_run_at, @last_run_at, @declared, LAST_INSERT_ID())
            ON DUPLICATE KEY UPDATE name = name
            """;
        UpdateScheduleAtVersion = $"""
            UPDATE {schedules} SET
                task = @task, cron = @cron, interval_ticks = @interval_ticks, time_zone = @time_zone, payload = @payload,
                paused = @paused, next_run_at = @next_run_at, last_run_at = @last_run_at, declared = @declared, version = LAST_INSERT_ID()
            WHERE name = @name AND version = @expected_version
            """;
        SelectWrittenSchedule = $"SELECT {ScheduleColumns} FROM {schedules} WHERE name = @name AND version = LAST_INSERT_ID()";
        SelectSchedule = $"SELECT {ScheduleColumns} FROM {schedules} WHERE name = @name";
        ListSchedules = $"SELECT {ScheduleColumns} FROM {schedules}";
        DeleteSchedule = $"DELETE FROM {schedules} WHERE name = @name";
        AdvanceSchedule = $"""
            UPDATE {schedules}
            SET last_run_at = COALESCE(@last_run_at, last_run_at), next_run_at = @next_run_at, version = LAST_INSERT_ID()
            WHERE name = @name AND version = @expected_version
            """;
        // One statement, so the due list, the next due time and the reported now share one reading of the clock.
        DueSchedules = $"""
            SELECT c.now_at, (SELECT MIN(x.next_run_at) FROM {schedules} x WHERE x.paused = 0 AND x.next_run_at > c.now_at),
                   s.name, s.task, s.cron, s.interval_ticks, s.time_zone, s.payload, s.paused, s.next_run_at, s.last_run_at, s.declared, s.version
            FROM (SELECT {now} AS now_at) c
            LEFT JOIN {schedules} s ON s.paused = 0 AND s.next_run_at IS NOT NULL AND s.next_run_at <= c.now_at
            ORDER BY s.next_run_at, s.name
            LIMIT @max
            """;

        Clock = $"SELECT {now}";
    }

    /// <summary>The validated table prefix.</summary>
    public string Prefix { get; }

    /// <summary>The clock expression: <c>UTC_TIMESTAMP(6)</c>, or the bound <c>@now</c> of a test clock.</summary>
    public string Now { get; }

    /// <summary>The newest schema version this store knows (the built-in migrations and any given for tests).</summary>
    public int SchemaVersion { get; }

    public IReadOnlyList<Migration> Migrations { get; }

    public string MigrationLockName { get; }

    public string AcquireMigrationLock { get; }

    public string ReleaseMigrationLock { get; }

    public string CreateMigrationsTable { get; }

    public string CreateSchemaTable { get; }

    public string SelectSchemaVersion { get; }

    public string SelectMinimumReader { get; }

    public string TableExists { get; }

    public string InsertMigration { get; }

    public string SetMinimumReader { get; }

    public string ServerInfo { get; }

    public string Diagnose { get; }

    public string SelectExistingIds { get; }

    public string SelectHeldKeys { get; }

    public string SelectPresentById { get; }

    public string SelectPresentByKey { get; }

    public string LockPresent { get; }

    public string InsertJobsHead { get; }

    public string WatchCommit { get; }

    public string ClaimCandidates { get; }

    public string ClaimCandidatesOneRange { get; }

    public string NextDue { get; }

    public string ClaimJobs { get; }

    public string LockRunning { get; }

    public string CompleteSucceeded { get; }

    public string CompleteOne { get; }

    public string SetResult { get; }

    public string CountThroughput { get; }

    public string ExtendLeases { get; }

    public string SelectLeases { get; }

    public string ReportProgress { get; }

    public string RescueCandidates { get; }

    public string RescueToReady { get; }

    public string RescueToDead { get; }

    public string SelectJob { get; }

    public string LocateJobs { get; }

    public string ListJobs { get; }

    public string CountJobsMatching { get; }

    public string LockJobState { get; }

    public string CancelJob { get; }

    public string RetryJob { get; }

    public string DeleteJob { get; }

    public string BulkCandidates { get; }

    public string BulkRetry { get; }

    public string BulkCancel { get; }

    public string BulkDelete { get; }

    public string PruneCandidates { get; }

    public string PruneByKey { get; }

    public string CountJobs { get; }

    public string SelectPausedQueues { get; }

    public string PauseQueue { get; }

    public string ResumeQueue { get; }

    public string ClearQueue { get; }

    public string HeartbeatWorker { get; }

    public string ListWorkers { get; }

    public string RemoveWorker { get; }

    public string PruneWorkers { get; }

    public string SelectThroughputRows { get; }

    public string PruneThroughput { get; }

    public string SelectThroughputMinutesBefore { get; }

    public string AcquireLock { get; }

    public string ReleaseLock { get; }

    public string GetResult { get; }

    public string DeleteResults { get; }

    public string PruneResults { get; }

    public string AppendEventsHead { get; }

    public string AppendEventRow { get; }

    public string ListEvents { get; }

    public string PruneEvents { get; }

    public string NextScheduleVersion { get; }

    public string UpsertSchedule { get; }

    public string InsertScheduleIfMissing { get; }

    public string UpdateScheduleAtVersion { get; }

    public string SelectWrittenSchedule { get; }

    public string SelectSchedule { get; }

    public string ListSchedules { get; }

    public string DeleteSchedule { get; }

    public string AdvanceSchedule { get; }

    public string DueSchedules { get; }

    public string Clock { get; }

    /// <summary>A list of generated parameter names, <c>@p0, @p1, …</c>.</summary>
    public static string List(string name, int count)
    {
        var text = new StringBuilder(count * (name.Length + 4));
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(", ");
            }

            text.Append('@').Append(name).Append(i.ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Fills the <c>&lt;0&gt;</c>, <c>&lt;1&gt;</c> slots of a statement template with generated text.</summary>
    public static string Format(string template, params object[] parts)
    {
        var text = template;
        for (var i = 0; i < parts.Length; i++)
        {
            text = text.Replace("<" + i.ToString(CultureInfo.InvariantCulture) + ">", Convert.ToString(parts[i], CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        return text;
    }

    /// <summary>
    /// An expression that folds ASCII capitals of a binary string to lower case and leaves every other byte alone, so a
    /// byte search ignores ASCII case only (the contract's rule), whatever the payload's bytes are.
    /// </summary>
    private static string Fold(string expression)
    {
        var text = expression;
        for (var c = 'A'; c <= 'Z'; c++)
        {
            text = $"REPLACE({text}, _binary'{c}', _binary'{char.ToLowerInvariant(c)}')";
        }

        return text;
    }

    /// <summary>
    /// One schema step. DDL commits implicitly on MySQL, so a step's statements are each safe to run again
    /// (<c>IF NOT EXISTS</c>) and the step is recorded after they all ran; migrations run one process at a time under
    /// <c>GET_LOCK</c>. A contract step removes something older workers rely on, so on an existing database it runs only
    /// when asked for; <paramref name="MinimumReader"/> is the oldest schema version whose code may use the database
    /// once the step ran.
    /// </summary>
    public sealed record Migration(int Version, string Description, bool Contract, int MinimumReader, IReadOnlyList<string> Statements);
}
