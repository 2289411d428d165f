using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>
/// Compiles user code with the generated stubs, loads it, and runs jobs through the stubs on a real host with the
/// in-memory store and a worker.
/// </summary>
public sealed class RunTests
{
    [Fact]
    public async Task Scalars_RoundTripThroughThePayload()
    {
        const string source = """
            using System;
            using System.Globalization;
            using System.Threading.Tasks;
            using TypedJobs;
            using Kinds;

            namespace Kinds
            {
                public static class Scalars
                {
                    [Task]
                    public static string Numbers(bool b, byte u8, sbyte i8, short i16, ushort u16, int i32, uint u32, long i64, ulong u64,
                        float f, double d, decimal m, char c, string s) =>
                        string.Join("|", b, u8, i8, i16, u16, i32, u32, i64, u64, f.ToString("R", CultureInfo.InvariantCulture),
                            d.ToString("R", CultureInfo.InvariantCulture), m.ToString(CultureInfo.InvariantCulture), c, s);

                    [Task]
                    public static string Times(Guid id, DateTime at, DateTimeOffset atOffset, DateOnly day, TimeOnly time, TimeSpan span, Uri uri, Uri relative) =>
                        string.Join("|", id, at.ToString("O", CultureInfo.InvariantCulture), at.Kind, atOffset.ToString("O", CultureInfo.InvariantCulture),
                            day.ToString("O", CultureInfo.InvariantCulture), time.ToString("O", CultureInfo.InvariantCulture), span.ToString("c"), uri, relative);
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var h1 = await client.EnqueueNumbersAsync(true, 255, -128, short.MinValue, ushort.MaxValue, int.MinValue, uint.MaxValue, long.MinValue, ulong.MaxValue,
                        1.5f, Math.PI, 79228162514264337593543950335m, 'é', "quote \" and \u2603");
                    Harness.Record(await h1.GetResultAsync());
                    var h2 = await client.EnqueueTimesAsync(Guid.Parse("0b8f5a4e-3f4c-4b53-9d55-2a8b5d2b9f01"), new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc),
                        new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)), new DateOnly(2031, 12, 31), new TimeOnly(23, 59, 58, 123),
                        new TimeSpan(1, 2, 3, 4, 5), new Uri("https://example.com/a?b=c"), new Uri("relative/path", UriKind.Relative));
                    Harness.Record(await h2.GetResultAsync());
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            "True|255|-128|-32768|65535|-2147483648|4294967295|-9223372036854775808|18446744073709551615|1.5|3.141592653589793|79228162514264337593543950335|é|quote \" and \u2603\n"
            + "0b8f5a4e-3f4c-4b53-9d55-2a8b5d2b9f01|2030-01-02T03:04:05.6780000Z|Utc|2030-01-02T03:04:05.0000000+02:00|2031-12-31|23:59:58.1230000|1.02:03:04.0050000|https://example.com/a?b=c|relative/path",
            output);
    }
}
