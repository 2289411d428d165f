using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using WebApp;

namespace TypedJobs.Dashboard.Tests;

/// <summary>
/// One WebApp server and one browser for the tests of a class, started by the first test that needs them (so a missing
/// browser is a skip or failure of that test, not an error of the fixture). Each test gets its own browser context.
/// </summary>
public sealed class DashboardFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private WebAppServer? server;
    private Browser? browser;

    static DashboardFixture() => Assertions.SetDefaultExpectTimeout(60_000);

    /// <summary>Report pages that render page 1 at once and wait on page 2 and later until <see cref="ReleaseReports"/>.</summary>
    public HeldReportPages Reports { get; } = new();

    public WebAppServer Server => server ?? throw new InvalidOperationException("Call StartAsync first.");

    public async Task StartAsync()
    {
        await gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            browser ??= await Browser.LaunchAsync();
            server ??= await WebAppServer.StartAsync(s => s.AddSingleton<IReportPages>(Reports));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A page of a new browser context, signed in through the sample's cookie login, showing the dashboard.</summary>
    public async Task<IPage> SignedInPageAsync(int width = 1280, int height = 800, ColorScheme colorScheme = ColorScheme.Light)
    {
        var page = await browser!.NewPageAsync(Server.BaseUrl, width, height, colorScheme);
        // Each step waits for what it uses (the address, the fields, the heading), never for a load event: on a busy
        // machine a redirect's load event was not reported within a minute although the page had loaded and gone idle,
        // and WaitForURLAsync waits for that event when the address already matches. Address assertions poll instead.
        await page.GotoAsync("/jobs/", new() { WaitUntil = WaitUntilState.Commit });
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/login\\?"));
        await page.Locator("input[name=user]").FillAsync(WebAppServer.User);
        await page.Locator("input[name=password]").FillAsync(WebAppServer.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/jobs/$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        return page;
    }

    /// <summary>Closes the page's browser context, and fails when a script of the dashboard threw.</summary>
    public async Task CloseAsync(IPage page)
    {
        await page.Context.CloseAsync();
        Assert.Empty(browser!.PageErrors);
    }

    /// <summary>A new browser context that is not signed in.</summary>
    public Task<IPage> AnonymousPageAsync() => browser!.NewPageAsync(Server.BaseUrl);

    /// <summary>Saves a screenshot under TestResults/dashboard at the repository's root.</summary>
    public static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true)
    {
        var directory = Path.Combine(RepositoryRoot(), "TestResults", "dashboard");
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new() { Path = Path.Combine(directory, name + ".png"), FullPage = fullPage });
    }

    public async ValueTask DisposeAsync()
    {
        Reports.Release();
        if (server is not null)
        {
            await server.DisposeAsync();
        }

        if (browser is not null)
        {
            await browser.DisposeAsync();
        }

        gate.Dispose();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TypedJobs.sln")))
            {
                return dir.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }
}

/// <summary>Renders page 1 of a report at once; later pages wait until the test releases them.</summary>
public sealed class HeldReportPages : IReportPages
{
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => released.TrySetResult();

    public Task RenderAsync(string region, int page, CancellationToken cancellationToken) =>
        page == 1 ? Task.CompletedTask : released.Task.WaitAsync(cancellationToken);
}
