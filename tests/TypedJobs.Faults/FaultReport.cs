using System.Globalization;

namespace TypedJobs.Faults;

/// <summary>
/// Records each scenario's measurement. When <c>TYPEDJOBS_FAULTS_REPORT</c> names a file, a table row is appended to it;
/// <c>eng/faults.sh</c> turns the rows into docs/reliability.md. <c>TYPEDJOBS_FAULTS_SCALE</c> (default 1) multiplies
/// job counts and kill rounds for the longer matrix.
/// </summary>
public static class FaultReport
{
    private static readonly object Gate = new();

    public static int Scale => int.TryParse(Environment.GetEnvironmentVariable("TYPEDJOBS_FAULTS_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;

    public static void Record(string scenario, string store, string guarantee, int jobs, int kills, FaultCheck check)
    {
        var row = string.Create(CultureInfo.InvariantCulture,
            $"| {scenario} | {store} | {guarantee} | {jobs} | {kills} | {check.Lost} | {check.Duplicates} |");
        TestContext.Current.SendDiagnosticMessage(row + " " + check);
        if (Environment.GetEnvironmentVariable("TYPEDJOBS_FAULTS_REPORT") is { Length: > 0 } path)
        {
            lock (Gate)
            {
                File.AppendAllText(path, row + "\n");
            }
        }
    }
}
