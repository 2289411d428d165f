using System.Net;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>A Lua script with its SHA1, called with EVALSHA.</summary>
internal sealed class RedisScript(string text)
{
    public string Text { get; } = text;

    public byte[] Sha { get; } = SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// The store's connection: a multiplexer the application gave (never disposed here) or one the store opened (disposed
/// with the store), the database, and script calls by SHA that load the scripts again when a server answers NOSCRIPT
/// (after a restart, a failover or a SCRIPT FLUSH).
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly ConfigurationOptions? configuration;
    private readonly string describe;
    private readonly int database;
    private readonly bool readFromReplicas;
    private readonly SemaphoreSlim connectGate = new(1, 1);
    private IConnectionMultiplexer? multiplexer;
    private IDatabase? db;
    private bool owned;

    /// <summary>A connection the store opens itself from <paramref name="configuration"/>.</summary>
    public RedisConnection(ConfigurationOptions configuration, int database, bool readFromReplicas)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // Admin mode lets the startup check read the persistence settings with CONFIG GET; the store sends no other admin command.
        configuration.AllowAdmin = true;
        this.configuration = configuration;
        this.database = database;
        this.readFromReplicas = readFromReplicas;
        describe = Describe(configuration.EndPoints);
    }

    /// <summary>A connection the application owns.</summary>
    public RedisConnection(IConnectionMultiplexer multiplexer, int database, bool readFromReplicas)
    {
        this.multiplexer = multiplexer;
        this.database = database;
        this.readFromReplicas = readFromReplicas;
        db = multiplexer.GetDatabase(database);
        describe = Describe(multiplexer.GetEndPoints());
    }

    /// <summary>The endpoints, for messages (never a password).</summary>
    public string Endpoints => describe;

    public IConnectionMultiplexer Multiplexer => multiplexer ?? throw new InvalidOperationException("The Redis store is not initialized.");

    public IDatabase Database => db ?? throw new InvalidOperationException("The Redis store is not initialized.");

    public bool ReadFromReplicas => readFromReplicas;

    /// <summary>
    /// The longest a hot-path script call may take before it fails with <see cref="TimeoutException"/>, whatever the multiplexer's
    /// own timeout (the store's hot-path timeout). The command itself may still run on the server afterwards. For the calls
    /// made with <c>hot: true</c> that loses no job: writes about running jobs are fenced by lease tokens, inserts are
    /// idempotent by id, and a late completion, rescue or extension leaves each job in a state that a repeated call or
    /// rescue handles. A claim is different — it creates leases, and a late one
    /// would lease jobs to nobody — so claims are not made hot: the store bounds its wait with this timeout itself and
    /// puts back the leases of a claim it gave up on (<c>RedisStorage.ReleaseClaimAsync</c>).
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Opens the connection (once) and checks that the server answers; throws <see cref="RedisStorageException"/> naming the endpoints.</summary>
    public async Task ConnectAsync(string configurationKey)
    {
        if (db is not null && owned is false && configuration is null)
        {
            await PingAsync(configurationKey).ConfigureAwait(false);
            return;
        }

        await connectGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (multiplexer is null)
            {
                try
                {
                    multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration!).ConfigureAwait(false);
                }
                catch (RedisConnectionException ex)
                {
                    throw Unreachable(configurationKey, ex);
                }

                owned = true;
                db = multiplexer.GetDatabase(database);
            }
        }
        finally
        {
            connectGate.Release();
        }

        await PingAsync(configurationKey).ConfigureAwait(false);
    }

    private async Task PingAsync(string configurationKey)
    {
        try
        {
            var servers = Multiplexer.GetServers();
            if (servers.Length == 0)
            {
                await Database.PingAsync().ConfigureAwait(false);
            }

            foreach (var server in servers.Where(s => !s.IsReplica))
            {
                await server.PingAsync().ConfigureAwait(false);
            }
        }
        catch (RedisConnectionException ex)
        {
            throw Unreachable(configurationKey, ex);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOAUTH", StringComparison.Ordinal)
                                              || ex.Message.StartsWith("WRONGPASS", StringComparison.Ordinal))
        {
            throw new RedisStorageException(
                $"Redis at {describe} ({configurationKey}) refused the credentials: authentication failed. Check the user name and password of the connection.", ex);
        }
        catch (RedisTimeoutException ex)
        {
            throw new RedisStorageException($"Redis at {describe} ({configurationKey}) did not answer in time: {ex.Message.Split(',')[0]}.", ex);
        }
    }

    private RedisStorageException Unreachable(string configurationKey, RedisConnectionException ex)
    {
        var failure = ex.FailureType;
        if (failure == ConnectionFailureType.AuthenticationFailure || ex.Message.Contains("AuthenticationFailure", StringComparison.Ordinal)
            || ex.InnerException?.Message.Contains("WRONGPASS", StringComparison.Ordinal) == true
            || ex.InnerException?.Message.Contains("NOAUTH", StringComparison.Ordinal) == true)
        {
            return new RedisStorageException(
                $"Redis at {describe} ({configurationKey}) refused the credentials: authentication failed. Check the user name and password of the connection.", ex);
        }

        return new RedisStorageException(
            $"Redis at {describe} ({configurationKey}) is unreachable ({failure}): check that the server runs and that the host and port are right.", ex);
    }

    /// <summary>Loads every script on every server (masters and replicas).</summary>
    public async Task LoadScriptsAsync()
    {
        foreach (var server in Multiplexer.GetServers().Where(s => s.IsConnected))
        {
            foreach (var script in Lua.All)
            {
                await server.ScriptLoadAsync(script.Text).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs a script by SHA; loads the scripts and tries once more when a server does not know it.</summary>
    /// <param name="script">The script.</param>
    /// <param name="keys">Its keys (the first one routes the call to its slot).</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="read">A read-only script, sent to a replica when reads from replicas are on.</param>
    /// <param name="hot">A call of the workers' hot path: it fails after <see cref="CommandTimeout"/>.</param>
    public async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args, bool read = false, bool hot = false)
    {
        var replica = read && readFromReplicas;
        try
        {
            return await Run(script, keys, args, replica, hot).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            await LoadScriptsAsync().ConfigureAwait(false);
            return await Run(script, keys, args, replica, hot).ConfigureAwait(false);
        }
    }

    private Task<RedisResult> Run(RedisScript script, RedisKey[] keys, RedisValue[] args, bool replica, bool hot)
    {
        var call = replica
            ? Database.ScriptEvaluateReadOnlyAsync(script.Sha, keys, args, CommandFlags.PreferReplica)
            : Database.ScriptEvaluateAsync(script.Sha, keys, args);
        return hot ? call.WaitAsync(CommandTimeout) : call;
    }

    /// <summary>The masters of the deployment (one for a standalone server).</summary>
    public IEnumerable<IServer> Masters() => Multiplexer.GetServers().Where(s => !s.IsReplica && s.IsConnected);

    public bool IsCluster => Multiplexer.GetServers().Any(s => s.ServerType == ServerType.Cluster);

    public async ValueTask DisposeAsync()
    {
        if (owned && multiplexer is not null)
        {
            await multiplexer.DisposeAsync().ConfigureAwait(false);
        }

        connectGate.Dispose();
    }

    private static string Describe(IEnumerable<EndPoint> endpoints)
    {
        var text = string.Join(",", endpoints.Select(e => e switch
        {
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            IPEndPoint ip => ip.ToString(),
            _ => e.ToString() ?? "",
        }));
        return text.Length == 0 ? "(no endpoint)" : text;
    }
}

/// <summary>The Redis store cannot work: the server is unreachable, refuses the credentials, or holds data of a newer version.</summary>
public sealed class RedisStorageException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public RedisStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public RedisStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
