using Microsoft.Playwright;

namespace TypedJobs.Dashboard.Tests;

/// <summary>
/// Debian's chromium driven by Playwright, headless. <c>./test.sh</c> installs it (eng/servers/chromium.sh) and exports
/// <c>TYPEDJOBS_TEST_CHROMIUM</c>; without it the tests use <c>/usr/bin/chromium</c> when present. A missing browser
/// skips the tests on a developer's machine and fails them when <c>CI=true</c>. Playwright's own browser download is
/// never used.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    private Browser(IPlaywright playwright, IBrowser chromium)
    {
        Playwright = playwright;
        Chromium = chromium;
    }

    public IPlaywright Playwright { get; }

    public IBrowser Chromium { get; }

    /// <summary>Uncaught script errors of the pages opened so far.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> PageErrors { get; } = new();

    public static async Task<Browser> LaunchAsync()
    {
        var executable = Executable();
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args = ["--disable-gpu", "--disable-dev-shm-usage"],
            // Launching on a busy machine can be slow.
            Timeout = 120_000,
        });
        return new Browser(playwright, chromium);
    }

    /// <summary>A new browser context (its own cookies) of the given viewport and colour scheme.</summary>
    public async Task<IPage> NewPageAsync(string baseUrl, int width = 1280, int height = 800, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            ColorScheme = colorScheme,
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        // Generous: conditions are awaited, never timed; a busy machine only makes them slower.
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        // A script error fails the test that caused it (see DashboardFixture.CloseAsync).
        page.PageError += (_, error) => PageErrors.Enqueue(error);
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Chromium.DisposeAsync();
        Playwright.Dispose();
    }

    private static string Executable()
    {
        var configured = Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_CHROMIUM");
        var path = !string.IsNullOrWhiteSpace(configured) ? configured : "/usr/bin/chromium";
        if (File.Exists(path))
        {
            return path;
        }

        var message = $"Chromium is not available at {path} (apt-get install -y chromium, or set TYPEDJOBS_TEST_CHROMIUM; ./test.sh installs it).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail(message + " Under CI=true a missing browser is a failure.");
        }

        Assert.Skip(message);
        return path;
    }
}
