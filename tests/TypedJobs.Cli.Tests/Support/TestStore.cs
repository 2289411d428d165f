namespace TypedJobs.Cli.Tests.Support;

/// <summary>A store the CLI tests run against: a storage URL of its own, isolated from every other test.</summary>
public interface ITestStore : IAsyncDisposable
{
    /// <summary>The URL to pass as --storage (may hold a password).</summary>
    string Url { get; }

    /// <summary>A directory of its own, for the working directory of the tool.</summary>
    string Directory { get; }
}

/// <summary>A SQLite file in a fresh temporary directory.</summary>
public sealed class SqliteStore : ITestStore
{
    public SqliteStore()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("typedjobs-cli-").FullName;
        Path = System.IO.Path.Combine(Directory, "jobs.db");
        Url = "sqlite:" + Path;
    }

    public string Url { get; }

    public string Directory { get; }

    public string Path { get; }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a pool being torn down: the temp directory is cleaned by the system.
        }

        return ValueTask.CompletedTask;
    }
}
