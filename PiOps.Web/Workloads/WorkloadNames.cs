namespace PiOps.Web.Workloads;

/// <summary>The names the controllers and kubectl give to what they make, written once for both runtimes.</summary>
public static class WorkloadNames
{
    // apimachinery's rand.String alphabet (util/rand/rand.go): no vowels, no digits that read as letters.
    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>Five characters as a ReplicaSet's or Job's pods get them, e.g. pi-worker-5d8f7-x2k9q.</summary>
    public static string RandomSuffix() =>
        string.Create(5, Random.Shared, (span, r) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = SuffixAlphabet[r.Next(SuffixAlphabet.Length)];
            }
        });

    /// <summary>
    /// The Job of a Run now, as `kubectl create job NAME-manual-XXXXX --from=cronjob/NAME` is typically named: the
    /// CronJob's name cut so that the whole stays within the 63 characters of a label value (job-name).
    /// </summary>
    public static string ManualRun(string cronJob) => $"{cronJob[..Math.Min(cronJob.Length, 63 - 13)]}-manual-{RandomSuffix()}";
}
