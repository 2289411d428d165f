using Microsoft.Playwright;
using TypedJobs;
using WebApp;
using static Microsoft.Playwright.Assertions;

namespace TypedJobs.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium over the WebApp sample (Kestrel, SQLite, a worker): sign-in, live updates,
/// filters, job detail, retry, queue pause, redaction and escaping, phone size and dark mode. Screenshots go to
/// TestResults/dashboard.
/// </summary>
public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task Dashboard_SendsAnonymousUsersToTheLogin_AndShowsTheOverviewAfterSignIn()
    {
        await fixture.StartAsync();
        var anonymous = await fixture.AnonymousPageAsync();
        await using (var api = await anonymous.APIRequest.GetAsync("/jobs/api/overview"))
        {
            Assert.Equal(401, api.Status);
        }

        var page = await fixture.SignedInPageAsync();

        await Expect(page.Locator("[data-count=Succeeded]")).ToBeVisibleAsync();
        await Expect(page.Locator(".chart svg")).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "overview");
        await fixture.CloseAsync(anonymous);
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task JobsAppearLive_WithoutReloading_WithTheProgressTheHandlerReports()
    {
        await fixture.StartAsync();
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync("/jobs/#/jobs?task=" + Uri.EscapeDataString(TaskName("BuildReport")));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Jobs" })).ToBeVisibleAsync();
        // A marker on the window: it disappears if the page reloads.
        await page.EvaluateAsync("() => { window.typedJobsTestMarker = 'kept'; }");

        var id = await fixture.Server.Jobs.EnqueueBuildReportAsync("eu", pages: 4);

        var row = page.Locator($"tr[data-job-id='{id}']");
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.Locator(".progress-text")).ToHaveTextAsync("25% — page 1 of 4");
        await Expect(row.Locator(".badge")).ToHaveTextAsync("Running");
        await DashboardFixture.ScreenshotAsync(page, "jobs-live-progress");
        fixture.Reports.Release();
        await Expect(row.Locator(".badge")).ToHaveTextAsync("Succeeded");
        Assert.Equal("kept", await page.EvaluateAsync<string>("() => window.typedJobsTestMarker"));
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task Filter_ByState_ListsOnlyMatchingJobs()
    {
        await fixture.StartAsync();
        var dead = await fixture.Server.Jobs.EnqueueImportAsync("filter-missing.csv");
        var succeeded = await fixture.Server.Jobs.EnqueueResizeAsync(7);
        await fixture.Server.WaitForStateAsync(dead, JobState.Dead);
        await fixture.Server.WaitForStateAsync(succeeded, JobState.Succeeded);
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync("/jobs/#/jobs");
        await Expect(page.Locator($"tr[data-job-id='{succeeded}']")).ToBeVisibleAsync();

        await page.GetByLabel("State").SelectOptionAsync("Dead");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();

        await page.WaitForURLAsync("**#/jobs?state=Dead");
        await Expect(page.Locator($"tr[data-job-id='{dead}']")).ToBeVisibleAsync();
        await Expect(page.Locator($"tr[data-job-id='{succeeded}']")).ToHaveCountAsync(0);
        var states = await page.Locator("tbody tr[data-job-id] .badge").AllTextContentsAsync();
        Assert.NotEmpty(states);
        Assert.All(states, static s => Assert.Equal("Dead", s));
        await DashboardFixture.ScreenshotAsync(page, "jobs-filtered");

        // The overview once jobs have run: counts per state and the throughput chart (docs/dashboard.png is one of these).
        await page.GetByRole(AriaRole.Link, new() { Name = "Overview", Exact = true }).ClickAsync();
        await Expect(page.Locator(".chart svg rect.s").First).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "overview-with-jobs", fullPage: false);
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task OpeningADeadJob_ShowsPayloadErrorAndTimeline_AndRetryRunsItAgain()
    {
        await fixture.StartAsync();
        var id = await fixture.Server.Jobs.EnqueueImportAsync("orders-retry.csv");
        await fixture.Server.WaitForStateAsync(id, JobState.Dead);
        var page = await fixture.SignedInPageAsync();
        await page.GotoAsync("/jobs/#/jobs?state=Dead");

        await page.Locator($"tr[data-job-id='{id}'] a").ClickAsync();

        await page.WaitForURLAsync($"**#/jobs/{id}");
        await Expect(page.Locator("#view .badge").First).ToHaveTextAsync("Dead");
        await Expect(page.Locator("#payload")).ToContainTextAsync("\"file\": \"orders-retry.csv\"");
        await Expect(page.Locator("#error")).ToContainTextAsync("The file 'orders-retry.csv' is not in the imports folder");
        await Expect(page.Locator(".timeline li").First).ToBeVisibleAsync();
        await DashboardFixture.ScreenshotAsync(page, "job-dead");

        // The operator fixes the cause, then retries from the dashboard; the page follows the job live.
        await File.WriteAllTextAsync(Path.Combine(fixture.Server.Imports, "orders-retry.csv"), "id\n1\n");
        await page.GetByRole(AriaRole.Button, new() { Name = "Retry" }).ClickAsync();

        await Expect(page.Locator("#view .badge").First).ToHaveTextAsync("Succeeded");
        await Expect(page.Locator(".timeline li.k-Succeeded")).ToBeVisibleAsync();
        await fixture.Server.WaitForStateAsync(id, JobState.Succeeded);
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task PausingAQueue_FromTheQueuesPage_PausesItInTheStore()
    {
        await fixture.StartAsync();
        // No worker listens on this queue, so its job waits and the queue shows up with one ready job.
        await fixture.Server.Jobs.EnqueueResizeAsync(42, new JobOptions { Queue = "thumbnails" });
        var page = await fixture.SignedInPageAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Queues", Exact = true }).ClickAsync();
        var row = page.Locator("tr[data-queue=thumbnails]");
        await Expect(row).ToBeVisibleAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();

        await Expect(row.Locator(".badge.paused")).ToHaveTextAsync("Paused");
        Assert.Contains(await fixture.Server.Admin.GetQueuesAsync(), static q => q.Name == "thumbnails" && q.Paused);
        await DashboardFixture.ScreenshotAsync(page, "queues");
        await row.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Expect(row.Locator(".badge.paused")).ToHaveCountAsync(0);
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task SensitiveMembersShowAsStars_AndMarkupInPayloadsShowsAsText()
    {
        await fixture.StartAsync();
        const string markup = "<script>window.typedJobsInjected = 1</script><img src=x onerror=window.typedJobsInjected=2>";
        var id = await fixture.Server.Jobs.EnqueueSendWelcomeAsync("ada@example.com", new Account("ada", markup, "initial-secret-7"));
        await fixture.Server.WaitForStateAsync(id, JobState.Succeeded);
        var page = await fixture.SignedInPageAsync();

        await page.GotoAsync($"/jobs/#/jobs/{id}");

        var payload = page.Locator("#payload");
        await Expect(payload).ToContainTextAsync("\"InitialPassword\": \"***\"");
        await Expect(payload).ToContainTextAsync(markup);
        Assert.DoesNotContain("initial-secret-7", await page.ContentAsync(), StringComparison.Ordinal);
        await Expect(payload.Locator("img, script")).ToHaveCountAsync(0);
        Assert.Equal("undefined", await page.EvaluateAsync<string>("() => typeof window.typedJobsInjected"));
        await DashboardFixture.ScreenshotAsync(page, "job-redacted");
        await fixture.CloseAsync(page);
    }

    [Fact]
    public async Task OnAPhoneInDarkMode_TheJobListFitsTheScreen_AndUsesDarkColours()
    {
        await fixture.StartAsync();
        await fixture.Server.Jobs.EnqueueResizeAsync(11);
        var page = await fixture.SignedInPageAsync(width: 390, height: 844, colorScheme: ColorScheme.Dark);

        await page.GetByRole(AriaRole.Link, new() { Name = "Jobs", Exact = true }).ClickAsync();
        await Expect(page.Locator("tbody tr[data-job-id]").First).ToBeVisibleAsync();

        // The page itself never scrolls sideways (a wide table scrolls inside its own box).
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"));
        var background = await page.EvaluateAsync<double[]>(
            "() => getComputedStyle(document.body).backgroundColor.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number)");
        Assert.True(background.Average() < 80, $"The body's background ({string.Join(", ", background)}) is not dark.");
        await DashboardFixture.ScreenshotAsync(page, "jobs-phone-dark");
        await fixture.CloseAsync(page);
    }

    private string TaskName(string method) =>
        fixture.Server.Admin.Tasks.Single(t => t.Name.EndsWith(method, StringComparison.Ordinal)).Name;
}
