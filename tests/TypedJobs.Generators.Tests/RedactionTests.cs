using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>The redaction the generator emits for payloads with [Sensitive] members, run on stored payloads.</summary>
public sealed class RedactionTests
{
    [Fact]
    public async Task RedactPayload_ReplacesEverySensitiveMemberAndKeepsTheRest()
    {
        const string program = """

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var tree = new KeyNode { Name = "root", Key = "key-one", Children = { new KeyNode { Name = "leaf", Key = null } } };
                    var id = await client.EnqueueLoginAsync("ada", "hunter2", new Card("Ada", "4111-1111"),
                        new Dictionary<string, Card> { ["main"] = new Card("Bob", "5500-0000") }, tree, [new Card("Cy", "3400-0000")],
                        new JobOptions { Queue = "parked" });
                    var admin = Harness.Services.GetRequiredService<IJobAdmin>();
                    var job = (await client.GetJobAsync(id))!;
                    var login = admin.Tasks.Single(t => t.Name == job.TaskName);
                    Harness.Record(login.HasSensitiveMembers + " " + login.RedactPayload(job.Payload));
                    // The job still gets the real values: the stored payload is untouched.
                    Harness.Record(System.Text.Encoding.UTF8.GetString(job.Payload).Contains("hunter2").ToString());
                    var note = admin.Tasks.Single(t => t.Name.EndsWith(".Note"));
                    Harness.Record(note.HasSensitiveMembers + " " + note.RedactPayload("{\"note\":\"hunter2 <b>\"}"u8));
                    // Values of an unexpected shape are hidden whole; a sensitive null is hidden too.
                    Harness.Record(login.RedactPayload("{\"password\":null,\"card\":\"4111\",\"cards\":null,\"unknown\":{\"Number\":\"1\"}}"u8));
                });
            }
            """;

        // The sample's own usings come first; the program goes after its namespace.
        var source = "using System.Linq;\nusing System.Threading.Tasks;\nusing Microsoft.Extensions.DependencyInjection;\nusing Shop.Secrets;\n"
                     + Samples.Sensitive + program;
        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            "True {\"user\":\"ada\",\"password\":\"***\",\"card\":{\"Holder\":\"Ada\",\"Number\":\"***\"},\"cards\":{\"main\":{\"Holder\":\"Bob\",\"Number\":\"***\"}},"
            + "\"tree\":{\"Name\":\"root\",\"Key\":\"***\",\"Children\":[{\"Name\":\"leaf\",\"Key\":\"***\",\"Children\":[]}]},\"extra\":[{\"Holder\":\"Cy\",\"Number\":\"***\"}]}\n"
            + "True\n"
            + "False {\"note\":\"hunter2 <b>\"}\n"
            + "{\"password\":\"***\",\"card\":\"***\",\"cards\":null,\"unknown\":{\"Number\":\"1\"}}",
            output);
    }
}
