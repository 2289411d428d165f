using TypedJobs.Registration;

namespace TypedJobs.Tests.Support;

/// <summary>Task factories for engine tests.</summary>
public static class Tasks
{
    public static JobTask<TestPayload> Create(string name, JobHandler<TestPayload> handler, TaskSettings? settings = null) =>
        JobTask.Create(name, TestHost.PayloadSerializer, handler, settings);

    public static async Task<Storage.JobRecord> WaitForStateAsync(this TestHost host, JobId id, JobState state, Action? tick = null)
    {
        Storage.JobRecord? job = null;
        try
        {
            await Eventually.TrueAsync(async () =>
            {
                job = await host.Client.GetJobAsync(id);
                return job?.State == state;
            }, $"job {id} to reach {state}", tick: tick);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; last seen: {job?.State.ToString() ?? "missing"}, attempt {job?.Attempt}, error {job?.LastError}", ex);
        }

        return job!;
    }
}
