using TypedJobs;

namespace WebApp;

/// <summary>An account created at sign-up; its initial password is sensitive, so the dashboard shows "***".</summary>
/// <param name="Login">The login name.</param>
/// <param name="DisplayName">The name to greet.</param>
/// <param name="InitialPassword">The one-time password mailed to the user.</param>
public sealed record Account(string Login, string DisplayName, [Sensitive] string InitialPassword);

/// <summary>Renders one page of a report (slow on purpose in the sample).</summary>
public interface IReportPages
{
    /// <summary>Renders page <paramref name="page"/> of the report for <paramref name="region"/>.</summary>
    Task RenderAsync(string region, int page, CancellationToken cancellationToken);
}

/// <summary>Where imports read their files.</summary>
public interface IImportSource
{
    /// <summary>Whether the file can be imported now.</summary>
    bool Exists(string file);
}

internal sealed class SlowReportPages : IReportPages
{
    public Task RenderAsync(string region, int page, CancellationToken cancellationToken) => Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
}

internal sealed class FolderImportSource(IWebHostEnvironment environment) : IImportSource
{
    public bool Exists(string file) =>
        !file.Contains("..", StringComparison.Ordinal) && File.Exists(Path.Combine(environment.ContentRootPath, "imports", file));
}

/// <summary>The sample's jobs.</summary>
public static class SampleTasks
{
    /// <summary>Mails a new user their login and initial password.</summary>
    /// <param name="email">The recipient.</param>
    /// <param name="account">The new account.</param>
    /// <param name="logger">The log.</param>
    [Task(Queue = "emails", MaxRetries = 3)]
    public static Task SendWelcome(string email, Account account, [FromServices] ILogger<Account> logger)
    {
        // Log what operators may see; the password never goes to a log.
        logger.LogInformation("Welcome mail to {Email} for {Login}", email, account.Login);
        return Task.CompletedTask;
    }

    /// <summary>Builds a report page by page and reports its progress to the dashboard.</summary>
    /// <param name="region">The region.</param>
    /// <param name="pages">How many pages.</param>
    /// <param name="renderer">Renders one page.</param>
    /// <param name="context">The running job.</param>
    [Task(Queue = "reports", Timeout = "00:10:00")]
    public static async Task BuildReport(string region, int pages, [FromServices] IReportPages renderer, JobContext context)
    {
        for (var page = 1; page <= pages; page++)
        {
            await renderer.RenderAsync(region, page, context.CancellationToken);
            await context.ReportProgressAsync((double)page / pages, $"page {page} of {pages}");
        }
    }

    /// <summary>Imports a file; a file that is not there fails the job at once (it is dead until retried).</summary>
    /// <param name="file">The file name under imports/.</param>
    /// <param name="source">Where files are.</param>
    [Task(Queue = "imports", MaxRetries = 0)]
    public static void Import(string file, [FromServices] IImportSource source)
    {
        if (!source.Exists(file))
        {
            throw new PermanentJobFailureException($"The file '{file}' is not in the imports folder; add it, then retry the job.");
        }
    }

    /// <summary>Resizes an image.</summary>
    /// <param name="imageId">The image.</param>
    [Task]
    public static Task Resize(int imageId) => Task.CompletedTask;

    /// <summary>Removes expired sessions every five minutes.</summary>
    [Task(Cron = "*/5 * * * *")]
    public static Task Cleanup() => Task.CompletedTask;
}
