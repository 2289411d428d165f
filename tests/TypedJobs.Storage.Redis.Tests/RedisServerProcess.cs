using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using TypedJobs.Storage.Conformance;

namespace TypedJobs.Storage.Redis.Tests;

/// <summary>
/// A redis-server of a test's own (on a free loopback port, in a temporary directory), for tests that change server
/// settings, kill it or restart it on the same data without disturbing the shared test servers.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string binary;
    private readonly string[] arguments;
    private Process? process;

    private RedisServerProcess(string binary, int port, string directory, string[] arguments)
    {
        this.binary = binary;
        Port = port;
        Directory = directory;
        this.arguments = arguments;
    }

    public int Port { get; }

    public string Directory { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public string Log => File.Exists(Path.Combine(Directory, "redis.log")) ? File.ReadAllText(Path.Combine(Directory, "redis.log")) : "";

    /// <summary>Starts a server with extra redis-server options (e.g. "--appendonly", "yes").</summary>
    public static async Task<RedisServerProcess> StartAsync(params string[] arguments)
    {
        var binary = TestServers.Require("TYPEDJOBS_TEST_REDIS_SERVER", "redis-server");
        var directory = Path.Combine(Path.GetTempPath(), "typedjobs-redis-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var server = new RedisServerProcess(binary, FreePort(), directory, arguments);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port and data directory and waits until it answers.</summary>
    public async Task RestartAsync()
    {
        var start = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--dir", Directory, "--logfile", "redis.log", "--save", "" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start)!;
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                var password = Array.IndexOf(arguments, "--requirepass") is var at and >= 0 ? $",password={arguments[at + 1]}" : "";
                await using var probe = await ConnectionMultiplexer.ConnectAsync($"{Endpoint},connectTimeout=1000{password}");
                await probe.GetDatabase().PingAsync();
                return;
            }
            catch (RedisException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (RedisException ex)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not start: {ex.Message}\n{Log}", ex);
            }
        }
    }

    /// <summary>Kills the server with SIGKILL: no shutdown code runs, nothing more is written.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
