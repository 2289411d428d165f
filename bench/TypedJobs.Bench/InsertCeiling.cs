using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using TypedJobs.Registration;

namespace TypedJobs.Bench;

/// <summary>
/// <c>--insert-ceiling ROUNDS</c> (PostgreSQL): how close TypedJobs' bulk enqueue comes to what the server itself needs
/// for the same rows. Each round uses two fresh schemas made by the store's migrations: in one, TypedJobs enqueues
/// <c>--jobs</c> no-op jobs in batches of 1,000 from one caller (as the bench's enqueue column does); in the other, the
/// server inserts as many rows in statements of 1,000 that it generates itself (<c>INSERT … SELECT FROM
/// generate_series</c>): the same table, indexes and columns, values of the same sizes, time-ordered ids, each statement
/// its own durable commit, but no client encoding, no parameters and almost nothing on the wire. The second figure is
/// the server's ceiling for this insert on this machine; the ratio is the share of it the client path reaches. The two
/// alternate which goes first from round to round, after untimed rounds of <c>--warmup-jobs</c> until the JIT is quiet.
/// </summary>
internal static class InsertCeiling
{
    private const int Batch = 1000;

    public static async Task RunAsync(BenchOptions options, int rounds)
    {
        var template = StoreSetups.ServerUrl("postgres")!;
        var connectionString = Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_POSTGRES")!;
        Console.WriteLine($"PostgreSQL insert ceiling: {options.Jobs:N0} rows per figure in statements of {Batch:N0}, one caller, {rounds} rounds, " +
            $"{Environment.ProcessorCount} cores");
        Console.WriteLine();
        Console.WriteLine("| round | TypedJobs enqueue jobs/s | client CPU µs/job | server-generated insert rows/s | TypedJobs ÷ server |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        var ratios = new List<double>();
        var ours = new List<double>();
        var ceilings = new List<double>();
        var cpus = new List<double>();
        // Untimed rounds until the JIT is quiet during the enqueue (Warmup.cs), then one of the server's insert.
        await Warmup.UntilQuietAsync(options.WarmupJobs, () => EnqueueAsync(template, options.WarmupJobs));
        await ServerInsertAsync(template, connectionString, Math.Max(Batch, options.WarmupJobs));
        for (var round = 1; round <= rounds; round++)
        {
            (double Rate, TimeSpan Cpu) enqueue;
            double ceiling;
            if (round % 2 == 0)
            {
                enqueue = await EnqueueAsync(template, options.Jobs);
                ceiling = await ServerInsertAsync(template, connectionString, options.Jobs);
            }
            else
            {
                ceiling = await ServerInsertAsync(template, connectionString, options.Jobs);
                enqueue = await EnqueueAsync(template, options.Jobs);
            }

            ours.Add(enqueue.Rate);
            cpus.Add(enqueue.Cpu.TotalMicroseconds);
            ceilings.Add(ceiling);
            ratios.Add(enqueue.Rate / ceiling);
            Console.WriteLine($"| {round} | {enqueue.Rate:N0} | {enqueue.Cpu.TotalMicroseconds:0.0} | {ceiling:N0} | {enqueue.Rate / ceiling:0.00}× |");
        }

        Console.WriteLine($"| mean | {ours.Average():N0} | {cpus.Average():0.0} | {ceilings.Average():N0} | {ratios.Average():0.00}× |");
    }

    private static string NewSchema() => "ceiling_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>TypedJobs' bulk enqueue into a fresh schema: jobs/s, and this process's CPU time per job.</summary>
    private static async Task<(double Rate, TimeSpan Cpu)> EnqueueAsync(string template, int total)
    {
        var (host, task, dir) = await OpenAsync(template, NewSchema());
        try
        {
            var client = host.Services.GetRequiredService<IJobClient>();
            var batch = new long[Batch];
            var cpu = Environment.CpuUsage.TotalTime;
            Warmup.DrainStarting();
            var watch = Stopwatch.StartNew();
            for (var sent = 0; sent < total; sent += batch.Length)
            {
                await client.EnqueueBatchAsync(task, sent + batch.Length <= total ? batch : batch[..(total - sent)]);
            }

            Warmup.DrainEnded();
            return (total / watch.Elapsed.TotalSeconds, (Environment.CpuUsage.TotalTime - cpu) / total);
        }
        finally
        {
            await host.DisposeAsync();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The server's own insert of the same rows into a fresh schema's jobs table: rows/s.</summary>
    private static async Task<double> ServerInsertAsync(string template, string connectionString, int total)
    {
        var schema = NewSchema();
        // The store's migrations make the schema, so the table and its indexes are exactly the store's.
        var (host, _, dir) = await OpenAsync(template, schema);
        await host.DisposeAsync();
        dir.Delete(recursive: true);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        // Ids as the client makes them: the time in milliseconds first, then a counter (version 7 layout, ordered).
        // Values of the same sizes as a bench job: an 8-byte payload, the task and queue names, Normal priority.
        var jobs = $"\"{schema}\".\"{TypedJobs.Storage.Postgres.PostgresStorageOptions.DefaultTablePrefix}jobs\"";
        await using var insert = new NpgsqlCommand($"""
            INSERT INTO {jobs} (id, task, queue, priority, state, payload, max_retries, created_at, due_at)
            SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7' ||
                    lpad(to_hex(@first + i), 19, '0'))::uuid,
                   'noop', 'default', 1, 1, '\x0102030405060708'::bytea, 3, now(), now()
            FROM generate_series(1, @rows) AS i
            """, connection);
        var first = new NpgsqlParameter<long>("first", 0L);
        var rows = new NpgsqlParameter<int>("rows", Batch);
        insert.Parameters.Add(first);
        insert.Parameters.Add(rows);
        await insert.PrepareAsync();
        var watch = Stopwatch.StartNew();
        for (var sent = 0; sent < total; sent += Batch)
        {
            first.TypedValue = sent;
            rows.TypedValue = Math.Min(Batch, total - sent);
            await insert.ExecuteNonQueryAsync();
        }

        return total / watch.Elapsed.TotalSeconds;
    }

    private static async Task<(BenchHost Host, JobTask<long> Task, DirectoryInfo Dir)> OpenAsync(string template, string schema)
    {
        var dir = Directory.CreateTempSubdirectory("typedjobs-bench-");
        var url = template.Replace("{run}", schema, StringComparison.Ordinal);
        var store = new StoreSetup("postgres", (o, _) => o.UseStorage(url));
        var task = JobTask.Create<long>("noop", new StampSerializer(), static (_, _) => ValueTask.CompletedTask);
        return (await Runner.StartAsync(store, dir.FullName, task, worker: false, concurrency: 1), task, dir);
    }
}
