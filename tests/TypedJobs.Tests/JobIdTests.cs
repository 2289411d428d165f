namespace TypedJobs.Tests;

public class JobIdTests
{
    [Fact]
    public void New_IsUniqueVersion7_AndIncreasingInByteOrder()
    {
        var ids = Enumerable.Range(0, 20_000).Select(_ => JobId.New()).ToArray();

        Assert.Equal(ids.Length, ids.Select(i => i.Value).Distinct().Count());
        Assert.All(ids, id => Assert.Equal(7, id.Value.Version));
        for (var i = 1; i < ids.Length; i++)
        {
            var previous = ids[i - 1].Value.ToByteArray(bigEndian: true);
            var current = ids[i].Value.ToByteArray(bigEndian: true);
            Assert.True(previous.AsSpan(0, 8).SequenceCompareTo(current.AsSpan(0, 8)) < 0, $"id {i} is not after id {i - 1}");
        }
    }

    [Fact]
    public async Task New_IsUniqueAcrossThreads()
    {
        var batches = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Enumerable.Range(0, 5_000).Select(_ => JobId.New()).ToArray())));

        Assert.Equal(40_000, batches.SelectMany(b => b).Distinct().Count());
    }

    [Fact]
    public void ParseAndFormat_RoundTrip()
    {
        var id = JobId.New();
        Assert.Equal(id, JobId.Parse(id.ToString()));
        Assert.False(JobId.TryParse("not-an-id", out _));
        Assert.Throws<FormatException>(() => JobId.Parse("nope"));
    }
}
