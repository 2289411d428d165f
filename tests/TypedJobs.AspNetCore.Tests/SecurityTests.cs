using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>Authorization by default, antiforgery on every change, read-only mode, startup checks, and what responses never contain.</summary>
public sealed class SecurityTests
{
    /// <summary>Every endpoint of the admin API and the dashboard, with its method.</summary>
    public static TheoryData<string, string> Endpoints => new()
    {
        { "GET", "/jobs/" }, { "GET", "/jobs/assets/app.js" }, { "GET", "/jobs/api/info" }, { "GET", "/jobs/api/antiforgery" },
        { "GET", "/jobs/api/overview" }, { "GET", "/jobs/api/jobs" }, { "GET", "/jobs/api/jobs/count" },
        { "GET", "/jobs/api/jobs/0190d0b4-7c5e-7a1b-8c9d-0e1f2a3b4c5d" },
        { "POST", "/jobs/api/jobs/0190d0b4-7c5e-7a1b-8c9d-0e1f2a3b4c5d/retry" }, { "POST", "/jobs/api/jobs/0190d0b4-7c5e-7a1b-8c9d-0e1f2a3b4c5d/cancel" },
        { "POST", "/jobs/api/jobs/0190d0b4-7c5e-7a1b-8c9d-0e1f2a3b4c5d/delete" }, { "POST", "/jobs/api/jobs/bulk" },
        { "GET", "/jobs/api/queues" }, { "POST", "/jobs/api/queues/default/pause" }, { "POST", "/jobs/api/queues/default/resume" },
        { "POST", "/jobs/api/queues/default/clear" }, { "GET", "/jobs/api/schedules" }, { "POST", "/jobs/api/schedules/tests.nightly/trigger" },
        { "POST", "/jobs/api/schedules/tests.nightly/pause" }, { "POST", "/jobs/api/schedules/tests.nightly/resume" },
        { "GET", "/jobs/api/workers" }, { "GET", "/jobs/api/throughput" }, { "GET", "/jobs/api/tasks" }, { "POST", "/jobs/api/tasks/tests.charge/enqueue" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task EveryEndpoint_RefusesAnonymousAndUnauthorizedUsers(string method, string path)
    {
        await using var host = await AdminHost.StartAsync();

        using var anonymous = await host.Client(user: null).SendAsync(new HttpMethod(method), path, method == "POST" ? AdminClient.Json("{}") : null);
        using var withoutRole = await host.Client("mallory;sales").SendAsync(new HttpMethod(method), path, method == "POST" ? AdminClient.Json("{}") : null);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);
        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), static q => q.Paused);
    }

    [Fact]
    public async Task WithoutAPolicyName_TheDefaultPolicyAppliesAndAnonymousIsRefused()
    {
        await using var host = await AdminHost.StartAsync(admin: static _ => { });

        using var anonymous = await host.Client(user: null).GetAsync("/jobs/api/queues");
        using var signedIn = await host.Client("someone").GetAsync("/jobs/api/queues");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
    }

    [Fact]
    public async Task InsecureAllowAnonymousAccess_IsTheOnlyWayToServeAnonymousUsers()
    {
        await using var host = await AdminHost.StartAsync(admin: static o => o.InsecureAllowAnonymousAccess = true);

        using var anonymous = await host.Client(user: null).GetAsync("/jobs/api/queues");

        Assert.Equal(HttpStatusCode.OK, anonymous.StatusCode);
    }

    [Fact]
    public async Task Startup_StopsWithAClearMessage_WhenAuthorizationServicesAreMissing()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartBareAsync(static b => b.Services.AddAntiforgery(), static _ => { }));

        Assert.Contains("requires authorization", error.Message, StringComparison.Ordinal);
        Assert.Contains("AddAuthorization", error.Message, StringComparison.Ordinal);
        Assert.Contains("InsecureAllowAnonymousAccess", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_StopsWithAClearMessage_WhenNoAuthenticationSchemeIsRegistered()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartBareAsync(static b =>
        {
            b.Services.AddAuthorization();
            b.Services.AddAntiforgery();
        }, static _ => { }));

        Assert.Contains("AddAuthentication", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_StopsWithAClearMessage_WhenTheNamedPolicyDoesNotExist()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AdminHost.StartAsync(policy: false));

        Assert.Contains("authorization policy 'ops'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_StopsWithAClearMessage_WhenAntiforgeryIsMissing_UnlessReadOnly()
    {
        static void Auth(WebApplicationBuilder b)
        {
            b.Services.AddAuthentication(TestAuthHandler.SchemeName)
                .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
            b.Services.AddAuthorization();
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => StartBareAsync(Auth, static _ => { }));
        await using var readOnly = await StartBareAsync(Auth, static o => o.ReadOnly = true);

        Assert.Contains("AddAntiforgery", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changes_WithoutAnAntiforgeryToken_AreRefusedAndChangeNothing()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();

        using var response = await client.PostWithAsync("/jobs/api/queues/default/pause", token: null);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "antiforgery");
        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), static q => q.Name == "default" && q.Paused);
    }

    [Fact]
    public async Task Changes_WithAnotherUsersToken_OrWithoutItsCookie_AreRefused()
    {
        await using var host = await AdminHost.StartAsync();
        var victim = host.Client();
        var attacker = host.Client("attacker;ops");
        var token = await attacker.TokenAsync();

        // The attacker's token with the attacker's cookie, sent as the victim: the token belongs to someone else.
        attacker.User = AdminHost.Ops;
        using var otherUser = await attacker.PostWithAsync("/jobs/api/queues/default/pause", token);
        // A valid token of the victim, but the request carries no antiforgery cookie (a cross-site form cannot read it).
        var victimToken = await victim.TokenAsync();
        using var noCookie = await host.Client().PostWithAsync("/jobs/api/queues/default/pause", victimToken);

        await AssertProblemAsync(otherUser, HttpStatusCode.BadRequest, "antiforgery");
        await AssertProblemAsync(noCookie, HttpStatusCode.BadRequest, "antiforgery");
        Assert.DoesNotContain(await host.Admin.GetQueuesAsync(), static q => q.Name == "default" && q.Paused);
    }

    [Fact]
    public async Task Changes_WithAValidToken_AreApplied()
    {
        await using var host = await AdminHost.StartAsync();

        using var response = await host.Client().PostAsync("/jobs/api/queues/default/pause");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(await host.Admin.GetQueuesAsync(), static q => q.Name == "default" && q.Paused);
    }

    [Fact]
    public async Task ReadOnlyMode_RefusesEveryChangeAndStillServesReads()
    {
        await using var host = await AdminHost.StartAsync(admin: static o => { o.AuthorizationPolicy = "ops"; o.ReadOnly = true; });
        var client = host.Client();
        var id = await host.DeadJobAsync("read-only");

        using var retry = await client.PostWithAsync($"/jobs/api/jobs/{id}/retry", token: null);
        using var pause = await client.PostWithAsync("/jobs/api/queues/default/pause", token: null);
        var info = await client.GetJsonAsync("/jobs/api/info");

        await AssertProblemAsync(retry, HttpStatusCode.Forbidden, "read-only");
        await AssertProblemAsync(pause, HttpStatusCode.Forbidden, "read-only");
        Assert.True(info.GetProperty("readOnly").GetBoolean());
        Assert.Equal(JobState.Dead, (await host.Jobs.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task UnexpectedErrors_AnswerAProblemWithoutStackTraceOrStoreMessage()
    {
        await using var host = await AdminHost.StartAsync(configure: static b => b.Services.AddSingleton<IJobAdmin>(new FailingAdmin()));

        using var response = await host.Client().GetAsync("/jobs/api/queues");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("Password", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("FailingAdmin", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.Contains(host.Logs.Lines, static l => l.Contains("Password=hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Payloads_ShowSensitiveMembersAsStars_AndNeverTheirValues()
    {
        await using var host = await AdminHost.StartAsync();
        var id = await host.Jobs.EnqueueChargeAsync("ada", "hunter2", new Card("Ada", "4111-1111-1111-1111"), 12.5m,
            new JobOptions { Queue = "parked" });

        using var response = await host.Client().GetAsync($"/jobs/api/jobs/{id}");
        var body = await response.Content.ReadAsStringAsync();
        var detail = JsonDocument.Parse(body).RootElement;
        var payload = JsonDocument.Parse(detail.GetProperty("payload").GetString()!).RootElement;

        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", body, StringComparison.Ordinal);
        Assert.True(detail.GetProperty("payloadRedacted").GetBoolean());
        Assert.Equal("***", payload.GetProperty("password").GetString());
        Assert.Equal("***", payload.GetProperty("card").GetProperty("Number").GetString());
        Assert.Equal("Ada", payload.GetProperty("card").GetProperty("Holder").GetString());
        Assert.Equal("ada", payload.GetProperty("customer").GetString());
    }

    [Fact]
    public async Task TextSearch_DoesNotListJobsThatMatchOnlyInSensitiveMembers()
    {
        await using var host = await AdminHost.StartAsync();
        await host.Jobs.EnqueueChargeAsync("ada", "hunter2", new Card("Ada", "4111"), 1m, new JobOptions { Queue = "parked" });
        var visible = await host.Jobs.EnqueueChargeAsync("hunter2-fan", "other", new Card("Bo", "5500"), 1m, new JobOptions { Queue = "parked" });

        var page = await host.Client().GetJsonAsync("/jobs/api/jobs?text=hunter2");

        Assert.Equal([visible.ToString()], page.GetProperty("jobs").EnumerateArray().Select(static j => j.GetProperty("id").GetString()!).ToArray());
        Assert.Equal(1, page.GetProperty("hidden").GetInt32());
    }

    [Fact]
    public async Task TextSearch_OnSensitiveOrHiddenValues_FindsNothing_ByListCountOrBulkAction()
    {
        await using var host = await AdminHost.StartAsync();
        var secret = await host.Jobs.EnqueueChargeAsync("ada", "hunter2", new Card("Ada", "4111-0000"), 1m, new JobOptions { Queue = "parked" });
        var visible = await host.Jobs.EnqueueChargeAsync("hunter2-fan", "other", new Card("Bo", "5500"), 1m, new JobOptions { Queue = "parked" });
        // A task this process does not know: its whole payload is hidden, so its text is not searchable either.
        var unknown = JobId.New();
        await host.Services.GetRequiredService<TypedJobs.Storage.IJobStore>().JobsInsertAsync(new TypedJobs.Storage.JobsInsertParams([new TypedJobs.Storage.JobInsert
        {
            Id = unknown, TaskName = "elsewhere.task", Queue = "parked", Payload = "{\"apiKey\":\"sk-live-4111-0000\"}"u8.ToArray(),
        }]), CancellationToken.None);
        var client = host.Client();

        // The store's own search does find the secrets: what follows must not pass that on.
        Assert.Equal(2, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { Text = "4111-0000" }));

        foreach (var text in new[] { "4111-0000", "sk-live" })
        {
            var page = await client.GetJsonAsync($"/jobs/api/jobs?text={text}");
            Assert.Empty(page.GetProperty("jobs").EnumerateArray());
            Assert.Equal(0, (await client.GetJsonAsync($"/jobs/api/jobs/count?text={text}")).GetProperty("count").GetInt64());
            Assert.Equal(0, (await client.GetJsonAsync($"/jobs/api/jobs/count?text={text}&state=Ready&queue=parked")).GetProperty("count").GetInt64());

            foreach (var action in new[] { "cancel", "delete" })
            {
                var last = await BulkAsync(client, new { action, filter = new { text } });
                Assert.Equal(0, last.GetProperty("done").GetInt64());
                Assert.Equal(0, last.GetProperty("total").GetInt64());
            }
        }

        // Nothing changed: every job is still there and still ready.
        foreach (var id in new[] { secret, visible, unknown })
        {
            Assert.Equal(JobState.Ready, (await host.Services.GetRequiredService<IJobClient>().GetJobAsync(id))!.State);
        }

        // A retry by the secret finds nothing either, even among cancelled jobs.
        await host.Services.GetRequiredService<IJobClient>().CancelAsync(secret);
        var retried = await BulkAsync(client, new { action = "retry", filter = new { text = "hunter2", state = "Cancelled" } });
        Assert.Equal(0, retried.GetProperty("done").GetInt64());
        Assert.Equal(JobState.Cancelled, (await host.Services.GetRequiredService<IJobClient>().GetJobAsync(secret))!.State);

        // Text an operator can see still works everywhere: "hunter2" is the customer's name of the other job.
        Assert.Equal(1, (await client.GetJsonAsync("/jobs/api/jobs/count?text=hunter2")).GetProperty("count").GetInt64());
        var cancelled = await BulkAsync(client, new { action = "cancel", filter = new { text = "hunter2" } });
        Assert.Equal(1, cancelled.GetProperty("done").GetInt64());
        Assert.Equal(JobState.Cancelled, (await host.Services.GetRequiredService<IJobClient>().GetJobAsync(visible))!.State);
        Assert.Equal(JobState.Ready, (await host.Services.GetRequiredService<IJobClient>().GetJobAsync(unknown))!.State);
    }

    /// <summary>Runs a bulk action and returns its last progress line.</summary>
    private static async Task<JsonElement> BulkAsync(AdminClient client, object body)
    {
        using var response = await client.PostAsync("/jobs/api/jobs/bulk", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var last = JsonDocument.Parse(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.True(last.GetProperty("finished").GetBoolean(), text);
        return last;
    }

    [Fact]
    public async Task PayloadsOfUnregisteredTasks_AreHidden_UnlessShownOnPurpose()
    {
        await using var host = await AdminHost.StartAsync();
        var id = JobId.New();
        var store = host.Services.GetRequiredService<TypedJobs.Storage.IJobStore>();
        await store.JobsInsertAsync(new TypedJobs.Storage.JobsInsertParams([new TypedJobs.Storage.JobInsert
        {
            Id = id, TaskName = "elsewhere.task", Queue = "parked", Payload = "{\"apiKey\":\"sk-live-123\"}"u8.ToArray(),
        }]), CancellationToken.None);

        using var response = await host.Client().GetAsync($"/jobs/api/jobs/{id}");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("sk-live-123", body, StringComparison.Ordinal);
        Assert.Contains("not registered in this process", JsonDocument.Parse(body).RootElement.GetProperty("payloadHidden").GetString(), StringComparison.Ordinal);

        await using var showing = await AdminHost.StartAsync(admin: static o => { o.AuthorizationPolicy = "ops"; o.ShowPayloadsOfUnregisteredTasks = true; });
        await showing.Services.GetRequiredService<TypedJobs.Storage.IJobStore>().JobsInsertAsync(new TypedJobs.Storage.JobsInsertParams([new TypedJobs.Storage.JobInsert
        {
            Id = id, TaskName = "elsewhere.task", Queue = "parked", Payload = "{\"apiKey\":\"sk-live-123\"}"u8.ToArray(),
        }]), CancellationToken.None);
        var shown = await showing.Client().GetJsonAsync($"/jobs/api/jobs/{id}");
        Assert.Contains("sk-live-123", shown.GetProperty("payload").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MarkupInPayloadsAndErrors_IsEscapedInResponses_AndThePageForbidsInlineScripts()
    {
        await using var host = await AdminHost.StartAsync();
        var id = await host.DeadJobAsync("<script>alert('x')</script>");
        var client = host.Client();

        using var detail = await client.GetAsync($"/jobs/api/jobs/{id}");
        using var list = await client.GetAsync("/jobs/api/jobs?state=Dead");
        using var page = await client.GetAsync("/jobs/");
        var html = await page.Content.ReadAsStringAsync();

        foreach (var response in new[] { detail, list })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script>", body, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("\\u003Cscript\\u003E", body, StringComparison.Ordinal);
        }

        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)", html);
        Assert.DoesNotMatch("<[^>]+\\son[a-z]+\\s*=", html);
        // The script sets text, never HTML.
        var script = await (await client.GetAsync("/jobs/assets/app.js")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("innerHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("insertAdjacentHTML", script, StringComparison.Ordinal);
        Assert.DoesNotContain("document.write", script, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_NeverContainSensitiveValues()
    {
        await using var host = await AdminHost.StartAsync();
        var ok = await host.Jobs.EnqueueChargeAsync("ada", "hunter2", new Card("Ada", "4111-secret"), 3m);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Succeeded, (await host.Jobs.WaitForCompletionAsync(ok, timeout.Token)).State);
        await host.DeadJobAsync("no secret here");
        using (await host.Client().GetAsync($"/jobs/api/jobs/{ok}"))
        {
        }

        Assert.Contains(host.Logs.Lines, l => l.Contains(ok.ToString(), StringComparison.Ordinal));
        Assert.DoesNotContain(host.Logs.Lines, static l => l.Contains("hunter2", StringComparison.Ordinal) || l.Contains("4111-secret", StringComparison.Ordinal));
    }

    private static async Task<WebApplication> StartBareAsync(Action<WebApplicationBuilder> services, Action<TypedJobsAdminOptions> admin)
    {
        var builder = WebApplication.CreateSlimBuilder();
        Microsoft.AspNetCore.TestHost.WebHostBuilderExtensions.UseTestServer(builder.WebHost);
        builder.Services.AddTypedJobs(static o => o.UseInMemory());
        services(builder);
        var app = builder.Build();
        app.MapTypedJobsAdmin("/jobs", admin);
        await app.StartAsync();
        return app;
    }

    /// <summary>Checks a problem-details answer and returns it (the body can be read only once).</summary>
    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string titleContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(titleContains, problem.GetProperty("title").GetString() + " " + problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        return problem;
    }
}
