namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// Every SQL statement of the PostgreSQL store, for one schema and table prefix. Values are always bound parameters; the
/// only text spliced in is the validated, quoted schema and prefix, and a fixed set of priorities. The store's clock is
/// the server's <c>now()</c> (the transaction's start); tests may bind a clock of their own as <c>@now</c> instead.
/// A waiting job is stored as state 1 whether or not it is due yet: "scheduled" is derived from <c>due_at</c> at read
/// time, so no promotion step is needed. Durations travel as whole microseconds (<c>bigint</c>) and are added as
/// microsecond intervals, which never depend on the session's time zone.
/// </summary>
internal sealed class PostgresSql
{
    /// <summary>The newest schema version this code knows.</summary>
    public const int SchemaVersion = 4;

    /// <summary>Stored state of a job waiting for its due time or a worker.</summary>
    public const int Waiting = 1;

    /// <summary>The priorities the claim reads as separate index ranges, highest first (others come before or after them).</summary>
    private static readonly int[] KnownPriorities = [3, 2, 1, 0];

    public PostgresSql(string schema, string prefix, bool serverClock, IReadOnlyList<Migration>? migrations = null)
    {
        Schema = schema;
        Prefix = prefix;
        var s = PostgresIdentifiers.Quote(schema);
        string T(string name) => s + "." + PostgresIdentifiers.Quote(prefix + name);
        string I(string name) => PostgresIdentifiers.Quote(prefix + name);
        Now = serverClock ? "now()" : "@now::timestamptz";
        var now = Now;
        static string Us(string parameter) => $"({parameter} * interval '1 microsecond')";

        var jobs = T("jobs");
        var queues = T("queues");
        var throughput = T("throughput");
        Jobs = jobs;
        MigrationsTable = T("migrations");
        SchemaInfoTable = T("schema_info");

        // The columns of a job, in the order PostgresRows.ReadJob reads them; the state of a waiting job is derived.
        string JobColumns(string a) =>
            $"{a}.seq, {a}.id, {a}.task, {a}.queue, {a}.priority, " +
            $"CASE WHEN {a}.state = 1 AND {a}.due_at > {now} THEN 0 ELSE {a}.state END, " +
            $"{a}.payload, {a}.attempt, {a}.max_retries, {a}.created_at, {a}.due_at, {a}.started_at, {a}.finished_at, " +
            $"{a}.lease_expires_at, {a}.lease_token, {a}.worker_id, {a}.unique_key, {a}.last_error, {a}.trace_parent, {a}.trace_state, " +
            $"{a}.succeeded_token, {a}.unknown_since, {a}.progress, {a}.progress_message";
        const string ScheduleColumns = "name, task, cron, interval_ticks, time_zone, payload, paused, next_run_at, last_run_at, declared, version";
        // Throughput rows are spread over 16 shards per minute (by backend), so concurrent completions never queue on one row.
        string CountThroughput(string source, string succeeded, string failed) => $"""
            INSERT INTO {throughput} (minute, shard, succeeded, failed)
            SELECT date_trunc('minute', {now}, 'UTC'), (pg_backend_pid() % 16)::smallint, {succeeded}, {failed} FROM {source}
            HAVING {succeeded} + {failed} > 0
            ON CONFLICT (minute, shard) DO UPDATE
                SET succeeded = {throughput}.succeeded + excluded.succeeded, failed = {throughput}.failed + excluded.failed
            """;

        Migrations = migrations ??
        [
            new Migration(1, "jobs, queues, locks, results, events, schedules, workers, throughput", false,
            [
                $"""
                CREATE TABLE {jobs} (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id uuid NOT NULL,
                    task text NOT NULL,
                    queue text NOT NULL,
                    priority integer NOT NULL,
                    state smallint NOT NULL,
                    payload bytea NOT NULL,
                    attempt integer NOT NULL DEFAULT 0,
                    max_retries integer NOT NULL,
                    created_at timestamptz NOT NULL,
                    due_at timestamptz NOT NULL,
                    started_at timestamptz,
                    finished_at timestamptz,
                    lease_expires_at timestamptz,
                    lease_token uuid,
                    worker_id text,
                    unique_key bytea,
                    unique_until_pruned boolean NOT NULL DEFAULT false,
                    last_error text,
                    trace_parent text,
                    trace_state text,
                    succeeded_token uuid,
                    unknown_since timestamptz,
                    progress double precision,
                    progress_message text
                ) WITH (fillfactor = 90)
                """,
                $"CREATE UNIQUE INDEX {I("jobs_id")} ON {jobs} (id)",
                // The claim path: one ordered range per (queue, priority) of waiting jobs, in claim order.
                $"CREATE INDEX {I("jobs_claim")} ON {jobs} (queue, priority DESC, due_at, seq) WHERE state = 1",
                // Unique keys are the store's own constraint: held while the column is set.
                $"CREATE UNIQUE INDEX {I("jobs_unique")} ON {jobs} (queue, unique_key) WHERE unique_key IS NOT NULL",
                $"CREATE INDEX {I("jobs_lease")} ON {jobs} (lease_expires_at) WHERE state = 2",
                $"CREATE INDEX {I("jobs_finished")} ON {jobs} (finished_at) WHERE state >= 3",
                $"CREATE TABLE {queues} (name text PRIMARY KEY, paused boolean NOT NULL)",
                $"CREATE TABLE {T("locks")} (name text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)",
                $"""
                CREATE TABLE {T("results")} (
                    job_id uuid NOT NULL,
                    lease_token uuid NOT NULL,
                    value bytea NOT NULL,
                    expires_at timestamptz NOT NULL,
                    PRIMARY KEY (job_id, lease_token))
                """,
                $"CREATE INDEX {I("results_expires")} ON {T("results")} (expires_at)",
                $"""
                CREATE TABLE {T("events")} (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    job_id uuid NOT NULL,
                    kind integer NOT NULL,
                    task text NOT NULL,
                    queue text NOT NULL,
                    attempt integer NOT NULL,
                    at timestamptz NOT NULL,
                    at_ticks bigint NOT NULL,
                    error text,
                    worker_id text,
                    delay_ticks bigint,
                    duration_ticks bigint)
                """,
                $"CREATE INDEX {I("events_job")} ON {T("events")} (job_id, seq)",
                $"CREATE INDEX {I("events_at")} ON {T("events")} (at)",
                $"""
                CREATE TABLE {T("schedules")} (
                    name text PRIMARY KEY,
                    task text NOT NULL,
                    cron text,
                    interval_ticks bigint,
                    time_zone text,
                    payload bytea,
                    paused boolean NOT NULL,
                    next_run_at timestamptz,
                    last_run_at timestamptz,
                    declared boolean NOT NULL,
                    version bigint NOT NULL)
                """,
                $"CREATE INDEX {I("schedules_due")} ON {T("schedules")} (next_run_at) WHERE NOT paused AND next_run_at IS NOT NULL",
                $"CREATE SEQUENCE {T("schedule_versions")}",
                $"""
                CREATE TABLE {T("workers")} (
                    id text PRIMARY KEY,
                    registration text NOT NULL,
                    started_at timestamptz NOT NULL,
                    heartbeat_at timestamptz NOT NULL)
                """,
                $"""
                CREATE TABLE {throughput} (
                    minute timestamptz NOT NULL,
                    shard smallint NOT NULL,
                    succeeded bigint NOT NULL,
                    failed bigint NOT NULL,
                    PRIMARY KEY (minute, shard))
                """,
            ]),
            // Contract: a job is found by its id (jobs_id) in every statement of this version; the sequence stays as the
            // claim order's last key but needs no index of its own. Its primary key cost an index entry at the insert and
            // at every state change (none is a HOT update: the state is in the partial indexes' predicates): about a
            // tenth of the server's time per job, side by side. Workers of version 1 look jobs up by the sequence,
            // which would then read the whole table, so this waits until none is left, and they refuse a schema that has it.
            new Migration(2, "jobs keyed by their id alone: no primary key over the sequence", true,
            [
                $"""
                DO $migration$
                DECLARE key_name text;
                BEGIN
                    SELECT conname INTO key_name FROM pg_constraint WHERE conrelid = '{jobs}'::regclass AND contype = 'p';
                    IF key_name IS NOT NULL THEN
                        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', '{jobs}', key_name);
                    END IF;
                END
                $migration$
                """,
            ], MinimumReader: 2),
            // Expand: finished jobs indexed by state, then finish time, so a prune reads only the jobs it deletes. Through
            // jobs_finished (finish time alone) a prune of succeeded jobs read past every dead job finished before its
            // cut-off (dead ones are kept longer) at each maintenance pass. Building it reads the finished jobs once.
            new Migration(3, "an index over the state and finish time of finished jobs", false,
            [
                $"CREATE INDEX IF NOT EXISTS {I("jobs_finished_state")} ON {jobs} (state, finished_at) WHERE state >= 3",
            ], MinimumReader: 2),
            // Contract: jobs_finished serves no statement of this version, but earlier workers' prunes read it; without it
            // theirs would sort every finished job past the cut-off, so it goes once none is left.
            new Migration(4, "no index over the finish time alone", true,
            [
                $"DROP INDEX IF EXISTS {I("jobs_finished")}",
            ], MinimumReader: 2),
        ];

        // ------------------------------------------------------------ schema
        SchemaExists = "SELECT 1 FROM pg_namespace WHERE nspname = @schema";
        CreateSchema = $"CREATE SCHEMA IF NOT EXISTS {s}";
        MigrationLock = "SELECT pg_advisory_xact_lock(@key)";
        CreateMigrationsTable = $"""
            CREATE TABLE IF NOT EXISTS {MigrationsTable} (
                version integer PRIMARY KEY,
                description text NOT NULL,
                contract boolean NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """;
        CreateSchemaInfoTable = $"CREATE TABLE IF NOT EXISTS {SchemaInfoTable} (name text PRIMARY KEY, value integer NOT NULL)";
        // to_regclass reads the catalog, so this works before the tables exist; the tables are read only once they do.
        SchemaTablesExist = "SELECT to_regclass(@migrations) IS NOT NULL, to_regclass(@schema_info) IS NOT NULL";
        SelectSchemaVersion = $"SELECT COALESCE(MAX(version), 0) FROM {MigrationsTable}";
        SelectMinimumReader = $"SELECT COALESCE((SELECT value FROM {SchemaInfoTable} WHERE name = 'minimum_reader'), 1)";
        InsertMigration = $"INSERT INTO {MigrationsTable} (version, description, contract) VALUES (@version, @description, @contract)";
        SetMinimumReader = $"""
            INSERT INTO {SchemaInfoTable} (name, value) VALUES ('minimum_reader', @value)
            ON CONFLICT (name) DO UPDATE SET value = GREATEST({SchemaInfoTable}.value, excluded.value)
            """;
        Clock = "SELECT now()";
        Settings = """
            SELECT version(), current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'),
                   current_setting('max_connections')::integer, current_setting('superuser_reserved_connections')::integer,
                   (SELECT count(*)::integer FROM pg_stat_activity WHERE backend_type = 'client backend')
            """;

        // ------------------------------------------------------------ insert
        // One statement per batch: ON CONFLICT DO NOTHING covers a taken id and a taken unique key; rows are inserted in
        // input order, so the first job of a batch wins a key it shares with a later one. The outcome of a job that was
        // not inserted is the job holding its id or key, from this statement's own inserts or from the table.
        InsertJobs = $"""
            WITH input AS (
                SELECT i.*, row_number() OVER (PARTITION BY i.id ORDER BY i.ord) AS id_rank
                FROM unnest(@ids::uuid[], @tasks::text[], @queues::text[], @priorities::integer[], @payloads::bytea[],
                            @max_retries::integer[], @run_ats::timestamptz[], @delays::bigint[], @unique_keys::bytea[],
                            @until_pruned::boolean[], @trace_parents::text[], @trace_states::text[]) WITH ORDINALITY
                    AS i(id, task, queue, priority, payload, max_retries, run_at, delay_us, unique_key, until_pruned, trace_parent, trace_state, ord)
            ), inserted AS (
                INSERT INTO {jobs} (id, task, queue, priority, state, payload, max_retries, created_at, due_at,
                                    unique_key, unique_until_pruned, trace_parent, trace_state)
                SELECT i.id, i.task, i.queue, i.priority, 1, i.payload, i.max_retries, {now},
                       COALESCE(i.run_at, {now}) + {Us("i.delay_us")}, i.unique_key, i.until_pruned, i.trace_parent, i.trace_state
                FROM input i
                ORDER BY i.ord
                ON CONFLICT DO NOTHING
                RETURNING id, queue, unique_key
            )
            SELECT i.ord, COALESCE(n.id, e.id, nk.id, ek.id), n.id IS NOT NULL AND i.id_rank = 1
            FROM input i
            LEFT JOIN inserted n ON n.id = i.id
            LEFT JOIN {jobs} e ON e.id = i.id
            LEFT JOIN LATERAL (
                SELECT n2.id FROM inserted n2
                WHERE n.id IS NULL AND e.id IS NULL AND n2.queue = i.queue AND n2.unique_key = i.unique_key LIMIT 1) nk ON true
            LEFT JOIN LATERAL (
                SELECT e2.id FROM {jobs} e2
                WHERE n.id IS NULL AND e.id IS NULL AND e2.queue = i.queue AND e2.unique_key = i.unique_key LIMIT 1) ek ON true
            ORDER BY i.ord
            """;
        // A batch without unique keys: inserted in input order, nothing read back. A taken id fails it whole (unique violation).
        InsertJobsPlain = $"""
            INSERT INTO {jobs} (id, task, queue, priority, state, payload, max_retries, created_at, due_at, trace_parent, trace_state)
            SELECT i.id, i.task, i.queue, i.priority, 1, i.payload, i.max_retries, {now}, COALESCE(i.run_at, {now}) + {Us("i.delay_us")},
                   i.trace_parent, i.trace_state
            FROM unnest(@ids::uuid[], @tasks::text[], @queues::text[], @priorities::integer[], @payloads::bytea[],
                        @max_retries::integer[], @run_ats::timestamptz[], @delays::bigint[], @trace_parents::text[], @trace_states::text[])
                WITH ORDINALITY AS i(id, task, queue, priority, payload, max_retries, run_at, delay_us, trace_parent, trace_state, ord)
            ORDER BY i.ord
            """;
        // A key taken by a job that committed after the insert's snapshot: found with a fresh snapshot.
        SelectIdsByKeys = $"""
            SELECT k.ord, j.id FROM unnest(@queues::text[], @unique_keys::bytea[], @ords::bigint[]) AS k(queue, unique_key, ord)
            JOIN {jobs} j ON j.queue = k.queue AND j.unique_key = k.unique_key
            """;
        Notify = "SELECT pg_notify(@channel, @payload)";

        // ------------------------------------------------------------ claim
        // One statement: per asked, unpaused queue one group of tasks that are not capped, and one group per capped task;
        // each group reads the claim index as one ordered range per priority (so jobs scheduled for later are never
        // scanned), locks what it takes with FOR UPDATE SKIP LOCKED and stops at its maximum. The jobs found are then
        // walked in claim order, each taken while its task's cap, its queue's maximum and the total allow, and moved to
        // Running.
        string ClaimArm(string priority, string order, bool capped)
        {
            var taskFilter = capped ? "\n      AND CASE WHEN g.task IS NULL THEN j.task <> ALL(@capped_tasks::text[]) ELSE j.task = g.task END" : "";
            return $"""
                SELECT * FROM (
                    SELECT j.seq, j.id, j.queue, j.task, j.priority, j.due_at FROM {jobs} j
                    WHERE j.queue = g.queue AND j.state = 1 AND {priority} AND j.due_at <= {now}{taskFilter}
                    ORDER BY {order}
                    LIMIT g.max
                    FOR UPDATE SKIP LOCKED) a
                """;
        }

        string ClaimArms(bool capped) => string.Join("\n            UNION ALL\n",
            [
                ClaimArm("j.priority > 3", "j.priority DESC, j.due_at, j.seq", capped),
                .. KnownPriorities.Select(p => ClaimArm($"j.priority = {p}", "j.due_at, j.seq", capped)),
                ClaimArm("j.priority < 0", "j.priority DESC, j.due_at, j.seq", capped),
            ]);
        // The chosen jobs are found by id as one array: a join with the chosen rows may be planned as a hash join over a
        // scan of the whole table when the table is small or its statistics are stale; an array of ids is always an index
        // lookup (the same for rescues and bulk actions below).
        var claimUpdate = $"""
            UPDATE {jobs} j
            SET state = 2, attempt = j.attempt + 1, lease_token = gen_random_uuid(), lease_expires_at = {now} + {Us("@lease_us")},
                started_at = {now}, worker_id = @worker_id, progress = NULL, progress_message = NULL
            WHERE j.id = ANY(ARRAY(SELECT c.id FROM chosen c))
            RETURNING {JobColumns("j")}
            """;
        ClaimJobs = $"""
            WITH RECURSIVE asked AS (
                SELECT a.name, a.max, row_number() OVER ()::integer AS pos FROM unnest(@queues::text[], @queue_max::integer[]) AS a(name, max)
                WHERE NOT EXISTS (SELECT 1 FROM {queues} p WHERE p.name = a.name AND p.paused)
            ), capped AS (
                SELECT c.name, c.max, c.pos::integer AS pos
                FROM unnest(@capped_tasks::text[], @capped_max::integer[]) WITH ORDINALITY AS c(name, max, pos)
            ), grp AS (
                SELECT a.name AS queue, NULL::text AS task, LEAST(a.max, @max) AS max FROM asked a
                UNION ALL
                SELECT a.name, c.name, LEAST(a.max, c.max, @max) FROM asked a CROSS JOIN capped c WHERE c.max > 0
            ), found AS (
                SELECT f.* FROM grp g CROSS JOIN LATERAL (
                    SELECT * FROM (
            {ClaimArms(capped: true)}
                    ) arms
                    LIMIT g.max) f
            ), ordered AS (
                SELECT f.id, row_number() OVER (ORDER BY f.priority DESC, f.due_at, f.seq) AS n,
                       a.pos AS qi, a.max AS qmax, c.pos AS ti, c.max AS tmax
                FROM found f JOIN asked a ON a.name = f.queue LEFT JOIN capped c ON c.name = f.task
            ), walk (n, qc, tc, taken, took) AS (
                -- The candidates one at a time in claim order, each taken while its queue, its task's cap and the total
                -- have room, counting per queue (qc) and per capped task (tc). Cutting by task and by queue separately
                -- (ranks within each) could spend a task's cap on a job its queue's maximum then cut, or a queue's
                -- maximum on a job its task's cap then cut.
                SELECT 0::bigint, array_fill(0, ARRAY[(SELECT count(*) FROM asked)::integer]),
                       array_fill(0, ARRAY[(SELECT count(*) FROM capped)::integer]), 0, false
                UNION ALL
                SELECT o.n,
                       CASE WHEN d.ok THEN w.qc[:o.qi - 1] || (w.qc[o.qi] + 1) || w.qc[o.qi + 1:] ELSE w.qc END,
                       CASE WHEN d.ok AND o.ti IS NOT NULL THEN w.tc[:o.ti - 1] || (w.tc[o.ti] + 1) || w.tc[o.ti + 1:] ELSE w.tc END,
                       w.taken + d.ok::integer,
                       d.ok
                FROM walk w JOIN ordered o ON o.n = w.n + 1
                CROSS JOIN LATERAL (SELECT w.qc[o.qi] < LEAST(o.qmax, @max) AND (o.ti IS NULL OR w.tc[o.ti] < o.tmax) AS ok) d
                WHERE w.taken < @max
            ), chosen AS (
                SELECT o.id FROM walk w JOIN ordered o ON o.n = w.n WHERE w.took
            )
            {claimUpdate}
            """;
        // The same claim when no task is capped (the common case): each queue's group is cut to the queue's maximum by
        // its own LIMIT, so the per-task and per-queue ranking steps and the task filter have nothing to do, and leaving
        // them out makes the statement cheaper to plan, which it is on every claim.
        ClaimJobsUncapped = $"""
            WITH g AS (
                SELECT a.name AS queue, LEAST(a.max, @max) AS max FROM unnest(@queues::text[], @queue_max::integer[]) AS a(name, max)
                WHERE NOT EXISTS (SELECT 1 FROM {queues} p WHERE p.name = a.name AND p.paused)
            ), found AS (
                SELECT f.* FROM g CROSS JOIN LATERAL (
                    SELECT * FROM (
            {ClaimArms(capped: false)}
                    ) arms
                    LIMIT g.max) f
            ), chosen AS (
                SELECT f.id FROM found f
                ORDER BY f.priority DESC, f.due_at, f.seq
                LIMIT @max
            )
            {claimUpdate}
            """;
        string NextDueArm(string priority) => $"""
            (SELECT j.due_at FROM {jobs} j
             WHERE j.queue = a.name AND j.state = 1 AND {priority} AND j.due_at > {now} ORDER BY j.due_at LIMIT 1)
            """;
        NextDue = $"""
            SELECT MIN(n.due_at), {now} FROM unnest(@queues::text[]) AS a(name)
            CROSS JOIN LATERAL (
            {string.Join("\nUNION ALL\n", KnownPriorities.Select(p => NextDueArm($"j.priority = {p}")))}
            UNION ALL
            (SELECT MIN(j.due_at) FROM {jobs} j
             WHERE j.queue = a.name AND j.state = 1 AND (j.priority > 3 OR j.priority < 0) AND j.due_at > {now})
            ) n(due_at)
            WHERE NOT EXISTS (SELECT 1 FROM {queues} p WHERE p.name = a.name AND p.paused)
            """;

        // ------------------------------------------------------------ complete, extend, progress, rescue
        // One statement per batch: the fenced update, the results of the completions that applied, and the counts.
        CompleteJobs = $"""
            WITH input AS (
                SELECT * FROM unnest(@ids::uuid[], @tokens::uuid[], @states::smallint[], @delays::bigint[], @attempt_deltas::integer[],
                                     @errors::text[], @failed::boolean[], @mark_unknown::boolean[], @results::bytea[], @ttls::bigint[])
                    WITH ORDINALITY AS i(id, token, state, delay_us, attempt_delta, error, failed, mark_unknown, result, ttl_us, ord)
            ), done AS (
                UPDATE {jobs} j
                SET state = i.state,
                    finished_at = CASE WHEN i.state >= 3 THEN {now} ELSE j.finished_at END,
                    due_at = CASE WHEN i.delay_us IS NULL THEN j.due_at ELSE {now} + {Us("i.delay_us")} END,
                    attempt = GREATEST(j.attempt + i.attempt_delta, 0),
                    last_error = COALESCE(i.error, j.last_error),
                    unique_key = CASE WHEN i.state >= 3 AND NOT j.unique_until_pruned THEN NULL ELSE j.unique_key END,
                    succeeded_token = CASE WHEN i.state = 3 THEN j.lease_token ELSE j.succeeded_token END,
                    unknown_since = CASE WHEN i.mark_unknown THEN COALESCE(j.unknown_since, {now}) ELSE j.unknown_since END,
                    lease_token = NULL,
                    lease_expires_at = NULL
                FROM input i
                WHERE j.id = i.id AND j.state = 2 AND j.lease_token = i.token
                RETURNING i.ord, i.id, i.token, i.state, i.failed, i.result, i.ttl_us
            ), results AS (
                INSERT INTO {T("results")} (job_id, lease_token, value, expires_at)
                SELECT d.id, d.token, d.result, {now} + {Us("d.ttl_us")} FROM done d WHERE d.result IS NOT NULL
                ON CONFLICT (job_id, lease_token) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            ), counted AS (
            {CountThroughput("done", "count(*) FILTER (WHERE state = 3)", "count(*) FILTER (WHERE failed)")}
            )
            SELECT ord FROM done
            """;
        ExtendLeases = $"""
            UPDATE {jobs} j SET lease_expires_at = {now} + {Us("@lease_us")}
            FROM unnest(@ids::uuid[], @tokens::uuid[]) AS l(id, token)
            WHERE j.id = l.id AND j.state = 2 AND j.lease_token = l.token
            RETURNING j.id, j.lease_token
            """;
        ReportProgress = $"""
            UPDATE {jobs} j SET progress = u.progress, progress_message = u.message
            FROM unnest(@ids::uuid[], @tokens::uuid[], @progress::double precision[], @messages::text[]) WITH ORDINALITY
                AS u(id, token, progress, message, ord)
            WHERE j.id = u.id AND j.state = 2 AND j.lease_token = u.token
            RETURNING u.ord
            """;
        RescueJobs = $"""
            WITH expired AS (
                SELECT id FROM {jobs}
                WHERE state = 2 AND lease_expires_at <= {now}
                ORDER BY lease_expires_at
                LIMIT @max
                FOR UPDATE SKIP LOCKED
            ), rescued AS (
                UPDATE {jobs} j
                SET state = CASE WHEN j.attempt > j.max_retries THEN 4 ELSE 1 END,
                    finished_at = CASE WHEN j.attempt > j.max_retries THEN {now} ELSE j.finished_at END,
                    last_error = 'The lease of worker ''' || COALESCE(j.worker_id, '') || ''' expired' ||
                        CASE WHEN j.attempt > j.max_retries THEN ' and the job has no attempts left.'
                             ELSE '; the job was returned to the queue.' END,
                    unique_key = CASE WHEN j.attempt > j.max_retries AND NOT j.unique_until_pruned THEN NULL ELSE j.unique_key END,
                    lease_token = NULL,
                    lease_expires_at = NULL
                WHERE j.id = ANY(ARRAY(SELECT e.id FROM expired e)) AND j.state = 2 AND j.lease_expires_at <= {now}
                RETURNING j.id, j.task, j.queue, j.attempt, j.state, j.worker_id
            ), counted AS (
            {CountThroughput("rescued", "0", "count(*) FILTER (WHERE state = 4)")}
            )
            SELECT id, task, queue, attempt, state, worker_id FROM rescued
            """;

        // ------------------------------------------------------------ administration
        const string Filter = """
              (@f_queue::text IS NULL OR queue = @f_queue::text)
              AND (@f_task::text IS NULL OR task = @f_task::text)
              AND (@f_created_after::timestamptz IS NULL OR created_at >= @f_created_after::timestamptz)
              AND (@f_created_before::timestamptz IS NULL OR created_at < @f_created_before::timestamptz)
              AND (@f_text::text IS NULL
                   OR (encode(payload, 'escape') COLLATE "C") ~* @f_text_pattern::text
                   OR strpos(lower(COALESCE(last_error, '') COLLATE "C"), @f_text::text) > 0)
            """;
        // The state filter names the stored columns (a scheduled job is a waiting one due later), so that with the value
        // bound the planner folds it to plain conditions it can estimate and match to the partial indexes: an
        // expression over the state would be estimated at a fixed fraction of the rows and read the whole table.
        var filter = Filter + $"""

              AND (@f_state::integer IS NULL
                   OR (@f_state::integer = 0 AND state = 1 AND due_at > {now})
                   OR (@f_state::integer = 1 AND state = 1 AND due_at <= {now})
                   OR (@f_state::integer > 1 AND state = @f_state::integer))
            """;
        SelectJob = $"SELECT {JobColumns("j")} FROM {jobs} j WHERE j.id = @id";
        LocateJobs = $"SELECT id, queue FROM {jobs} WHERE id = ANY(@ids::uuid[])";
        ListJobs = $"""
            SELECT {JobColumns("j")} FROM {jobs} j
            WHERE j.id < @before AND {filter}
            ORDER BY j.id DESC
            LIMIT @limit
            """;
        CountJobsMatching = $"SELECT count(*) FROM {jobs} WHERE {filter}";
        CancelJob = $"""
            WITH old AS (
                SELECT id, CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END AS state, task, attempt
                FROM {jobs} WHERE id = @id AND queue = @queue
                FOR UPDATE
            ), cancelled AS (
                UPDATE {jobs} j
                SET state = 5, finished_at = {now}, lease_token = NULL, lease_expires_at = NULL,
                    unique_key = CASE WHEN j.unique_until_pruned THEN j.unique_key END
                FROM old o WHERE j.id = o.id AND o.state < 3
                RETURNING j.id
            )
            SELECT o.state, o.task, o.attempt, EXISTS (SELECT 1 FROM cancelled) FROM old o
            """;
        RetryJob = $"""
            UPDATE {jobs} SET state = 1, attempt = 0, finished_at = NULL, due_at = {now}, unknown_since = NULL
            WHERE id = @id AND queue = @queue AND state IN (4, 5)
            """;
        DeleteJob = $"DELETE FROM {jobs} WHERE id = @id AND queue = @queue";
        string Bulk(string applies, string change) => $"""
            WITH picked AS (
                SELECT id, CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END AS state, attempt FROM {jobs}
                WHERE {applies} AND {filter} AND (@after::uuid IS NULL OR id > @after::uuid)
                ORDER BY id
                LIMIT @limit
                FOR UPDATE
            ), changed AS (
            {change}
            )
            SELECT c.id, c.queue, c.task, p.state, p.attempt FROM changed c JOIN picked p ON p.id = c.id ORDER BY c.id
            """;
        BulkRetry = Bulk("state IN (4, 5)", $"""
                UPDATE {jobs} j SET state = 1, attempt = 0, finished_at = NULL, due_at = {now}, unknown_since = NULL
                WHERE j.id = ANY(ARRAY(SELECT p.id FROM picked p)) AND j.state IN (4, 5)
                RETURNING j.id, j.queue, j.task
            """);
        BulkCancel = Bulk("state < 3", $"""
                UPDATE {jobs} j
                SET state = 5, finished_at = {now}, lease_token = NULL, lease_expires_at = NULL,
                    unique_key = CASE WHEN j.unique_until_pruned THEN j.unique_key END
                WHERE j.id = ANY(ARRAY(SELECT p.id FROM picked p)) AND j.state < 3
                RETURNING j.id, j.queue, j.task
            """);
        BulkDelete = Bulk("true", $"""
                DELETE FROM {jobs} j WHERE j.id = ANY(ARRAY(SELECT p.id FROM picked p))
                RETURNING j.id, j.queue, j.task
            """);
        // The oldest finished jobs of the asked states: one ordered range of jobs_finished_state per state, merged by finish
        // time (j.state >= 3 lets the planner see that the partial index holds the state).
        PruneJobs = $"""
            DELETE FROM {jobs} WHERE id = ANY(ARRAY(
                SELECT o.id FROM unnest(@states::smallint[]) AS s(state)
                CROSS JOIN LATERAL (
                    SELECT j.id, j.finished_at FROM {jobs} j
                    WHERE j.state >= 3 AND j.state = s.state AND j.finished_at < {now} - {Us("@older_us")}
                    ORDER BY j.finished_at
                    LIMIT @max) o
                ORDER BY o.finished_at
                LIMIT @max))
            """;
        // One statement, so the counts and the pause flags come from one snapshot; paused queues come as state -1.
        QueueCounts = $"""
            SELECT queue, CASE WHEN state = 1 AND due_at > {now} THEN 0 ELSE state END AS s, count(*) FROM {jobs} GROUP BY 1, 2
            UNION ALL
            SELECT name, -1, 0 FROM {queues} WHERE paused
            """;
        PauseQueue = $"INSERT INTO {queues} (name, paused) VALUES (@queue, true) ON CONFLICT (name) DO UPDATE SET paused = true";
        ResumeQueue = $"DELETE FROM {queues} WHERE name = @queue";
        ClearQueue = $"DELETE FROM {jobs} WHERE queue = @queue AND state = 1";

        HeartbeatWorker = $"""
            INSERT INTO {T("workers")} (id, registration, started_at, heartbeat_at) VALUES (@id, @registration, {now}, {now})
            ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, heartbeat_at = excluded.heartbeat_at
            RETURNING heartbeat_at
            """;
        ListWorkers = $"SELECT registration, started_at, heartbeat_at FROM {T("workers")}";
        RemoveWorker = $"DELETE FROM {T("workers")} WHERE id = @id";
        PruneWorkers = $"DELETE FROM {T("workers")} WHERE heartbeat_at < {now} - {Us("@older_us")}";
        SelectThroughput = $"""
            SELECT minute, SUM(succeeded)::bigint, SUM(failed)::bigint FROM {throughput} WHERE minute >= @from GROUP BY minute
            """;
        PruneThroughput = $"""
            WITH d AS (DELETE FROM {throughput} WHERE minute < date_trunc('minute', {now} - {Us("@older_us")}, 'UTC') RETURNING minute)
            SELECT count(DISTINCT minute) FROM d
            """;

        AcquireLock = $"""
            INSERT INTO {T("locks")} AS l (name, owner, expires_at) VALUES (@name, @owner, {now} + {Us("@ttl_us")})
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
            WHERE l.owner = excluded.owner OR l.expires_at <= {now}
            RETURNING 1
            """;
        ReleaseLock = $"DELETE FROM {T("locks")} WHERE name = @name AND owner = @owner RETURNING expires_at > {now}";

        // ------------------------------------------------------------ results, events, schedules
        SetResults = $"""
            INSERT INTO {T("results")} (job_id, lease_token, value, expires_at)
            SELECT r.id, r.token, r.value, {now} + {Us("r.ttl_us")}
            FROM unnest(@ids::uuid[], @tokens::uuid[], @values::bytea[], @ttls::bigint[]) AS r(id, token, value, ttl_us)
            ON CONFLICT (job_id, lease_token) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """;
        GetResult = $"SELECT value, expires_at FROM {T("results")} WHERE job_id = @id AND lease_token = @token AND expires_at > {now}";
        DeleteResults = $"DELETE FROM {T("results")} WHERE job_id = ANY(@ids::uuid[])";
        PruneResults = $"""
            DELETE FROM {T("results")} WHERE (job_id, lease_token) IN (
                SELECT job_id, lease_token FROM {T("results")} WHERE expires_at <= {now} ORDER BY expires_at LIMIT @max)
            """;

        AppendEvents = $"""
            INSERT INTO {T("events")} (job_id, kind, task, queue, attempt, at, at_ticks, error, worker_id, delay_ticks, duration_ticks)
            SELECT e.job_id, e.kind, e.task, e.queue, e.attempt, e.at, e.at_ticks, e.error, e.worker_id, e.delay_ticks, e.duration_ticks
            FROM unnest(@job_ids::uuid[], @kinds::integer[], @tasks::text[], @queues::text[], @attempts::integer[], @ats::timestamptz[],
                        @at_ticks::bigint[], @errors::text[], @worker_ids::text[], @delays::bigint[], @durations::bigint[]) WITH ORDINALITY
                AS e(job_id, kind, task, queue, attempt, at, at_ticks, error, worker_id, delay_ticks, duration_ticks, ord)
            ORDER BY e.ord
            """;
        ListEvents = $"""
            SELECT job_id, kind, task, queue, attempt, at_ticks, error, worker_id, delay_ticks, duration_ticks FROM {T("events")}
            WHERE @job_id::uuid IS NULL OR job_id = @job_id::uuid
            ORDER BY seq
            LIMIT @limit
            """;
        PruneEvents = $"""
            DELETE FROM {T("events")} WHERE seq IN (
                SELECT seq FROM {T("events")} WHERE at < {now} - {Us("@older_us")} ORDER BY at LIMIT @max)
            """;

        var schedules = T("schedules");
        // nextval takes the sequence's name as text: the quoted, validated name as a regclass literal.
        var version = $"nextval({Literal(PostgresIdentifiers.Quote(schema) + "." + PostgresIdentifiers.Quote(prefix + "schedule_versions"))}::regclass)";
        const string Values = "@name, @task, @cron, @interval_ticks, @time_zone, @payload, @paused, @next_run_at, @last_run_at, @declared";
        UpsertSchedule = $"""
            INSERT INTO {schedules} ({ScheduleColumns}) VALUES ({Values}, {version})
            ON CONFLICT (name) DO UPDATE SET
                task = excluded.task, cron = excluded.cron, interval_ticks = excluded.interval_ticks, time_zone = excluded.time_zone,
                payload = excluded.payload, paused = excluded.paused, next_run_at = excluded.next_run_at,
                last_run_at = excluded.last_run_at, declared = excluded.declared, version = excluded.version
            RETURNING version
            """;
        InsertScheduleIfMissing = $"""
            INSERT INTO {schedules} ({ScheduleColumns}) VALUES ({Values}, {version})
            ON CONFLICT (name) DO NOTHING
            RETURNING version
            """;
        UpdateScheduleAtVersion = $"""
            UPDATE {schedules} SET
                task = @task, cron = @cron, interval_ticks = @interval_ticks, time_zone = @time_zone, payload = @payload,
                paused = @paused, next_run_at = @next_run_at, last_run_at = @last_run_at, declared = @declared, version = {version}
            WHERE name = @name AND version = @expected_version
            RETURNING version
            """;
        SelectSchedule = $"SELECT {ScheduleColumns} FROM {schedules} WHERE name = @name";
        ListSchedules = $"SELECT {ScheduleColumns} FROM {schedules}";
        DeleteSchedule = $"DELETE FROM {schedules} WHERE name = @name";
        AdvanceSchedule = $"""
            UPDATE {schedules}
            SET last_run_at = COALESCE(@last_run_at, last_run_at), next_run_at = @next_run_at, version = {version}
            WHERE name = @name AND version = @expected_version
            RETURNING {ScheduleColumns}
            """;
        DueSchedules = $"""
            SELECT {ScheduleColumns} FROM {schedules}
            WHERE NOT paused AND next_run_at IS NOT NULL AND next_run_at <= {now}
            ORDER BY next_run_at, name
            LIMIT @max
            """;
        NextScheduleDue = $"SELECT MIN(next_run_at), {now} FROM {schedules} WHERE NOT paused AND next_run_at > {now}";
    }

