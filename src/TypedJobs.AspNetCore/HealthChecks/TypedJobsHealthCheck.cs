using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TypedJobs.Storage;

namespace TypedJobs.AspNetCore.HealthChecks;

internal enum TypedJobsCheck
{
    Storage,
    Workers,
    Backlog,
    DeadJobs,
}

/// <summary>One TypedJobs health check; every result has a description an operator can act on.</summary>
internal sealed class TypedJobsHealthCheck(IJobAdmin admin, TypedJobsHealthCheckOptions options, TypedJobsCheck check, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failure = context.Registration.FailureStatus;
        try
        {
            return check switch
            {
                TypedJobsCheck.Storage => await StorageAsync(cancellationToken).ConfigureAwait(false),
                TypedJobsCheck.Workers => await WorkersAsync(failure, cancellationToken).ConfigureAwait(false),
                TypedJobsCheck.Backlog => await ThresholdAsync(JobState.Ready, options.BacklogThreshold!.Value, failure, "ready jobs waiting for a worker", cancellationToken).ConfigureAwait(false),
                _ => await ThresholdAsync(JobState.Dead, options.DeadJobsThreshold!.Value, failure, "dead jobs", cancellationToken).ConfigureAwait(false),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            // The exception goes to the health report for logs; the description never carries its message (it may name hosts or credentials).
            return new HealthCheckResult(check == TypedJobsCheck.Storage ? HealthStatus.Unhealthy : failure,
                $"The TypedJobs jobs storage could not be read ({ex.GetType().Name}).", ex);
        }
    }

    private async Task<HealthCheckResult> StorageAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        await admin.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var latency = time.GetElapsedTime(started);
        var data = new Dictionary<string, object> { ["latencyMs"] = Math.Round(latency.TotalMilliseconds, 1) };
        var ms = latency.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture);
        return latency > options.StorageLatencyThreshold
            ? HealthCheckResult.Degraded($"The TypedJobs jobs storage answered in {ms} ms, slower than {options.StorageLatencyThreshold.TotalMilliseconds} ms.", data: data)
            : HealthCheckResult.Healthy($"The TypedJobs jobs storage answered in {ms} ms.", data);
    }

    private async Task<HealthCheckResult> WorkersAsync(HealthStatus failure, CancellationToken cancellationToken)
    {
        var result = await admin.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var alive = result.Workers.Where(w => result.Now - w.LastHeartbeatAt <= options.WorkerHeartbeatTimeout).ToList();
        var data = new Dictionary<string, object> { ["alive"] = alive.Count, ["registered"] = result.Workers.Count };
        var timeout = options.WorkerHeartbeatTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        if (alive.Count >= options.MinimumWorkers)
        {
            var newest = alive.Max(w => w.LastHeartbeatAt);
            var age = Math.Max(0, (result.Now - newest).TotalSeconds).ToString("0", CultureInfo.InvariantCulture);
            return HealthCheckResult.Healthy($"{alive.Count} TypedJobs worker(s) heartbeating within {timeout} s (latest {age} s ago).", data);
        }

        return new HealthCheckResult(failure,
            $"{alive.Count} TypedJobs worker(s) heartbeating within {timeout} s, fewer than the {options.MinimumWorkers} required " +
            $"({result.Workers.Count - alive.Count} registered worker(s) have gone quiet): jobs may not be running.", data: data);
    }

    private async Task<HealthCheckResult> ThresholdAsync(JobState state, long threshold, HealthStatus failure, string what, CancellationToken cancellationToken)
    {
        var count = await admin.CountJobsAsync(new JobFilter { State = state }, cancellationToken).ConfigureAwait(false);
        var data = new Dictionary<string, object> { ["count"] = count, ["threshold"] = threshold };
        return count > threshold
            ? new HealthCheckResult(failure, $"{count} TypedJobs {what}, more than the threshold of {threshold}.", data: data)
            : HealthCheckResult.Healthy($"{count} TypedJobs {what} (threshold {threshold}).", data);
    }
}
