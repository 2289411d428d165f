using MySqlConnector;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.MySql;

namespace TypedJobs.Faults;

/// <summary>
/// The process scenarios on MariaDB (the server eng/servers/mysql.sh starts), a fresh database per test. The server's
/// own faults — a crash and restart on an instance of its own, sessions killed with KILL, a claim killed between its read
/// and its update — are scenarios of tests/TypedJobs.Storage.MySql.Tests (MySqlFaultTests), next to the worker they drive.
/// </summary>
public sealed class MySqlProcessFaultTests : ProcessFaultTests
{
    private readonly string database = "faults_" + Guid.NewGuid().ToString("N")[..16];
    private readonly MySqlConnectionStringBuilder server;

    public MySqlProcessFaultTests()
    {
        server = new MySqlConnectionStringBuilder(TestServers.Require("TYPEDJOBS_TEST_MYSQL", "MariaDB"));
        Execute($"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }

    protected override string StoreName => "MySQL";

    // A hot-path timeout short enough for the scenarios' 2-second leases.
    protected override string StoreUrl =>
        $"mysql://{Uri.EscapeDataString(server.UserID)}:{Uri.EscapeDataString(server.Password)}@{server.Server}:{server.Port}/{database}?hot_path_timeout=400";

    protected override object OpenStore() => StorageProviders.Open(StoreUrl, extra: [new MySqlStorageProvider()]);

    public override void Dispose()
    {
        MySqlConnection.ClearAllPools();
        Execute($"DROP DATABASE IF EXISTS `{database}`");
        base.Dispose();
    }

    private void Execute(string sql)
    {
        using var connection = new MySqlConnection(server.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
