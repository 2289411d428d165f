using TypedJobs.Cli;
using TypedJobs.Cli.Infrastructure;

return await CliApp.RunAsync(args, CliEnvironment.FromProcess()).ConfigureAwait(false);
