using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using static TypedJobs.AspNetCore.Tests.SecurityTests;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>Every endpoint of the admin API on the test server, with valid and invalid input.</summary>
public sealed class ApiTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Info_And_Overview_DescribeTheStoreAndCountJobsPerState()
    {
        await using var host = await AdminHost.StartAsync();
        await host.DeadJobAsync("one");
        await host.Jobs.EnqueueChargeAsync("a", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });
        var client = host.Client();

        var info = await client.GetJsonAsync("/jobs/api/info");
        var overview = await client.GetJsonAsync("/jobs/api/overview");

        Assert.True(info.GetProperty("textSearch").GetBoolean());
        Assert.True(info.GetProperty("antiforgery").GetBoolean());
        Assert.False(info.GetProperty("readOnly").GetBoolean());
        Assert.Equal(1, overview.GetProperty("counts").GetProperty("Dead").GetInt64());
        Assert.Equal(1, overview.GetProperty("counts").GetProperty("Ready").GetInt64());
        Assert.Equal(6, overview.GetProperty("counts").EnumerateObject().Count());
        Assert.True(overview.GetProperty("queues").GetInt32() >= 2);
    }

    [Fact]
    public async Task Jobs_FilterByStateQueueTaskTextAndTime()
    {
        await using var host = await AdminHost.StartAsync();
        var dead = await host.DeadJobAsync("needle in the error");
        var parked = await host.Jobs.EnqueueChargeAsync("needle-customer", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });
        await host.Jobs.EnqueueChargeAsync("someone", "p", new Card("B", "2"), 1m, new JobOptions { Queue = "parked" });
        var client = host.Client();

        static async Task<string[]> Ids(AdminClient client, string query) =>
            (await client.GetJsonAsync("/jobs/api/jobs?" + query)).GetProperty("jobs").EnumerateArray().Select(static j => j.GetProperty("id").GetString()!).ToArray();

        Assert.Equal([dead.ToString()], await Ids(client, "state=dead"));
        Assert.Equal(2, (await Ids(client, "queue=parked")).Length);
        Assert.Equal([dead.ToString()], await Ids(client, "task=tests.fail"));
        Assert.Equal([parked.ToString(), dead.ToString()], await Ids(client, "text=NEEDLE"));
        Assert.Empty(await Ids(client, "from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))));
        Assert.Equal(3, (await Ids(client, "to=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O")))).Length);
        Assert.Equal(2, (await client.GetJsonAsync("/jobs/api/jobs/count?queue=parked")).GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Jobs_PageWithCursorsThroughEveryJobOnce()
    {
        await using var host = await AdminHost.StartAsync();
        var ids = new HashSet<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await host.Jobs.EnqueueChargeAsync("c" + i, "p", new Card("A", "1"), i, new JobOptions { Queue = "parked" })).ToString());
        }

        var client = host.Client();
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await client.GetJsonAsync("/jobs/api/jobs?queue=parked&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            seen.AddRange(page.GetProperty("jobs").EnumerateArray().Select(static j => j.GetProperty("id").GetString()!));
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Order(), seen.Order());
        Assert.Equal(seen.OrderDescending(StringComparer.Ordinal), seen);
    }

    [Theory]
    [InlineData("/jobs/api/jobs?state=bogus", "state")]
    [InlineData("/jobs/api/jobs?limit=0", "limit")]
    [InlineData("/jobs/api/jobs?limit=abc", "limit")]
    [InlineData("/jobs/api/jobs?queue=no%20spaces", "queue")]
    [InlineData("/jobs/api/jobs?from=yesterday", "from")]
    [InlineData("/jobs/api/jobs?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z", "from")]
    [InlineData("/jobs/api/jobs?cursor=not-a-cursor", "cursor")]
    [InlineData("/jobs/api/jobs?text=%01", "text")]
    [InlineData("/jobs/api/jobs?state=Dead&state=Ready", "state")]
    [InlineData("/jobs/api/jobs/not-a-guid", "id")]
    [InlineData("/jobs/api/throughput?minutes=0", "minutes")]
    [InlineData("/jobs/api/throughput?minutes=99999", "minutes")]
    public async Task BadInput_IsA400ProblemNamingTheParameter(string path, string parameter)
    {
        await using var host = await AdminHost.StartAsync();

        using var response = await host.Client().GetAsync(path);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "");
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), "errors names " + parameter);
    }

    [Fact]
    public async Task JobDetail_HasPayloadProgressAndEventHistory_And404ForMissingJobs()
    {
        await using var host = await AdminHost.StartAsync();
        var dead = await host.DeadJobAsync("history");
        var held = await host.Jobs.EnqueueHoldAsync("long");
        await host.Gate.Started.Task.WaitAsync(Deadline);
        var client = host.Client();

        var detail = await client.GetJsonAsync($"/jobs/api/jobs/{dead}");
        var kinds = detail.GetProperty("events").EnumerateArray().Select(static e => e.GetProperty("kind").GetString()).ToArray();
        JsonElement running = default;
        for (var deadline = DateTime.UtcNow + Deadline; DateTime.UtcNow < deadline;)
        {
            running = (await client.GetJsonAsync($"/jobs/api/jobs/{held}")).GetProperty("job");
            if (running.TryGetProperty("progress", out _))
            {
                break;
            }

            await Task.Delay(100);
        }

        using var missing = await client.GetAsync($"/jobs/api/jobs/{JobId.New()}");

        Assert.Equal("Dead", detail.GetProperty("job").GetProperty("state").GetString());
        Assert.Contains("failed on purpose: history", detail.GetProperty("job").GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal("{\"reason\":\"history\"}", detail.GetProperty("payload").GetString());
        Assert.True(detail.GetProperty("taskRegistered").GetBoolean());
        Assert.Contains("Started", kinds);
        Assert.Equal("Dead", kinds[^1]);
        Assert.Equal(0.25, running.GetProperty("progress").GetDouble());
        Assert.Equal("holding long", running.GetProperty("progressMessage").GetString());
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "No job");
    }

    [Fact]
    public async Task RetryCancelDelete_ChangeOneJob_AndRefuseStatesTheyDoNotApplyTo()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();
        var dead = await host.DeadJobAsync("retry me");
        var waiting = await host.Jobs.EnqueueChargeAsync("w", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });

        using var retryWaiting = await client.PostAsync($"/jobs/api/jobs/{waiting}/retry");
        using var cancel = await client.PostAsync($"/jobs/api/jobs/{waiting}/cancel");
        using var cancelAgain = await client.PostAsync($"/jobs/api/jobs/{waiting}/cancel");
        using var retryCancelled = await client.PostAsync($"/jobs/api/jobs/{waiting}/retry");
        using var retryDead = await client.PostAsync($"/jobs/api/jobs/{dead}/retry");
        var afterRetry = await host.Jobs.GetJobAsync(dead);
        using var delete = await client.PostAsync($"/jobs/api/jobs/{waiting}/delete");
        using var deleteAgain = await client.PostAsync($"/jobs/api/jobs/{waiting}/delete");

        await AssertProblemAsync(retryWaiting, HttpStatusCode.Conflict, "Only dead or cancelled");
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        await AssertProblemAsync(cancelAgain, HttpStatusCode.Conflict, "Only unfinished");
        Assert.Equal(HttpStatusCode.OK, retryCancelled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retryDead.StatusCode);
        Assert.True((await retryDead.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("changed").GetBoolean());
        Assert.NotEqual(JobState.Dead, afterRetry!.State == JobState.Dead && afterRetry.Attempt > 1 ? JobState.Dead : JobState.Ready);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        await AssertProblemAsync(deleteAgain, HttpStatusCode.NotFound, "No job");
        Assert.Null(await host.Jobs.GetJobAsync(waiting));
    }

    [Fact]
    public async Task Cancel_StopsARunningJob()
    {
        await using var host = await AdminHost.StartAsync();
        var held = await host.Jobs.EnqueueHoldAsync("cancel me");
        await host.Gate.Started.Task.WaitAsync(Deadline);

        using var cancel = await host.Client().PostAsync($"/jobs/api/jobs/{held}/cancel");
        using var timeout = new CancellationTokenSource(Deadline);
        var job = await host.Jobs.WaitForCompletionAsync(held, timeout.Token);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal(JobState.Cancelled, job.State);
    }

    [Fact]
    public async Task Bulk_AppliesToEverythingTheFilterMatches_AndStreamsProgress()
    {
        await using var host = await AdminHost.StartAsync();
        for (var i = 0; i < 1203; i++)
        {
            await host.Jobs.EnqueueChargeAsync("bulk" + i, "p", new Card("A", "1"), i, new JobOptions { Queue = "parked" });
        }

        await host.Jobs.EnqueueChargeAsync("other", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "kept" });
        var client = host.Client();

        var count = await client.GetJsonAsync("/jobs/api/jobs/count?queue=parked&state=Ready");
        using var response = await client.PostAsync("/jobs/api/jobs/bulk", new { action = "cancel", filter = new { queue = "parked", state = "Ready" } });
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(static l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal(1203, count.GetProperty("count").GetInt64());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.True(lines.Count >= 4, "a line at the start and after each of the three batches, then the last");
        Assert.Equal(0, lines[0].GetProperty("done").GetInt64());
        Assert.All(lines, static l => Assert.Equal(1203, l.GetProperty("total").GetInt64()));
        Assert.True(lines[^1].GetProperty("finished").GetBoolean());
        Assert.Equal(1203, lines[^1].GetProperty("done").GetInt64());
        Assert.Equal(1203, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { Queue = "parked", State = JobState.Cancelled }));
        Assert.Equal(1, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { Queue = "kept", State = JobState.Ready }));
    }

    [Theory]
    [InlineData("{\"action\":\"explode\"}", "action")]
    [InlineData("{\"action\":\"delete\",\"filter\":{\"queue\":\"bad queue\"}}", "filter.queue")]
    [InlineData("{\"action\":\"delete\",\"filter\":{\"state\":\"Nope\"}}", "body")]
    [InlineData("{\"action\":", "body")]
    public async Task Bulk_RefusesBadRequestsBeforeChangingAnything(string json, string parameter)
    {
        await using var host = await AdminHost.StartAsync();
        await host.Jobs.EnqueueChargeAsync("x", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });
        var client = host.Client();

        using var response = await client.PostWithAsync("/jobs/api/jobs/bulk", await client.TokenAsync(), AdminClient.Json(json));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "");
        Assert.True(problem.GetProperty("errors").TryGetProperty(parameter, out _), "errors names " + parameter);
        Assert.Equal(1, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { Queue = "parked" }));
    }

    [Fact]
    public async Task Queues_ListPerStateCounts_PauseResumeAndClear()
    {
        await using var host = await AdminHost.StartAsync();
        await host.Jobs.EnqueueChargeAsync("x", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked" });
        await host.Jobs.EnqueueChargeAsync("y", "p", new Card("A", "1"), 1m, new JobOptions { Queue = "parked", Delay = TimeSpan.FromHours(1) });
        var client = host.Client();

        using var pause = await client.PostAsync("/jobs/api/queues/parked/pause");
        var paused = (await client.GetJsonAsync("/jobs/api/queues")).EnumerateArray().Single(static q => q.GetProperty("name").GetString() == "parked");
        using var resume = await client.PostAsync("/jobs/api/queues/parked/resume");
        var resumed = (await client.GetJsonAsync("/jobs/api/queues")).EnumerateArray().Single(static q => q.GetProperty("name").GetString() == "parked");
        using var clear = await client.PostAsync("/jobs/api/queues/parked/clear");
        using var badName = await client.PostAsync("/jobs/api/queues/no%20spaces/pause");

        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal(1, paused.GetProperty("counts").GetProperty("Ready").GetInt64());
        Assert.Equal(1, paused.GetProperty("counts").GetProperty("Scheduled").GetInt64());
        Assert.Equal(2, paused.GetProperty("length").GetInt64());
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.Equal(2, (await clear.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deleted").GetInt64());
        await AssertProblemAsync(badName, HttpStatusCode.BadRequest, "queue name");
        Assert.Equal(0, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { Queue = "parked" }));
    }

    [Fact]
    public async Task Schedules_ListTriggerPauseAndResume()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();
        JsonElement nightly = default;
        for (var deadline = DateTime.UtcNow + Deadline; DateTime.UtcNow < deadline;)
        {
            // The scheduler stores declared schedules when the worker starts.
            var list = (await client.GetJsonAsync("/jobs/api/schedules")).EnumerateArray().ToList();
            if (list.FirstOrDefault(static s => s.GetProperty("task").GetString() == "tests.nightly") is { ValueKind: JsonValueKind.Object } found)
            {
                nightly = found;
                break;
            }

            await Task.Delay(100);
        }

        var name = nightly.GetProperty("name").GetString()!;
        using var trigger = await client.PostAsync($"/jobs/api/schedules/{name}/trigger");
        var jobId = (await trigger.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("jobId").GetString()!;
        using var pause = await client.PostAsync($"/jobs/api/schedules/{name}/pause");
        var paused = (await client.GetJsonAsync("/jobs/api/schedules")).EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
        using var resume = await client.PostAsync($"/jobs/api/schedules/{name}/resume");
        using var missing = await client.PostAsync("/jobs/api/schedules/no-such-schedule/trigger");

        Assert.Equal("Cron", nightly.GetProperty("kind").GetString());
        Assert.Equal("0 3 * * *", nightly.GetProperty("cron").GetString());
        Assert.True(nightly.GetProperty("taskRegistered").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, trigger.StatusCode);
        Assert.Equal("tests.nightly", (await host.Jobs.GetJobAsync(JobId.Parse(jobId)))!.TaskName);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, "No schedule");
    }

    [Fact]
    public async Task Workers_Throughput_And_Tasks()
    {
        await using var host = await AdminHost.StartAsync();
        var id = await host.Jobs.EnqueueChargeAsync("t", "p", new Card("A", "1"), 1m);
        using var timeout = new CancellationTokenSource(Deadline);
        await host.Jobs.WaitForCompletionAsync(id, timeout.Token);
        await host.DeadJobAsync("counted");
        var client = host.Client();

        JsonElement workers = default;
        for (var deadline = DateTime.UtcNow + Deadline; DateTime.UtcNow < deadline;)
        {
            workers = await client.GetJsonAsync("/jobs/api/workers");
            if (workers.GetProperty("workers").GetArrayLength() > 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        var throughput = await client.GetJsonAsync("/jobs/api/throughput?minutes=5");
        var tasks = (await client.GetJsonAsync("/jobs/api/tasks")).EnumerateArray().ToDictionary(static t => t.GetProperty("name").GetString()!);

        var worker = workers.GetProperty("workers")[0];
        Assert.Contains("default", worker.GetProperty("queues").EnumerateArray().Select(static q => q.GetString()));
        Assert.True(worker.GetProperty("lastHeartbeatAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.True(worker.GetProperty("secondsSinceHeartbeat").GetDouble() >= 0);
        var buckets = throughput.GetProperty("buckets").EnumerateArray().ToList();
        Assert.InRange(buckets.Count, 5, 6);
        Assert.True(buckets.Sum(static b => b.GetProperty("succeeded").GetInt64()) >= 1);
        Assert.True(buckets.Sum(static b => b.GetProperty("failed").GetInt64()) >= 1);
        Assert.True(tasks["tests.charge"].GetProperty("hasSensitiveMembers").GetBoolean());
        Assert.False(tasks["tests.fail"].GetProperty("hasSensitiveMembers").GetBoolean());
        Assert.Equal("0 3 * * *", tasks["tests.nightly"].GetProperty("cron").GetString());
    }

    [Fact]
    public async Task Enqueue_StoresAJobOfARegisteredTask_ValidatedByItsSerializer()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();

        // Member names as the task's serializer writes them: parameter names, and the record's property names.
        using var created = await client.PostAsync("/jobs/api/tasks/tests.charge/enqueue", AdminClient.Json("""
            {"payload":{"customer":"web","password":"s3cret","card":{"Holder":"H","Number":"42"},"amount":9.5},
             "queue":"parked","priority":"High","delaySeconds":3600}
            """));
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body);
        var id = JobId.Parse(JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!);
        var job = await host.Jobs.GetJobAsync(id);

        Assert.Equal("parked", job!.Queue);
        Assert.Equal(Priority.High, job.Priority);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Contains("s3cret", System.Text.Encoding.UTF8.GetString(job.Payload), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tests.charge", "{\"payload\":{\"customer\":\"x\"}}", HttpStatusCode.BadRequest, "password")]
    [InlineData("tests.charge", "{\"payload\":[1,2]}", HttpStatusCode.BadRequest, "JSON object")]
    [InlineData("tests.charge", "{\"payload\":{}, \"queue\":\"bad queue\"}", HttpStatusCode.BadRequest, "queue name")]
    [InlineData("tests.charge", "{\"payload\":{}, \"delaySeconds\":-1}", HttpStatusCode.BadRequest, "delaySeconds")]
    [InlineData("tests.charge", "{\"payload\":{}, \"priority\":\"Urgent\"}", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("tests.charge", "not json", HttpStatusCode.BadRequest, "not valid JSON")]
    [InlineData("no.such.task", "{\"payload\":{}}", HttpStatusCode.NotFound, "No task named")]
    public async Task Enqueue_RefusesBadInputWithAProblem(string task, string body, HttpStatusCode status, string message)
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();

        using var response = await client.PostWithAsync($"/jobs/api/tasks/{task}/enqueue", await client.TokenAsync(), AdminClient.Json(body));

        await AssertProblemAsync(response, status, message);
        Assert.Equal(0, await host.Admin.CountJobsAsync(new TypedJobs.Storage.JobFilter { TaskName = "tests.charge" }));
    }

    [Fact]
    public async Task Enqueue_RefusesABodyThatIsNotJson()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();

        using var response = await client.PostWithAsync("/jobs/api/tasks/tests.charge/enqueue", await client.TokenAsync(),
            new StringContent("payload=1", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, "JSON");
    }

    [Fact]
    public async Task Dashboard_IsServedFromTheAssembly_WithRedirectToTheTrailingSlash()
    {
        await using var host = await AdminHost.StartAsync();
        var client = host.Client();

        using var bare = await client.GetAsync("/jobs");
        using var page = await client.GetAsync("/jobs/");
        using var script = await client.GetAsync("/jobs/assets/app.js");
        using var style = await client.GetAsync("/jobs/assets/app.css");
        using var missing = await client.GetAsync("/jobs/assets/nope.js");
        using var unknownApi = await client.GetAsync("/jobs/api/nothing/here");

        Assert.Equal(HttpStatusCode.Redirect, bare.StatusCode);
        Assert.Equal("/jobs/", bare.Headers.Location?.OriginalString);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("assets/app.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("text/css", style.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await AssertProblemAsync(unknownApi, HttpStatusCode.NotFound, "Not found");
        Assert.DoesNotContain("http://", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