    public string Schema { get; }

    public string Prefix { get; }

    /// <summary>The clock expression: <c>now()</c>, or the bound <c>@now</c> of a test clock.</summary>
    public string Now { get; }

    public string Jobs { get; }

    public string MigrationsTable { get; }

    public string SchemaInfoTable { get; }

    public IReadOnlyList<Migration> Migrations { get; }

    public string SchemaExists { get; }

    public string CreateSchema { get; }

    public string MigrationLock { get; }

    public string CreateMigrationsTable { get; }

    public string CreateSchemaInfoTable { get; }

    public string SchemaTablesExist { get; }

    public string SelectSchemaVersion { get; }

    public string SelectMinimumReader { get; }

    public string InsertMigration { get; }

    public string SetMinimumReader { get; }

    public string Clock { get; }

    public string Settings { get; }

    public string InsertJobs { get; }

    public string InsertJobsPlain { get; }

    public string SelectIdsByKeys { get; }

    public string Notify { get; }

    public string ClaimJobs { get; }

    public string ClaimJobsUncapped { get; }

    public string NextDue { get; }

    public string CompleteJobs { get; }

    public string ExtendLeases { get; }

    public string ReportProgress { get; }

    public string RescueJobs { get; }

    public string SelectJob { get; }

    public string LocateJobs { get; }

