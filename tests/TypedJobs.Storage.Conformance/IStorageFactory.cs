namespace TypedJobs.Storage.Conformance;

/// <summary>
/// Creates the backend under test. The suite creates one factory per test (so every test gets a fresh, isolated
/// database) and disposes it when the test ends; the factory disposes every store it opened and deletes its data.
/// </summary>
public interface IStorageFactory : IAsyncDisposable
{
    /// <summary>
    /// Opens a store on this test's database whose clock is <paramref name="timeProvider"/>. Each call should return a
    /// separate instance on the same database, as another process would see it; a backend that lives in one object
    /// (memory) returns the same instance every time. The returned object
    /// implements every role the backend supports (<see cref="IJobStore"/>, <see cref="IResultStore"/>,
    /// <see cref="IEventStore"/>, <see cref="IScheduleStore"/>). The suite calls <c>InitializeAsync</c> itself.
    /// </summary>
    ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken);
}
