namespace TypedJobs.Engine;

/// <summary>
/// Exponential backoff with jitter and a cap: attempt <c>n</c> (1-based) waits <c>min(cap, base · 2^(n-1))</c>
/// reduced by up to <see cref="Jitter"/> of itself, so the delay lies in <c>[(1 - Jitter) · d, d]</c> and never exceeds the cap.
/// </summary>
internal static class RetryBackoff
{
    public const double Jitter = 0.2;

    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan cap, double random)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 62);
        var ticks = baseDelay.Ticks * Math.Pow(2, exponent);
        var capped = Math.Min(ticks, cap.Ticks);
        var jittered = capped * (1 - (Jitter * Math.Clamp(random, 0, 1)));
        return TimeSpan.FromTicks((long)Math.Max(0, jittered));
    }
}
