using System.CommandLine;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>What a command's action works with: its parsed values, the environment, the output and the storage.</summary>
internal sealed class CommandContext(ParseResult parse, CliEnvironment environment, CliOutput output, CancellationToken cancellationToken)
{
    private StorageSelection? selection;

    public ParseResult Parse { get; } = parse;

    public CliEnvironment Environment { get; } = environment;

    public CliOutput Output { get; } = output;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public T? Value<T>(Option<T> option) => Parse.GetValue(option);

    public T? Value<T>(Argument<T> argument) => Parse.GetValue(argument);

    /// <summary>The storage this command uses (see <see cref="StorageSelection"/> for the lookup order).</summary>
    public StorageSelection Selection => selection ??= StorageSelection.Resolve(Environment, Parse.GetValue(CliApp.Storage));

    public Task<StorageSession> OpenSessionAsync() => StorageSession.OpenAsync(Environment, Selection, CancellationToken);

    /// <summary>Removes the passwords of the configured storage URLs from a message (a driver may quote its connection settings).</summary>
    public string Scrub(string message)
    {
        var passwords = new List<string?> { StorageUrl.TryParse(Parse.GetValue(CliApp.Storage), out _)?.Password };
        if (selection is not null)
        {
            passwords.AddRange(selection.Backends.Select(b => b.Password));
        }

        foreach (var password in passwords)
        {
            if (!string.IsNullOrEmpty(password))
            {
                message = message.Replace(password, "***", StringComparison.Ordinal);
            }
        }

        return message;
    }
}
