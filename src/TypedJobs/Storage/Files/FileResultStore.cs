using System.Buffers.Binary;

namespace TypedJobs.Storage.Files;

/// <summary>Settings of the file results store.</summary>
public sealed class FileResultStoreOptions
{
    /// <summary>The directory holding the results (created when missing).</summary>
    public string Directory { get; set; } = "";

    /// <summary>Whether each result is flushed to disk before it is renamed into place. Default <see langword="true"/>.</summary>
    public bool Fsync { get; set; } = true;
}

/// <summary>
/// The results role on files: one file per result under <see cref="FileResultStoreOptions.Directory"/>, in 256
/// sub-directories by job id, named by job id and lease token. A result is written to a temporary file and renamed
/// into place, so a reader sees the old file or the whole new one, never a part. Each file starts with its expiry;
/// pruning deletes expired files (and temporary files left by a crash). The clock is the host's.
/// </summary>
public sealed class FileResultStore : IResultStore
{
    private static ReadOnlySpan<byte> Magic => "TJR1"u8;

    private const int HeaderLength = 12;
    private static readonly TimeSpan StaleTemporary = TimeSpan.FromHours(1);

    private readonly FileResultStoreOptions options;
    private readonly TimeProvider time;

    /// <summary>Creates the store.</summary>
    public FileResultStore(FileResultStoreOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            throw new ArgumentException("The file results store needs a directory.", nameof(options));
        }

        this.options = new FileResultStoreOptions { Directory = Path.GetFullPath(options.Directory), Fsync = options.Fsync };
        time = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public StorageCapabilities Capabilities => StorageCapabilities.Durable;

    /// <summary>The directory holding the results.</summary>
    public string Directory => options.Directory;

    /// <inheritdoc />
    public ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            System.IO.Directory.CreateDirectory(options.Directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The file results store cannot create its directory '{options.Directory}': {ex.Message}", ex);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken) => ValueTask.FromResult(time.GetUtcNow());

    /// <inheritdoc />
    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var now = time.GetUtcNow();
        foreach (var write in parameters.Results)
        {
            var path = PathOf(write.JobId, write.LeaseToken);
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temporary = Path.Combine(Path.GetDirectoryName(path)!, "." + Guid.NewGuid().ToString("N") + ".tmp");
            try
            {
                var header = new byte[HeaderLength];
                Magic.CopyTo(header);
                BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(4), (now + write.Ttl).UtcTicks);
                var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                    await stream.WriteAsync(write.Value, cancellationToken).ConfigureAwait(false);
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (options.Fsync)
                    {
                        stream.Flush(flushToDisk: true);
                    }
                }

                File.Move(temporary, path, overwrite: true);
            }
            catch
            {
                TryDelete(temporary);
                throw;
            }
        }

        return new ResultsSetResult();
    }

    /// <inheritdoc />
    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(PathOf(parameters.JobId, parameters.LeaseToken), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return new ResultsGetResult(null);
        }

        if (!TryReadExpiry(bytes, out var expires))
        {
            throw new InvalidDataException($"The result file of job {parameters.JobId} in '{options.Directory}' is not a TypedJobs result.");
        }

        return new ResultsGetResult(expires > time.GetUtcNow() ? new StoredResult(bytes[HeaderLength..], expires) : null);
    }

    /// <inheritdoc />
    public ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var deleted = 0;
        foreach (var id in parameters.JobIds)
        {
            var directory = Path.Combine(options.Directory, Bucket(id));
            if (!System.IO.Directory.Exists(directory))
            {
                continue;
            }

            foreach (var file in System.IO.Directory.EnumerateFiles(directory, id.Value.ToString("N") + ".*.result"))
            {
                if (TryDelete(file))
                {
                    deleted++;
                }
            }
        }

        return ValueTask.FromResult(new ResultsDeleteResult(deleted));
    }

    /// <inheritdoc />
    public ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var now = time.GetUtcNow();
        var deleted = 0;
        if (!System.IO.Directory.Exists(options.Directory))
        {
            return ValueTask.FromResult(new ResultsPruneResult(0));
        }

        Span<byte> header = stackalloc byte[HeaderLength];
        foreach (var directory in System.IO.Directory.EnumerateDirectories(options.Directory))
        {
            foreach (var file in System.IO.Directory.EnumerateFiles(directory))
            {
                if (deleted >= parameters.Max)
                {
                    return ValueTask.FromResult(new ResultsPruneResult(deleted));
                }

                cancellationToken.ThrowIfCancellationRequested();
                var name = Path.GetFileName(file);
                if (name.EndsWith(".tmp", StringComparison.Ordinal))
                {
                    // A write that crashed before its rename; a live write finishes in far less than an hour.
                    if (now.UtcDateTime - File.GetLastWriteTimeUtc(file) > StaleTemporary && TryDelete(file))
                    {
                        deleted++;
                    }

                    continue;
                }

                if (!name.EndsWith(".result", StringComparison.Ordinal) || !TryReadHeader(file, header, out var expires) || expires > now)
                {
                    continue;
                }

                if (TryDelete(file))
                {
                    deleted++;
                }
            }
        }

        return ValueTask.FromResult(new ResultsPruneResult(deleted));
    }

    private string PathOf(JobId id, Guid token) =>
        Path.Combine(options.Directory, Bucket(id), id.Value.ToString("N") + "." + token.ToString("N") + ".result");

    // The last byte of the id: UUIDv7 ids start with a timestamp, their end is random.
    private static string Bucket(JobId id) => id.Value.ToString("N")[30..];

    private static bool TryReadHeader(string file, Span<byte> header, out DateTimeOffset expires)
    {
        expires = default;
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            return stream.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false) == HeaderLength && TryReadExpiry(header, out expires);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool TryReadExpiry(ReadOnlySpan<byte> bytes, out DateTimeOffset expires)
    {
        expires = default;
        if (bytes.Length < HeaderLength || !bytes[..4].SequenceEqual(Magic))
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes[4..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        expires = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    private static bool TryDelete(string file)
    {
        try
        {
            File.Delete(file);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
