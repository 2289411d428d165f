namespace TypedJobs.Faults;

/// <summary>What a run of a scenario showed, in the manner of a total-queue checker.</summary>
/// <param name="Acknowledged">Enqueues the client saw succeed.</param>
/// <param name="Lost">Acknowledged jobs that did not end in the state their handler asked for (or vanished).</param>
/// <param name="Unexpected">Runs of jobs nobody tried to enqueue.</param>
/// <param name="Duplicates">Runs beyond the first of a job that ran more than once.</param>
/// <param name="MaxRuns">The most runs of one job.</param>
public sealed record FaultCheck(int Acknowledged, int Lost, int Unexpected, int Duplicates, int MaxRuns)
{
    /// <summary>The jobs that were lost, for failure messages.</summary>
    public IReadOnlyList<string> LostJobs { get; init; } = [];

    public override string ToString() =>
        $"acknowledged {Acknowledged}, lost {Lost}, unexpected {Unexpected}, duplicates {Duplicates}, most runs of one job {MaxRuns}" +
        (LostJobs.Count > 0 ? "; lost: " + string.Join(", ", LostJobs.Take(5)) : "");
}

/// <summary>
/// Checks a scenario's history: every acknowledged enqueue must have run at least once and ended in the expected state
/// (lost otherwise), every run must belong to a job somebody tried to enqueue (unexpected otherwise), and runs beyond
/// the first are counted as duplicates, which each scenario bounds by its documented rule.
/// </summary>
public static class Checker
{
    public static FaultCheck Check(IReadOnlyCollection<JobId> acknowledged, IReadOnlyCollection<JobId> attempted, IReadOnlyList<JobId> runs,
        IReadOnlyDictionary<JobId, JobState> finalStates, Func<JobId, JobState>? expected = null)
    {
        expected ??= static _ => JobState.Succeeded;
        var runCounts = runs.GroupBy(static r => r).ToDictionary(static g => g.Key, static g => g.Count());
        var lost = new List<string>();
        foreach (var id in acknowledged)
        {
            var want = expected(id);
            var state = finalStates.TryGetValue(id, out var s) ? s : (JobState?)null;
            var ran = runCounts.ContainsKey(id);
            if (state != want || (want == JobState.Succeeded && !ran))
            {
                lost.Add($"{id} ended {(state?.ToString() ?? "missing")}{(ran ? "" : " without running")}");
            }
        }

        var known = attempted.Concat(acknowledged).ToHashSet();
        var unexpected = runCounts.Keys.Count(id => !known.Contains(id));
        var duplicates = runCounts.Values.Sum(static n => n - 1);
        return new FaultCheck(acknowledged.Count, lost.Count, unexpected, duplicates, runCounts.Count == 0 ? 0 : runCounts.Values.Max())
        {
            LostJobs = lost,
        };
    }
}
