namespace TypedJobs.Cli.Infrastructure;

/// <summary>
/// The rule for commands that change many jobs at once: <c>--yes</c> goes ahead; on a terminal the tool asks; with no
/// terminal to ask (a script, a pipe, CI) it refuses with a usage error, so nothing destructive happens by accident.
/// </summary>
internal static class Confirmation
{
    public static void Require(CommandContext context, bool yes, string question)
    {
        if (yes)
        {
            return;
        }

        if (!context.Environment.CanPrompt)
        {
            throw CliException.Usage($"{question.TrimEnd('?')}: needs confirmation and there is no terminal to ask; pass --yes");
        }

        if (!context.Output.Confirm(question))
        {
            throw CliException.Error("not confirmed; nothing changed");
        }
    }
}
