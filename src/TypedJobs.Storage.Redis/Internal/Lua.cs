namespace TypedJobs.Storage.Redis.Internal;

/// <summary>The scripts of <see cref="RedisScripts"/> with their SHA1, as the store calls them.</summary>
internal static class Lua
{
    public static readonly RedisScript Insert = new(RedisScripts.Insert);

    public static readonly RedisScript Claim = new(RedisScripts.Claim);

    public static readonly RedisScript ClaimRelease = new(RedisScripts.ClaimRelease);

    public static readonly RedisScript Peek = new(RedisScripts.Peek);

    public static readonly RedisScript Complete = new(RedisScripts.Complete);

    public static readonly RedisScript Extend = new(RedisScripts.Extend);

    public static readonly RedisScript Progress = new(RedisScripts.Progress);

    public static readonly RedisScript ExpiredCount = new(RedisScripts.ExpiredCount);

    public static readonly RedisScript Rescue = new(RedisScripts.Rescue);

    public static readonly RedisScript GetJob = new(RedisScripts.GetJob);

    public static readonly RedisScript QueueCounts = new(RedisScripts.QueueCounts);

    public static readonly RedisScript Scan = new(RedisScripts.Scan);

    public static readonly RedisScript Bulk = new(RedisScripts.Bulk);

    public static readonly RedisScript Cancel = new(RedisScripts.Cancel);

    public static readonly RedisScript Retry = new(RedisScripts.Retry);

    public static readonly RedisScript Delete = new(RedisScripts.Delete);

    public static readonly RedisScript Prune = new(RedisScripts.Prune);

    public static readonly RedisScript Clear = new(RedisScripts.Clear);

    public static readonly RedisScript StatsPrune = new(RedisScripts.StatsPrune);

    public static readonly RedisScript IndexClaim = new(RedisScripts.IndexClaim);

    public static readonly RedisScript Clock = new(RedisScripts.Clock);

    public static readonly RedisScript LockAcquire = new(RedisScripts.LockAcquire);

    public static readonly RedisScript LockRelease = new(RedisScripts.LockRelease);

    public static readonly RedisScript WorkerHeartbeat = new(RedisScripts.WorkerHeartbeat);

    public static readonly RedisScript WorkerList = new(RedisScripts.WorkerList);

    public static readonly RedisScript WorkerRemove = new(RedisScripts.WorkerRemove);

    public static readonly RedisScript WorkerPrune = new(RedisScripts.WorkerPrune);

    public static readonly RedisScript ResultsSet = new(RedisScripts.ResultsSet);

    public static readonly RedisScript ResultGet = new(RedisScripts.ResultGet);

    public static readonly RedisScript ResultsDelete = new(RedisScripts.ResultsDelete);

    public static readonly RedisScript QueueResultsDelete = new(RedisScripts.QueueResultsDelete);

    public static readonly RedisScript ResultsPrune = new(RedisScripts.ResultsPrune);

    public static readonly RedisScript EventsAppend = new(RedisScripts.EventsAppend);

    public static readonly RedisScript EventsList = new(RedisScripts.EventsList);

    public static readonly RedisScript EventsPrune = new(RedisScripts.EventsPrune);

    public static readonly RedisScript ScheduleUpsert = new(RedisScripts.ScheduleUpsert);

    public static readonly RedisScript ScheduleAdvance = new(RedisScripts.ScheduleAdvance);

    public static readonly RedisScript ScheduleDelete = new(RedisScripts.ScheduleDelete);

    public static readonly RedisScript ScheduleRead = new(RedisScripts.ScheduleRead);

    public static readonly RedisScript SchedulesDue = new(RedisScripts.SchedulesDue);

    /// <summary>Every script, for loading on each server.</summary>
    public static IReadOnlyList<RedisScript> All { get; } = [Insert, Claim, ClaimRelease, Peek, Complete, Extend, Progress, ExpiredCount, Rescue, GetJob, QueueCounts, Scan, Bulk, Cancel, Retry, Delete, Prune, Clear, StatsPrune, IndexClaim, Clock, LockAcquire, LockRelease, WorkerHeartbeat, WorkerList, WorkerRemove, WorkerPrune, ResultsSet, ResultGet, ResultsDelete, QueueResultsDelete, ResultsPrune, EventsAppend, EventsList, EventsPrune, ScheduleUpsert, ScheduleAdvance, ScheduleDelete, ScheduleRead, SchedulesDue];
}
