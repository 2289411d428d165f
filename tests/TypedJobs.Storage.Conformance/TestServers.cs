namespace TypedJobs.Storage.Conformance;

/// <summary>
/// The servers that <c>./test.sh</c> starts (see <c>eng/servers</c>) and exports as environment variables. A test that
/// needs one skips with a reason when it is missing on a developer's machine, and fails when <c>CI=true</c>: there the
/// server must be running.
/// </summary>
public static class TestServers
{
    /// <summary>The value of <paramref name="variable"/>, or a skip (a failure under <c>CI=true</c>) naming what is missing.</summary>
    public static string Require(string variable, string server)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var message = $"{server} is not available: {variable} is not set (./test.sh starts the server and sets it).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message + " Under CI=true a missing server is a failure.");
        }

        Assert.Skip(message);
        return value!;
    }
}
