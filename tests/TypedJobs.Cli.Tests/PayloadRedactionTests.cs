using System.Text;
using System.Text.Json;
using TypedJobs.Cli.Tests.Support;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Tests;

/// <summary>A card whose number is sensitive.</summary>
/// <param name="Holder">The holder.</param>
/// <param name="Number">The card number.</param>
public sealed record CliCard(string Holder, [Sensitive] string Number);

/// <summary>A task with sensitive payload members (the generator registers it in every host of this assembly).</summary>
public static class SensitiveTasks
{
    /// <summary>Charges a card.</summary>
    [Task(Name = "cli.charge")]
    public static void Charge(string customer, [Sensitive] string password, CliCard card, List<CliCard> history, Dictionary<string, string> tags, int? amount)
    {
    }
}

/// <summary>
/// <c>jobs show</c> never prints values of members marked [Sensitive], nor values it cannot classify: it learns from the
/// worker registry in the store which tasks have sensitive members, and shows values only with --show-payload otherwise.
/// </summary>
public sealed class PayloadRedactionTests
{
    private static readonly byte[] ChargePayload =
        """{"customer":"ada","password":"hunter2","card":{"Holder":"Ada","Number":"4111-0000"},"history":[{"Holder":"Ada","Number":"4111-0001"}],"tags":{"tier":"gold"},"amount":12}"""u8.ToArray();

    private static async Task<SqliteStore> MigratedStoreAsync()
    {
        var store = new SqliteStore();
        var migrate = await new CliRunner { WorkingDirectory = store.Directory }.RunAsync("migrate", "-s", store.Url);
        Assert.True(migrate.ExitCode == 0, migrate.ToString());
        return store;
    }