    public string ListJobs { get; }

    public string CountJobsMatching { get; }

    public string CancelJob { get; }

    public string RetryJob { get; }

    public string DeleteJob { get; }

    public string BulkRetry { get; }

    public string BulkCancel { get; }

    public string BulkDelete { get; }

    public string PruneJobs { get; }

    public string QueueCounts { get; }

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

    public string SetResults { get; }

    public string GetResult { get; }

    public string DeleteResults { get; }

    public string PruneResults { get; }

    public string AppendEvents { get; }

    public string ListEvents { get; }

    public string PruneEvents { get; }

    public string UpsertSchedule { get; }

    public string InsertScheduleIfMissing { get; }

    public string UpdateScheduleAtVersion { get; }

    public string SelectSchedule { get; }

    public string ListSchedules { get; }

    public string DeleteSchedule { get; }

    public string AdvanceSchedule { get; }

    public string DueSchedules { get; }

    public string NextScheduleDue { get; }

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// One schema step, applied in one transaction together with its row in the migrations table. A contract step removes
    /// something older workers rely on, so on an existing schema it runs only when asked for; <paramref name="MinimumReader"/>
    /// is the oldest code version that still works on the schema once the step is applied.
    /// </summary>
    public sealed record Migration(int Version, string Description, bool Contract, IReadOnlyList<string> Statements, int MinimumReader = 1);
}
