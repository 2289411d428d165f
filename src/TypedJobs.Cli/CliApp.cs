using System.CommandLine;
using TypedJobs.Cli.Commands;
using TypedJobs.Cli.Infrastructure;

namespace TypedJobs.Cli;

/// <summary>
/// The <c>typedjobs</c> command tree, in the style of the <c>dotnet</c> CLI: verbs grouped by noun (<c>jobs list</c>,
/// <c>queues pause</c>), <c>--storage</c> and <c>--output</c> on every command, and exit codes that mean something
/// (<see cref="ExitCodes"/>).
/// </summary>
internal static class CliApp
{
    /// <summary><c>--storage URL</c>: the store for every role; without it, <c>TypedJobs:Storage</c> from the environment or appsettings.json.</summary>
    public static readonly Option<string?> Storage = new("--storage", "-s")
    {
        Description = "Storage URL (e.g. sqlite:jobs.db, postgres://user@host/db). Default: TypedJobs__Storage, else TypedJobs:Storage in ./appsettings.json",
        Recursive = true,
        HelpName = "URL",
    };

    /// <summary><c>--output table|json</c>.</summary>
    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "Output format: table for people, json for scripts (stable field names)",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Table,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "table";
            switch (text.ToLowerInvariant())
            {
                case "table":
                    return OutputFormat.Table;
                case "json":
                    return OutputFormat.Json;
                default:
                    result.AddError($"--output '{text}' is not a format: use table or json");
                    return OutputFormat.Table;
            }
        },
        HelpName = "table|json",
    };

    public static Command Build(CliEnvironment environment)
    {
        // A plain command rather than RootCommand, whose name is the executable's file name (TypedJobs.Cli under
        // 'dotnet tool'): help always says typedjobs.
        var root = new Command("typedjobs", "Operate TypedJobs from a terminal: migrations and deploy gates, jobs, queues, schedules, live stats, doctor and bench.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Add(Storage);
        root.Add(Output);
        MigrateCommands.AddTo(root, environment);
        JobsCommands.AddTo(root, environment);
        QueuesCommands.AddTo(root, environment);
        SchedulesCommands.AddTo(root, environment);
        StatsCommand.AddTo(root, environment);
        DoctorCommand.AddTo(root, environment);
        BenchCommand.AddTo(root, environment);
        return root;
    }

    /// <summary>Runs one command line and returns its exit code. Parse errors are usage errors (exit code 2).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var root = Build(environment);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var output = new CliOutput(environment, OutputFormat.Table);
            foreach (var error in parse.Errors)
            {
                output.Error(error.Message);
            }

            var command = string.Join(' ', parse.CommandResult.Parent is null ? [] : CommandPath(parse.CommandResult));
            environment.Error.Write($"Run 'typedjobs {(command.Length > 0 ? command + " " : "")}--help' for usage.\n");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = environment.Out, Error = environment.Error }, cancellationToken)
            .ConfigureAwait(false);
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var current = result; current is { Parent: not null }; current = current.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Push(current.Command.Name);
        }

        return names;
    }

    /// <summary>
    /// Sets a command's action: builds the output for the chosen format, runs <paramref name="body"/>, and turns failures
    /// into one error line and an exit code. Secrets in the storage URLs never reach the terminal, even inside a driver's message.
    /// </summary>
    public static void SetAction(Command command, CliEnvironment environment, Func<CommandContext, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = new CliOutput(environment, parse.GetValue(Output));
            var context = new CommandContext(parse, environment, output, cancellationToken);
            try
            {
                return await body(context).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                output.Error(context.Scrub(ex.Message));
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                output.Error("cancelled");
                return 130;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A store's or driver's own message, on one line; the exception type and stack trace are noise to an operator.
                output.Error(context.Scrub(ex.Message));
                return ExitCodes.Error;
            }
        });
    }
}