    [Fact]
    public async Task JobsShow_PrintsSensitiveMembersAsStars_AndTheOthersAsStored_InTheTableAndInJson()
    {
        await using var store = await MigratedStoreAsync();
        // A worker that serves another queue: it registers the tasks it knows and leaves the job waiting.
        await using var seed = await Seed.StartAsync(store.Url, worker: true, "elsewhere");
        var id = await seed.Client.EnqueueSerializedAsync("cli.charge", ChargePayload, new JobOptions { Queue = "parked" });
        await WaitForRegistrationAsync(store, "cli.charge");
        var cli = new CliRunner { WorkingDirectory = store.Directory };

        var table = await cli.RunAsync("jobs", "show", id.ToString(), "-s", store.Url);
        Assert.True(table.ExitCode == 0, table.ToString());
        AssertNoSecret(table.Out);
        Assert.Contains("\"password\": \"***\"", table.Out);
        // The card holds a sensitive member: the tool hides it whole.
        Assert.Contains("\"card\": \"***\"", table.Out);
        Assert.Contains("\"customer\": \"ada\"", table.Out);
        Assert.Contains("marked [Sensitive]", table.Out);
        Assert.Contains("--show-payload", table.Out);

        var json = await cli.RunAsync("jobs", "show", id.ToString(), "-s", store.Url, "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        AssertNoSecret(json.Out);
        var document = JsonDocument.Parse(json.Out).RootElement;
        Assert.True(document.GetProperty("payloadRedacted").GetBoolean());
        Assert.Equal("***", document.GetProperty("payload").GetProperty("password").GetString());
        Assert.Equal("***", document.GetProperty("payload").GetProperty("card").GetString());
        Assert.Equal("ada", document.GetProperty("payload").GetProperty("customer").GetString());
        // A list of cards holds sensitive members too; a dictionary of text and a number do not.
        Assert.Equal("***", document.GetProperty("payload").GetProperty("history").GetString());
        Assert.Equal("gold", document.GetProperty("payload").GetProperty("tags").GetProperty("tier").GetString());
        Assert.Equal(12, document.GetProperty("payload").GetProperty("amount").GetInt32());
        Assert.Equal(JsonValueKind.Null, document.GetProperty("payloadBase64").ValueKind);

        // Asked for on purpose, every value prints.
        var shown = await cli.RunAsync("jobs", "show", id.ToString(), "-s", store.Url, "-o", "json", "--show-payload");
        var revealed = JsonDocument.Parse(shown.Out).RootElement;
        Assert.False(revealed.GetProperty("payloadRedacted").GetBoolean());
        Assert.Equal("hunter2", revealed.GetProperty("payload").GetProperty("password").GetString());
        Assert.Equal("4111-0000", revealed.GetProperty("payload").GetProperty("card").GetProperty("Number").GetString());

        // A task the same worker reports without sensitive members prints as stored.
        var plain = await seed.Client.EnqueueAsync(Seed.Send, """{"order":7}""", new JobOptions { Queue = "parked" });
        var safe = JsonDocument.Parse((await cli.RunAsync("jobs", "show", plain.ToString(), "-s", store.Url, "-o", "json")).Out).RootElement;
        Assert.False(safe.GetProperty("payloadRedacted").GetBoolean());
        Assert.Equal(7, safe.GetProperty("payload").GetProperty("order").GetInt32());
    }

    [Fact]
    public async Task JobsShow_HidesTheValuesOfTasksNoWorkerClassifies()
    {
        await using var store = await MigratedStoreAsync();
        JobId charge;
        JobId plain;
        await using (var seed = await Seed.StartAsync(store.Url))
        {
            charge = await seed.Client.EnqueueSerializedAsync("cli.charge", ChargePayload);
            plain = await seed.Client.EnqueueAsync(Seed.Send, """{"order":7}""");
        }

        // A task no process here knows, and a worker of an older version that lists its tasks without saying which are sensitive.
        var foreign = JobId.New();
        var opened = StorageProviders.Open(store.Url, StorageRoles.Jobs, contentRoot: store.Directory);
        try
        {
            await ((IJobStore)opened).JobsInsertAsync(new JobsInsertParams([new JobInsert
            {
                Id = foreign, TaskName = "elsewhere.task", Queue = "parked", Payload = """{"apiKey":"sk-live-4111"}"""u8.ToArray(),
            }]), CancellationToken.None);
            await ((IJobAdminStore)opened).WorkersHeartbeatAsync(new WorkersHeartbeatParams(new WorkerRegistration
            {
                Id = "worker-old", Host = "box-1", Queues = ["default"], Tasks = ["cli.charge", "orders.send", "elsewhere.task"], Concurrency = 1,
            }), CancellationToken.None);
        }
        finally
        {
            await OpenedStores.DisposeAsync(opened);
        }

        var cli = new CliRunner { WorkingDirectory = store.Directory };
        foreach (var id in new[] { charge, plain, foreign })
        {
            var table = await cli.RunAsync("jobs", "show", id.ToString(), "-s", store.Url);
            Assert.True(table.ExitCode == 0, table.ToString());
            AssertNoSecret(table.Out);
            Assert.DoesNotContain("\"ada\"", table.Out, StringComparison.Ordinal);
            Assert.DoesNotContain("\"order\": 7", table.Out);
            Assert.Contains("no registered worker reports which payload members", table.Out);

            var json = JsonDocument.Parse((await cli.RunAsync("jobs", "show", id.ToString(), "-s", store.Url, "-o", "json")).Out).RootElement;
            Assert.True(json.GetProperty("payloadRedacted").GetBoolean());
            Assert.All(json.GetProperty("payload").EnumerateObject(), static m => Assert.Equal("***", m.Value.GetString()));
        }

        var shown = await cli.RunAsync("jobs", "show", foreign.ToString(), "-s", store.Url, "--show-payload");
        Assert.Contains("sk-live-4111", shown.Out);
    }

    [Fact]
    public async Task JobsShowHelp_DescribesTheDefaultAndTheFlag()
    {
        var help = await new CliRunner().RunAsync("jobs", "show", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--show-payload", help.Out);
        Assert.Contains("[Sensitive]", help.Out);
    }

    private static void AssertNoSecret(string text)
    {
        foreach (var secret in new[] { "hunter2", "4111-0000", "sk-live" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static async Task WaitForRegistrationAsync(SqliteStore store, string task)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var opened = StorageProviders.Open(store.Url, StorageRoles.Jobs, contentRoot: store.Directory);
        try
        {
            while (true)
            {
                var workers = await ((IJobAdminStore)opened).WorkersListAsync(new WorkersListParams(), CancellationToken.None);
                if (workers.Workers.Any(w => w.Registration.SensitiveTasks?.Contains(task) == true))
                {
                    return;
                }

                Assert.True(DateTime.UtcNow < deadline, "no worker registered " + task);
                await Task.Delay(20);
            }
        }
        finally
        {
            await OpenedStores.DisposeAsync(opened);
        }
    }
}
