using System.Globalization;
using StackExchange.Redis;
using TypedJobs.Events;
using static TypedJobs.Storage.Redis.Internal.RedisCodec;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Locks, results, events and schedules. A result that a completion writes lives with its job (in the queue's slot, in
/// the same script as the completion, expiring by PEXPIRE); one the results role writes on its own (the jobs role is
/// elsewhere) lives in one of 16 shards by job id, with an expiry index for pruning. Events are a capped stream with a
/// list of entry ids per job; schedules are hashes with a due index and versions from a counter.
/// </summary>
internal sealed partial class RedisStorage
{
    /// <summary>How long the per-job list of event ids lives after the job's last event.</summary>
    private static readonly TimeSpan EventIndexTtl = TimeSpan.FromDays(30);

    // ---------------------------------------------------------------- locks

    public async ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var held = await connection.EvalAsync(Lua.LockAcquire, [Keys.Lock(parameters.Name)], [NowArg(), parameters.Owner, Text(Micros(parameters.Ttl))])
            .ConfigureAwait(false);
        return new LocksAcquireResult((int)held == 1);
    }

    public async ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var released = await connection.EvalAsync(Lua.LockRelease, [Keys.Lock(parameters.Name)], [NowArg(), parameters.Owner]).ConfigureAwait(false);
        return new LocksReleaseResult((int)released == 1);
    }

    // ---------------------------------------------------------------- results

    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Results.Count == 0)
        {
            return new ResultsSetResult();
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var calls = parameters.Results.GroupBy(r => RedisKeys.Shard(Hex(r.JobId))).Select(group =>
        {
            var items = group.ToList();
            var values = new List<RedisValue>(3 + (items.Count * 4)) { NowArg(), items.Count };
            foreach (var r in items)
            {
                values.Add(Hex(r.JobId));
                values.Add(Hex(r.LeaseToken));
                values.Add(r.Value ?? []);
                values.Add(Text(Micros(r.Ttl)));
            }

            var shardBase = Keys.ResultBase(group.Key);
            values.Add(shardBase);
            return connection.EvalAsync(Lua.ResultsSet, [shardBase + ":x"], [.. values]);
        }).ToArray();
        await Task.WhenAll(calls).ConfigureAwait(false);
        return new ResultsSetResult();
    }

    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.LeaseToken == System.Guid.Empty)
        {
            // Results are always keyed by their attempt here: there are no results of older versions to return.
            return new ResultsGetResult(null);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var id = Hex(parameters.JobId);
        var token = Hex(parameters.LeaseToken);
        var own = connection.EvalAsync(Lua.ResultGet, [Keys.ResultBase(RedisKeys.Shard(id)) + ":" + id], [NowArg(), token], read: true);
        var queue = Db.HashGetAsync(Keys.IndexShard(RedisKeys.Shard(id)), id, ReadFlags);
        var result = ReadResult(await own.ConfigureAwait(false));
        if (result is null && await queue.ConfigureAwait(false) is { IsNull: false } name)
        {
            // A result written by the job's completion lives with the job.
            var key = Keys.QueueBase((string)name!) + ":x:" + id;
            result = ReadResult(await connection.EvalAsync(Lua.ResultGet, [key], [NowArg(), token], read: true).ConfigureAwait(false));
        }

        return new ResultsGetResult(result);
    }

    private static StoredResult? ReadResult(RedisResult result)
    {
        var items = (RedisResult[])result!;
        return items.Length < 2 ? null : new StoredResult((byte[]?)items[0] ?? [], Time((RedisValue)items[1]));
    }

    public async ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.JobIds.Count == 0)
        {
            return new ResultsDeleteResult(0);
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var ids = parameters.JobIds.Select(Hex).Distinct(StringComparer.Ordinal).ToArray();
        var own = ids.GroupBy(RedisKeys.Shard).Select(g =>
            connection.EvalAsync(Lua.ResultsDelete, [Keys.ResultBase(g.Key) + ":x"], [Keys.ResultBase(g.Key), .. g.Select(x => (RedisValue)x)])).ToArray();
        var queues = ids.Select(id => Db.HashGetAsync(Keys.IndexShard(RedisKeys.Shard(id)), id)).ToArray();
        var withJobs = new List<(string Queue, string Id)>();
        for (var i = 0; i < ids.Length; i++)
        {
            if (await queues[i].ConfigureAwait(false) is { IsNull: false } queue)
            {
                withJobs.Add(((string)queue!, ids[i]));
            }
        }

        var kept = withJobs.GroupBy(x => x.Queue, StringComparer.Ordinal).Select(g => connection.EvalAsync(Lua.QueueResultsDelete,
            [RedisKeys.Route(Keys.QueueBase(g.Key))], [Keys.QueueBase(g.Key), .. g.Select(x => (RedisValue)x.Id)])).ToArray();
        var deleted = 0;
        foreach (var call in own.Concat(kept))
        {
            deleted += (int)(await call.ConfigureAwait(false));
        }

        return new ResultsDeleteResult(deleted);
    }

    public async ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        for (var shard = 0; shard < RedisKeys.Shards && deleted < parameters.Max; shard++)
        {
            var shardBase = Keys.ResultBase(shard);
            deleted += (int)(await connection.EvalAsync(Lua.ResultsPrune, [shardBase + ":x"], [NowArg(), shardBase, parameters.Max - deleted])
                .ConfigureAwait(false));
        }

        // Results written with completions expire by themselves (PEXPIRE) and are deleted with their jobs.
        return new ResultsPruneResult(deleted);
    }

    // ---------------------------------------------------------------- events

    public async ValueTask<EventsAppendResult> EventsAppendAsync(EventsAppendParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Events.Count == 0)
        {
            return new EventsAppendResult();
        }

        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var values = new List<RedisValue>(4 + (parameters.Events.Count * 11))
        {
            Keys.EventsBase, options.EventStreamMaxLength, (long)EventIndexTtl.TotalMilliseconds, parameters.Events.Count,
        };
        foreach (var e in parameters.Events)
        {
            values.Add(Hex(e.JobId));
            values.Add((int)e.Kind);
            values.Add(e.TaskName);
            values.Add(e.Queue);
            values.Add(e.Attempt);
            values.Add(e.Timestamp.UtcTicks);
            values.Add(Text(Micros(e.Timestamp)));
            values.Add(Optional(e.Error));
            values.Add(Optional(e.WorkerId));
            values.Add(e.Delay is { } delay ? Optional(delay.Ticks.ToString(CultureInfo.InvariantCulture)) : RedisValue.EmptyString);
            values.Add(e.Duration is { } duration ? Optional(duration.Ticks.ToString(CultureInfo.InvariantCulture)) : RedisValue.EmptyString);
        }

        await connection.EvalAsync(Lua.EventsAppend, [Keys.EventsBase + ":s"], [.. values]).ConfigureAwait(false);
        return new EventsAppendResult();
    }

    public async ValueTask<EventsListResult> EventsListAsync(EventsListParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var result = (RedisResult[])(await connection.EvalAsync(Lua.EventsList, [Keys.EventsBase + ":s"],
            [Keys.EventsBase, Math.Max(0, parameters.Limit), parameters.JobId is { } id ? Hex(id) : RedisValue.EmptyString], read: true).ConfigureAwait(false))!;
        var list = new List<JobEvent>(result.Length);
        foreach (var entry in result)
        {
            var h = Hash(((RedisResult[])entry!)[1]);
            list.Add(new JobEvent
            {
                JobId = Id(h["j"]),
                Kind = (JobEventKind)Int(h["k"]),
                TaskName = (string)h["t"]!,
                Queue = (string)h["q"]!,
                Attempt = Int(h["a"]),
                Timestamp = new DateTimeOffset(Long(h["at"]), TimeSpan.Zero),
                Error = OptionalString(h, "e"),
                WorkerId = OptionalString(h, "w"),
                Delay = h.TryGetValue("dl", out var dl) ? TimeSpan.FromTicks(Long(dl)) : null,
                Duration = h.TryGetValue("du", out var du) ? TimeSpan.FromTicks(Long(du)) : null,
            });
        }

        return new EventsListResult(list);
    }

    public async ValueTask<EventsPruneResult> EventsPruneAsync(EventsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var budget = Math.Clamp((parameters.Max * 2L) + 1000, 1, 100_000);
        var deleted = await connection.EvalAsync(Lua.EventsPrune, [Keys.EventsBase + ":s"],
            [NowArg(), Keys.EventsBase, Text(Micros(parameters.OlderThan)), parameters.Max, budget]).ConfigureAwait(false);
        return new EventsPruneResult((int)deleted);
    }

    // ---------------------------------------------------------------- schedules

    public async ValueTask<SchedulesUpsertResult> SchedulesUpsertAsync(SchedulesUpsertParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(parameters.Schedule);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var s = parameters.Schedule;
        var version = (long)(await connection.EvalAsync(Lua.ScheduleUpsert, [Keys.SchedulesBase + ":v"],
        [
            Keys.SchedulesBase, s.Name, parameters.ExpectedVersion is { } expected ? Text(expected) : RedisValue.EmptyString,
            s.TaskName, Optional(s.Cron), s.Interval is { } interval ? Optional(Text(interval.Ticks)) : RedisValue.EmptyString,
            Optional(s.TimeZone), Optional(s.Payload), s.Paused ? "1" : "0",
            s.NextRunAt is { } next ? Optional(Text(next.UtcTicks)) : RedisValue.EmptyString,
            s.LastRunAt is { } last ? Optional(Text(last.UtcTicks)) : RedisValue.EmptyString,
            s.Declared ? "1" : "0",
            !s.Paused && s.NextRunAt is { } due ? Text(Micros(due)) : RedisValue.EmptyString,
        ]).ConfigureAwait(false));
        return new SchedulesUpsertResult(version == 0 ? null : s with { Version = version });
    }

    public async ValueTask<SchedulesGetResult> SchedulesGetAsync(SchedulesGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var found = await ReadSchedulesAsync([parameters.Name], cancellationToken).ConfigureAwait(false);
        return new SchedulesGetResult(found.Count == 0 ? null : found[0]);
    }

    public async ValueTask<SchedulesListResult> SchedulesListAsync(SchedulesListParams parameters, CancellationToken cancellationToken)
    {
        var list = await ReadSchedulesAsync([], cancellationToken).ConfigureAwait(false);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return new SchedulesListResult(list);
    }

    private async Task<List<ScheduleRecord>> ReadSchedulesAsync(string[] names, CancellationToken cancellationToken)
    {
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var result = (RedisResult[])(await connection.EvalAsync(Lua.ScheduleRead, [Keys.SchedulesBase + ":v"],
            [Keys.SchedulesBase, .. names.Select(n => (RedisValue)n)], read: true).ConfigureAwait(false))!;
        var list = new List<ScheduleRecord>(result.Length / 2);
        for (var k = 0; k + 1 < result.Length; k += 2)
        {
            list.Add(Schedule((string)result[k]!, Hash(result[k + 1])));
        }

        return list;
    }

    public async ValueTask<SchedulesDeleteResult> SchedulesDeleteAsync(SchedulesDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await connection.EvalAsync(Lua.ScheduleDelete, [Keys.SchedulesBase + ":v"], [Keys.SchedulesBase, parameters.Name])
            .ConfigureAwait(false);
        return new SchedulesDeleteResult((int)deleted == 1);
    }

    public async ValueTask<SchedulesAdvanceResult> SchedulesAdvanceAsync(SchedulesAdvanceParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var result = await connection.EvalAsync(Lua.ScheduleAdvance, [Keys.SchedulesBase + ":v"],
        [
            Keys.SchedulesBase, parameters.Name, Text(parameters.ExpectedVersion),
            parameters.LastRunAt is { } last ? Optional(Text(last.UtcTicks)) : RedisValue.EmptyString,
            parameters.NextRunAt is { } next ? Optional(Text(next.UtcTicks)) : RedisValue.EmptyString,
            parameters.NextRunAt is { } due ? Text(Micros(due)) : RedisValue.EmptyString,
        ]).ConfigureAwait(false);
        var hash = Hash(result);
        return new SchedulesAdvanceResult(hash.Count == 0 ? null : Schedule(parameters.Name, hash));
    }

    public async ValueTask<SchedulesDueResult> SchedulesDueAsync(SchedulesDueParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        await ReadyAsync(cancellationToken).ConfigureAwait(false);
        var result = (RedisResult[])(await connection.EvalAsync(Lua.SchedulesDue, [Keys.SchedulesBase + ":v"],
            [NowArg(), Keys.SchedulesBase, Math.Max(0, parameters.Max)], read: true).ConfigureAwait(false))!;
        var due = new List<ScheduleRecord>();
        for (var k = 2; k + 1 < result.Length; k += 2)
        {
            due.Add(Schedule((string)result[k]!, Hash(result[k + 1])));
        }

        var next = (string?)result[1];
        return new SchedulesDueResult(due, Time((RedisValue)result[0]),
            string.IsNullOrEmpty(next) ? null : new DateTimeOffset(long.Parse(next, CultureInfo.InvariantCulture), TimeSpan.Zero));
    }

    private static ScheduleRecord Schedule(string name, Dictionary<string, RedisValue> h) => new()
    {
        Name = name,
        TaskName = (string)h["t"]!,
        Cron = OptionalString(h, "cr"),
        Interval = h.TryGetValue("iv", out var iv) ? TimeSpan.FromTicks(Long(iv)) : null,
        TimeZone = OptionalString(h, "tz"),
        Payload = h.TryGetValue("pl", out var pl) ? (byte[]?)pl ?? [] : null,
        Paused = (string?)h["pa"] == "1",
        NextRunAt = h.TryGetValue("nx", out var nx) ? new DateTimeOffset(Long(nx), TimeSpan.Zero) : null,
        LastRunAt = h.TryGetValue("lr", out var lr) ? new DateTimeOffset(Long(lr), TimeSpan.Zero) : null,
        Declared = (string?)h["de"] == "1",
        Version = Long(h["v"]),
    };
}
